"""The scheduler actor: one leader across processes (advisory lock on a dedicated connection),
take-over when the leader's connection dies, a crashing job restarts alone, dry run, and the
operator's views (``duo jobs``, ``/health/details``).

Two schedulers in one test stand for two processes: each has its own lock connection and
identity. Poll intervals are fractions of a second and the tests wait on state changes.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import pathlib
import random
import sys

import attrs
import trio
import trio.testing

from duo.actors.runtime import open_supervisor
from duo.actors.scheduler import SchedulerState, backoff, run_job, start_scheduler, status_reader
from duo.jobs.job import Counts, Job
from duo.jobs.registry import scheduled_jobs
from duo.jobs.report import jobs_report
from duo.media.storage import LocalSettings, LocalStorage
from duo.ratelimit import MemoryCounter
from duo.services import Services
from duo.sql.database import Database, DbSettings
from tests.factories import onboarded_user
from tests.jobs_support import with_env
from tests.plugins import app as app_plugin
from tests.plugins.app import serve

POLL = 0.02


def counting_job(name: str, runs: list[str], label: str) -> Job:
    async def iteration(svc: Services, now: dt.datetime) -> Counts:
        runs.append(label)
        return {"runs": len(runs)}

    return Job(name, POLL, iteration)


def crashing_job(name: str) -> Job:
    async def iteration(svc: Services, now: dt.datetime) -> Counts:
        raise RuntimeError("boom")

    return Job(name, POLL, iteration)


def quick(svc: Services, tmp_path: pathlib.Path, **env: str) -> Services:
    return with_env(svc, tmp_path, DUO_CRON_MAX_RANDOM_START_DELAY="0", **env)


def ran(name: str, times: int) -> functools.partial[bool]:
    return functools.partial(lambda s, n, t: s.jobs[n].runs >= t, n=name, t=times)


def test_backoff_doubles_up_to_the_cap() -> None:
    assert [backoff(1, n) for n in range(4)] == [1, 1, 2, 4]
    assert backoff(1, 30) == 300
    assert backoff(600, 5) == 600  # never shorter than the poll interval


def test_jobs_in_the_reference_start_order_with_its_defaults(tmp_path: pathlib.Path) -> None:
    """scheduler.md §1 start order (checkphotos never) and the §3 poll and dry-run defaults."""
    config = app_plugin.test_config(tmp_path, DUO_NSFW_MODEL=str(tmp_path / "model.onnx"), OPENAI_API_KEY="sk-test")
    assert [(j.name, j.poll_seconds, j.dry_run) for j in scheduled_jobs(config)] == [
        ("autodeactivate2", 600, True), ("garbagerecords", 10, None), ("photocleaner", 60, True),
        ("audiocleaner", 60, True), ("nsfwphotorunner", 1, None), ("notifications", 10, None),
        ("verificationjobrunner", 1, None), ("profilereporter", 600, None),
    ]
    assert config.cron.max_random_start_delay == 15 and config.cron.check_photos_dry_run
    assert not config.cron.disable_mobile_notifications


async def test_one_leader_and_take_over(svc: Services, db_settings: DbSettings, tmp_path: pathlib.Path) -> None:
    with trio.fail_after(60):
        svc = quick(svc, tmp_path)
        runs: list[str] = []
        async with open_supervisor() as first, open_supervisor() as second:
            _, a = await start_scheduler(first, svc, [counting_job("tick", runs, "a")], identity="a", poll=POLL)
            await a.wait_until(ran("tick", 3))
            _, b = await start_scheduler(second, svc, [counting_job("tick", runs, "b")], identity="b", poll=POLL)
            await a.wait_until(ran("tick", 8))  # b has had several polls meanwhile
            assert (a.leader, b.leader) == (True, False)
            assert "b" not in runs
            report = await jobs_report(db_settings)
            assert "leader: a since" in report and "(leading now)" in report
            assert "tick: every 0.02s after the last run; last run" in report

            # the leader's lock connection dies: b takes over, a becomes a follower
            killed = await svc.db.fetchval("SELECT pg_terminate_backend(backend_pid) FROM duo_job_leader")
            assert killed
            await b.wait_until(lambda s: s.leader)
            await a.wait_until(lambda s: not s.leader)
            await b.wait_until(ran("tick", 2))
            assert await svc.db.fetchval("SELECT process FROM duo_job_leader") == "b"
            assert "leader: b since" in await jobs_report(db_settings)
            a_runs = a.jobs["tick"].runs
            await b.wait_until(ran("tick", 6))
            assert a.jobs["tick"].runs == a_runs and not a.leader  # a keeps out while b holds the lock


async def test_a_crashing_job_restarts_alone_and_shows_in_health(svc: Services, tmp_path: pathlib.Path) -> None:
    with trio.fail_after(60):
        svc = quick(svc, tmp_path)
        runs: list[str] = []
        async with open_supervisor() as supervisor:
            ref, state = await start_scheduler(
                supervisor, svc, [crashing_job("broken"), counting_job("steady", runs, "x")], poll=POLL,
                rng=random.Random(1))
            await state.wait_until(lambda s: s.jobs["broken"].consecutive_failures >= 3)
            await state.wait_until(ran("steady", 10))
            broken, steady = state.jobs["broken"], state.jobs["steady"]
            assert (broken.last_ok, broken.last_result) == (False, "RuntimeError: boom")
            assert (steady.last_ok, steady.consecutive_failures) == (True, 0)
            # backoff: the crashing job ran far less often than the steady one
            assert broken.runs < steady.runs

            live = attrs.evolve(svc, jobs_status=status_reader(ref))
            async with serve(live) as client:
                assert (await client.get("/health")).text == "status: ok"
                details = await client.get("/health/details")
                assert details.status_code == 200
                body = details.json()
                assert body["status"] == "ok" and body["scheduler"]["leader"] is True
                jobs = {job["name"]: job for job in body["scheduler"]["jobs"]}
                assert jobs["broken"]["status"] == "failing" and jobs["steady"]["status"] == "ok"
                assert jobs["broken"]["last_result"] == "RuntimeError: boom"

        assert "error" in await status_reader(ref)()  # a stopped scheduler is reported, not raised
        row = await svc.db.fetchrow("SELECT * FROM duo_job WHERE name = 'broken'")
        assert row["last_ok"] is False and row["consecutive_failures"] >= 3


async def test_dry_run_jobs_change_nothing(svc: Services, tmp_path: pathlib.Path) -> None:
    """The real jobs on their default (dry-run) settings: nothing deleted, deactivated or sent."""
    with trio.fail_after(60):
        svc = quick(svc, tmp_path)
        now = svc.now()
        away = await onboarded_user(svc, "Away", email="away@duo-mail.org",
                                    last_online_time=now - dt.timedelta(days=40),
                                    sign_in_time=now - dt.timedelta(days=40))
        photo = "ab" * 32
        await svc.storage.put("photos", f"450-{photo}.jpg", b"jpeg")
        await svc.storage.put("audio", "cd.aac", b"aac")
        await svc.db.execute("INSERT INTO undeleted_photo (uuid) VALUES ($1)", photo)
        await svc.db.execute("INSERT INTO undeleted_audio (uuid) VALUES ('cd')")
        jobs = scheduled_jobs(svc.config)
        assert [job.name for job in jobs] == ["autodeactivate2", "garbagerecords", "photocleaner", "audiocleaner",
                                              "notifications", "profilereporter"]
        async with open_supervisor() as supervisor:
            _, state = await start_scheduler(supervisor, svc, jobs, poll=POLL)
            await state.wait_until(lambda s: all(job.runs >= 1 for job in s.jobs.values()))
        assert all(job.last_ok for job in state.jobs.values()), {j.name: j.last_result for j in state.jobs.values()}
        assert state.jobs["photocleaner"].last_result == "queued=1, deleted=0"
        assert await svc.storage.get("photos", f"450-{photo}.jpg") == b"jpeg"
        assert await svc.storage.get("audio", "cd.aac") == b"aac"
        assert await svc.db.fetchval("SELECT count(*) FROM undeleted_photo") == 1
        assert await svc.db.fetchval("SELECT activated FROM person WHERE id = $1", away.person_id) is True
        assert svc.send_mail.sent == []  # type: ignore[attr-defined]  # the MailSink fixture


def test_state_starts_without_runs() -> None:
    state = SchedulerState("p", [Job("j", 1, crashing_job("j").iteration, True)])
    assert state.as_dict()["jobs"][0] | {} == {
        "name": "j", "schedule": "every 1s after the last run, dry run", "dry_run": True, "last_started": None,
        "last_finished": None, "last_ok": None, "last_result": "", "consecutive_failures": 0, "runs": 0,
        "status": "ok"}


async def test_start_delay_poll_interval_and_backoff_on_a_mock_clock(
    autojump_clock: trio.testing.MockClock, tmp_path: pathlib.Path
) -> None:
    """No database here (recording the state fails and is logged), so the autojump clock is safe."""
    svc = Services(config=app_plugin.test_config(tmp_path), db=Database(DbSettings(host="nowhere")),
                   counter=MemoryCounter(), storage=LocalStorage(LocalSettings(root=tmp_path)),
                   send_mail=app_plugin.MailSink(), media=None, send_push=lambda push: None)  # type: ignore[arg-type]
    failing = {2, 3}  # the 2nd and 3rd iterations fail
    times: list[float] = []

    async def iteration(svc: Services, now: dt.datetime) -> Counts:
        times.append(trio.current_time())
        if len(times) in failing:
            raise RuntimeError("boom")
        return {}

    job = Job("j", 10, iteration)
    state = SchedulerState("p", [job])
    start = trio.current_time()
    with trio.move_on_after(100):
        await run_job(svc, job, state, start_delay=7)
    # 7 s start delay; 10 s after each run; after the 2nd failure in a row, 20 s
    assert [round(t - start) for t in times] == [7, 17, 27, 47, 57, 67, 77, 87, 97]
    assert (state.jobs["j"].runs, state.jobs["j"].consecutive_failures) == (9, 0)


async def test_duo_jobs_command_reads_another_process_state(
    svc: Services, db_settings: DbSettings, tmp_path: pathlib.Path
) -> None:
    with trio.fail_after(60):
        svc = quick(svc, tmp_path)
        async with open_supervisor() as supervisor:
            _, state = await start_scheduler(supervisor, svc, [crashing_job("broken")], identity="srv:1", poll=POLL)
            await state.wait_until(ran("broken", 1))
            env = {**os.environ, "DUO_DB_HOST": db_settings.host, "DUO_DB_PORT": str(db_settings.port),
                   "DUO_DB_USER": db_settings.user, "DUO_DB_API_NAME": db_settings.database}
            done = await trio.run_process([sys.executable, "-m", "duo", "jobs"], env=env, capture_stdout=True,
                                          capture_stderr=True)
        out = done.stdout.decode()
        assert "leader: srv:1 since" in out and "(leading now)" in out
        assert "broken: every 0.02s after the last run; last run" in out and "FAILED: RuntimeError: boom" in out
