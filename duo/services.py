"""What request handlers and jobs reach: the running parts, built once by the supervisor."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import attrs

from duo.config import Config
from duo.sql.database import Database

if TYPE_CHECKING:  # type-only: these modules import what handlers import
    from duo.actors.mailer import Mail
    from duo.actors.media import Media
    from duo.media.storage import Storage
    from duo.ratelimit import Counter


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
    ip_blocked: Callable[[str], bool] = _nothing_blocked
    end_chat_sessions: Callable[[str], Awaitable[None]] = _no_chat  # account deleted/deactivated/banned
    now: Callable[[], dt.datetime] = utcnow
    jobs_status: Callable[[], Awaitable[dict[str, Any]]] | None = None  # the scheduler's view, if it runs
