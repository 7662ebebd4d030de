"""Immediate push notifications through Expo's push API (chat-protocol §8.1).

The pipeline decides *whether* to push (the recipient's preference is "Immediately" and
a token is registered) and builds the :class:`PushMessage`; this module delivers it.

The pusher is an actor on the runtime (``duo/actors/runtime.py``). Start it once per
process and hand the sender function to whoever queues pushes::

    pusher = await start_pusher(supervisor, PushSettings(url=config.chat.notification_api_url), db)
    queue_push = push_sender(pusher)
    queue_push(accepted.push)          # never blocks, never raises

It sends what is queued in batches of up to 100 (one HTTP POST each: a JSON array of
Expo messages), retries transport errors, 429 and 5xx answers with exponential backoff,
and removes a token Expo calls ``DeviceNotRegistered``. A push that cannot be delivered is
logged once and dropped: chat never waits for or fails on a push.
"""

from __future__ import annotations

from typing import Any

import attrs

TITLE_SUFFIX = " sent you a message"
BATCH_MAX = 100


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
