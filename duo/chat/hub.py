"""Who on this process listens to which chat topic, and how traffic reaches them.

Topics are the spec's channel names (chat-protocol §10): ``<person uuid>`` carries what a
person's connections receive (messages, typing, and a kick when the account ends),
``online-<person uuid>`` carries that person's status events.  A session joins the topics it
listens to; anything published is fanned out to the local listeners of the topic.  With a
bus configured, publishing goes through the bus and comes back through the process's one
subscription, so local and remote listeners are reached the same way.
"""

from __future__ import annotations

from typing import Protocol

import attrs

from duo.chat import stanzas
from duo.chat.protocol import Mode, render

KICK_CODE = 1008  # the account ended (deleted, deactivated, banned): a policy close


def user_topic(person: str) -> str:
    return person


def online_topic(person: str) -> str:
    return f"online-{person}"


@attrs.frozen
class Rendered:
    """A stanza already rendered in both encodings (what crosses processes)."""

    xml: str
    json: str

    @classmethod
    def of(cls, stanza: stanzas.Outbound) -> Rendered:
        return cls(render(stanza, "xml"), render(stanza, "json"))

    def text(self, mode: Mode) -> str:
        return self.xml if mode == "xml" else self.json


@attrs.frozen
class Close:
    """End the connection with ``code`` (1001 shutdown, 1008 policy, 1011 internal)."""

    code: int
    reason: str = ""


Delivery = stanzas.Outbound | Rendered | Close


class Listener(Protocol):
    """A session as the hub sees it: something that takes deliveries without waiting."""

    def deliver(self, item: Delivery) -> None: ...


class Hub:
    """Topic → local listeners; every method is synchronous and never waits."""

    def __init__(self) -> None:
        self._topics: dict[str, set[Listener]] = {}

    def join(self, topic: str, listener: Listener) -> None:
        self._topics.setdefault(topic, set()).add(listener)

    def leave(self, topic: str, listener: Listener) -> None:
        listeners = self._topics.get(topic)
        if listeners is None:
            return
        listeners.discard(listener)
        if not listeners:
            del self._topics[topic]

    def publish(self, topic: str, item: Delivery) -> None:
        """Hand ``item`` to every listener of ``topic`` on this process."""
        for listener in tuple(self._topics.get(topic, ())):
            listener.deliver(item)

    def kick(self, person: str) -> None:
        """End every connection of ``person`` (their account was deleted, deactivated or banned)."""
        self.publish(user_topic(person), Close(KICK_CODE, "account ended"))

    def listening(self, topic: str) -> int:
        return len(self._topics.get(topic, ()))

    def topics(self) -> int:
        return len(self._topics)
