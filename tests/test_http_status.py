import httpx
import trio


async def test_health_and_status(client: httpx.AsyncClient) -> None:
    with trio.fail_after(20):
        r = await client.get("/health")
        assert (r.status_code, r.text) == (200, "status: ok")
        r = await client.get("/status/")
        assert r.json() == {"api_version": 7, "statuses": ["ok", "down for maintenance"], "status_index": 0}
        assert (await client.get("/nope")).status_code == 404
        assert (await client.post("/health")).status_code == 405
