"""The "added text" an about-text edit shows in other people's feeds (§6.4)."""

from __future__ import annotations

import difflib
import re

import trio

DIFF_TIME_LIMIT = 0.5
CONTEXT = 150
SNIPPET_CHARS = 300
SNIPPET_LINES = 20
_SENTENCE_END = re.compile(r"[.!?\n]")


def added_text_of(old: str, new: str) -> str | None:
    """A snippet around the last inserted or replaced stretch of ``new``, or None."""
    regions = [
        (j1, j2)
        for tag, _, _, j1, j2 in difflib.SequenceMatcher(None, old, new).get_opcodes()
        if tag in ("insert", "replace")
    ]
    if not regions or not new[regions[-1][0] : regions[-1][1]].strip():
        return None
    start = regions[-1][0]
    candidates = [0] + [m.end() for m in _SENTENCE_END.finditer(new) if m.end() <= start]
    origin = min(candidates, key=lambda c: abs(c - (start - CONTEXT)))
    snippet = "\n".join(new[origin : origin + SNIPPET_CHARS].split("\n")[:SNIPPET_LINES]).strip()
    if not snippet:
        return None
    if not new.strip().endswith(snippet):
        snippet = snippet.rstrip(".!?\n,") + "…"
    return snippet


async def added_text(old: str, new: str) -> str | None:
    """:func:`added_text_of` in a thread, given up (None) after half a second."""
    with trio.move_on_after(DIFF_TIME_LIMIT):
        return await trio.to_thread.run_sync(added_text_of, old, new, abandon_on_cancel=True)
    return None
