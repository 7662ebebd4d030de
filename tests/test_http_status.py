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


async def test_openapi_document_comes_from_the_route_models(client: httpx.AsyncClient) -> None:
    with trio.fail_after(20):
        doc = (await client.get("/openapi.json")).json()
        assert doc["openapi"] == "3.1.0"
        request_otp = doc["paths"]["/request-otp"]["post"]
        ref = request_otp["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        schema = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
        assert schema["required"] == ["email"]
        assert "pending_club_name" in schema["properties"]
        assert doc["paths"]["/check-otp"]["post"]["security"] == [{"bearer": []}]
        assert "/health" in doc["paths"]
