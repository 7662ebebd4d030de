"""Queries of the public utility endpoints (http-api-accounts §8.2–§8.4): user counts and
the notification links of e-mails."""

from __future__ import annotations

from typing import Any

from duo.sql.database import Queryable


async def active_users(db: Queryable) -> int:
    return int(await db.fetchval("SELECT count(*) FROM person WHERE activated"))


async def club_members(db: Queryable, club_name: str) -> int:
    """Members of a club (0 for an unknown club)."""
    members = await db.fetchval("SELECT count_members FROM club WHERE name = $1", club_name)
    return int(members or 0)


async def gender_stats(db: Queryable) -> dict[str, Any]:
    """``gender_ratio`` and ``non_binary_percentage`` of active users (see /gender-stats)."""
    row = await db.fetchrow(
        """SELECT (count(*) FILTER (WHERE gender_id = 1)::real
                   / GREATEST(count(*) FILTER (WHERE gender_id = 2), 1))::real AS gender_ratio,
                  (100 * count(*) FILTER (WHERE gender_id NOT IN (1, 2))::real
                   / GREATEST(count(*), 1))::real AS non_binary_percentage
           FROM person WHERE activated"""
    )
    assert row is not None
    return dict(row)


async def set_notifications(db: Queryable, email: str, frequency: str, intros: bool, chats: bool) -> bool:
    """Set the intros and/or chats frequency of the account of an e-mail; False if there is
    no such account or frequency."""
    updated = await db.fetchval(
        """UPDATE person SET
             intros_notification = CASE WHEN $3 THEN i.id ELSE intros_notification END,
             chats_notification = CASE WHEN $4 THEN i.id ELSE chats_notification END
           FROM immediacy i
           WHERE i.name = $2 AND person.email = $1
           RETURNING person.id""",
        email,
        frequency,
        intros,
        chats,
    )
    return updated is not None
