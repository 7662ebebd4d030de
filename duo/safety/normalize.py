"""Text normalisation that undoes common filter-evasion tricks (safety.md §2).

Obfuscated spellings (accents, look-alike letters, leetspeak, stretched letters, zero-width
characters, slang) are rewritten to the canonical phrase so that a later exact search finds
them. The spaCy modifier-removal step (§2 step 6) is not implemented.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, partial
from typing import Any

from confusable_homoglyphs import confusables

from duo.safety.datafiles import read_json

_TABLES_FILE = "antiabuse-normalization-tables.json"

_WHITESPACE_RUN = re.compile(r"[^\S\n\r]+")
_REPEAT_RUN = re.compile(r"(.)\1+", re.IGNORECASE | re.DOTALL)

# Phrase boundaries: anything but an ASCII letter or digit (or the text's edge).
BOUNDARY_BEFORE = r"(?<![A-Za-z0-9])"
BOUNDARY_AFTER = r"(?![A-Za-z0-9])"


def _tables() -> Any:
    return read_json(_TABLES_FILE)


@cache
def _zero_width_table() -> dict[int, None]:
    return {int(cp.removeprefix("U+"), 16): None for cp in _tables()["zero_width_codepoints"]}


@cache
def _latin_homoglyph(char: str) -> str:
    """The Latin look-alike replacing ``char``, or ``char`` itself (§2 step 2)."""
    # Latin characters are never reported with preferred alias "latin"; COMMON ones are kept.
    found = confusables.is_confusable(char, preferred_aliases=["latin"])
    if not found or found[0]["alias"] == "COMMON":
        return char
    for glyph in found[0]["homoglyphs"]:
        if any(confusables.alias(c) == "LATIN" for c in glyph["c"]):
            return str(glyph["c"])
    return char


def _strip_accents_and_homoglyphs(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(_latin_homoglyph(char) for char in decomposed if not unicodedata.combining(char))


def _is_short(spelling: str, vowels: frozenset[str]) -> bool:
    inner_vowels = sum(1 for c in spelling[1:-1] if c in vowels)
    return len(spelling) - inner_vowels <= 3


def _spelling_pattern(spelling: str) -> str:
    """Per-character pattern of one spelling of a word (§2 "Fuzzy pattern")."""
    tables = _tables()
    vowels = frozenset(tables["vowel_chars"])
    once_in_short = frozenset(tables["non_repeatable_vowels"])
    final_removed = frozenset(tables["final_position_removed_punctuation"])
    short = _is_short(spelling, vowels)
    last = len(spelling) - 1
    parts = []
    for i, char in enumerate(spelling):
        allowed = tables["char_map"].get(char, char)
        if i == last:
            allowed = "".join(c for c in allowed if c not in final_removed)
        char_class = "[" + "".join(re.escape(c) for c in dict.fromkeys(allowed)) + "]"
        if short and char in once_in_short:
            quantifier = ""
        elif not short and char in vowels and 0 < i < last:
            quantifier = "*"
        else:
            quantifier = "+"
        parts.append(char_class + quantifier)
    return "".join(parts)


def _word_spellings(word: str) -> list[str]:
    """The word, its slang spellings, and their suffix variants."""
    tables = _tables()
    spellings = []
    for spelling in [word, *tables["closed_class_slang_words"].get(word, [])]:
        spellings.append(spelling)
        for suffix, variants in tables["closed_class_slang_suffixes"].items():
            if spelling.endswith(suffix):
                stem = spelling[: -len(suffix)]
                spellings.extend(stem + variant for variant in variants)
                break
    return list(dict.fromkeys(spellings))


def _phrase_body(phrase: str) -> str:
    """Fuzzy pattern of ``phrase`` without its boundaries."""
    words = (
        "(?:" + "|".join(_spelling_pattern(s) for s in _word_spellings(word)) + ")"
        for word in phrase.split(" ")
        if word
    )
    return "[ -]?".join(words)


def phrase_pattern(phrase: str) -> str:
    """Regular expression (to compile case-insensitively) for obfuscated forms of ``phrase``."""
    return BOUNDARY_BEFORE + _phrase_body(phrase) + BOUNDARY_AFTER


@dataclass(frozen=True)
class _Canonicaliser:
    phrases: tuple[tuple[str, re.Pattern[str]], ...]
    # One search for all phrases: most texts match none, and then nothing is rewritten.
    any_phrase: re.Pattern[str]


@cache
def _canonicaliser(phrases: tuple[str, ...]) -> _Canonicaliser:
    bodies = [_phrase_body(phrase) for phrase in phrases]
    return _Canonicaliser(
        tuple(
            (phrase, re.compile(BOUNDARY_BEFORE + body + BOUNDARY_AFTER, re.IGNORECASE))
            for phrase, body in zip(phrases, bodies, strict=True)
        ),
        re.compile(
            BOUNDARY_BEFORE + "(?:" + "|".join(bodies) + ")" + BOUNDARY_AFTER, re.IGNORECASE
        ),
    )


@cache
def _safe_phrases() -> tuple[re.Pattern[str], ...]:
    return tuple(
        re.compile(p, re.IGNORECASE) for p in _tables()["closed_class_safe_phrase_regexes"]
    )


def _canonical(phrase: str, match: re.Match[str]) -> str:
    text = match.group(0)
    if any(safe.fullmatch(text) for safe in _safe_phrases()):
        return text
    return phrase


def normalize_string(text: str, phrases: Iterable[str] = ()) -> str:
    """Normalise ``text`` (§2 steps 1–5 and 7) and rewrite fuzzy matches of ``phrases``.

    ``phrases`` is applied in order; pass a tuple so its compiled patterns are cached.
    """
    text = _strip_accents_and_homoglyphs(text)
    text = _WHITESPACE_RUN.sub(" ", text)
    text = _REPEAT_RUN.sub(lambda m: m.group(1) * 2, text)
    text = text.translate(_zero_width_table())
    canon = _canonicaliser(tuple(phrases))
    if canon.any_phrase.search(text):
        for phrase, pattern in canon.phrases:
            text = pattern.sub(partial(_canonical, phrase), text)
    return text


def literal_phrases_pattern(phrases: tuple[str, ...], before: str, after: str) -> re.Pattern[str]:
    """One case-insensitive search for any of the literal ``phrases`` between the boundaries."""
    alternatives = "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))
    return re.compile(f"{before}(?:{alternatives}){after}", re.IGNORECASE)
