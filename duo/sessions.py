"""Session tokens and the ``duo_session`` lookup, shared by the HTTP API and chat.

A client holds the token; the database holds only its SHA-512 hex digest.  Whether a
session may call something is a :class:`Gate`; HTTP routes and the chat SASL step both
look a token up here, so "signed in and unexpired" means the same thing everywhere.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid

import attrs

from duo.safety.emails import normalize_email
from duo.sql import sessions
from duo.sql.database import Database

ANY = None


@attrs.frozen
class Gate:
    """Which sessions may call: onboarded and signed_in are True, False or ANY (None)."""

    onboarded: bool | None
    signed_in: bool | None

    def admits(self, session: Session) -> bool:
        return (self.onboarded is None or self.onboarded == session.onboarded) and (
            self.signed_in is None or self.signed_in == session.signed_in
        )


ONBOARDED = Gate(onboarded=True, signed_in=True)
ONBOARDEE = Gate(onboarded=False, signed_in=True)
SIGNED_IN = Gate(onboarded=ANY, signed_in=True)
NOT_SIGNED_IN = Gate(onboarded=ANY, signed_in=False)
ANY_SESSION = Gate(onboarded=ANY, signed_in=ANY)


@attrs.frozen
class Session:
    token_hash: str
    email: str
    normalized_email: str
    person_id: int | None
    person_uuid: uuid.UUID | None
    signed_in: bool
    pending_club_name: str | None

    @property
    def onboarded(self) -> bool:
        return self.person_id is not None


def token_hash(token: str) -> str:
    return hashlib.sha512(token.encode()).hexdigest()


async def find_session(db: Database, token: str, now: dt.datetime) -> Session | None:
    """The unexpired session a token names, or None."""
    digest = token_hash(token)
    row = await sessions.find(db, digest, now)
    if row is None:
        return None
    return Session(
        token_hash=digest,
        email=row["email"],
        normalized_email=normalize_email(row["email"]),
        person_id=row["person_id"],
        person_uuid=row["person_uuid"],
        signed_in=row["signed_in"],
        pending_club_name=row["pending_club_name"],
    )
