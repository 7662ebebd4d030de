"""The account summary returned at sign-in, on token checks and after onboarding (§3.4, §3.9)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from duo.http.endpoint import Ctx
from duo.sql.database import Connection


def format_end_date(value: dt.datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.mmmZ`` in UTC."""
    value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def shows_donation_nag(now: dt.datetime, end: dt.datetime, last_nag: dt.datetime | None,
                       sign_up: dt.datetime, count_answers: int) -> bool:
    """Nag every ``f`` days, ``f`` half the days of funding left (at least one)."""
    days_left = (end.date() - now.date()).days
    period = dt.timedelta(days=max(2, days_left) // 2)
    last = last_nag or dt.datetime.fromtimestamp(0, dt.UTC)
    return last < now - period and sign_up < now - period and count_answers >= 25


async def pending_club(conn: Connection, ctx: Ctx) -> dict[str, Any] | None:
    name = ctx.me.pending_club_name
    if not name:
        return None
    count = await conn.fetchval("SELECT count_members FROM club WHERE name = $1", name)
    return {"name": name, "count_members": count or 0}


async def account_summary(conn: Connection, ctx: Ctx, person_id: int | None) -> dict[str, Any]:
    """Every key of the §3.4 table; account fields are null for a new user."""
    end = await conn.fetchval("SELECT estimated_end_date FROM funding WHERE id = 1")
    summary: dict[str, Any] = {
        "onboarded": person_id is not None,
        "person_id": None,
        "person_uuid": None,
        "name": None,
        "units": None,
        "has_gold": None,
        "do_show_donation_nag": None,
        "estimated_end_date": format_end_date(end),
        "clubs": [],
        "pending_club": await pending_club(conn, ctx),
    }
    if person_id is None:
        return summary
    person = await conn.fetchrow(
        """SELECT p.id, p.uuid, p.name, u.name AS units, p.has_gold, p.last_nag_time,
                  p.sign_up_time, p.count_answers
           FROM person p JOIN unit u ON u.id = p.unit_id WHERE p.id = $1""",
        person_id,
    )
    assert person is not None
    clubs = await conn.fetchrow(
        """SELECT
             COALESCE(json_agg(json_build_object(
                 'name', pc.club_name, 'count_members', -1,
                 'search_preference', pc.club_name IS NOT DISTINCT FROM sp.club_name)
               ORDER BY pc.club_name), '[]'::json) AS clubs
           FROM person_club pc
           LEFT JOIN search_preference_club sp ON sp.person_id = pc.person_id
           WHERE pc.person_id = $1""",
        person_id,
    )
    summary.update(
        person_id=person["id"],
        person_uuid=str(person["uuid"]),
        name=person["name"],
        units=person["units"],
        has_gold=person["has_gold"],
        do_show_donation_nag=shows_donation_nag(
            ctx.svc.now(), end, person["last_nag_time"], person["sign_up_time"], person["count_answers"]
        ),
        clubs=clubs["clubs"] if clubs else [],
    )
    return summary
