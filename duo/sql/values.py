"""Database values of driver types, as plain Python for code outside ``duo/sql``."""

from __future__ import annotations

import asyncpg


def point_coordinates(value: object) -> tuple[float, float] | None:
    """(x, y) of a geometric ``point`` value, or None for any other value."""
    if isinstance(value, asyncpg.Point):
        return value.x, value.y
    return None
