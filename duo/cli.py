"""``duo``: serve the backend, apply the schema, and seed users for tests and benchmarks."""

from __future__ import annotations

import argparse
import logging
import sys
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


def cmd_serve(args: argparse.Namespace) -> None:
    from duo.supervisor import run

    config = _config(args)
    _logging(config)
    trio.run(run, config)


def cmd_migrate(args: argparse.Namespace) -> None:
    from duo.actors.persistence import prepare
    from duo.aio import open_loop
    from duo.sql.database import Database
    from duo.supervisor import open_database

    config = _config(args)
    _logging(config)

    async def main() -> None:
        async with open_loop(), open_database(config) as settings:
            await prepare(Database(settings))

    trio.run(main)
    print("duo: schema is up to date")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="duo",
        description="The Duolicious backend (HTTP API, chat, scheduled jobs) as one trio process.",
    )
    top.add_argument("--config", type=Path, default=None, help="TOML file (see config.example.toml); env vars override it")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = sub.add_parser("serve", help="run the HTTP API, chat listeners and scheduled jobs")
    serve.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="TOML config file")
    serve.set_defaults(func=cmd_serve)
    mig = sub.add_parser("migrate", help="create the database if needed, apply the schema and reference data, exit")
    mig.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="TOML config file")
    mig.set_defaults(func=cmd_migrate)
    return top


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
