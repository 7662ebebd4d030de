"""profilereporter (scheduler.md §5.8): an edited about text that may be a minor's is reported by
the bot account, and the report e-mail reaches a moderator over real SMTP."""

import pathlib

import trio

from duo.jobs import profilereporter
from duo.services import Services
from tests.factories import onboarded_user
from tests.jobs_support import NOW, with_env
from tests.plugins.smtp import SmtpServer, smtp_mail

MODERATOR = "moderator@duo-mods.org"


async def queue(svc: Services, person_id: int) -> None:
    await svc.db.execute("INSERT INTO unmoderated_person (person_id, trait) VALUES ($1, 'about')", person_id)


async def test_a_potential_minor_is_reported_once(svc: Services, smtp_server: SmtpServer,
                                                  tmp_path: pathlib.Path) -> None:
    with trio.fail_after(60):
        live = with_env(svc, tmp_path, DUO_REPORT_EMAIL=MODERATOR)
        bot = await onboarded_user(svc, "Bot", roles=["bot"])
        young = await onboarded_user(svc, "Young", about="hi im 15 yo and love anime")
        adult = await onboarded_user(svc, "Adult", about="I have worked here for 15 years")
        for user in (young, adult):
            await queue(svc, user.person_id)

        async with smtp_mail(live, smtp_server, tmp_path) as mailing:
            assert await profilereporter.iteration(mailing, NOW) == {"screened": 2, "reported": 1}
            await smtp_server.wait_for(1)
            assert await profilereporter.iteration(mailing, NOW) == {"screened": 0, "reported": 0}

        [message] = smtp_server.messages
        assert smtp_server.envelopes[0][1] == [MODERATOR]
        assert message["Subject"] == f"Report: {bot.person_id} - {young.person_id}"
        skip = await svc.db.fetchrow("SELECT * FROM skipped")
        assert (skip["subject_person_id"], skip["object_person_id"]) == (bot.person_id, young.person_id)
        assert (skip["reported"], skip["report_reason"]) == (True, "Automatically lodged report: Child safety")
        assert await svc.db.fetchval("SELECT count(*) FROM unmoderated_person") == 0


async def test_without_a_bot_account_the_queue_waits(svc: Services, tmp_path: pathlib.Path) -> None:
    with trio.fail_after(30):
        young = await onboarded_user(svc, "Young", about="im 15 yo")
        await queue(svc, young.person_id)
        assert await profilereporter.iteration(svc, NOW) == {"screened": 0, "reported": 0}
        assert await svc.db.fetchval("SELECT count(*) FROM unmoderated_person") == 1
