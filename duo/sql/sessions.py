"""The ``duo_session`` queries: one place for how sessions are stored, shared by sign-in,
onboarding and the session lookup of every route (and chat)."""

from __future__ import annotations

import datetime as dt

from asyncpg import Record

from duo.sql.database import Connection, Queryable


async def find(db: Queryable, digest: str, now: dt.datetime) -> Record | None:
    """The unexpired session row of a token digest (with its person's uuid), or None."""
    return await db.fetchrow(
        """SELECT s.email, s.person_id, p.uuid AS person_uuid, s.signed_in, s.pending_club_name
           FROM duo_session s LEFT JOIN person p ON p.id = s.person_id
           WHERE s.session_token_hash = $1 AND s.session_expiry > $2""",
        digest,
        now,
    )


async def create(
    db: Queryable,
    digest: str,
    email: str,
    normalized_email: str,
    pending_club_name: str | None,
    otp: str,
    ip: str | None,
    session_expiry: dt.datetime,
    otp_expiry: dt.datetime,
) -> None:
    """A session not yet signed in, tied to the account of the e-mail if there is one."""
    await db.execute(
        """INSERT INTO duo_session
             (session_token_hash, person_id, email, pending_club_name, otp, ip_address,
              signed_in, session_expiry, otp_expiry)
           VALUES ($1,
                   (SELECT id FROM person WHERE normalized_email = $3
                    ORDER BY email = $2 DESC, email LIMIT 1),
                   $2, $4, $5, $6::inet, FALSE, $7, $8)""",
        digest,
        email,
        normalized_email,
        pending_club_name,
        otp,
        ip,
        session_expiry,
        otp_expiry,
    )


async def set_otp(db: Queryable, digest: str, otp: str, otp_expiry: dt.datetime, ip: str | None) -> None:
    await db.execute(
        "UPDATE duo_session SET otp = $2, otp_expiry = $3, ip_address = $4::inet WHERE session_token_hash = $1",
        digest,
        otp,
        otp_expiry,
        ip,
    )


async def lock_with_otp(conn: Connection, digest: str, otp: str, now: dt.datetime) -> Record | None:
    """The session (locked) if ``otp`` is its unexpired code: its person's id, whether
    that person is activated and whether it is a bot; else None."""
    return await conn.fetchrow(
        """SELECT s.person_id, p.activated, COALESCE('bot' = ANY(p.roles), FALSE) AS is_bot
           FROM duo_session s LEFT JOIN person p ON p.id = s.person_id
           WHERE s.session_token_hash = $1 AND s.otp = $2 AND s.otp_expiry > $3
           FOR UPDATE OF s""",
        digest,
        otp,
        now,
    )


async def sign_in(conn: Connection, digest: str) -> None:
    await conn.execute("UPDATE duo_session SET signed_in = TRUE WHERE session_token_hash = $1", digest)


async def person_id(conn: Connection, digest: str) -> int | None:
    value: int | None = await conn.fetchval("SELECT person_id FROM duo_session WHERE session_token_hash = $1", digest)
    return value


async def attach_person(conn: Connection, email: str, person_id: int) -> None:
    """Every session of the e-mail now names its new account."""
    await conn.execute("UPDATE duo_session SET person_id = $1 WHERE email = $2", person_id, email)


async def delete(db: Queryable, digest: str) -> None:
    await db.execute("DELETE FROM duo_session WHERE session_token_hash = $1", digest)
