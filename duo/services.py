"""What request handlers and jobs reach, and the one place that opens it all.

``duo serve``, the seed commands and the tests all get their :class:`Services` from
:func:`open_services`, so each runs the same database, actors, storage, block lists and
caches (tests swap only the mail for a sink they can read).
"""

from __future__ import annotations

import datetime as dt
import pathlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import attrs

from duo import media_store
from duo.actors.blocklist import BlockListHolder, start_blocklist
from duo.actors.mailer import Mail, MailerSettings, mail_sender, start_mailer
from duo.actors.media import Media, start_media
from duo.actors.persistence import start_persistence
from duo.actors.runtime import Supervisor, open_supervisor
from duo.chat.push import PushMessage, PushSettings, push_sender, start_pusher
from duo.config import Config
from duo.locations import LocationIndex
from duo.media.storage import Storage
from duo.minute_cache import MinuteCache
from duo.ratelimit import Counter, MemoryCounter, RedisCounter
from duo.redis_client import open_redis
from duo.sql.database import Database, DbSettings

GRACE_SECONDS = 10.0  # what stopping actors (and in-flight requests) may take


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _nothing_blocked(ip: str) -> bool:
    return False


async def _no_chat(person_uuid: str) -> None:
    """Without chat running there are no chat sessions to end."""


@attrs.define
class Services:
    config: Config
    db: Database
    counter: Counter
    storage: Storage
    send_mail: Callable[[Mail], Awaitable[None]]  # queue a mail for the mailer actor
    media: Media  # photo rendering and audio transcoding
    send_push: Callable[[PushMessage], None]  # queue an Expo push (chat and the digests); never blocks
    ip_blocked: Callable[[str], bool] = _nothing_blocked
    end_chat_sessions: Callable[[str], Awaitable[None]] = _no_chat  # account deleted/deactivated/banned
    now: Callable[[], dt.datetime] = utcnow
    jobs_status: Callable[[], Awaitable[dict[str, Any]]] | None = None  # the scheduler's view, if it runs
    # process caches: one per process, so every request of it shares them
    minute_cache: MinuteCache = attrs.field(factory=MinuteCache)
    locations: LocationIndex = attrs.field(
        default=attrs.Factory(lambda self: LocationIndex(self.db), takes_self=True)
    )


def _mailer_settings(config: Config) -> MailerSettings:
    smtp = config.smtp
    return MailerSettings(
        smtp_host=smtp.host or None,
        smtp_port=smtp.port,
        smtp_user=smtp.user or None,
        smtp_pass=smtp.password or None,
        smtp_tls=smtp.tls,  # type: ignore[arg-type]
        sender=smtp.sender,
        mail_log=config.state_path / "mail.log",
        smtp_ca_file=pathlib.Path(smtp.ca_file) if smtp.ca_file else None,
    )


async def start_services(
    supervisor: Supervisor,
    exits: AsyncExitStack,
    config: Config,
    db_settings: DbSettings,
    *,
    schema_ready: bool = False,
    send_mail: Callable[[Mail], Awaitable[None]] | None = None,
    media_workers: int | None = None,
    pool_size: tuple[int, int] = (2, 10),
) -> Services:
    """Start the process's services: the one assembly of them.

    Under ``supervisor``: persistence (schema, unless ``schema_ready``, and the pool), the
    mailer (unless ``send_mail`` replaces it), media, the pusher (one per process, for chat
    and the digest job alike) and the block-list refresher when lists are configured; beside them the rate-limit counter (Redis when configured, closed by
    ``exits``), the storage the config selects, the caches and the clock.
    """
    min_size, max_size = pool_size
    db = Database(db_settings, min_size=min_size, max_size=max_size)
    await start_persistence(supervisor, db, prepare_schema=not schema_ready)
    if send_mail is None:
        send_mail = mail_sender(await start_mailer(supervisor, _mailer_settings(config)))
    media = await start_media(supervisor, workers=media_workers)
    pusher = await start_pusher(supervisor, PushSettings(url=config.chat.notification_api_url), db)
    blocklist = BlockListHolder()
    safety = config.safety
    if safety.ip_blocklist_urls:
        await start_blocklist(
            supervisor,
            blocklist,
            safety.ip_blocklist_urls,
            config.state_path / "firehol",
            safety.ip_blocklist_refresh_seconds,
            download=config.env == "prod",
        )
    counter: Counter = MemoryCounter()
    if config.redis.url:
        counter = RedisCounter(await exits.enter_async_context(open_redis(config.redis.url)))
    return Services(
        config=config,
        db=db,
        counter=counter,
        storage=media_store.from_config(config),
        send_mail=send_mail,
        media=media,
        send_push=push_sender(pusher),
        ip_blocked=blocklist.blocked,
    )


@asynccontextmanager
async def open_services(config: Config, db_settings: DbSettings, **options: Any) -> AsyncIterator[Services]:
    """:func:`start_services` under a supervisor of their own (the seed commands, the tests);
    on the way out the actors stop newest first."""
    async with open_supervisor(grace=GRACE_SECONDS) as supervisor, AsyncExitStack() as exits:
        yield await start_services(supervisor, exits, config, db_settings, **options)
