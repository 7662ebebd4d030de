"""Queries of sign-in (http-api-accounts §3): what the domain and ban rules read, and what
a confirmed code changes on the account."""

from __future__ import annotations

import datetime as dt

from asyncpg import Record

from duo.sql.database import Connection, Queryable


async def domain_facts(db: Queryable, email: str, domain: str) -> Record:
    """Whether the e-mail has an account, and whether its domain is on the good or bad list
    (read from the tables, so an operator's additions take effect at once)."""
    row = await db.fetchrow(
        """SELECT EXISTS (SELECT 1 FROM person WHERE email = $1) AS registered,
                  EXISTS (SELECT 1 FROM good_email_domain WHERE domain = $2) AS good,
                  EXISTS (SELECT 1 FROM bad_email_domain WHERE domain = $2) AS bad""",
        email,
        domain,
    )
    assert row is not None
    return row


async def ban_facts(db: Queryable, normalized_email: str, ip: str | None, now: dt.datetime, domain: str) -> Record:
    """Whether the e-mail or IP is banned, the domain is bad, and the e-mail has an account."""
    row = await db.fetchrow(
        """SELECT
             EXISTS (SELECT 1 FROM banned_person
                     WHERE expires_at > $3
                       AND (normalized_email = $1 OR ($2::inet IS NOT NULL AND ip_address = $2::inet))) AS banned,
             EXISTS (SELECT 1 FROM bad_email_domain WHERE domain = $4) AS bad_domain,
             EXISTS (SELECT 1 FROM person WHERE normalized_email = $1) AS has_account""",
        normalized_email,
        ip,
        now,
        domain,
    )
    assert row is not None
    return row


async def has_account(db: Queryable, normalized_email: str) -> bool:
    return bool(await db.fetchval("SELECT 1 FROM person WHERE normalized_email = $1", normalized_email))


async def count_reactivation(conn: Connection, person_id: int) -> None:
    """A deactivated member signing in counts again in each of its clubs."""
    await conn.execute(
        """UPDATE club SET count_members = count_members + 1
           WHERE name IN (SELECT club_name FROM person_club WHERE person_id = $1)""",
        person_id,
    )


async def record_sign_in(conn: Connection, person_id: int, now: dt.datetime) -> None:
    await conn.execute(
        """UPDATE person SET activated = TRUE, sign_in_count = sign_in_count + 1,
                  sign_in_time = $2, last_online_time = $2
           WHERE id = $1""",
        person_id,
        now,
    )
