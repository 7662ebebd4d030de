"""Read the safety lists shipped in ``duo.data``, once per process.

The program never reads the shared contract folder at run time: the lists are package data.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def read_text(name: str) -> str:
    """Whole content of a data file."""
    return resources.files("duo.data").joinpath(name).read_text(encoding="utf-8")


@cache
def read_lines(name: str) -> tuple[str, ...]:
    """Non-empty lines of a one-entry-per-line file, in file order."""
    return tuple(line for line in read_text(name).splitlines() if line)


@cache
def read_json(name: str) -> Any:
    """Parsed JSON data file (callers must not mutate it: it is shared)."""
    return json.loads(read_text(name))
