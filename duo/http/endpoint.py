"""The one decorator every route goes through: client IP, session, rate limits, body.

Order (http-api-accounts §2.3): authentication → per-account limit → body validation →
daily limits → handler.  The default per-IP limit applies to every endpoint but
``/health`` (README decision), skipped for private clients.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
from pydantic import BaseModel, ConfigDict, ValidationError
from quart import Response, current_app, request

from duo.http.clientip import ClientIpResolver, is_private
from duo.http.errors import UNAUTHORIZED, HttpError, bad_request, value_error
from duo.ratelimit import DEFAULTS, Limit, enforce
from duo.services import Services
from duo.sessions import Gate, Session, find_session


@attrs.frozen
class Ctx:
    """One request as a handler sees it."""

    svc: Services
    ip: str
    session: Session | None

    @property
    def me(self) -> Session:
        assert self.session is not None
        return self.session

    @property
    def person_id(self) -> int:
        assert self.session is not None and self.session.person_id is not None
        return self.session.person_id


class Body(BaseModel):
    """Base of request bodies: unknown keys are ignored (§2.3 rule 3)."""

    model_config = ConfigDict(extra="ignore")


def services() -> Services:
    svc: Services = current_app.config["DUO_SERVICES"]
    return svc


def client_ip(svc: Services) -> str:
    resolver: ClientIpResolver = current_app.config["DUO_CLIENT_IP"]
    return resolver.resolve(request.remote_addr, request.headers.get("X-Forwarded-For"))


async def load_session(svc: Services) -> Session:
    parts = request.headers.get("Authorization", "").lower().split()
    if len(parts) != 2 or parts[0] != "bearer":
        raise HttpError(400, "Missing or malformed authorization header")
    session = await find_session(svc.db, parts[1], svc.now())
    if session is None:
        raise HttpError(401, "Invalid session token")
    return session


async def read_json_body() -> Any:
    """§2.3 rules 1–2: non-JSON content or a falsy value is an empty object."""
    data = await request.get_data()
    mimetype = request.mimetype or ""
    if not (mimetype == "application/json" or (mimetype.startswith("application/") and mimetype.endswith("+json"))):
        return {}
    try:
        value = json.loads(data) if data else {}
    except (ValueError, UnicodeDecodeError):
        return {}
    return value or {}


def _nul_at(value: Any, loc: list[str | int]) -> list[str | int] | None:
    """Where a NUL character hides in a decoded body (PostgreSQL text cannot hold one)."""
    if isinstance(value, str):
        return loc if "\x00" in value else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found = _nul_at(item, [*loc, key])
        if found is not None:
            return found
    return None


def parse_body(model: type[BaseModel], value: Any) -> Any:
    """Validate against ``model``; a model may name fields where a lone NUL is a sentinel."""
    sentinels: frozenset[str] = getattr(model, "NUL_SENTINELS", frozenset())
    checked = {k: v for k, v in value.items() if not (k in sentinels and v == "\x00")} if isinstance(value, dict) else value
    where = _nul_at(checked, [])
    if where is not None:
        raise value_error("NUL characters are not allowed", where)
    try:
        return model.model_validate(value)
    except ValidationError as e:
        raise bad_request(e) from None


@attrs.frozen
class Route:
    """What the OpenAPI document and the rate limiter know of a route."""

    name: str
    gate: Gate | None
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    summary: str


ROUTES: dict[str, Route] = {}

Handler = Callable[..., Awaitable[Any]]


def endpoint(
    *,
    auth: Gate | None,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    ip_limits: tuple[Limit, ...] = DEFAULTS,
    daily: Limit | None = None,
) -> Callable[[Handler], Handler]:
    """Wrap ``handler(ctx, [body], [query], **path)`` with the conventions of §2."""

    def wrap(handler: Handler) -> Handler:
        name = handler.__name__
        ROUTES[name] = Route(name, auth, body, query, (handler.__doc__ or "").strip().split("\n")[0])

        @functools.wraps(handler)
        async def view(**path: Any) -> Any:
            svc = services()
            ip = client_ip(svc)
            switches = svc.config.safety
            if ip_limits and not switches.disable_ip_rate_limit and not is_private(ip):
                await enforce(svc.counter, f"ip:{ip}:{name}", ip_limits)
            session = None
            if auth is not None:
                session = await load_session(svc)
                if not auth.admits(session):
                    raise HttpError(401, UNAUTHORIZED)
                if not switches.disable_account_rate_limit:
                    await enforce(svc.counter, f"acct:{session.normalized_email}:{name}", DEFAULTS)
            where = _nul_at(path, [])
            if where is not None:
                raise value_error("NUL characters are not allowed", where)
            args: list[Any] = [Ctx(svc, ip, session)]
            if body is not None:
                args.append(parse_body(body, await read_json_body()))
            if query is not None:
                args.append(parse_body(query, dict(request.args)))
            if daily is not None:
                who = session.normalized_email if session is not None else ip
                if not switches.disable_ip_rate_limit:
                    await enforce(svc.counter, f"daily:{ip}:{name}", (daily,))
                if not switches.disable_account_rate_limit:
                    await enforce(svc.counter, f"daily:{who}:{name}", (daily,))
            return to_response(await handler(*args, **path))

        return view

    return wrap


def to_response(result: Any) -> Any:
    """None is 200 with an empty body; str is text/html; objects are JSON."""
    if result is None:
        return Response("", 200, content_type="text/html; charset=utf-8")
    if isinstance(result, (dict, list)):
        return Response(dumps(result), 200, content_type="application/json")
    return result


def dumps(value: Any) -> str:
    """Sorted keys, ASCII escapes, compact: the reference encoder (§2.2)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_default)


def _default(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
