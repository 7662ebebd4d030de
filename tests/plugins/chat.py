"""Chat pipeline fixtures: an injected clock and the pipeline's dependencies on it."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

from duo.chat.pipeline import ChatDeps, Submission
from duo.chat.stanzas import ChatMessage
from duo.services import Services
from tests.factories import User


@attrs.define
class Clock:
    """Ticks 1 ms per reading (so archive times are distinct); tests move it over windows."""

    at: dt.datetime

    def __call__(self) -> dt.datetime:
        self.at += dt.timedelta(milliseconds=1)
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += dt.timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock(dt.datetime.now(dt.UTC).replace(microsecond=0))


@pytest.fixture
def deps(svc: Services, clock: Clock) -> ChatDeps:
    return ChatDeps(svc.db, clock)


def text(sender: User, recipient: User | str, body: str, stanza_id: str, clock: Clock) -> Submission:
    """A text message from ``sender``, received now."""
    to = recipient if isinstance(recipient, str) else str(recipient.uuid)
    return Submission(str(sender.uuid), ChatMessage(to, stanza_id, body), clock())
