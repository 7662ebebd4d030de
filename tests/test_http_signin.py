import datetime as dt
import re

import attrs
import httpx
import trio

from duo.services import Services
from tests.plugins.app import MailSink, bearer, serve

EMPTY_SUMMARY_KEYS = {
    "clubs", "do_show_donation_nag", "estimated_end_date", "has_gold", "name", "onboarded",
    "pending_club", "person_id", "person_uuid", "units",
}


async def request_otp(client: httpx.AsyncClient, email: str, **extra: object) -> str:
    r = await client.post("/request-otp", json={"email": email, **extra})
    assert r.status_code == 200, r.text
    token = r.json()["session_token"]
    assert re.fullmatch(r"[0-9a-f]{128}", token)
    return str(token)


async def test_new_user_signs_in_with_dev_otp(client: httpx.AsyncClient, svc: Services, mail: MailSink) -> None:
    with trio.fail_after(20):
        token = await request_otp(client, "  New.User@Example.com ")
        row = await svc.db.fetchrow("SELECT email, otp, signed_in, person_id FROM duo_session")
        assert dict(row) == {"email": "new.user@example.com", "otp": "000000", "signed_in": False, "person_id": None}
        assert mail.sent[-1].to == "new.user@example.com"

        r = await client.post("/check-otp", json={"otp": "000000"}, headers=bearer(token))
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == EMPTY_SUMMARY_KEYS
        assert body["onboarded"] is False and body["clubs"] == [] and body["person_id"] is None
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", body["estimated_end_date"])
        assert await svc.db.fetchval("SELECT count(*) FROM onboardee WHERE email = 'new.user@example.com'") == 1

        # already signed in: the not-signed-in gate refuses
        r = await client.post("/check-otp", json={"otp": "000000"}, headers=bearer(token))
        assert (r.status_code, r.text) == (401, "Unauthorized")

        # an onboardee resumes onboarding after a restart (README decision)
        r = await client.post("/check-session-token", headers=bearer(token))
        assert r.status_code == 200 and r.json()["onboarded"] is False

        assert (await client.post("/sign-out", headers=bearer(token.upper()))).status_code == 200
        r = await client.post("/check-session-token", headers=bearer(token))
        assert (r.status_code, r.text) == (401, "Invalid session token")


async def test_wrong_and_expired_codes(client: httpx.AsyncClient, svc: Services, mail: MailSink) -> None:
    with trio.fail_after(20):
        svc.config = attrs.evolve(svc.config, env="prod")
        token = await request_otp(client, "someone@gmail.com")
        otp = mail.otp_for("someone@gmail.com")
        wrong = f"{(int(otp) + 1) % 1_000_000:06d}"
        r = await client.post("/check-otp", json={"otp": wrong}, headers=bearer(token))
        assert (r.status_code, r.text) == (401, "Invalid OTP")

        start = svc.now()
        svc.now = lambda: start + dt.timedelta(minutes=11)
        r = await client.post("/check-otp", json={"otp": otp}, headers=bearer(token))
        assert (r.status_code, r.text) == (401, "Invalid OTP")

        r = await client.post("/resend-otp", headers=bearer(token))
        assert (r.status_code, r.text) == (200, "")
        fresh = mail.otp_for("someone@gmail.com")
        r = await client.post("/check-otp", json={"otp": fresh}, headers=bearer(token))
        assert r.status_code == 200, r.text


async def test_bad_input_is_400_and_stores_nothing(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(20):
        cases = [
            {"email": "not-an-email"},
            {"email": 12},
            {"email": None},
            {},
            {"email": "a@example.com", "pending_club_name": None},
            {"email": "a@example.com", "pending_club_name": "bad  spaces"},
            {"email": "a@example.com", "pending_club_name": "x" * 43},
        ]
        for body in cases:
            r = await client.post("/request-otp", json=body)
            assert r.status_code == 400, (body, r.status_code, r.text)
            errors = r.json()
            assert all(set(e) == {"type", "loc", "msg"} for e in errors)
        r = await client.post("/request-otp", json=[{"email": "a@example.com"}])
        assert r.status_code == 400
        r = await client.post("/request-otp", content=b"{not json", headers={"Content-Type": "application/json"})
        assert r.status_code == 400
        r = await client.post("/request-otp", json={"email": "x@mailinator.com"})
        assert (r.status_code, r.text) == (400, "Disposable email")
        r = await client.post("/request-otp", json={"email": "x@unknown-domain-for-duo.com"})
        assert (r.status_code, r.text) == (400, "Disposable email")
        assert await svc.db.fetchval("SELECT count(*) FROM duo_session") == 0

        token = await request_otp(client, "b@example.com")
        for otp in (123456, "12345", "abcdef", None):
            r = await client.post("/check-otp", json={"otp": otp}, headers=bearer(token))
            assert r.status_code == 400, (otp, r.text)


async def test_authorization_header(client: httpx.AsyncClient) -> None:
    with trio.fail_after(20):
        for header in ({}, {"Authorization": "Token abc"}, {"Authorization": "Bearer"}, {"Authorization": "Bearer a b"}):
            r = await client.post("/check-session-token", headers=header)
            assert (r.status_code, r.text) == (400, "Missing or malformed authorization header")
        r = await client.post("/check-session-token", headers=bearer("f" * 128))
        assert (r.status_code, r.text) == (401, "Invalid session token")
        token = await request_otp(client, "c@example.com")
        r = await client.post("/check-session-token", headers=bearer(token))
        assert (r.status_code, r.text) == (401, "Unauthorized")


async def test_otp_rate_limit_per_ip_behind_trusted_proxy(svc: Services) -> None:
    http_config = attrs.evolve(svc.config.http, trusted_proxies=["127.0.0.0/8"])
    behind_proxy = attrs.evolve(svc, config=attrs.evolve(svc.config, http=http_config))
    with trio.fail_after(20):
        async with serve(behind_proxy) as client:
            for _ in range(3):
                r = await client.post("/request-otp", json={"email": "e@example.com"}, headers={"X-Forwarded-For": "8.8.8.8"})
                assert r.status_code == 200
            r = await client.post("/request-otp", json={"email": "e@example.com"}, headers={"X-Forwarded-For": "8.8.8.8"})
            assert r.status_code == 429 and "3 per 1 minute" in r.text
            # another client IP has its own window; loopback itself is private and exempt
            r = await client.post("/request-otp", json={"email": "e@example.com"}, headers={"X-Forwarded-For": "8.8.4.4"})
            assert r.status_code == 200
            r = await client.post("/request-otp", json={"email": "e@example.com"})
            assert r.status_code == 200
        assert await svc.db.fetchval("SELECT count(*) FROM duo_session WHERE ip_address = '8.8.8.8'") == 3


async def test_pending_club_shown_and_banned_login(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(20):
        token = await request_otp(client, "d@example.com", pending_club_name="Anime")
        r = await client.post("/check-otp", json={"otp": "000000"}, headers=bearer(token))
        assert r.json()["pending_club"] == {"name": "anime", "count_members": 0}

        await svc.db.execute(
            "INSERT INTO banned_person (normalized_email, ip_address) VALUES ('banned@gmail.com', '127.0.0.1')"
        )
        r = await client.post("/request-otp", json={"email": "Ban.Ned+x@gmail.com"})
        assert (r.status_code, r.text) == (461, "Banned")


async def test_nul_characters_are_400_everywhere(client: httpx.AsyncClient) -> None:
    with trio.fail_after(20):
        r = await client.post("/request-otp", json={"email": "a\x00b@example.com"})
        assert r.status_code == 400 and r.json()[0]["loc"] == ["email"]
        token = await request_otp(client, "nul@example.com")
        r = await client.get("/search-locations", params={"q": "Syd\x00ney"}, headers=bearer(token))
        assert r.status_code == 400 and "NUL" in r.text
        assert (await client.get("/me/ab%00cd")).status_code in (400, 404)


async def test_domain_tables_are_the_policy(client: httpx.AsyncClient, svc: Services) -> None:
    with trio.fail_after(20):
        r = await client.post("/request-otp", json={"email": "x@new-university.edu"})
        assert (r.status_code, r.text) == (400, "Disposable email")
        await svc.db.execute("INSERT INTO good_email_domain (domain) VALUES ('new-university.edu')")
        assert (await client.post("/request-otp", json={"email": "x@new-university.edu"})).status_code == 200
        svc.config = attrs.evolve(svc.config, safety=attrs.evolve(svc.config.safety, email_domain_policy="block_list"))
        assert (await client.post("/request-otp", json={"email": "x@unlisted-domain.org"})).status_code == 200
        r = await client.post("/request-otp", json={"email": "x@mailinator.com"})
        assert (r.status_code, r.text) == (400, "Disposable email")
