"""Moderators' links (http-api-accounts §10, safety.md §11) against real PostgreSQL."""

from __future__ import annotations

import base64
import datetime as dt
import io
import secrets
import uuid
from typing import Any

import attrs
import httpx
import pytest
import trio
from PIL import Image

from duo.http import admin
from duo.services import Services
from duo.sessions import token_hash
from tests.factories import User, onboarded_user
from tests.plugins.app import serve


async def add_session(svc: Services, user: User, ip: str | None) -> None:
    await svc.db.execute(
        """INSERT INTO duo_session (session_token_hash, person_id, email, otp, ip_address,
                                    signed_in, session_expiry, otp_expiry)
           VALUES ($1, $2, $3, '000000', $4::inet, TRUE, now() + interval '1 day', now())""",
        token_hash(secrets.token_hex(64)), user.person_id, user.email, ip,
    )


async def ban_token(svc: Services, user: User, *, expires_in: dt.timedelta = dt.timedelta(days=30)) -> str:
    token = await svc.db.fetchval(
        "INSERT INTO banned_person_admin_token (person_id, expires_at) VALUES ($1, $2) RETURNING token",
        user.person_id, svc.now() + expires_in,
    )
    return str(token)


async def photo_token(svc: Services, photo_uuid: str, *, expires_in: dt.timedelta = dt.timedelta(days=30)) -> str:
    token = await svc.db.fetchval(
        "INSERT INTO deleted_photo_admin_token (photo_uuid, expires_at) VALUES ($1, $2) RETURNING token",
        photo_uuid, svc.now() + expires_in,
    )
    return str(token)


def text(r: httpx.Response) -> tuple[int, str]:
    assert r.headers["content-type"].startswith("text/html")
    return r.status_code, r.text


@pytest.fixture
def kicked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Person uuids the ban handed to the chat hook."""
    calls: list[str] = []

    async def record(services: Services, person_uuid: str) -> None:
        calls.append(person_uuid)

    monkeypatch.setattr(admin, "end_chat_sessions", record)
    return calls


async def test_report_then_ban_by_the_links(svc: Services, kicked: list[str]) -> None:
    proxied = attrs.evolve(svc.config.http, trusted_proxies=["127.0.0.1/32"])
    behind_proxy = attrs.evolve(svc, config=attrs.evolve(svc.config, http=proxied))
    with trio.fail_after(60):
        ana = await onboarded_user(svc, "Ana")
        bo = await onboarded_user(svc, "Bo", email="bo.ban@gmail.com", clubs=["chess"])
        await add_session(svc, bo, "8.8.8.8")
        await add_session(svc, bo, "8.8.8.8")
        await add_session(svc, bo, None)
        async with serve(behind_proxy) as client:
            r = await client.post(f"/skip/by-uuid/{bo.uuid}", json={"report_reason": "scammer"}, headers=ana.headers)
            assert r.status_code == 200
            token = str(await svc.db.fetchval(
                "SELECT token FROM banned_person_admin_token WHERE person_id = $1", bo.person_id
            ))

            # the link page only links; the token works afterwards
            r = await client.get(f"/admin/ban-link/{token}")
            status, body = text(r)
            assert status == 200
            assert f'href="{svc.config.public_url}/admin/ban/{token}"' in body and token in body
            assert await svc.db.fetchval("SELECT count(*) FROM banned_person") == 0

            r = await client.get(f"/admin/ban/{token}")
            assert text(r) == (200, f"Banned [{{'person_id': {bo.person_id}, 'person_uuid': '{bo.uuid}'}}]")
            assert kicked == [str(bo.uuid)]
            assert await svc.db.fetchval("SELECT count(*) FROM person WHERE id = $1", bo.person_id) == 0
            assert await svc.db.fetchval("SELECT count_members FROM club WHERE name = 'chess'") == 0
            bans = await svc.db.fetch(
                "SELECT normalized_email, host(ip_address) AS ip, report_reasons, expires_at - banned_at AS lasts "
                "FROM banned_person ORDER BY ip"
            )
            assert [(b["normalized_email"], b["ip"], b["report_reasons"]) for b in bans] == [
                ("boban@gmail.com", "127.0.0.1", ["scammer"]),
                ("boban@gmail.com", "8.8.8.8", ["scammer"]),
            ]
            assert all(b["lasts"].days in (28, 29, 30, 31) for b in bans)

            # used: both pages refuse it now
            assert text(await client.get(f"/admin/ban/{token}")) == (401, admin.BAN_FAILED)
            assert text(await client.get(f"/admin/ban-link/{token}")) == (401, admin.BAN_LINK_FAILED)

            # the ban holds at sign-in: by normalised e-mail, and from the banned address
            r = await client.post("/request-otp", json={"email": "Bo.Ban+again@gmail.com"}, headers={"X-Forwarded-For": "9.9.9.9"})
            assert text(r) == (461, "Banned")
            r = await client.post("/request-otp", json={"email": "someone@gmail.com"}, headers={"X-Forwarded-For": "8.8.8.8"})
            assert text(r) == (461, "Banned")
            r = await client.post("/request-otp", json={"email": "someone@gmail.com"}, headers={"X-Forwarded-For": "9.9.9.9"})
            assert r.status_code == 200


async def test_a_person_without_an_ip_is_banned_by_email_only(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(30):
        cy = await onboarded_user(svc, "Cy", email="cy@gmail.com")
        await svc.db.execute("UPDATE duo_session SET ip_address = NULL WHERE person_id = $1", cy.person_id)
        # an earlier e-mail-only ban of the same address is left as it was
        await svc.db.execute(
            "INSERT INTO banned_person (normalized_email, ip_address, report_reasons) VALUES ('cy@gmail.com', NULL, '{old}')"
        )
        r = await client.get(f"/admin/ban/{await ban_token(svc, cy)}")
        assert r.status_code == 200
        rows = await svc.db.fetch("SELECT ip_address, report_reasons FROM banned_person")
        assert [(row["ip_address"], row["report_reasons"]) for row in rows] == [(None, ["old"])]
        # loopback (every request without X-Forwarded-For) is not banned for everyone else
        assert (await client.post("/request-otp", json={"email": "dee@gmail.com"})).status_code == 200
        assert text(await client.post("/request-otp", json={"email": "cy@gmail.com"})) == (461, "Banned")


async def test_expired_and_malformed_ban_tokens_change_nothing(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(30):
        dan = await onboarded_user(svc, "Dan")
        expired = await ban_token(svc, dan, expires_in=-dt.timedelta(seconds=1))
        assert text(await client.get(f"/admin/ban/{expired}")) == (401, admin.BAN_FAILED)
        # the link page does not check expiry (§10.1)
        assert (await client.get(f"/admin/ban-link/{expired}")).status_code == 200
        unknown = str(uuid.uuid4())
        assert text(await client.get(f"/admin/ban/{unknown}")) == (401, admin.BAN_FAILED)
        assert text(await client.get(f"/admin/ban-link/{unknown}")) == (401, admin.BAN_LINK_FAILED)
        for bad in ("not-a-uuid", "<script>alert(1)<script>", "%00", "1" * 300):
            for path, failure in (("ban", admin.BAN_FAILED), ("ban-link", admin.BAN_LINK_FAILED),
                                  ("delete-photo", admin.PHOTO_FAILED), ("delete-photo-link", admin.PHOTO_LINK_FAILED)):
                r = await client.get(f"/admin/{path}/{bad}")
                assert r.status_code == 400, (path, bad)
                assert r.text == failure or "NUL" in r.text
                assert "<script>" not in r.text
        assert await svc.db.fetchval("SELECT count(*) FROM person WHERE id = $1", dan.person_id) == 1
        assert await svc.db.fetchval("SELECT count(*) FROM banned_person") == 0
        assert await svc.db.fetchval("SELECT count(*) FROM banned_person_admin_token") == 1


def image_b64(colour: str) -> str:
    out = io.BytesIO()
    Image.new("RGB", (120, 100), colour).save(out, format="JPEG")
    return base64.b64encode(out.getvalue()).decode()


def upload(b64: str, position: int) -> dict[str, Any]:
    return {"base64_file": {"position": position, "base64": b64, "top": 0, "left": 0}}


async def test_delete_photo_by_the_links(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(60):
        eve = await onboarded_user(svc, "Eve", verified_age=True, verified_gender=True)
        picture = image_b64("orange")
        for position, b64 in ((1, picture), (2, image_b64("navy"))):
            r = await client.patch("/profile-info", json=upload(b64, position), headers=eve.headers)
            assert r.status_code == 200, r.text
        photos = {r["position"]: r["uuid"] for r in await svc.db.fetch(
            "SELECT position, uuid FROM photo WHERE person_id = $1", eve.person_id
        )}
        # the verification job had verified the photo being deleted; the last event names it
        await svc.db.execute("UPDATE photo SET verified = TRUE WHERE uuid = $1", photos[1])
        await svc.db.execute(
            """UPDATE person SET verification_level_id = 3, last_event_name = 'added-photo',
                      last_event_data = jsonb_build_object('added_photo_uuid', $2::text) WHERE id = $1""",
            eve.person_id, photos[1],
        )
        token = await photo_token(svc, photos[1])

        status, body = text(await client.get(f"/admin/delete-photo-link/{token}"))
        assert status == 200 and f'href="{svc.config.public_url}/admin/delete-photo/{token}"' in body
        assert await svc.db.fetchval("SELECT count(*) FROM photo WHERE person_id = $1", eve.person_id) == 2

        r = await client.get(f"/admin/delete-photo/{token}")
        assert text(r) == (200, f"Deleted photo [{{'uuid': '{photos[1]}', 'person_id': {eve.person_id}}}]")
        assert [r["uuid"] for r in await svc.db.fetch("SELECT uuid FROM photo WHERE person_id = $1", eve.person_id)] == [photos[2]]
        person = await svc.db.fetchrow(
            "SELECT verification_level_id, last_event_name::text FROM person WHERE id = $1", eve.person_id
        )
        assert (person["verification_level_id"], person["last_event_name"]) == (2, "joined")
        assert await svc.db.fetchval("SELECT count(*) FROM undeleted_photo WHERE uuid = $1", photos[1]) == 1
        assert await svc.db.fetchval("SELECT count(*) FROM banned_photo_hash") == 1

        # used token; the image can never be uploaded again, by anyone
        assert text(await client.get(f"/admin/delete-photo/{token}")) == (401, admin.PHOTO_FAILED)
        assert text(await client.get(f"/admin/delete-photo-link/{token}")) == (401, admin.PHOTO_LINK_FAILED)
        fay = await onboarded_user(svc, "Fay")
        r = await client.patch("/profile-info", json=upload(picture, 1), headers=fay.headers)
        assert r.status_code == 400 and r.json()[0]["msg"] == "Value error, That pic breaks the rules 🙈"


async def test_expired_photo_token_and_missing_photo(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(30):
        gus = await onboarded_user(svc, "Gus")
        await svc.db.execute(
            "INSERT INTO photo (person_id, position, uuid, blurhash, hash) VALUES ($1, 1, $2, 'b', 'h1')",
            gus.person_id, "a" * 64,
        )
        expired = await photo_token(svc, "a" * 64, expires_in=-dt.timedelta(seconds=1))
        assert text(await client.get(f"/admin/delete-photo/{expired}")) == (401, admin.PHOTO_FAILED)
        gone = await photo_token(svc, "b" * 64)
        assert text(await client.get(f"/admin/delete-photo/{gone}")) == (401, admin.PHOTO_FAILED)
        assert await svc.db.fetchval("SELECT count(*) FROM photo") == 1
        assert await svc.db.fetchval("SELECT count(*) FROM banned_photo_hash") == 0
        assert await svc.db.fetchval("SELECT count(*) FROM deleted_photo_admin_token") == 2


async def test_new_routes_are_in_the_openapi_document(client: httpx.AsyncClient) -> None:
    with trio.fail_after(20):
        paths = (await client.get("/openapi.json")).json()["paths"]
        for path, method in (
            ("/admin/ban-link/{token}", "get"), ("/admin/ban/{token}", "get"),
            ("/admin/delete-photo-link/{token}", "get"), ("/admin/delete-photo/{token}", "get"),
            ("/revenuecat", "post"), ("/verification-selfie", "post"), ("/verify", "post"),
            ("/check-verification", "get"),
        ):
            assert method in paths[path], path
        assert "security" not in paths["/admin/ban/{token}"]["get"]
        assert paths["/verify"]["post"]["security"] == [{"bearer": []}]
