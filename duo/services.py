"""What request handlers and jobs reach: the running parts, built once by the supervisor."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import attrs

from duo.config import Config
from duo.sql.database import Database


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@attrs.define
class Services:
    config: Config
    db: Database
    counter: Any  # duo.http.ratelimit.Counter
    storage: Any  # duo.media.storage.Storage
    send_mail: Callable[[Any], Awaitable[None]]  # queue a duo.actors.mailer.Mail
    media: Any  # duo.actors.media.Media: photo rendering and audio transcoding
    ip_blocked: Callable[[str], bool] = lambda ip: False
    now: Callable[[], dt.datetime] = utcnow
