"""autodeactivate2 (scheduler.md §5.2): a month away → deactivated, signed out, told by e-mail."""

import datetime as dt
import pathlib

import trio

from duo.jobs import autodeactivate
from duo.services import Services
from tests.factories import onboarded_user
from tests.jobs_support import NOW, with_env
from tests.plugins.smtp import SmtpServer, smtp_mail

DAY = dt.timedelta(days=1)


async def people(svc: Services) -> dict[str, int]:
    """Away 40 days (two of them in one club), away 20 days, away 60 days, signed in just now."""
    made = {}
    for name, away, signed_in in (("ana", 40 * DAY, 40 * DAY), ("bo", 40 * DAY, 40 * DAY),
                                  ("cy", 20 * DAY, 20 * DAY), ("di", 60 * DAY, 60 * DAY),
                                  ("ed", 40 * DAY, dt.timedelta(minutes=5))):
        user = await onboarded_user(svc, name, email=f"{name}@duo-mail.org", clubs=["hiking"],
                                    last_online_time=NOW - away, sign_in_time=NOW - signed_in)
        made[name] = user.person_id
    return made


async def test_inactive_people_are_deactivated_and_told(
    svc: Services, smtp_server: SmtpServer, tmp_path: pathlib.Path
) -> None:
    with trio.fail_after(60):
        made = await people(svc)
        await onboarded_user(svc, "test", last_online_time=NOW - 40 * DAY, sign_in_time=NOW - 40 * DAY)
        live = with_env(svc, tmp_path, DUO_CRON_AUTODEACTIVATE2_DRY_RUN="false")
        async with smtp_mail(live, smtp_server, tmp_path) as mailing:
            counts = await autodeactivate.iteration(mailing, NOW)
            assert counts == {"selected": 3, "deactivated": 3, "mailed": 2}  # the @example.com one is not mailed
            await smtp_server.wait_for(2)

        assert sorted(to for _, [to] in smtp_server.envelopes) == ["ana@duo-mail.org", "bo@duo-mail.org"]
        message = smtp_server.messages[0]
        assert message["Subject"] == "Your profile is invisible 👻"
        assert message["From"] == "Duolicious <no-reply@duolicious.app>"
        html = message.get_body(("html",))
        assert html is not None and "https://get.duolicious.app/" in html.get_content()

        rows = await svc.db.fetch("SELECT id, activated FROM person WHERE id = ANY($1::int[])", list(made.values()))
        activated = {r["id"]: r["activated"] for r in rows}
        assert [name for name, pid in made.items() if not activated[pid]] == ["ana", "bo"]
        assert await svc.db.fetchval("SELECT count(*) FROM duo_session WHERE person_id = $1", made["ana"]) == 0
        assert await svc.db.fetchval("SELECT count(*) FROM duo_session WHERE person_id = $1", made["cy"]) == 1
        # six members, three deactivated: lowered once per member
        assert await svc.db.fetchval("SELECT count_members FROM club WHERE name = 'hiking'") == 3

        assert await autodeactivate.iteration(live, NOW) == {"selected": 0, "deactivated": 0, "mailed": 0}


async def test_dry_run_changes_and_sends_nothing(svc: Services, tmp_path: pathlib.Path) -> None:
    with trio.fail_after(30):
        made = await people(svc)
        sent = svc.send_mail.sent  # type: ignore[attr-defined]  # the MailSink fixture
        counts = await autodeactivate.iteration(svc, NOW)  # default: dry run
        assert counts == {"selected": 2, "deactivated": 0, "mailed": 0}
        assert sent == []
        assert await svc.db.fetchval("SELECT bool_and(activated) FROM person WHERE id = ANY($1::int[])",
                                     list(made.values()))
        assert await svc.db.fetchval("SELECT count_members FROM club WHERE name = 'hiking'") == 5
