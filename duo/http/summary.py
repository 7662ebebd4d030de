"""The account summary returned at sign-in, on token checks and after onboarding (§3.4, §3.9)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from duo.http.endpoint import Ctx
from duo.sql import person as person_sql
from duo.sql.database import Queryable


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


async def account_summary(db: Queryable, ctx: Ctx, person_id: int | None) -> dict[str, Any]:
    """Every key of the §3.4 table in one query; account fields are null for a new user."""
    club = ctx.me.pending_club_name
    row = await person_sql.summary(db, person_id, club)
    end = row["estimated_end_date"]
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
        "pending_club": {"name": club, "count_members": row["pending_count"] or 0} if club else None,
    }
    if person_id is None or row["id"] is None:
        return summary
    summary.update(
        person_id=row["id"],
        person_uuid=str(row["uuid"]),
        name=row["name"],
        units=row["units"],
        has_gold=row["has_gold"],
        do_show_donation_nag=shows_donation_nag(
            ctx.svc.now(), end, row["last_nag_time"], row["sign_up_time"], row["count_answers"]
        ),
        clubs=row["clubs"],
    )
    return summary
