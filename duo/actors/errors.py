"""The errors of the actor runtime (``duo.actors.runtime`` re-exports them)."""

from __future__ import annotations


class ActorError(Exception):
    """Base class of the runtime's errors."""


class ActorTimeout(ActorError):
    """A call got no reply within its timeout."""

    def __init__(self, actor: str, timeout: float) -> None:
        super().__init__(f"actor {actor!r} did not reply within {timeout}s")
        self.actor = actor
        self.timeout = timeout


class MailboxFull(ActorError):
    """A cast found the mailbox at capacity (the message was not queued), or a call was
    dropped to make room for newer messages."""


class ActorStopped(ActorError):
    """The actor is stopping or stopped and takes no new messages."""


class ActorCrashed(ActorError):
    """The actor crashed while handling this call, or before it was ready."""


class ActorEscalation(ActorError):
    """An actor crashed more often than its restart policy allows."""

    def __init__(self, actor: str, restarts: int, window: float) -> None:
        super().__init__(f"actor {actor!r} crashed {restarts} times within {window}s; giving up")
        self.actor = actor
