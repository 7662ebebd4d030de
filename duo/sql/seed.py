"""Reference data loaded idempotently at start (placeholder until the schema lands)."""

from __future__ import annotations

from duo.sql.database import Database


async def seed_reference_data(db: Database) -> None:
    """Load lookup values, questions and locations when missing."""
    return None
