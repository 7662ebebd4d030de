"""The payments webhook (http-api-accounts §9): RevenueCat grants and revokes gold.

The caller is RevenueCat, not a user: it proves itself with a bearer token whose SHA-512
is in ``funding.token_hash_revenuecat`` (case-sensitive, unlike session tokens).  Person
uuids are RevenueCat's app user ids.
"""

from __future__ import annotations

import hmac
import uuid
from typing import Any

import attrs
from quart import Blueprint, request

from duo.http.endpoint import Body, Ctx, endpoint
from duo.http.errors import UNAUTHORIZED, HttpError
from duo.sessions import token_hash
from duo.sql import payments as sql

bp = Blueprint("payments", __name__)

GRANTING = frozenset({"INITIAL_PURCHASE", "RENEWAL"})
REVOKING = frozenset({"EXPIRATION"})
IGNORED = "Payload ignored because of its format"


class RevenueCatBody(Body):
    api_version: str | None = None
    event: dict[str, Any] | None = None


@attrs.frozen
class GoldChanges:
    """Whose gold goes, then whose comes (person uuids as RevenueCat sent them)."""

    revoke: tuple[str, ...] = ()
    grant: tuple[str, ...] = ()

    @property
    def named(self) -> tuple[str, ...]:
        return self.revoke + self.grant


def _strings(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def gold_changes(event: dict[str, Any] | None) -> GoldChanges:
    """What an event asks for; an event of another type or without its keys asks for nothing."""
    if event is None:
        return GoldChanges()
    kind, user = event.get("type"), event.get("app_user_id")
    if kind in GRANTING and isinstance(user, str):
        return GoldChanges(grant=(user,))
    if kind in REVOKING and isinstance(user, str):
        return GoldChanges(revoke=(user,))
    if kind == "TRANSFER":
        to, from_ = _strings(event.get("transferred_to")), _strings(event.get("transferred_from"))
        if to is not None and from_ is not None:
            return GoldChanges(revoke=from_, grant=to)
    return GoldChanges()


def _check_token(expected_hash: str) -> None:
    parts = request.headers.get("Authorization", "").split()
    if len(parts) != 2 or parts[0].lower() != "bearer":
        raise HttpError(400, "Missing or malformed authorization header")
    if not expected_hash or not hmac.compare_digest(token_hash(parts[1]), expected_hash):
        raise HttpError(401, UNAUTHORIZED)


def _canonical(value: str) -> str:
    """A uuid in canonical form; anything else as sent (it matches no one)."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return value


def _uuids(values: tuple[str, ...]) -> list[uuid.UUID]:
    parsed = []
    for value in values:
        try:
            parsed.append(uuid.UUID(value))
        except ValueError:
            continue
    return parsed


@bp.post("/revenuecat")
@endpoint(auth=None, body=RevenueCatBody)
async def revenuecat(ctx: Ctx, body: RevenueCatBody) -> dict[str, Any] | str:
    """Subscription events: purchases and renewals grant gold, expirations revoke it."""
    _check_token(await sql.revenuecat_token_hash(ctx.svc.db))
    changes = gold_changes(body.event)
    if not changes.named:
        return IGNORED
    async with ctx.svc.db.transaction() as conn:
        revoked = await sql.set_gold(conn, _uuids(changes.revoke), gold=False)
        granted = await sql.set_gold(conn, _uuids(changes.grant), gold=True)
    named = {_canonical(value) for value in changes.named}
    updated = {str(u) for u in revoked + granted}
    return {
        "all_uuids": sorted(named),
        "updated_uuids": sorted(updated),
        "ignored_uuids": sorted(named - updated),
    }
