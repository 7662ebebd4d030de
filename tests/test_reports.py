"""Reports (safety.md §10): skip with a reason → tokens, snapshot, e-mail over real SMTP."""

import pathlib
import struct
import uuid

import attrs
import trio
import yaml

from duo.actors.mailer import Mail
from duo.reports import archived_body
from duo.services import Services
from tests.factories import User, onboarded_user
from tests.plugins import app as app_plugin
from tests.plugins.app import serve
from tests.plugins.smtp import SmtpServer, smtp_mail

MODERATOR = "moderator@duo-mods.org"


def _binary(text: str) -> bytes:
    data = text.encode()
    return b"m" + struct.pack(">I", len(data)) + data


def _atom(name: str) -> bytes:
    return b"d" + struct.pack(">H", len(name)) + name.encode()


def _list(items: list[bytes]) -> bytes:
    return b"l" + struct.pack(">I", len(items)) + b"".join(items) + b"j" if items else b"j"


def _element(name: str, attrs_: dict[str, str], children: list[bytes]) -> bytes:
    pairs = [b"h\x02" + _binary(k) + _binary(v) for k, v in sorted(attrs_.items())]
    return b"h\x04" + _atom("xmlel") + _binary(name) + _list(pairs) + _list(children)


def archived(sender: User, recipient: User, text: str) -> bytes:
    """A chat message as the archive stores it (chat-protocol.md §9.1)."""
    body = _element("body", {}, [b"h\x02" + _atom("xmlcdata") + _binary(text)])
    receipt = _element("request", {"xmlns": "urn:xmpp:receipts"}, [])
    return b"\x83" + _element(
        "message",
        {"from": f"{sender.uuid}@duolicious.app", "to": f"{recipient.uuid}@duolicious.app",
         "id": "m1", "type": "chat", "xmlns": "jabber:client"},
        [body, receipt],
    )


async def archive(svc: Services, owner: User, other: User, direction: str, at: int, message: bytes) -> None:
    await svc.db.execute(
        """INSERT INTO mam_message (id, from_jid, remote_bare_jid, direction, message, search_body, person_id)
           VALUES ($1, '', $2, $3, $4, 'normalised', $5)""",
        at, str(other.uuid), direction, message, owner.person_id,
    )


def test_archived_body_decodes_the_stored_stanza() -> None:
    a = User("t", 1, uuid.uuid4(), "a@example.com")
    assert archived_body(archived(a, a, "héllo <3")) == "héllo <3"
    assert archived_body(b"\x83garbage") is None
    assert archived_body(b"") is None


async def test_report_is_mailed_to_the_moderator(svc: Services, smtp_server: SmtpServer, tmp_path: pathlib.Path) -> None:
    with trio.fail_after(60):
        config = app_plugin.test_config(tmp_path, DUO_REPORT_EMAIL=MODERATOR)
        async with smtp_mail(attrs.evolve(svc, config=config), smtp_server, tmp_path) as live:
            ana = await onboarded_user(svc, "Ana", clubs=["hiking"])
            bo = await onboarded_user(svc, "Bø", gender="Man", about="Hi <b>there</b>", occupation="Nurse")
            photos = []
            for position in (1, 2):
                photo = uuid.uuid4().hex * 2
                photos.append(photo)
                await svc.db.execute(
                    "INSERT INTO photo (person_id, position, uuid, blurhash, hash) VALUES ($1, $2, $3, 'b', 'h')",
                    bo.person_id, position, photo,
                )
            await archive(svc, ana, bo, "O", 100, archived(ana, bo, "hello"))
            await archive(svc, ana, bo, "I", 200, archived(bo, ana, "go away <now>"))
            await archive(svc, ana, bo, "I", 300, b"\x83broken")
            await archive(svc, bo, ana, "I", 400, archived(ana, bo, "not in the reporter's archive"))

            async with serve(live) as client:
                r = await client.post(f"/skip/by-uuid/{bo.uuid}", json={"report_reason": "  rude & mean  "},
                                      headers=ana.headers)
                assert (r.status_code, r.text) == (200, "")
                await smtp_server.wait_for(1)

                # a second report within 5 seconds is refused, even from a private address
                carl = await onboarded_user(svc, "Carl")
                r = await client.post(f"/skip/by-uuid/{carl.uuid}", json={"report_reason": "spam"}, headers=ana.headers)
                assert r.status_code == 429
                assert await svc.db.fetchval("SELECT count(*) FROM skipped WHERE object_person_id = $1", carl.person_id) == 0

        skip = await svc.db.fetchrow("SELECT reported, report_reason FROM skipped")
        assert (skip["reported"], skip["report_reason"]) == (True, "rude & mean")
        tokens = {r["person_id"]: str(r["token"]) for r in await svc.db.fetch("SELECT * FROM banned_person_admin_token")}
        assert set(tokens) == {ana.person_id, bo.person_id}
        photo_tokens = {r["photo_uuid"]: str(r["token"]) for r in await svc.db.fetch("SELECT * FROM deleted_photo_admin_token")}
        assert set(photo_tokens) == set(photos)
        expiry = await svc.db.fetchval("SELECT expires_at - generated_at FROM banned_person_admin_token LIMIT 1")
        assert expiry.days in (28, 29, 30, 31)

        [message] = smtp_server.messages
        assert smtp_server.envelopes[0][1] == [MODERATOR]
        assert message["Subject"] == f"Report: {ana.person_id} - {bo.person_id}"
        assert message["From"] == f"Duolicious <{MODERATOR}>"
        html_part = message.get_body(("html",))
        assert html_part is not None
        body = html_part.get_content()
        public = config.public_url
        assert f'{public}/admin/ban-link/{tokens[ana.person_id]}' in body
        assert f'{public}/admin/ban-link/{tokens[bo.person_id]}' in body
        assert "rude &amp; mean" in body and "<b>there</b>" not in body
        assert f"{config.media_url}/original-{photos[0]}.jpg" in body

        text_part = message.get_body(("plain",))
        assert text_part is not None
        text = text_part.get_content().replace("\r\n", "\n")
        people_yaml, _, rest = text.partition("\nLast messages:\n")
        reporter, accused = yaml.safe_load(people_yaml)
        assert reporter["role"] == "Reporter" and accused["role"] == "Accused"
        assert accused["name"] == "Bø" and accused["gender"] == "Man" and accused["occupation"] == "Nurse"
        assert accused["times_reported"] == 1 and accused["all_report_reasons"] == ["rude & mean"]
        assert accused["photo_deletion_links"] == [
            f"{p}: {public}/admin/delete-photo-link/{photo_tokens[p]}" for p in photos
        ]
        assert reporter["clubs"] == ["hiking"] and reporter["ip_addresses"] == ["127.0.0.1/32"]
        assert reporter["email_domain"] == "example.com" and reporter["age"] == 30
        assert accused["location"] == "Sydney, New South Wales, Australia"
        assert accused["verification_level"] == "No verification" and accused["account_age_in_days"] == 0
        messages = yaml.safe_load(rest.partition("\nReason:\n")[0])
        assert messages == [
            {"reporter": "hello"},
            {"accused": "go away <now>"},
            {"error": "could not decode the archived message", "search_body": "normalised"},
        ]


async def test_reporting_an_already_skipped_person_marks_it(svc: Services, tmp_path: pathlib.Path) -> None:
    with trio.fail_after(30):
        sent: list[Mail] = []

        async def send_mail(mail: Mail) -> None:
            sent.append(mail)

        live = attrs.evolve(svc, config=app_plugin.test_config(tmp_path, DUO_REPORT_EMAIL=MODERATOR), send_mail=send_mail)
        ana = await onboarded_user(svc, "Ana")
        bo = await onboarded_user(svc, "Bo")
        async with serve(live) as client:
            assert (await client.post(f"/skip/by-uuid/{bo.uuid}", headers=ana.headers)).status_code == 200
            assert sent == []
            r = await client.post(f"/skip/by-uuid/{bo.uuid}", json={"report_reason": "scam"}, headers=ana.headers)
            assert r.status_code == 200
        row = await svc.db.fetchrow("SELECT reported, report_reason FROM skipped")
        assert (row["reported"], row["report_reason"]) == (True, "scam")
        assert [m.subject for m in sent] == [f"Report: {ana.person_id} - {bo.person_id}"]
        assert sent[0].to == MODERATOR
