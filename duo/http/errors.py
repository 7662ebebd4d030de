"""Errors that handlers raise and the bodies the app parses (http-api-accounts §2.5)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError


class HttpError(Exception):
    """Answer ``status`` with a plain-text body (``text/html``, as the clients expect)."""

    def __init__(self, status: int, body: str = "") -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body


def validation_body(errors: Sequence[Mapping[str, Any]]) -> str:
    """The JSON error array of §2.3: ``type``, ``loc`` and ``msg`` of each error."""
    return json.dumps(
        [{"type": e["type"], "loc": [str(p) if not isinstance(p, int) else p for p in e["loc"]], "msg": e["msg"]} for e in errors]
    )


def bad_request(exc: ValidationError) -> HttpError:
    return HttpError(400, validation_body(exc.errors(include_url=False, include_context=False, include_input=False)))


def value_error(message: str, loc: list[str | int] | None = None) -> HttpError:
    """A 400 shaped like a pydantic custom-check failure (``Value error, <message>``)."""
    return HttpError(400, validation_body([{"type": "value_error", "loc": loc or [], "msg": f"Value error, {message}"}]))


UNAUTHORIZED = "Unauthorized"
