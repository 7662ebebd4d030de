"""``GET /openapi.json``: the OpenAPI 3.1 document, generated from the routes' own models.

The request models that validate bodies and query strings are the only source: each
route registered through :func:`duo.http.endpoint.endpoint` contributes its path, method,
gate and schemas, so the document cannot drift from what the server enforces.
"""

from __future__ import annotations

import re
from typing import Any

from quart import Blueprint, current_app

from duo.http.endpoint import ROUTES, Ctx, Route, endpoint

bp = Blueprint("openapi", __name__)

ERRORS = {
    "400": "validation failure: a JSON array of {type, loc, msg} as text, or a plain-text refusal",
    "401": "Invalid session token / Unauthorized / Invalid OTP",
    "429": "rate limit exceeded",
}


def _path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    params = []
    for converter, name in re.findall(r"<(?:(\w+):)?(\w+)>", rule):
        kind = "integer" if converter == "int" else "string"
        params.append({"name": name, "in": "path", "required": True, "schema": {"type": kind}})
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule), params


def _operation(route: Route, path_params: list[dict[str, Any]], schemas: dict[str, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {"operationId": route.name, "summary": route.summary, "parameters": list(path_params)}
    responses: dict[str, Any] = {"200": {"description": "success"}}
    responses.update({code: {"description": text} for code, text in ERRORS.items()})
    op["responses"] = responses
    if route.gate is not None:
        op["security"] = [{"bearer": []}]
        gate = route.gate
        op["x-duo-gate"] = {"onboarded": gate.onboarded, "signed_in": gate.signed_in}
    if route.body is not None:
        schema = route.body.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[route.body.__name__] = schema
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{route.body.__name__}"}}},
        }
    if route.query is not None:
        schema = route.query.model_json_schema()
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            op["parameters"].append({"name": name, "in": "query", "required": name in required, "schema": prop})
    return op


def document() -> dict[str, Any]:
    """Build the document from the running app's URL map and the route registry."""
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for rule in current_app.url_map.iter_rules():
        view = current_app.view_functions.get(rule.endpoint)
        route = ROUTES.get(getattr(view, "__name__", ""))
        if route is None:
            continue
        path, params = _path(rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(route, params, schemas)
    return {
        "openapi": "3.1.0",
        "info": {"title": "duo", "version": "7", "description": "The Duolicious backend API"},
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


@bp.get("/openapi.json")
@endpoint(auth=None)
async def openapi(ctx: Ctx) -> dict[str, Any]:
    """This document."""
    return document()
