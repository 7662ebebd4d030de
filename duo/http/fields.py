"""Validation shared by the onboarding and profile bodies (§2.3 "exactly one" rule, §12)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from duo.safety.checks import check_name

NAME_MAX = 64


def exactly_one(model: type[BaseModel], data: Any) -> Any:
    """Exactly one known field, not null (run before field validation)."""
    if not isinstance(data, dict):
        return data
    present = [name for name in model.model_fields if name in data]
    if len(present) != 1:
        raise ValueError("Exactly one value must be set")
    if data[present[0]] is None:
        raise ValueError(f"Field {present[0]} must not be None")
    return data


def display_name(value: str) -> str:
    """Names, occupations and education: trimmed, 1–64 characters, not rude."""
    value = value.strip()
    if not 1 <= len(value) <= NAME_MAX:
        raise ValueError(f"String should have at least 1 and at most {NAME_MAX} characters")
    problem = check_name(value)
    if problem:
        raise ValueError(problem)
    return value
