"""notifications (scheduler.md §5.1): one digest per person with unread conversations, spaced by
their chosen frequency, recorded before it is sent; e-mails over real SMTP, pushes through the
real pusher to the local Expo-format server."""

import datetime as dt
import pathlib
import urllib.parse

import attrs
import trio

from duo.jobs import notifications
from duo.services import Services
from tests.factories import User, onboarded_user
from tests.jobs_support import NOW
from tests.plugins.expo import FakeExpo, pushing_to
from tests.plugins.smtp import SmtpServer, smtp_mail

MINUTE = dt.timedelta(minutes=1)
IMMEDIATELY, DAILY, EVERY_3_DAYS, WEEKLY, NEVER = 1, 2, 3, 4, 5


def micros(t: dt.datetime) -> int:
    return int(t.timestamp() * 1_000_000)


async def unread(svc: Services, owner: User, other: str, box: str, at: dt.datetime, count: int = 1) -> None:
    await svc.db.execute(
        """INSERT INTO inbox (luser, remote_bare_jid, box, content, timestamp, unread_count)
           VALUES ($1, $2, $3, '\\x00', $4, $5)
           ON CONFLICT (luser, remote_bare_jid) DO UPDATE SET box = $3, timestamp = $4, unread_count = $5""",
        str(owner.uuid), f"{other}@duolicious.app", box, micros(at), count,
    )


async def person(svc: Services, name: str, away: dt.timedelta = 60 * MINUTE, **columns: object) -> User:
    return await onboarded_user(svc, name, email=f"{name}@duo-mail.org", last_online_time=NOW - away, **columns)


async def test_digests_follow_the_selection_rules(svc: Services, smtp_server: SmtpServer,
                                                  tmp_path: pathlib.Path, expo: FakeExpo) -> None:
    with trio.fail_after(60):
        ana = await person(svc, "ana")  # two unread intros: one digest
        await unread(svc, ana, "x1", "inbox", NOW - 30 * MINUTE)
        await unread(svc, ana, "x2", "inbox", NOW - 20 * MINUTE, count=3)
        bo = await person(svc, "bo")  # chats and intros
        await unread(svc, bo, "x1", "inbox", NOW - 30 * MINUTE)
        await unread(svc, bo, "x2", "chats", NOW - 40 * MINUTE)
        fresh = await person(svc, "fresh")  # the message is younger than 10 minutes
        await unread(svc, fresh, "x1", "chats", NOW - 5 * MINUTE)
        seen = await person(svc, "seen", away=15 * MINUTE)  # online after the message arrived
        await unread(svc, seen, "x1", "chats", NOW - 30 * MINUTE)
        old = await person(svc, "old", away=dt.timedelta(days=12))  # older than 10 days
        await unread(svc, old, "x1", "chats", NOW - dt.timedelta(days=11))
        never = await person(svc, "never", chats_notification=NEVER)
        await unread(svc, never, "x1", "chats", NOW - 30 * MINUTE)
        hidden = await person(svc, "hidden", activated=False)
        await unread(svc, hidden, "x1", "chats", NOW - 30 * MINUTE)
        read = await person(svc, "read")
        await unread(svc, read, "x1", "chats", NOW - 30 * MINUTE, count=0)
        phone = await person(svc, "phone")  # a recent push token: a push, not an e-mail
        await unread(svc, phone, "x1", "chats", NOW - 30 * MINUTE)
        await svc.db.execute("INSERT INTO duo_push_token (username, token) VALUES ($1, 'ExponentPushToken[x]')",
                             str(phone.uuid))
        await svc.db.execute("INSERT INTO inbox (luser, remote_bare_jid, box, content, timestamp, unread_count) "
                             "VALUES ('not-a-uuid', 'x', 'chats', '\\x00', $1, 1)", micros(NOW - 30 * MINUTE))

        async with smtp_mail(svc, smtp_server, tmp_path) as mailing, pushing_to(mailing, expo):
            counts = await notifications.iteration(mailing, NOW)
            # "never" is selected (has a chat) but not sendable: nothing is written for it
            assert counts == {"selected": 4, "mailed": 2, "pushed": 1, "push_suppressed": 0, "test_address": 0}
            (pushed,) = (await expo.next_request()).items
            assert pushed == {"to": "ExponentPushToken[x]", "title": "You have a new message 😍",
                              "body": "You have a new message in your chats", "data": {"screen": "Inbox"},
                              "sound": "default", "priority": "high"}
            await smtp_server.wait_for(2)
            by_recipient = {to: m for (_, [to]), m in zip(smtp_server.envelopes, smtp_server.messages, strict=True)}
            assert set(by_recipient) == {"ana@duo-mail.org", "bo@duo-mail.org"}

            recorded = {r["username"]: (r["intro_seconds"], r["chat_seconds"])
                        for r in await svc.db.fetch("SELECT * FROM duo_last_notification")}
            stamp = int(NOW.timestamp()) + 5
            assert recorded == {str(ana.uuid): (stamp, 0), str(bo.uuid): (stamp, stamp), str(phone.uuid): (0, stamp)}

            # nothing new: nothing sent again ("never" stays selected, never sendable)
            counts = await notifications.iteration(mailing, NOW + MINUTE)
            assert counts == {"selected": 1, "mailed": 0, "pushed": 0, "push_suppressed": 0, "test_address": 0}

            # an hour later Ana has a new intro (Daily: not yet) and Bo a new chat (Immediately: now);
            # the message "fresh" had is now old enough
            later = NOW + 60 * MINUTE
            await unread(svc, ana, "x3", "inbox", later - 20 * MINUTE)
            await unread(svc, bo, "x2", "chats", later - 20 * MINUTE)
            counts = await notifications.iteration(mailing, later)
            assert counts == {"selected": 4, "mailed": 2, "pushed": 0, "push_suppressed": 0, "test_address": 0}
            await smtp_server.wait_for(4)
            assert sorted(to for _, [to] in smtp_server.envelopes[2:]) == ["bo@duo-mail.org", "fresh@duo-mail.org"]

        mail = by_recipient["bo@duo-mail.org"]
        assert mail["Subject"] == "You have a new message 😍"
        assert mail["From"] == "Duolicious <no-reply@duolicious.app>"
        html_part = mail.get_body(("html",))
        assert html_part is not None
        body = html_part.get_content()
        assert "chats and intros" in body and "https://get.duolicious.app/" in body
        query = urllib.parse.urlencode({"email": "bo@duo-mail.org", "type": "Every", "frequency": "Never"})
        assert f"{svc.config.public_url}/update-notifications?{query}".replace("&", "&amp;") in body
        assert "email=bo%40duo-mail.org&amp;type=Intros&amp;frequency=Every+3+days" in body
        intro_only = by_recipient["ana@duo-mail.org"].get_body(("html",))
        assert intro_only is not None and "a new message in your intros" in intro_only.get_content()


async def test_test_addresses_are_recorded_but_not_mailed(svc: Services) -> None:
    with trio.fail_after(30):
        ana = await onboarded_user(svc, "Ana", last_online_time=NOW - 60 * MINUTE)  # ana…@example.com
        await unread(svc, ana, "x1", "chats", NOW - 30 * MINUTE)
        counts = await notifications.iteration(svc, NOW)
        assert counts == {"selected": 1, "mailed": 0, "pushed": 0, "push_suppressed": 0, "test_address": 1}
        assert svc.send_mail.sent == []  # type: ignore[attr-defined]  # the MailSink fixture
        assert await svc.db.fetchval("SELECT chat_seconds FROM duo_last_notification") == int(NOW.timestamp()) + 5


async def test_disabled_mobile_notifications_record_push_digests_without_sending(svc: Services) -> None:
    """``cron.disable_mobile_notifications`` (the reference's flag file): recorded, logged, not
    pushed and not e-mailed either."""
    svc.config = attrs.evolve(svc.config, cron=attrs.evolve(svc.config.cron, disable_mobile_notifications=True))
    sent = []
    svc.send_push = sent.append
    with trio.fail_after(30):
        phone = await person(svc, "phone")
        await unread(svc, phone, "x1", "inbox", NOW - 30 * MINUTE)
        await svc.db.execute("INSERT INTO duo_push_token (username, token) VALUES ($1, 'ExponentPushToken[x]')",
                             str(phone.uuid))
        counts = await notifications.iteration(svc, NOW)
        assert counts == {"selected": 1, "mailed": 0, "pushed": 0, "push_suppressed": 1, "test_address": 0}
        assert sent == [] and svc.send_mail.sent == []  # type: ignore[attr-defined]  # the MailSink fixture
        assert await svc.db.fetchval("SELECT intro_seconds FROM duo_last_notification") == int(NOW.timestamp()) + 5


async def test_old_push_tokens_get_e_mail_and_frequencies_space_digests(svc: Services) -> None:
    """A token only counts within 8 days of being online (§5.1 selection 5); "Every 3 days" and
    "Weekly" wait that long after the last digest (drift, step 1)."""
    DAY = dt.timedelta(days=1)
    sent: list[object] = []
    svc.send_push = sent.append
    with trio.fail_after(30):
        gone = await person(svc, "gone", away=9 * DAY)  # token, but away 9 days: e-mail
        await unread(svc, gone, "x1", "chats", NOW - 30 * MINUTE)
        await svc.db.execute("INSERT INTO duo_push_token (username, token) VALUES ($1, 'ExponentPushToken[g]')",
                             str(gone.uuid))
        three = await person(svc, "three", away=5 * DAY, chats_notification=EVERY_3_DAYS)
        weekly = await person(svc, "weekly", away=5 * DAY, intros_notification=WEEKLY)
        for who, box in ((three, "chats"), (weekly, "inbox")):
            await unread(svc, who, "x1", box, NOW - 2 * DAY)
            await svc.db.execute(
                "INSERT INTO duo_last_notification (username, intro_seconds, chat_seconds) VALUES ($1, $2, $2)",
                str(who.uuid), int((NOW - 6 * DAY).timestamp()),
            )
        counts = await notifications.iteration(svc, NOW)
        # the last digest 6 days ago, the message 2 days old: "three" (last + 3 days < newest) is sent;
        # "weekly": last + 7 days is after the message → not yet
        assert counts == {"selected": 3, "mailed": 2, "pushed": 0, "push_suppressed": 0, "test_address": 0}
        assert sent == []
        mailed = sorted(m.to for m in svc.send_mail.sent)  # type: ignore[attr-defined]  # the MailSink fixture
        assert mailed == ["gone@duo-mail.org", "three@duo-mail.org"]
        assert await svc.db.fetchval("SELECT intro_seconds FROM duo_last_notification WHERE username = $1",
                                     str(weekly.uuid)) == int((NOW - 6 * DAY).timestamp())  # untouched
