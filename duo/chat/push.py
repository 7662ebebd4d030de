"""Immediate push notifications through Expo's push API (chat-protocol §8.1).

The pipeline decides *whether* to push (the recipient's preference is "Immediately" and
a token is registered) and builds the :class:`PushMessage`; this module delivers it.

The pusher is an actor on the runtime (``duo/actors/runtime.py``), started once per
process by ``duo.services.start_services``; chat and the digest job queue through
``Services.send_push``::

    pusher = await start_pusher(supervisor, PushSettings(url=config.chat.notification_api_url), db)
    send_push = push_sender(pusher)
    send_push(accepted.push)           # never blocks, never raises

It sends what is queued in batches of up to 100 (one HTTP POST each: a JSON array of
Expo messages), retries transport errors, 429 and 5xx answers with exponential backoff,
and removes a token Expo calls ``DeviceNotRegistered``. A push that cannot be delivered is
logged once and dropped: chat never waits for or fails on a push.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import httpx
import trio

from duo.actors.runtime import ActorFn, ActorRef, ActorStopped, Inbox, MailboxFull, Supervisor
from duo.sql import chat as sql
from duo.sql.database import DB_FAILURES, Database

log = logging.getLogger("duo.chat.push")

TITLE_SUFFIX = " sent you a message"
BATCH_MAX = 100  # Expo takes at most 100 messages per request
HEADERS = {
    "Accept": "application/json",
    "Accept-encoding": "gzip, deflate",
    "Content-type": "application/json",
}
STALE_TOKEN = "DeviceNotRegistered"


@attrs.frozen
class PushMessage:
    """One Expo message for ``username``'s registered ``token`` (§8.1 content)."""

    username: str  # recipient's uuid, so a stale token can be removed
    token: str
    title: str
    body: str
    data: dict[str, Any]

    def wire(self) -> dict[str, Any]:
        """The Expo request item, keys in the reference's order (``data`` only if set)."""
        item: dict[str, Any] = {"to": self.token, "title": self.title, "body": self.body}
        if self.data:
            item["data"] = self.data
        item["sound"] = "default"
        item["priority"] = "high"
        return item


def push_body(body: str) -> str:
    """At most 20 lines, then at most 125 characters, stripped; ``...`` if anything changed."""
    short = "\n".join(body.split("\n")[:20])[:125].strip()
    return short if short == body else short + "..."


@attrs.frozen
class PushSettings:
    """Where and how hard to try; tests shrink the delays."""

    url: str
    attempts: int = 4  # per batch, the first included
    retry_initial: float = 1.0  # seconds before the first retry, doubled each time
    retry_max: float = 30.0
    timeout: float = 10.0  # per HTTP request


PusherRef = ActorRef[PushMessage, None]


async def start_pusher(
    supervisor: Supervisor, settings: PushSettings, db: Database, *, capacity: int = 10_000
) -> PusherRef:
    """Start the pusher under ``supervisor``; queue pushes with :func:`push_sender`."""
    return await supervisor.start("pusher", pusher_actor(settings, db), capacity=capacity)


def push_sender(pusher: PusherRef) -> Callable[[PushMessage], None]:
    """What chat calls to push: queue without waiting; a full or stopping pusher drops
    the push with a warning (chat never fails over a push)."""

    def queue(push: PushMessage) -> None:
        try:
            pusher.cast(push)
        except (MailboxFull, ActorStopped):
            log.warning("push to %s dropped: the pusher is full or stopping", push.username)

    return queue


def pusher_actor(settings: PushSettings, db: Database) -> ActorFn[PushMessage, None]:
    async def pusher(
        inbox: Inbox[PushMessage, None], *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        async with httpx.AsyncClient(timeout=settings.timeout) as client:
            task_status.started()
            async for first in inbox:
                batch = [first.msg, *(e.msg for e in inbox.receive_ready(BATCH_MAX - 1))]
                await send_batch(client, settings, db, batch)

    return pusher


async def send_batch(
    client: httpx.AsyncClient, settings: PushSettings, db: Database, batch: Sequence[PushMessage]
) -> None:
    """POST one batch (retrying), then act on Expo's per-message tickets."""
    tickets = await _post(client, settings, batch)
    if tickets is None:
        return
    if len(tickets) != len(batch):
        log.error("Expo answered %d tickets for %d pushes", len(tickets), len(batch))
        return
    for push, ticket in zip(batch, tickets, strict=True):
        if not isinstance(ticket, dict) or ticket.get("status") == "ok":
            continue
        details = ticket.get("details")
        error = details.get("error") if isinstance(details, dict) else None
        if error == STALE_TOKEN:
            await _forget(db, push)
        else:
            log.warning("push to %s failed: %s %s", push.username, error, ticket.get("message"))


async def _post(client: httpx.AsyncClient, settings: PushSettings, batch: Sequence[PushMessage]) -> list[Any] | None:
    """The response's ``data`` list, or None (logged once) when the batch is undeliverable.

    Transport errors, 429 and 5xx are retried with backoff; any other failure is final.
    """
    content = json.dumps([push.wire() for push in batch])
    delay = settings.retry_initial
    problem = ""
    for attempt in range(1, settings.attempts + 1):
        if attempt > 1:
            await trio.sleep(delay)
            delay = min(delay * 2, settings.retry_max)
        try:
            response = await client.post(settings.url, content=content, headers=HEADERS)
        except httpx.HTTPError as e:
            problem = f"{type(e).__name__}: {e}"
            continue
        if response.status_code == 429 or response.status_code >= 500:
            problem = f"HTTP {response.status_code}"
            continue
        data = _tickets(response)
        if data is None:
            log.error("%d pushes dropped: Expo answered HTTP %d %s", len(batch), response.status_code, response.text[:200])
        return data
    log.error("%d pushes dropped after %d attempts: %s", len(batch), settings.attempts, problem)
    return None


def _tickets(response: httpx.Response) -> list[Any] | None:
    if not response.is_success:
        return None
    try:
        data = response.json().get("data")
    except (ValueError, AttributeError):
        return None
    return data if isinstance(data, list) else None


async def _forget(db: Database, push: PushMessage) -> None:
    try:
        await sql.forget_push_token(db, push.username, push.token)
    except DB_FAILURES:
        log.warning("stale push token of %s could not be removed", push.username)
    else:
        log.info("removed the push token of %s: Expo says %s", push.username, STALE_TOKEN)
