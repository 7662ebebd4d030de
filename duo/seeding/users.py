"""``duo user create``: the old system's create-user test helper, as a command.

The account is made through the same code paths as the app's: the ASGI app of
``duo.supervisor.http_app`` is driven in-process by Quart's test client — /request-otp, /check-otp,
PATCH /onboardee-info field by field and photo by photo, /finish-onboarding, /next-questions
and POST /answer, PATCH /profile-info with an audio bio.  Sign-in uses dev mode's fixed OTP
(000000 for @example.com), so the command refuses to run unless ``env`` is ``dev``: a
production database gets no account that skipped the e-mail check.  Rate limits are
switched off for this in-process app only (200 answers exceed the per-account limit).

``--verified`` has no endpoint (the verification job sets it after a selfie check): the
flags are written as that job writes them — age and gender verified, every photo verified,
and the level recomputed (3 with photos, else 2).
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import random
from typing import Any, Protocol

import attrs
import av
import numpy as np
from av.audio.stream import AudioStream
from PIL import Image, ImageDraw

from duo.config import Config
from duo.person_events import recompute_verification_level
from duo.services import Services
from duo.sql.database import Database
from duo.supervisor import http_app

DEV_OTP = "000000"
DEFAULT_LOCATION = "New York, New York, United States"
DEFAULT_AGE = 30
QUESTION_PAGE = 10
PHOTO_SIZE = (600, 800)


class SeedingError(Exception):
    """The account could not be made; the text says why (printed by the CLI)."""


@attrs.frozen
class CreatedUser:
    email: str
    token: str  # bearer token of a signed-in session
    person_id: int
    person_uuid: str


@attrs.frozen
class Profile:
    """What onboarding asks for, and what the command adds after it."""

    gender: str = "Woman"
    wanted_genders: tuple[str, ...] = ("Man",)
    location: str = DEFAULT_LOCATION
    age: int = DEFAULT_AGE
    answers: int = 0
    photos: int = 0
    audio: bool = False
    verified: bool = False


def photo_jpeg(seed: str) -> bytes:
    """A colourful portrait-sized JPEG (shapes, so the blurhash is not flat)."""
    rng = random.Random(seed)
    image = Image.new("RGB", PHOTO_SIZE, tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x, y = rng.randrange(PHOTO_SIZE[0]), rng.randrange(PHOTO_SIZE[1])
        r = rng.randrange(40, 200)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rng.randrange(256) for _ in range(3)))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def sine_wav(seconds: float = 2.0, rate: int = 16_000, hz: float = 440.0) -> bytes:
    """A mono sine tone as 16-bit WAV, encoded by PyAV."""
    out = io.BytesIO()
    with av.open(out, mode="w", format="wav") as sink:
        stream = sink.add_stream("pcm_s16le", rate=rate, layout="mono")
        assert isinstance(stream, AudioStream)
        t = np.arange(int(seconds * rate)) / rate
        tone = (np.sin(2 * np.pi * hz * t) * 8000).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(tone[None, :], format="s16", layout="mono")
        frame.sample_rate = rate
        frame.pts = 0
        sink.mux(stream.encode(frame))
        sink.mux(stream.encode(None))
    return out.getvalue()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _without_rate_limits(config: Config) -> Config:
    safety = attrs.evolve(config.safety, disable_ip_rate_limit=True, disable_account_rate_limit=True)
    return attrs.evolve(config, safety=safety)


class Api(Protocol):
    """A way to call the HTTP API: in-process here, over a socket in bench/search.py.
    ``call`` answers the decoded JSON (or text) of a 200 and raises SeedingError otherwise."""

    token: str

    async def call(self, method: str, path: str, body: Any = None, query: dict[str, Any] | None = None) -> Any: ...


class _InProcessApi:
    """The app served by Quart's test client."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.token = ""

    async def call(self, method: str, path: str, body: Any = None, query: dict[str, Any] | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = await self.client.open(path, method=method, json=body, headers=headers, query_string=query)
        text = await response.get_data(as_text=True)
        if response.status_code != 200:
            raise SeedingError(f"{method} {path}: {response.status_code} {text[:300]}")
        return await response.get_json() if response.is_json else text


async def create_user(svc: Services, name: str, profile: Profile = Profile()) -> CreatedUser:
    """Sign up ``NAME@example.com`` on the in-process app; see :func:`sign_up`."""
    if svc.config.env != "dev":
        raise SeedingError("user create signs in with the dev OTP: it needs DUO_ENV=dev")
    app = http_app(attrs.evolve(svc, config=_without_rate_limits(svc.config))).quart_app
    async with app.test_app() as test_app:
        user = await sign_up(_InProcessApi(test_app.test_client()), name, profile, svc.now().date())
    if profile.verified:
        await verify(svc.db, user.person_id)
    return user


async def sign_up(api: Api, name: str, profile: Profile, today: dt.date) -> CreatedUser:
    """Sign in with the dev OTP, onboard, answer, add an audio bio (not ``verified``: no
    endpoint sets it)."""
    email = f"{name.lower()}@example.com"
    api.token = (await api.call("POST", "/request-otp", {"email": email}))["session_token"]
    await api.call("POST", "/check-otp", {"otp": DEV_OTP})
    born = today - dt.timedelta(days=round(365.25 * profile.age) + 10)
    for field, value in (
        ("name", name),
        ("date_of_birth", born.isoformat()),
        ("location", profile.location),
        ("gender", profile.gender),
        ("other_peoples_genders", list(profile.wanted_genders)),
    ):
        await api.call("PATCH", "/onboardee-info", {field: value})
    for position in range(1, profile.photos + 1):
        upload = {"position": position, "base64": _b64(photo_jpeg(f"{email} {position}")), "top": 0, "left": 0}
        await api.call("PATCH", "/onboardee-info", {"base64_file": upload})
    finished = await api.call("POST", "/finish-onboarding")
    await _answer(api, profile.answers, random.Random(email))
    if profile.audio:
        await api.call("PATCH", "/profile-info", {"base64_audio_file": {"base64": _b64(sine_wav())}})
    return CreatedUser(email=email, token=api.token, person_id=int(finished["person_id"]),
                       person_uuid=str(finished["person_uuid"]))


async def _answer(api: Api, count: int, rng: random.Random) -> None:
    """Answer the questions /next-questions offers, in its order, until ``count`` are answered."""
    answered = 0
    while answered < count:
        page = await api.call("GET", "/next-questions", query={"n": min(QUESTION_PAGE, count - answered), "o": 0})
        if not page:
            raise SeedingError(f"only {answered} questions exist to answer")
        for question in page:
            await api.call("POST", "/answer", {"question_id": question["id"], "answer": rng.random() < 0.5, "public": True})
        answered += len(page)


async def verify(db: Database, person_id: int) -> None:
    """What a successful verification job writes: age, gender and every photo verified."""
    async with db.transaction() as conn:
        await conn.execute("UPDATE person SET verified_age = TRUE, verified_gender = TRUE WHERE id = $1", person_id)
        await conn.execute("UPDATE photo SET verified = TRUE WHERE person_id = $1", person_id)
        await recompute_verification_level(conn, person_id)
