"""Onboarding (http-api-accounts §4): place search, the onboardee record, account creation."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Annotated, Any

from pydantic import Field, StringConstraints, field_validator, model_validator
from quart import Blueprint

from duo import clubs, locations
from duo.http.endpoint import Body, Ctx, endpoint
from duo.http.errors import HttpError, value_error
from duo.http.fields import display_name, exactly_one
from duo.http.summary import account_summary
from duo.http.uploads import PhotoUpload, process_photo_upload, stored_photo
from duo.onboarding_defaults import (
    Newcomer,
    age_on,
    bisect_distance,
    count_compatible,
    create_search_preferences,
    default_age_range,
    furthest_distance,
)
from duo.safety.emails import normalize_email
from duo.sessions import ANY_SESSION, ONBOARDEE
from duo.sql import lookups, onboardees, sessions
from duo.sql import person as person_sql
from duo.sql import photos as photo_sql
from duo.sql.database import Connection

bp = Blueprint("onboarding", __name__)

NonEmpty = Annotated[str, StringConstraints(min_length=1)]
Position = Annotated[int, Field(ge=1, le=7)]
IMPERIAL_COUNTRIES = ("United States", "United Kingdom")
ADULT_AGE = 18


class SearchLocationsQuery(Body):
    q: str = ""


@bp.get("/search-locations")
@endpoint(auth=ANY_SESSION, query=SearchLocationsQuery)
async def search_locations(ctx: Ctx, query: SearchLocationsQuery) -> list[str]:
    """Autocomplete place names: same first letter, nearest by trigram distance."""
    return await ctx.svc.locations.search(query.q)


class OnboardeeInfoBody(Body):
    name: str | None = None
    date_of_birth: str | None = None
    location: NonEmpty | None = None
    gender: NonEmpty | None = None
    other_peoples_genders: Annotated[list[NonEmpty], Field(min_length=1)] | None = None
    base64_file: PhotoUpload | None = None

    @model_validator(mode="before")
    @classmethod
    def _exactly_one(cls, data: Any) -> Any:
        return exactly_one(cls, data)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return None if value is None else display_name(value)

    @field_validator("date_of_birth")
    @classmethod
    def _date_of_birth(cls, value: str | None) -> str | None:
        if value is not None:
            dt.datetime.strptime(value, "%Y-%m-%d")  # its ValueError text is the message
        return value


async def _gender_ids(conn: Connection, names: list[str]) -> list[int]:
    """Ids of gender names; an unknown name is a 400 (README decision)."""
    ids = await lookups.gender_ids(conn, names)
    if len(ids) != len(set(names)):
        raise HttpError(400, "Unknown gender")
    return ids


async def _set_field(ctx: Ctx, body: OnboardeeInfoBody) -> None:
    email = ctx.me.email
    async with ctx.svc.db.transaction() as conn:
        await onboardees.ensure(conn, email)
        if body.name is not None:
            await onboardees.set_name(conn, email, body.name)
        elif body.date_of_birth is not None:
            born = dt.datetime.strptime(body.date_of_birth, "%Y-%m-%d").date()
            if age_on(born, ctx.svc.now().date()) < ADULT_AGE:
                raise value_error("Age must be 18 or up", ["date_of_birth"])
            await onboardees.set_date_of_birth(conn, email, born)
        elif body.location is not None:
            place = await locations.by_name(conn, body.location)
            if place is None:
                raise HttpError(400, "Unknown location")
            await onboardees.set_place(conn, email, place.latitude, place.longitude)
        elif body.gender is not None:
            (gender_id,) = await _gender_ids(conn, [body.gender])
            await onboardees.set_gender(conn, email, gender_id)
        elif body.other_peoples_genders is not None:
            await onboardees.set_wanted_genders(conn, email, await _gender_ids(conn, body.other_peoples_genders))


async def _store_photo(ctx: Ctx, upload: PhotoUpload) -> None:
    """Objects first, then the row; a replaced photo is queued for deletion."""
    photo = await process_photo_upload(ctx.svc, upload)
    async with stored_photo(ctx.svc, photo) as media_id, ctx.svc.db.transaction() as conn:
        await onboardees.ensure(conn, ctx.me.email)
        replaced = await photo_sql.lock_at(conn, "onboardee_photo", ctx.me.email, upload.position)
        await photo_sql.put_onboardee_photo(
            conn, ctx.me.email, upload.position, media_id, photo.blurhash, photo.extra_exts, photo.hash
        )
        if replaced:
            await photo_sql.queue_deletion(conn, "undeleted_photo", [replaced])


@bp.patch("/onboardee-info")
@endpoint(auth=ONBOARDEE, body=OnboardeeInfoBody)
async def patch_onboardee_info(ctx: Ctx, body: OnboardeeInfoBody) -> None:
    """Set one onboarding field, or store one onboarding photo."""
    if body.base64_file is not None:
        await _store_photo(ctx, body.base64_file)
    else:
        await _set_field(ctx, body)


class DeleteOnboardeeInfoBody(Body):
    files: list[Position]


@bp.delete("/onboardee-info")
@endpoint(auth=ONBOARDEE, body=DeleteOnboardeeInfoBody)
async def delete_onboardee_info(ctx: Ctx, body: DeleteOnboardeeInfoBody) -> None:
    """Remove onboarding photos; their objects are queued for deletion."""
    async with ctx.svc.db.transaction() as conn:
        removed = await photo_sql.delete_at(conn, "onboardee_photo", ctx.me.email, body.files)
        await photo_sql.queue_deletion(conn, "undeleted_photo", removed)


async def _create_person(ctx: Ctx, conn: Connection) -> int:
    """§4.4 steps 1–6 in the caller's transaction; returns the new person's id."""
    email, now = ctx.me.email, ctx.svc.now()
    onboardee = await onboardees.lock(conn, email)
    missing = [k for k in ("name", "date_of_birth", "latitude", "gender_id") if onboardee is None or onboardee[k] is None]
    if onboardee is None or missing:
        raise HttpError(400, "Onboarding incomplete")
    place = await locations.nearest(conn, onboardee["latitude"], onboardee["longitude"])
    age = age_on(onboardee["date_of_birth"], now.date())
    age_range = default_age_range(age)
    who = Newcomer(
        onboardee["latitude"], onboardee["longitude"], onboardee["gender_id"], age,
        list(onboardee["wanted"]), *age_range,
    )

    async def count_at(km: float) -> int:
        return await count_compatible(conn, who, km, now.date())

    distance = furthest_distance(await bisect_distance(count_at), has_pending_club=bool(ctx.me.pending_club_name))
    has_photos = await photo_sql.onboardee_has_photos(conn, email)
    person_id = await person_sql.create(
        conn,
        email,
        normalize_email(email),
        onboardee["name"],
        onboardee["date_of_birth"],
        onboardee["latitude"],
        onboardee["longitude"],
        onboardee["gender_id"],
        "Yes" if has_photos else "No",
        "Imperial" if place and place.country in IMPERIAL_COUNTRIES else "Metric",
        secrets.choice((1, 3)),  # 'No verification' or 'Photos', even odds
        bool(place and place.verification_required),
        now,
    )
    await photo_sql.adopt_onboardee_photos(conn, person_id, email)
    await sessions.attach_person(conn, email, person_id)
    await create_search_preferences(
        conn, person_id, gender_ids=list(onboardee["wanted"]), age_range=age_range, distance_km=distance
    )
    await onboardees.delete(conn, email)
    return person_id


FINISH_KEYS = ("clubs", "do_show_donation_nag", "estimated_end_date", "name", "pending_club", "person_id",
               "person_uuid", "units")


@bp.post("/finish-onboarding")
@endpoint(auth=ONBOARDEE)
async def finish_onboarding(ctx: Ctx) -> dict[str, Any]:
    """Create the account from the onboardee record, with default search preferences."""
    async with ctx.svc.db.transaction() as conn:
        person_id = await _create_person(ctx, conn)
        if ctx.me.pending_club_name:
            await clubs.join_and_prefer(conn, person_id, ctx.me.pending_club_name)
        summary = await account_summary(conn, ctx, person_id)
    summary["do_show_donation_nag"] = False
    return {key: summary[key] for key in FINISH_KEYS}
