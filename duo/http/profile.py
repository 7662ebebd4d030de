"""Own profile (http-api-accounts §6.3–§6.6): read and edit it, photos, audio bio, donation nag."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints, field_validator, model_validator
from quart import Blueprint

from duo import locations
from duo.added_text import added_text
from duo.http.endpoint import Body, Ctx, endpoint
from duo.http.errors import HttpError, value_error
from duo.http.fields import display_name, exactly_one
from duo.http.uploads import (
    AudioUpload,
    PhotoUpload,
    process_audio_upload,
    process_photo_upload,
    stored_audio,
    stored_photo,
)
from duo.media.audio import MAX_SECONDS, VOICE_BIO_POSITION
from duo.person_events import recompute_verification_level, reset_last_event, set_last_event
from duo.safety.checks import check_about
from duo.sessions import ONBOARDED
from duo.sql import lookups
from duo.sql import person as person_sql
from duo.sql import photos as photo_sql
from duo.sql.database import Connection

bp = Blueprint("profile", __name__)

Position = Annotated[int, Field(ge=1, le=7)]
Colour = Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")]
ABOUT_MAX = 10_000
REQUIRES_GOLD = "Requires gold"

# Changing these clears the matching verified_* flag (verification must be redone).
VERIFIED_FLAGS = {"gender": "verified_gender", "ethnicity": "verified_ethnicity"}
YES_NO_SETTINGS = ("show_my_location", "show_my_age", "hide_me_from_strangers")
TEXT_COLUMNS = {"occupation": "occupation", "education": "education", "height": "height_cm"}


@bp.get("/profile-info")
@endpoint(auth=ONBOARDED)
async def get_profile_info(ctx: Ctx) -> dict[str, Any]:
    """Everything the profile editor and settings screens show."""
    async with ctx.svc.db.connection() as conn:
        return await _profile_info(conn, ctx.person_id)


async def _profile_info(conn: Connection, person_id: int) -> dict[str, Any]:
    person = await person_sql.profile(conn, person_id)
    photos = await photo_sql.photos_of(conn, person_id)
    clubs = await person_sql.clubs_of(conn, person_id)

    def by_position(column: str) -> dict[str, Any] | None:
        return {str(p["position"]): p[column] for p in photos} or None

    def yes_no(value: bool) -> str:
        return "Yes" if value else "No"

    return {
        "photo": by_position("uuid"),
        "photo_extra_exts": by_position("extra_exts"),
        "photo_blurhash": by_position("blurhash"),
        "photo_verification": by_position("verified"),
        "audio_bio_max_seconds": MAX_SECONDS,
        "audio_bio": person["audio_bio"],
        "name": person["name"],
        "about": person["about"],
        "gender": person["gender"],
        "orientation": person["orientation"],
        "ethnicity": person["ethnicity"],
        "location": person["location"],
        "occupation": person["occupation"],
        "education": person["education"],
        "height": person["height_cm"],
        "looking for": person["looking_for"],
        "smoking": person["smoking"],
        "drinking": person["drinking"],
        "drugs": person["drugs"],
        "long distance": person["long_distance"],
        "relationship status": person["relationship_status"],
        "has kids": person["has_kids"],
        "wants kids": person["wants_kids"],
        "exercise": person["exercise"],
        "religion": person["religion"],
        "star sign": person["star_sign"],
        "clubs": [{"name": c["name"], "count_members": c["count_members"]} for c in clubs],
        "units": person["units"],
        "chats": person["chats"],
        "intros": person["intros"],
        "verification level": person["verification_level"],
        "show my location": yes_no(person["show_my_location"]),
        "show my age": yes_no(person["show_my_age"]),
        "hide me from strangers": yes_no(person["hide_me_from_strangers"]),
        "verified_gender": person["verified_gender"],
        "verified_age": person["verified_age"],
        "verified_ethnicity": person["verified_ethnicity"],
        "theme": {
            "title_color": person["title_color"],
            "body_color": person["body_color"],
            "background_color": person["background_color"],
        },
    }


class Theme(Body):
    title_color: Colour
    body_color: Colour
    background_color: Colour


class ProfileInfoBody(Body):
    base64_file: PhotoUpload | None = None
    base64_audio_file: AudioUpload | None = None
    photo_assignments: dict[Position, Position] | None = None
    name: str | None = None
    about: Annotated[str, StringConstraints(max_length=ABOUT_MAX)] | None = None
    gender: str | None = None
    orientation: str | None = None
    ethnicity: str | None = None
    location: str | None = None
    occupation: str | None = None
    education: str | None = None
    height: Annotated[int, Field(ge=-32768, le=32767)] | None = None
    looking_for: str | None = None
    smoking: str | None = None
    drinking: str | None = None
    drugs: str | None = None
    long_distance: str | None = None
    relationship_status: str | None = None
    has_kids: str | None = None
    wants_kids: str | None = None
    exercise: str | None = None
    religion: str | None = None
    star_sign: str | None = None
    units: str | None = None
    chats: str | None = None
    intros: str | None = None
    verification_level: str | None = None
    show_my_location: str | None = None
    show_my_age: str | None = None
    hide_me_from_strangers: str | None = None
    theme: Theme | None = None

    @model_validator(mode="before")
    @classmethod
    def _trimmed_exactly_one(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}
        return exactly_one(cls, data)

    @field_validator("name", "occupation", "education")
    @classmethod
    def _display_name(cls, value: str | None) -> str | None:
        return None if value is None else display_name(value)

    @field_validator("about")
    @classmethod
    def _about(cls, value: str | None) -> str | None:
        problem = None if value is None else check_about(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("photo_assignments")
    @classmethod
    def _assignments(cls, value: dict[int, int] | None) -> dict[int, int] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("Must have at least one assignment")
        if any(source == target for source, target in value.items()):
            raise ValueError("Item can't be assigned to itself")
        if len(set(value.values())) != len(value):
            raise ValueError("Many photos were assigned to one position")
        return value

    def field(self) -> str:
        """The one field that was sent."""
        (name,) = self.model_fields_set
        return name


@bp.patch("/profile-info")
@endpoint(auth=ONBOARDED, body=ProfileInfoBody)
async def patch_profile_info(ctx: Ctx, body: ProfileInfoBody) -> None:
    """Change one profile field or setting, upload a photo or audio bio, reorder photos."""
    field = body.field()
    if body.base64_file is not None:
        await _store_photo(ctx, body.base64_file)
    elif body.base64_audio_file is not None:
        await _store_audio(ctx, body.base64_audio_file)
    elif body.about is not None:
        await _set_about(ctx, body.about)
    else:
        async with ctx.svc.db.transaction() as conn:
            await _set_field(ctx, conn, field, getattr(body, field))


async def _set_field(ctx: Ctx, conn: Connection, field: str, value: Any) -> None:
    person_id = ctx.person_id
    if field in ("name", "theme") and not await person_sql.has_gold(conn, person_id):
        raise HttpError(403, REQUIRES_GOLD)
    if field == "name":
        await person_sql.set_column(conn, person_id, "name", value)
    elif field == "theme":
        await person_sql.set_theme(conn, person_id, value.title_color, value.body_color, value.background_color)
    elif field == "photo_assignments":
        await _move_photos(conn, person_id, value)
    elif field == "location":
        place = await locations.by_name(conn, value)
        if place is None:
            raise HttpError(400, "Unknown location")
        await person_sql.set_place(conn, person_id, place.latitude, place.longitude, place.verification_required)
    elif field in TEXT_COLUMNS:
        await person_sql.set_column(conn, person_id, TEXT_COLUMNS[field], value)
    elif field in YES_NO_SETTINGS:
        await person_sql.set_column(conn, person_id, field, value == "Yes")
    else:
        await _set_lookup(conn, person_id, field, value)


async def _set_lookup(conn: Connection, person_id: int, field: str, value: str) -> None:
    """A lookup-backed field; an unknown name is a 400 (README: validation failures are 400)."""
    table, column = lookups.PERSON_LOOKUPS[field]
    value_id = await lookups.id_of(conn, table, value)
    if value_id is None:
        raise HttpError(400, f"Unknown {field}")
    flag = VERIFIED_FLAGS.get(field)
    if flag is None:
        await person_sql.set_column(conn, person_id, column, value_id)
        return
    await person_sql.set_unverified(conn, person_id, column, flag, value_id)
    await recompute_verification_level(conn, person_id)


async def _move_photos(conn: Connection, person_id: int, assignments: dict[int, int]) -> None:
    """Move photos to new positions; a result with two photos in one place is a 400."""
    current = await photo_sql.lock_positions(conn, person_id)
    moves = {source: target for source, target in assignments.items() if source in current}
    staying = set(current) - set(moves)
    if staying & set(moves.values()):
        raise value_error("Many photos were assigned to one position", ["photo_assignments"])
    if not moves:
        return
    await photo_sql.move_photos(conn, person_id, list(moves), list(moves.values()))


async def _store_photo(ctx: Ctx, upload: PhotoUpload) -> None:
    """Objects first; then the row, the feed event and the verification level."""
    photo = await process_photo_upload(ctx.svc, upload)
    person_id = ctx.person_id
    async with stored_photo(ctx.svc, photo) as media_id, ctx.svc.db.transaction() as conn:
        replaced = await photo_sql.lock_at(conn, "photo", person_id, upload.position)
        await photo_sql.put_photo(
            conn, person_id, upload.position, media_id, photo.blurhash, photo.extra_exts, photo.hash
        )
        if replaced:
            await photo_sql.queue_deletion(conn, "undeleted_photo", [replaced])
        await set_last_event(
            conn,
            person_id,
            "added-photo",
            {
                "added_photo_uuid": media_id,
                "added_photo_blurhash": photo.blurhash,
                "added_photo_extra_exts": photo.extra_exts,
            },
            ctx.svc.now(),
        )
        await recompute_verification_level(conn, person_id)


async def _store_audio(ctx: Ctx, upload: AudioUpload) -> None:
    """Transcode, upload ``<id>.aac``, then replace the audio bio row."""
    aac = await process_audio_upload(ctx.svc, upload)
    person_id = ctx.person_id
    async with stored_audio(ctx.svc, aac) as media_id, ctx.svc.db.transaction() as conn:
        replaced = await photo_sql.lock_at(conn, "audio", person_id, VOICE_BIO_POSITION)
        await photo_sql.put_audio(conn, person_id, VOICE_BIO_POSITION, media_id)
        if replaced:
            await photo_sql.queue_deletion(conn, "undeleted_audio", [replaced])
        await set_last_event(conn, person_id, "added-voice-bio", {"added_audio_uuid": media_id}, ctx.svc.now())


async def _set_about(ctx: Ctx, about: str) -> None:
    """Store the text, queue it for moderation, and derive the feed event from the diff."""
    person_id = ctx.person_id
    old = await person_sql.about(ctx.svc.db, person_id)
    added = await added_text(old, about)
    async with ctx.svc.db.transaction() as conn:
        colours = await person_sql.set_about(conn, person_id, about)
        if added is not None:
            await set_last_event(
                conn,
                person_id,
                "updated-bio",
                {"added_text": added, "body_color": colours["body_color"], "background_color": colours["background_color"]},
                ctx.svc.now(),
            )
        else:
            await reset_last_event(conn, person_id, only_event="updated-bio")


class DeleteProfileInfoBody(Body):
    files: Annotated[list[Position], Field(min_length=1, max_length=7)] | None = None
    audio_files: Annotated[list[int], Field(min_length=1, max_length=1)] | None = None

    @field_validator("audio_files")
    @classmethod
    def _audio(cls, value: list[int] | None) -> list[int] | None:
        if value is not None and value != [VOICE_BIO_POSITION]:
            raise ValueError("Only the audio bio (-1) can be deleted")
        return value


@bp.delete("/profile-info")
@endpoint(auth=ONBOARDED, body=DeleteProfileInfoBody)
async def delete_profile_info(ctx: Ctx, body: DeleteProfileInfoBody) -> None:
    """Delete photos and/or the audio bio; objects are queued for deletion."""
    person_id = ctx.person_id
    async with ctx.svc.db.transaction() as conn:
        if body.files:
            removed = await photo_sql.delete_at(conn, "photo", person_id, body.files)
            await photo_sql.queue_deletion(conn, "undeleted_photo", removed)
            await reset_last_event(conn, person_id, data_key="added_photo_uuid", data_values=removed)
            await recompute_verification_level(conn, person_id)
        if body.audio_files:
            removed = await photo_sql.delete_audio(conn, person_id, VOICE_BIO_POSITION)
            await photo_sql.queue_deletion(conn, "undeleted_audio", removed)
            await reset_last_event(conn, person_id, data_key="added_audio_uuid", data_values=removed)


@bp.post("/dismiss-donation")
@endpoint(auth=ONBOARDED)
async def dismiss_donation(ctx: Ctx) -> None:
    """Start the donation-nag period again."""
    await person_sql.set_column(ctx.svc.db, ctx.person_id, "last_nag_time", ctx.svc.now())
