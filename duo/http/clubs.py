"""Clubs (http-api-social §12): name search with and without a session, join and leave."""

from __future__ import annotations

from typing import Any

from pydantic import field_validator
from quart import Blueprint

from duo import clubs
from duo.clubs import club_name
from duo.http.endpoint import Body, Ctx, endpoint
from duo.http.errors import HttpError
from duo.sessions import ONBOARDED

bp = Blueprint("clubs", __name__)


class ClubQuery(Body):
    q: str = ""


class ClubBody(Body):
    name: str

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return club_name(value)


def _typed(q: str) -> str | None:
    """The query as a club name, or None when no club could be called that."""
    try:
        return club_name(q, normalise_spaces=False)
    except ValueError:
        return None


@bp.get("/search-clubs")
@endpoint(auth=ONBOARDED, query=ClubQuery)
async def search_clubs(ctx: Ctx, query: ClubQuery) -> list[dict[str, Any]]:
    """Clubs to join: the typed name and the nearest existing clubs the caller is not in."""
    name = _typed(query.q)
    if name is None:
        return []
    return [c.as_json() for c in await clubs.search(ctx.svc.db, name, ctx.person_id)]


@bp.get("/search-public-clubs")
@endpoint(auth=None, query=ClubQuery)
async def search_public_clubs(ctx: Ctx, query: ClubQuery) -> list[dict[str, Any]]:
    """Club search before sign-in; an empty query lists the biggest clubs."""
    if not query.q.strip():
        return [c.as_json() for c in await clubs.most_popular(ctx.svc.db)]
    name = _typed(query.q)
    if name is None:
        return []
    return [c.as_json() for c in await clubs.search(ctx.svc.db, name, None)]


@bp.post("/join-club")
@endpoint(auth=ONBOARDED, body=ClubBody)
async def join_club(ctx: Ctx, body: ClubBody) -> str:
    """Join (creating when new) unless the name is banned or the caller's quota is full."""
    async with ctx.svc.db.transaction() as conn:
        joined = await clubs.join(conn, ctx.person_id, body.name)
    if not joined:
        raise HttpError(400, f"Couldn't join {body.name}")
    return f"Joined {body.name}"


@bp.post("/leave-club")
@endpoint(auth=ONBOARDED, body=ClubBody)
async def leave_club(ctx: Ctx, body: ClubBody) -> None:
    """Leave a club; the name is normalised like /join-club's (README decision)."""
    async with ctx.svc.db.transaction() as conn:
        await clubs.leave(conn, ctx.person_id, body.name)
