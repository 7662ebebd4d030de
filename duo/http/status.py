"""Liveness and the status page the app polls (README decision: ``GET /status``)."""

from __future__ import annotations

import os
from typing import Any

from quart import Blueprint

from duo.http.endpoint import endpoint, services

bp = Blueprint("status", __name__)

STATUSES = ["ok", "down for maintenance"]


@bp.get("/health")
@endpoint(auth=None, ip_limits=())
async def health(ctx: Any) -> tuple[str, int, dict[str, str]]:
    """Liveness for container health checks; X-Duo-Pid names the worker that answered."""
    return "status: ok", 200, {"X-Duo-Pid": str(os.getpid())}


@bp.get("/health/details")
@endpoint(auth=None, ip_limits=())
async def health_details(ctx: Any) -> dict[str, Any]:
    """Liveness plus the scheduled jobs; a failing job shows here without failing health."""
    jobs_status = services().jobs_status
    return {"status": "ok", "scheduler": None if jobs_status is None else await jobs_status()}


def status_document() -> dict[str, Any]:
    maintenance = services().config.http.maintenance
    return {"api_version": 7, "statuses": STATUSES, "status_index": 1 if maintenance else 0}


@bp.get("/status")
@endpoint(auth=None, ip_limits=())
async def status(ctx: Any) -> dict[str, Any]:
    """API version and whether the service is up or down for maintenance."""
    return status_document()
