"""``duo``: serve the backend, apply the schema, and seed users for tests and benchmarks."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import trio

from duo.config import Config, ConfigError, load_config


def _config(args: argparse.Namespace) -> Config:
    try:
        return load_config(args.config)
    except ConfigError as e:
        print(f"duo: {e}", file=sys.stderr)
        raise SystemExit(2) from None


def _logging(config: Config) -> None:
    logging.basicConfig(
        level=config.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _run_or_exit(fn: Callable[..., Awaitable[object]], *args: object) -> None:
    """``trio.run``, turning a state directory held by another process into one line and exit 2."""
    from duo.sql.embedded import StateDirInUse

    try:
        trio.run(fn, *args)
    except StateDirInUse as e:
        print(f"duo: {e}", file=sys.stderr)
        raise SystemExit(2) from None


def cmd_serve(args: argparse.Namespace) -> None:
    import functools

    from duo.supervisor import run
    from duo.workers import run_workers, worker_count

    if args.workers is not None and args.workers < 1:
        print(f"duo: --workers: expected a positive count, got {args.workers}", file=sys.stderr)
        raise SystemExit(2)
    config = _config(args)
    _logging(config)
    workers = 1 if args.worker else worker_count(config, args.workers)
    if workers > 1:
        _run_or_exit(run_workers, config, workers, args.config)
    else:
        _run_or_exit(functools.partial(run, config, shared_port=args.worker))


def cmd_migrate(args: argparse.Namespace) -> None:
    from duo.actors.persistence import prepare
    from duo.aio import open_loop
    from duo.sql.database import Database
    from duo.supervisor import open_database

    config = _config(args)
    _logging(config)

    async def main() -> None:
        async with open_database(config) as settings, open_loop():
            await prepare(Database(settings))

    _run_or_exit(main)
    print("duo: schema is up to date")


def cmd_populate(args: argparse.Namespace) -> None:
    from duo.actors.persistence import prepare
    from duo.aio import open_loop
    from duo.seeding.population import populate
    from duo.services import utcnow
    from duo.sql.database import Database
    from duo.supervisor import open_database

    config = _config(args)
    _logging(config)

    async def main() -> None:
        async with open_database(config) as settings, open_loop():
            await prepare(Database(settings))
            async with Database.open(settings, min_size=1, max_size=1) as db:
                made = await populate(db, args.users, now=utcnow(), seed=args.seed)
        print(
            f"duo: {made.users} people added (ids {made.first_id}–{made.last_id}) in {made.seconds:.1f} s"
            + ("" if made.replica_role else " (not a superuser: triggers and foreign keys checked row by row)")
        )

    _run_or_exit(main)


def cmd_user_create(args: argparse.Namespace) -> None:
    import json

    from duo.aio import open_loop
    from duo.seeding.users import Profile, SeedingError, create_user
    from duo.services import open_services
    from duo.supervisor import open_database

    config = _config(args)
    _logging(config)
    profile = Profile(
        gender=args.gender,
        wanted_genders=tuple(args.wants),
        location=args.location,
        age=args.age,
        answers=args.answers,
        photos=args.photos,
        audio=args.audio,
        verified=args.verified,
    )

    async def main() -> None:
        async with open_database(config) as settings, open_loop(), open_services(config, settings) as svc:
            user = await create_user(svc, args.name, profile)
        print(json.dumps({"email": user.email, "person_id": user.person_id,
                          "person_uuid": user.person_uuid, "session_token": user.token}))

    try:
        _run_or_exit(main)
    except SeedingError as e:
        print(f"duo: {e}", file=sys.stderr)
        raise SystemExit(1) from None


def cmd_jobs(args: argparse.Namespace) -> None:
    import attrs

    from duo.aio import open_loop
    from duo.jobs.report import print_jobs
    from duo.sql import embedded
    from duo.supervisor import open_database

    config = _config(args)

    async def main() -> None:
        try:
            async with open_database(config) as settings, open_loop():
                await print_jobs(settings)
        except embedded.StateDirInUse:
            # the embedded server belongs to a running `duo serve`: read from it, leave it running
            server = await embedded.start(config.state_path / "postgres")
            async with open_loop():
                await print_jobs(attrs.evolve(server, database=config.database.name))

    _run_or_exit(main)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="duo",
        description="The Duolicious backend (HTTP API, chat, scheduled jobs) as one trio process.",
    )
    top.add_argument("--config", type=Path, default=None, help="TOML file (see config.example.toml); env vars override it")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = sub.add_parser("serve", help="run the HTTP API, chat listeners and scheduled jobs")
    serve.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="TOML config file")
    serve.add_argument("--workers", type=int, default=None, metavar="N",
                       help="processes sharing the HTTP port (default: http.workers; one per core in prod, 1 in dev)")
    serve.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)  # started by duo.workers
    serve.set_defaults(func=cmd_serve)
    mig = sub.add_parser("migrate", help="create the database if needed, apply the schema and reference data, exit")
    mig.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="TOML config file")
    mig.set_defaults(func=cmd_migrate)
    jobs = sub.add_parser("jobs", help="list the scheduled jobs: schedule, last run, last result, leader")
    jobs.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="TOML config file")
    jobs.set_defaults(func=cmd_jobs)
    pop = sub.add_parser("populate", help="add N synthetic onboarded people (benchmarks; see duo.seeding.population)")
    pop.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="TOML config file")
    pop.add_argument("--users", type=int, required=True, help="how many people to add")
    pop.add_argument("--seed", type=float, default=None, help="setseed() value in [-1, 1] for a repeatable population")
    pop.set_defaults(func=cmd_populate)
    user = sub.add_parser("user", help="test accounts").add_subparsers(dest="action", required=True, metavar="ACTION")
    create = user.add_parser("create", help="sign up NAME@example.com through the API (dev mode) and onboard it")
    create.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="TOML config file")
    create.add_argument("name", help="display name; the address is NAME@example.com")
    create.add_argument("--answers", type=int, default=0, help="questions to answer (in /next-questions order)")
    create.add_argument("--photos", type=int, default=0, choices=range(0, 8), metavar="0-7", help="generated photos")
    create.add_argument("--audio", action="store_true", help="add a generated audio bio")
    create.add_argument("--verified", action="store_true", help="set the flags a successful verification sets")
    create.add_argument("--gender", default="Woman", help="gender name (default Woman)")
    create.add_argument("--wants", nargs="+", default=["Man"], help="genders searched for (default Man)")
    create.add_argument("--location", default="New York, New York, United States", help="a location name")
    create.add_argument("--age", type=int, default=30, help="age in years (default 30)")
    create.set_defaults(func=cmd_user_create)
    return top


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
