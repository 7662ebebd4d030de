"""Queries of the payments webhook (http-api-accounts §9): the webhook secret and gold."""

from __future__ import annotations

import uuid

from duo.clubs import trim_to_quota
from duo.sql.database import Connection, Queryable

# Theme colours a person without gold has (title, body, background).
DEFAULT_THEME = ("#000000", "#000000", "#ffffff")


async def revenuecat_token_hash(db: Queryable) -> str:
    """SHA-512 hex of the webhook's bearer token; empty (nothing accepted) until configured."""
    return str(await db.fetchval("SELECT token_hash_revenuecat FROM funding WHERE id = 1") or "")


async def set_gold(conn: Connection, person_uuids: list[uuid.UUID], gold: bool) -> list[uuid.UUID]:
    """Grant or revoke gold; revoking also resets the theme.  Either way the club memberships
    over the new quota go.  Returns the uuids that matched a person."""
    if not person_uuids:
        return []
    rows = await conn.fetch(
        """UPDATE person SET has_gold = $2,
                  title_color = CASE WHEN $2 THEN title_color ELSE $3 END,
                  body_color = CASE WHEN $2 THEN body_color ELSE $4 END,
                  background_color = CASE WHEN $2 THEN background_color ELSE $5 END
           WHERE uuid = ANY($1::uuid[])
           RETURNING id, uuid""",
        person_uuids,
        gold,
        *DEFAULT_THEME,
    )
    await trim_to_quota(conn, [row["id"] for row in rows])
    return [row["uuid"] for row in rows]
