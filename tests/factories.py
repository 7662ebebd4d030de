"""Test data written straight to the database: onboarded people with a signed-in session.

SQL only, so that tests of other areas do not depend on the onboarding endpoints (which
have their own end-to-end tests).  Usage::

    alice = await onboarded_user(svc)                          # a man in Sydney, all defaults
    bob = await onboarded_user(svc, "Bob", gender="Woman", clubs=["anime"], activated=False)
    r = await client.get("/me", headers=bearer(alice.token))
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import secrets
import uuid
from collections.abc import Sequence
from typing import Any

import attrs

from duo.clubs import join
from duo.safety.emails import normalize_email
from duo.services import Services
from duo.sessions import token_hash

SYDNEY = (-33.8688, 151.2093)

# search_preference_<table>: every value allowed, as /finish-onboarding stores them
_ALL_VALUES_PREFERENCES = {
    "orientation": "orientation",
    "ethnicity": "ethnicity",
    "looking_for": "looking_for",
    "smoking": "yes_no_optional",
    "drinking": "frequency",
    "drugs": "yes_no_optional",
    "long_distance": "yes_no_optional",
    "relationship_status": "relationship_status",
    "has_kids": "yes_no_optional",
    "wants_kids": "yes_no_maybe",
    "exercise": "frequency",
    "religion": "religion",
    "star_sign": "star_sign",
    "has_profile_picture": "yes_no",
}
_COLUMN = re.compile(r"[a-z_][a-z0-9_]*")
_serial = itertools.count(1)


@attrs.frozen
class User:
    token: str  # the bearer token of a signed-in session
    person_id: int
    uuid: uuid.UUID
    email: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def onboarded_user(
    svc: Services,
    name: str = "Alice",
    *,
    gender: str = "Woman",
    gender_preferences: Sequence[str] | None = None,
    clubs: Sequence[str] = (),
    search_preferences: bool = True,
    signed_in: bool = True,
    **overrides: Any,
) -> User:
    """Insert a finished account and a session for it; return its token and ids.

    - ``gender``: name from the ``gender`` table (``Man``, ``Woman``, ``Non-binary``, …).
    - ``gender_preferences``: genders this person searches for (None: every gender).
    - ``clubs``: club names (lower-case) to join through ``duo.clubs.join``, which keeps
      ``club.count_members`` right.
    - ``search_preferences``: False leaves every ``search_preference_*`` table empty;
      otherwise genders as above, every value for the lookup filters, people messaged
      ``Yes``, skipped ``No``, no age/height/distance limits (rows with nulls).
    - ``signed_in``: whether the session has confirmed its OTP.
    - ``overrides``: any ``person`` column, e.g. ``email=…``, ``activated=False``,
      ``date_of_birth=dt.date(1990, 1, 1)``, ``latitude=…``, ``longitude=…``, ``has_gold=True``,
      ``roles=["bot"]``.  Defaults: 30 years old, in Sydney, metric units, empty about.
    """
    n = next(_serial)
    email = overrides.pop("email", None) or f"{re.sub(r'[^a-z0-9]', '', name.lower()) or 'user'}{n}@example.com"
    columns: dict[str, Any] = {
        "email": email,
        "normalized_email": normalize_email(email),
        "name": name,
        "date_of_birth": svc.now().date() - dt.timedelta(days=365 * 30 + 8),
        "latitude": SYDNEY[0],
        "longitude": SYDNEY[1],
        "about": "",
        "unit_id": 2,
    } | overrides
    for column in columns:
        assert _COLUMN.fullmatch(column), column
    names = ", ".join(columns)
    params = ", ".join(f"${i}" for i in range(2, len(columns) + 2))
    token = secrets.token_hex(64)
    async with svc.db.transaction() as conn:
        row = await conn.fetchrow(
            f"""INSERT INTO person (gender_id, {names})
                VALUES ((SELECT id FROM gender WHERE name = $1), {params})
                RETURNING id, uuid""",
            gender,
            *columns.values(),
        )
        assert row is not None, "unknown gender"
        person_id: int = row["id"]
        if search_preferences:
            await conn.execute(
                """INSERT INTO search_preference_gender (person_id, gender_id)
                   SELECT $1, id FROM gender WHERE $2::text[] IS NULL OR name = ANY($2::text[])""",
                person_id,
                None if gender_preferences is None else list(gender_preferences),
            )
            for table, lookup in _ALL_VALUES_PREFERENCES.items():
                await conn.execute(
                    f"INSERT INTO search_preference_{table} (person_id, {table}_id) SELECT $1, id FROM {lookup}",
                    person_id,
                )
            await conn.execute("INSERT INTO search_preference_age (person_id) VALUES ($1)", person_id)
            await conn.execute("INSERT INTO search_preference_distance (person_id) VALUES ($1)", person_id)
            await conn.execute("INSERT INTO search_preference_height_cm (person_id) VALUES ($1)", person_id)
            await conn.execute("INSERT INTO search_preference_messaged (person_id, messaged_id) VALUES ($1, 1)", person_id)
            await conn.execute("INSERT INTO search_preference_skipped (person_id, skipped_id) VALUES ($1, 2)", person_id)
        for club in clubs:
            assert await join(conn, person_id, club), f"could not join {club!r}"
        await conn.execute(
            """INSERT INTO duo_session (session_token_hash, person_id, email, otp, ip_address,
                                        signed_in, session_expiry, otp_expiry)
               VALUES ($1, $2, $3, '000000', '127.0.0.1', $4, $5, $6)""",
            token_hash(token),
            person_id,
            email,
            signed_in,
            svc.now() + dt.timedelta(days=183),
            svc.now() + dt.timedelta(minutes=10),
        )
    return User(token=token, person_id=person_id, uuid=row["uuid"], email=email)
