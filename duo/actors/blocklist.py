"""Keeps the FireHOL IP block lists fresh (http-api-accounts §2.7, safety.md §9).

The lists are fetched every few hours and cached in the state directory, so a restart
without network still has the last copy.  Until a list is loaded the check fails open,
as the reference does.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlparse

import httpx
import trio

from duo.safety.firehol import IpBlockList

log = logging.getLogger("duo.blocklist")


class BlockListHolder:
    """The current lists; read by request handlers, replaced by the refresher."""

    def __init__(self) -> None:
        self.current: IpBlockList | None = None

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
    async with httpx.AsyncClient(timeout=60, follow_redirects=True) as client:
        texts = [t for t in [await _fetch(client if download else None, url, cache_dir) for url in urls] if t]
    if texts:
        try:
            holder.current = await trio.to_thread.run_sync(IpBlockList.from_text, *texts)
        except ValueError as e:
            log.warning("IP block lists not usable: %s", e)


async def keep_fresh(
    holder: BlockListHolder,
    urls: list[str],
    cache_dir: Path,
    interval: float,
    *,
    download: bool,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Refresh forever; readiness does not wait for the network (fail open meanwhile)."""
    task_status.started()
    while True:
        await refresh_once(holder, urls, cache_dir, download=download)
        await trio.sleep(interval)
