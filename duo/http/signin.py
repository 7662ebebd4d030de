"""Sign-in and sessions (http-api-accounts §3): OTP request, resend, check, sign-out."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Any

from pydantic import field_validator
from quart import Blueprint

from duo import clubs
from duo.actors.mailer import otp_mail
from duo.http.endpoint import Body, Ctx, endpoint
from duo.http.errors import HttpError
from duo.http.summary import account_summary
from duo.ratelimit import DAILY_40, OTP
from duo.safety.emails import (
    DomainPolicy,
    DomainStatus,
    email_domain,
    may_sign_up,
    normalize_email,
    validate_email,
)
from duo.sessions import NOT_SIGNED_IN, SIGNED_IN, token_hash
from duo.sql import onboardees, sessions
from duo.sql import photos as photo_sql
from duo.sql import signin as signin_sql
from duo.sql.database import Connection

bp = Blueprint("signin", __name__)

SESSION_LIFETIME = dt.timedelta(days=183)
OTP_LIFETIME = dt.timedelta(minutes=10)


class RequestOtpBody(Body):
    email: str
    pending_club_name: str | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return validate_email(value)

    @field_validator("pending_club_name")
    @classmethod
    def _club(cls, value: str | None) -> str | None:
        if value is None:
            raise ValueError("Field pending_club_name must not be None")
        return clubs.club_name(value, normalise_spaces=False)


class CheckOtpBody(Body):
    otp: str

    @field_validator("otp")
    @classmethod
    def _otp(cls, value: str) -> str:
        if not re.fullmatch(r"\d{6}", value):
            raise ValueError("String should match pattern '^\\d{6}$'")
        return value


def _check_ip(ctx: Ctx) -> None:
    if not ctx.ip or ctx.svc.ip_blocked(ctx.ip):
        raise HttpError(460, "IP address blocked")


async def _domain_allowed(ctx: Ctx, email: str) -> bool:
    """Existing accounts always; new ones by the domain policy (allow-list by default).

    The lists are read from their tables, so an operator's additions take effect at once.
    """
    row = await signin_sql.domain_facts(ctx.svc.db, email, email_domain(email))
    if row["registered"]:
        return True
    status = DomainStatus.GOOD if row["good"] else DomainStatus.BAD if row["bad"] else DomainStatus.UNKNOWN
    return may_sign_up(status, DomainPolicy(ctx.svc.config.safety.email_domain_policy))


async def _new_otp(ctx: Ctx, email: str, normalized: str) -> str:
    """``000000`` for example.com in dev, or for its existing accounts (app-store review)."""
    if email.rpartition("@")[2] == "example.com":
        if ctx.svc.config.env == "dev" or await signin_sql.has_account(ctx.svc.db, normalized):
            return "000000"
    return f"{secrets.randbelow(1_000_000):06d}"


async def _is_banned(ctx: Ctx, email: str, normalized: str) -> bool:
    domain = email.rpartition("@")[2]
    row = await signin_sql.ban_facts(ctx.svc.db, normalized, _inet(ctx.ip), ctx.svc.now(), domain)
    return bool(row["banned"] or (row["bad_domain"] and not row["has_account"]))


def _inet(ip: str) -> str | None:
    import ipaddress

    try:
        return str(ipaddress.ip_address(ip))
    except ValueError:
        return None


async def _send_otp(ctx: Ctx, email: str, otp: str) -> None:
    """Queue the code; the mailer never sends to @example.com over SMTP."""
    await ctx.svc.send_mail(otp_mail(email, otp))


@bp.post("/request-otp")
@endpoint(auth=None, body=RequestOtpBody, ip_limits=(OTP,), daily=DAILY_40)
async def request_otp(ctx: Ctx, body: RequestOtpBody) -> dict[str, Any]:
    """Start sign-in or sign-up: create a session and e-mail a six-digit code."""
    _check_ip(ctx)
    if not await _domain_allowed(ctx, body.email):
        raise HttpError(400, "Disposable email")
    normalized = normalize_email(body.email)
    token = secrets.token_hex(64)
    otp = await _new_otp(ctx, body.email, normalized)
    if await _is_banned(ctx, body.email, normalized):
        raise HttpError(461, "Banned")
    now = ctx.svc.now()
    await sessions.create(
        ctx.svc.db,
        token_hash(token),
        body.email,
        normalized,
        body.pending_club_name,
        otp,
        _inet(ctx.ip),
        now + SESSION_LIFETIME,
        now + OTP_LIFETIME,
    )
    await _send_otp(ctx, body.email, otp)
    return {"session_token": token}


@bp.post("/resend-otp")
@endpoint(auth=NOT_SIGNED_IN, ip_limits=(OTP,))
async def resend_otp(ctx: Ctx) -> None:
    """Send a fresh code for the pending session."""
    _check_ip(ctx)
    otp = await _new_otp(ctx, ctx.me.email, ctx.me.normalized_email)
    if await _is_banned(ctx, ctx.me.email, ctx.me.normalized_email):
        raise HttpError(461, "Banned")
    await sessions.set_otp(ctx.svc.db, ctx.me.token_hash, otp, ctx.svc.now() + OTP_LIFETIME, _inet(ctx.ip))
    await _send_otp(ctx, ctx.me.email, otp)


async def _confirm(conn: Connection, ctx: Ctx, otp: str) -> bool:
    """Steps 2–3 of §3.4; a bot account signs nothing in (README decision)."""
    now = ctx.svc.now()
    valid = await sessions.lock_with_otp(conn, ctx.me.token_hash, otp, now)
    if valid is None or valid["is_bot"]:
        return False
    await sessions.sign_in(conn, ctx.me.token_hash)
    await photo_sql.queue_onboardee_photos(conn, ctx.me.email)
    await onboardees.delete(conn, ctx.me.email)
    person_id = valid["person_id"]
    if person_id is None:
        await onboardees.ensure(conn, ctx.me.email)
        return True
    if not valid["activated"]:
        await signin_sql.count_reactivation(conn, person_id)
    await signin_sql.record_sign_in(conn, person_id, now)
    if ctx.me.pending_club_name:
        await clubs.join_and_prefer(conn, person_id, ctx.me.pending_club_name)
    return True


@bp.post("/check-otp")
@endpoint(auth=NOT_SIGNED_IN, body=CheckOtpBody, daily=DAILY_40)
async def check_otp(ctx: Ctx, body: CheckOtpBody) -> dict[str, Any]:
    """Confirm the code: the session becomes signed in."""
    _check_ip(ctx)
    async with ctx.svc.db.transaction() as conn:
        if not await _confirm(conn, ctx, body.otp):
            raise HttpError(401, "Invalid OTP")
        person_id = await sessions.person_id(conn, ctx.me.token_hash)
        return await account_summary(conn, ctx, person_id)


@bp.post("/sign-out")
@endpoint(auth=SIGNED_IN)
async def sign_out(ctx: Ctx) -> None:
    """Delete this session only."""
    await sessions.delete(ctx.svc.db, ctx.me.token_hash)


@bp.post("/check-session-token")
@endpoint(auth=SIGNED_IN)
async def check_session_token(ctx: Ctx) -> dict[str, Any]:
    """Validate a token; an onboardee gets the onboardee summary so onboarding resumes."""
    return await account_summary(ctx.svc.db, ctx, ctx.me.person_id)
