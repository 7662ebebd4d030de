"""``GET /search``, ``GET /search-filters``, ``POST /search-filter`` (http-api-social §4–§5.2)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import Field, field_validator, model_validator
from quart import Blueprint

from duo.http.endpoint import Body, Ctx, endpoint
from duo.http.errors import HttpError, value_error
from duo.ratelimit import Limit, enforce
from duo.search import cache, filters, side_effects
from duo.search.ranking import rebuild_cache
from duo.search.searcher import load_searcher
from duo.sessions import ONBOARDED
from duo.sql.database import QueryTimeout, limit_statement_time

bp = Blueprint("search", __name__)

UNCACHED_LIMIT = Limit(15, 120, "15 per 2 minutes")
MAX_PAGE = 10
STATEMENT_TIMEOUT = "10s"


class SearchQuery(Body):
    """Paging follows Python ``int`` rules; non-integers and negatives are 400 (README)."""

    NUL_SENTINELS: ClassVar[frozenset[str]] = frozenset({"club"})  # club=%00 clears the club (§4.1)

    n: int | None = None
    o: int | None = None
    club: str | None = None

    @field_validator("n", "o", mode="before")
    @classmethod
    def _integer(cls, value: Any) -> int:
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ValueError("must be an integer") from None
        if number < 0:
            raise ValueError("must be greater than or equal to 0")
        return number


async def _limit_uncached(ctx: Ctx, club: str | None) -> None:
    """15 per 2 minutes per IP and per account, a separate budget per club value (§4)."""
    scope = f"search:uncached:{club}"
    switches = ctx.svc.config.safety
    if not switches.disable_ip_rate_limit:
        await enforce(ctx.svc.counter, f"ip:{ctx.ip}:{scope}", (UNCACHED_LIMIT,))
    if not switches.disable_account_rate_limit:
        await enforce(ctx.svc.counter, f"acct:{ctx.me.normalized_email}:{scope}", (UNCACHED_LIMIT,))


@bp.get("/search")
@endpoint(auth=ONBOARDED, query=SearchQuery)
async def get_search(ctx: Ctx, query: SearchQuery) -> list[dict[str, Any]]:
    """Rebuild (o=0), page through (o>0) or take the best current match from (quiz) the cache."""
    club = None if query.club is None else side_effects.normalise_club(query.club)
    quiz = query.n is None or query.o is None
    if not quiz and query.o == 0:
        await _limit_uncached(ctx, club)
    if not quiz and (query.n or 0) > MAX_PAGE:
        raise HttpError(400, f"n must be less than or equal to {MAX_PAGE}")
    if club is None and (quiz or query.o != 0):
        # the common case: reading the cache, with no club change to apply
        if quiz:
            return await cache.read_quiz(ctx.svc.db, ctx.person_id)
        assert query.n is not None and query.o is not None
        return await cache.read_page(ctx.svc.db, ctx.person_id, min(query.o, 1_000_000), query.n)
    try:
        async with ctx.svc.db.transaction() as conn:
            await limit_statement_time(conn, STATEMENT_TIMEOUT)
            if club not in (None, side_effects.CLEAR_CLUB) and not await side_effects.club_exists(
                conn, club
            ):
                raise value_error("Club does not exist", ["club"])
            await side_effects.apply(conn, ctx.person_id, club)
            if quiz:
                return await cache.read_quiz(conn, ctx.person_id)
            assert query.n is not None and query.o is not None
            if query.o == 0:
                searcher = await load_searcher(conn, ctx.person_id)
                await rebuild_cache(conn, searcher, ctx.svc.now().date())
            return await cache.read_page(conn, ctx.person_id, min(query.o, 1_000_000), query.n)
    except QueryTimeout:
        return []  # over the statement timeout: everything rolled back, the old cache kept


@bp.get("/search-filters")
@endpoint(auth=ONBOARDED)
async def get_search_filters(ctx: Ctx) -> dict[str, Any]:
    """All stored search filters."""
    async with ctx.svc.db.connection() as conn:
        return await filters.read_filters(conn, ctx.person_id)


SmallInt = Annotated[int, Field(ge=-32768, le=32767)]  # the columns are SMALLINT
Names = Annotated[list[str], Field(min_length=1)] | None


class AgeRange(Body):
    min_age: SmallInt | None
    max_age: SmallInt | None


class HeightRange(Body):
    min_height_cm: SmallInt | None
    max_height_cm: SmallInt | None


class SearchFilterBody(Body):
    """Exactly one recognised key; only ``furthest_distance`` may be null (§5.2)."""

    gender: Names = None
    orientation: Names = None
    ethnicity: Names = None
    age: AgeRange | None = None
    furthest_distance: SmallInt | None = None
    height: HeightRange | None = None
    has_a_profile_picture: Names = None
    looking_for: Names = None
    smoking: Names = None
    drinking: Names = None
    drugs: Names = None
    long_distance: Names = None
    relationship_status: Names = None
    has_kids: Names = None
    wants_kids: Names = None
    exercise: Names = None
    religion: Names = None
    star_sign: Names = None
    people_you_messaged: str | None = None
    people_you_skipped: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SearchFilterBody:
        if len(self.model_fields_set) != 1:
            raise ValueError("Exactly one value must be set")
        [key] = self.model_fields_set
        if key != "furthest_distance" and getattr(self, key) is None:
            raise ValueError(f"Field {key} must not be None")
        return self

    @property
    def key(self) -> str:
        [key] = self.model_fields_set
        return key


@bp.post("/search-filter")
@endpoint(auth=ONBOARDED, body=SearchFilterBody)
async def post_search_filter(ctx: Ctx, body: SearchFilterBody) -> None:
    """Replace one search filter."""
    key, value = body.key, getattr(body, body.key)
    async with ctx.svc.db.transaction() as conn:
        if key in filters.SET_FILTERS:
            await filters.replace_set(conn, ctx.person_id, filters.SET_FILTERS[key], value)
        elif isinstance(value, AgeRange):
            await filters.replace_range(conn, ctx.person_id, key, value.min_age, value.max_age)
        elif isinstance(value, HeightRange):
            await filters.replace_range(
                conn, ctx.person_id, key, value.min_height_cm, value.max_height_cm
            )
        elif key == "furthest_distance":
            await filters.replace_distance(conn, ctx.person_id, value)
        else:
            await filters.replace_yes_no(conn, ctx.person_id, key, value)
