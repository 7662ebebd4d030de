import attrs
import httpx
import trio

from duo.services import Services
from tests.plugins.app import serve


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


async def test_maintenance_switch_and_status_port(svc: Services) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        status_port = s.getsockname()[1]
    http = attrs.evolve(svc.config.http, maintenance=True, status_port=status_port)
    down = attrs.evolve(svc, config=attrs.evolve(svc.config, http=http))
    with trio.fail_after(20):
        async with serve(down) as client:
            assert (await client.get("/status")).json()["status_index"] == 1
            r = await client.post("/request-otp", json={"email": "a@example.com"})
            assert r.status_code == 503
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{status_port}") as status:
                assert (await status.get("/status")).json()["status_index"] == 1
        up = attrs.evolve(down, config=attrs.evolve(svc.config, http=attrs.evolve(http, maintenance=False)))
        async with serve(up):
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{status_port}") as status:
                assert (await status.get("/status")).json()["status_index"] == 0
                # the status port serves the status page only
                assert (await status.post("/request-otp", json={"email": "a@example.com"})).status_code == 404
