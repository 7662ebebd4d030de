"""Keeps the FireHOL IP block lists fresh (http-api-accounts §2.7, safety.md §9).

The lists are fetched every few hours and cached in the state directory, so a restart
without network still has the last copy.  Until a list is loaded the check fails open,
as the reference does.  The refresher is an actor: a crash (an unreadable cache directory,
a bug) is logged and restarted with backoff by the supervisor like any other.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlparse

import httpx
import trio

from duo.actors.runtime import ActorFn, ActorRef, Inbox, Supervisor
from duo.safety.firehol import IpBlockList

log = logging.getLogger("duo.blocklist")


class BlockListHolder:
    """The current lists; read by request handlers, replaced by the refresher."""

    def __init__(self) -> None:
        self.current: IpBlockList | None = None
        self.loaded = trio.Event()  # set once a list is in place (tests and diagnostics wait on it)

    def blocked(self, ip: str) -> bool:
        lists = self.current
        return lists is not None and lists.contains(ip)


def _cache_path(cache_dir: Path, url: str) -> Path:
    return cache_dir / Path(urlparse(url).path).name


async def _fetch(client: httpx.AsyncClient | None, url: str, cache_dir: Path) -> str | None:
    """The list's text from the network (then cached), else from the cache, else None."""
    cached = _cache_path(cache_dir, url)
    if client is not None:
        try:
            response = await client.get(url)
            response.raise_for_status()
            text = response.text
            await trio.Path(cached).write_text(text)
            return text
        except (httpx.HTTPError, OSError) as e:
            log.warning("could not fetch %s (%s); using the cached copy if any", url, e)
    if await trio.Path(cached).exists():
        return await trio.Path(cached).read_text()
    return None


async def refresh_once(holder: BlockListHolder, urls: list[str], cache_dir: Path, *, download: bool) -> None:
    """Reload the lists; ``download=False`` reads only the cached copies."""
    await trio.Path(cache_dir).mkdir(parents=True, exist_ok=True)
    if download:
        async with httpx.AsyncClient(timeout=60, follow_redirects=True) as client:
            texts = [await _fetch(client, url, cache_dir) for url in urls]
    else:
        texts = [await _fetch(None, url, cache_dir) for url in urls]
    found = [t for t in texts if t]
    if found:
        try:
            holder.current = await trio.to_thread.run_sync(IpBlockList.from_text, *found)
        except ValueError as e:
            log.warning("IP block lists not usable: %s", e)
            return
        holder.loaded.set()


def blocklist_actor(
    holder: BlockListHolder, urls: list[str], cache_dir: Path, interval: float, *, download: bool
) -> ActorFn[None, None]:
    """Refresh every ``interval`` seconds until the supervisor closes the (unused) mailbox.

    Readiness does not wait for the first load (the check fails open meanwhile).
    """

    async def blocklist(inbox: Inbox[None, None], *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_refresh_every, holder, urls, cache_dir, interval, download)
            task_status.started()
            async for _ in inbox:  # nothing is sent: the loop ends when the mailbox is closed
                pass
            nursery.cancel_scope.cancel()

    return blocklist


async def _refresh_every(holder: BlockListHolder, urls: list[str], cache_dir: Path, interval: float, download: bool) -> None:
    while True:
        await refresh_once(holder, urls, cache_dir, download=download)
        await trio.sleep(interval)


async def start_blocklist(
    supervisor: Supervisor, holder: BlockListHolder, urls: list[str], cache_dir: Path, interval: float, *, download: bool
) -> ActorRef[None, None]:
    actor = blocklist_actor(holder, urls, cache_dir, interval, download=download)
    return await supervisor.start("blocklist", actor, capacity=1)
