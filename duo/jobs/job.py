"""What the scheduler needs to know about a job: its name, poll interval and one iteration."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

import attrs

from duo.services import Services

Counts = dict[str, int]
Iteration = Callable[[Services, dt.datetime], Awaitable[Counts]]

NO_REPLY_SENDER = "Duolicious <no-reply@duolicious.app>"
APP_URL = "https://get.duolicious.app/"  # where the jobs' e-mails send people


@attrs.frozen
class Job:
    """A job as scheduled: after each iteration wait ``poll_seconds`` (a delay, not a rate)."""

    name: str
    poll_seconds: float
    iteration: Iteration
    dry_run: bool | None = None  # None: the job has no dry-run mode

    @property
    def schedule(self) -> str:
        mode = "" if self.dry_run is None else (", dry run" if self.dry_run else ", live")
        return f"every {self.poll_seconds:g}s after the last run{mode}"
