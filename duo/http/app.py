"""The Quart-Trio application: routes by area, the §2 conventions, CORS, maintenance."""

from __future__ import annotations

import importlib
from typing import Any

from quart import Response, request
from quart_trio import QuartTrio
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from duo.http.clientip import ClientIpResolver
from duo.http.errors import HttpError
from duo.ratelimit import RateLimitExceeded
from duo.services import Services
from duo.sql.database import DatabaseUnavailable

# One module per area of the spec; each exposes a Quart blueprint named ``bp``.
AREAS = (
    "duo.http.status",
    "duo.http.openapi",
    "duo.http.signin",
    "duo.http.onboarding",
    "duo.http.profile",
    "duo.http.account",
    "duo.http.public",
    "duo.http.media",
    "duo.http.questions",
    "duo.http.search",
    "duo.http.prospects",
    "duo.http.feed",
    "duo.http.clubs",
    "duo.http.verification",
    "duo.http.payments",
    "duo.http.admin",
)

# The optional status port serves the status page (and liveness) only.
STATUS_AREAS = ("duo.http.status",)

MAX_BODY_BYTES = 70_000_000
CORS_METHODS = "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"


def create_app(svc: Services, areas: tuple[str, ...] = AREAS) -> Any:
    """Build the ASGI app serving ``svc``; trailing slashes are ignored on every route."""
    app = QuartTrio("duo")
    app.config["DUO_SERVICES"] = svc
    app.config["DUO_CLIENT_IP"] = ClientIpResolver(svc.config.http.trusted_proxies)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.config["BODY_TIMEOUT"] = 300
    app.config["RESPONSE_TIMEOUT"] = 300
    for area in areas:
        app.register_blueprint(importlib.import_module(area).bp)

    origins = {o.strip() for o in svc.config.http.cors_origins.split(",") if o.strip()}

    if svc.config.http.maintenance:  # fixed for the process: no hook at all on the usual path

        @app.before_request
        async def maintenance() -> Response | None:
            if request.path != "/status":
                return Response("Down for maintenance", 503, content_type="text/html; charset=utf-8")
            return None

    @app.after_request
    async def cors(response: Response) -> Response:
        origin = request.headers.get("Origin")
        if origin and ("*" in origins or origin in origins):
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers.add("Vary", "Origin")
            if request.method == "OPTIONS":
                response.headers["Access-Control-Allow-Methods"] = CORS_METHODS
                asked = request.headers.get("Access-Control-Request-Headers")
                if asked:
                    response.headers["Access-Control-Allow-Headers"] = asked
        return response

    @app.errorhandler(HttpError)
    async def http_error(e: HttpError) -> Response:
        return Response(e.body, e.status, content_type="text/html; charset=utf-8")

    @app.errorhandler(DatabaseUnavailable)
    async def database_down(e: DatabaseUnavailable) -> Response:
        return Response("Database unavailable", 503, content_type="text/html; charset=utf-8")

    @app.errorhandler(RateLimitExceeded)
    async def too_many(e: RateLimitExceeded) -> Response:
        body = f"<!doctype html>\n<title>429 Too Many Requests</title>\n<h1>Too Many Requests</h1>\n<p>{e.limit.text}</p>\n"
        return Response(body, 429, content_type="text/html; charset=utf-8")

    @app.errorhandler(RequestEntityTooLarge)
    async def too_large(e: RequestEntityTooLarge) -> Response:
        return Response("Request Entity Too Large", 413, content_type="text/html; charset=utf-8")

    @app.errorhandler(HTTPException)
    async def framework(e: HTTPException) -> Response:
        return Response(e.get_body(), e.code or 500, content_type="text/html; charset=utf-8")

    return _strip_trailing_slash(app)


def _strip_trailing_slash(app: Any) -> Any:
    """ASGI wrapper: ``/me/`` is ``/me`` (§2.1) without a redirect."""

    async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            path = scope.get("path", "/")
            if len(path) > 1 and path.endswith("/"):
                scope = dict(scope, path=path.rstrip("/") or "/", raw_path=None)
        await app(scope, receive, send)

    asgi.quart_app = app  # type: ignore[attr-defined]
    return asgi
