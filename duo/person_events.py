"""Derived person columns that several endpoints keep up to date: the verification level
(http-api-accounts §6.4) and the last feed event (``last_event_*``, data-model §7.1)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from duo.sql.database import Connection


async def recompute_verification_level(conn: Connection, person_id: int) -> None:
    """3 with a verified photo; else 2 when age and gender are verified; else 1."""
    await conn.execute(
        """UPDATE person p SET verification_level_id = CASE
               WHEN EXISTS (SELECT 1 FROM photo WHERE person_id = p.id AND verified) THEN 3
               WHEN p.verified_age AND p.verified_gender THEN 2
               ELSE 1 END
           WHERE p.id = $1""",
        person_id,
    )


async def set_last_event(
    conn: Connection, person_id: int, name: str, data: dict[str, Any], now: dt.datetime
) -> None:
    """Record what other people's feeds show about this person."""
    await conn.execute(
        """UPDATE person SET last_event_time = $2, last_event_name = $3, last_event_data = $4
           WHERE id = $1""",
        person_id,
        now,
        name,
        data,
    )


async def reset_last_event(
    conn: Connection,
    person_id: int,
    *,
    only_event: str | None = None,
    data_key: str | None = None,
    data_values: list[str] | None = None,
) -> None:
    """Back to ``joined`` at sign-up time with no data; optionally only when the current
    event is ``only_event``, or when ``last_event_data[data_key]`` is one of
    ``data_values`` (the event names media that no longer exists)."""
    await conn.execute(
        """UPDATE person SET last_event_time = sign_up_time, last_event_name = 'joined',
                  last_event_data = '{}'::jsonb
           WHERE id = $1
             AND ($2::person_event IS NULL OR last_event_name = $2::person_event)
             AND ($3::text IS NULL OR last_event_data->>$3 = ANY($4::text[]))""",
        person_id,
        only_event,
        data_key,
        data_values or [],
    )
