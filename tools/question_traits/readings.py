"""Turn a yes/no question into a first-person "yes" reading and a negated "no" reading.

Rule based and deliberately simple: the embedding model only needs the gist ("I enjoy parties"
versus "I don't enjoy parties"). Questions whose grammatical subject is not "you", "it" or "we"
fall back to the question followed by "Yes." / "No, not at all."; the per-trait centring in
``generate`` removes the constant offset such suffixes add.
"""

from __future__ import annotations

import re

# auxiliary -> (affirmative, negative) for subject "you" (becomes "I")
_YOU_AUX: dict[str, tuple[str, str]] = {
    "do": ("", "don't"),
    "did": ("did", "didn't"),
    "would": ("would", "wouldn't"),
    "could": ("could", "couldn't"),
    "can": ("can", "can't"),
    "should": ("should", "shouldn't"),
    "will": ("will", "won't"),
    "are": ("am", "am not"),
    "were": ("was", "wasn't"),
    "have": ("have", "haven't"),
    "had": ("had", "hadn't"),
}
# auxiliary -> (affirmative, negative) for subjects "it", "we", "they", "people"
_OTHER_AUX: dict[str, tuple[str, str]] = {
    "is": ("is", "is not"),
    "are": ("are", "are not"),
    "was": ("was", "was not"),
    "were": ("were", "were not"),
    "do": ("do", "do not"),
    "does": ("does", "does not"),
    "did": ("did", "did not"),
    "would": ("would", "would not"),
    "could": ("could", "could not"),
    "can": ("can", "cannot"),
    "should": ("should", "should not"),
    "will": ("will", "will not"),
    "has": ("has", "has not"),
    "have": ("have", "have not"),
}
_SUBJECTS = {"it", "we", "they", "people", "that", "this"}
_AUX_RE = "|".join(sorted(set(_YOU_AUX) | set(_OTHER_AUX), key=len, reverse=True))
# the question clause: at the start, or after a comma / colon / dash (e.g. "If ..., would you")
_CLAUSE = re.compile(
    rf"(?:^|(?<=[,:;—-])\s*)(?P<aux>{_AUX_RE})\s+(?P<subj>you|{'|'.join(sorted(_SUBJECTS))})\b\s*",
    re.IGNORECASE,
)
_I_VERBS = frozenset(
    """have had do did would could can will should might must may think feel know want like
    need get got go see are were find make say tell love hate prefer enjoy care believe wish
    consider meet met learn don't didn't won't can't wouldn't couldn't really ever always never
    just still also usually often sometimes try tried start started stop use spend wear agree
    live work dated date first""".split()
)
_SWAPS = (
    (re.compile(r"\byou're\b", re.I), "I'm"),
    (re.compile(r"\byou've\b", re.I), "I've"),
    (re.compile(r"\byou'd\b", re.I), "I'd"),
    (re.compile(r"\byou'll\b", re.I), "I'll"),
    (re.compile(r"\byou are\b", re.I), "I am"),
    (re.compile(r"\byou were\b", re.I), "I was"),
    (re.compile(r"\byourself\b", re.I), "myself"),
    (re.compile(r"\byours\b", re.I), "mine"),
    (re.compile(r"\byour\b", re.I), "my"),
)
_YOU = re.compile(r"\byou\b(\s+(\S+))?", re.I)
_BE = frozenset({"is", "are", "was", "were"})
_MODAL = frozenset({"should", "does", "do", "can", "would", "did", "has", "have", "will", "could"})
# words that start a predicate after "Is/Are <subject>" ("Is <brutal honesty> a good thing")
_PRED_START = frozenset(
    """a an the too more less better worse ever always just really still something part worth
    important okay ok acceptable necessary fine good bad wrong right overrated underrated
    attractive enough such better best worth only actually always generally necessarily
    sometimes often usually morally inherently ever truly""".split()
)
# base verbs that end the subject after "Should/Does/Can <subject>"
_BASE_VERBS = frozenset(
    """be have sound matter make prioritize know teach feel get increase describe adopt need play
    regulate back come count identify offer check ban require allow pay give take tell mean seem
    look affect help change provide fund stop limit use let include go stay do become lead cause
    outweigh deserve exist work contribute define reflect kill ruin improve hurt""".split()
)


def swap_pronouns(text: str) -> str:
    """Rewrite second-person words as first person ("your" -> "my", "you" -> "I"/"me")."""
    for pattern, repl in _SWAPS:
        text = pattern.sub(repl, text)

    def you(m: re.Match[str]) -> str:
        nxt = (m.group(2) or "").lower().strip(".,;:!?\"'()")
        pronoun = "I" if nxt in _I_VERBS else "me"
        return pronoun + (m.group(1) or "")

    return _YOU.sub(you, text)


def _last_sentence(question: str) -> tuple[str, str]:
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z(\"'])", question.strip())
    # the last part that contains a question mark is the question; anything after is an aside
    idx = max((i for i, p in enumerate(parts) if "?" in p), default=len(parts) - 1)
    return " ".join(parts[:idx]), parts[idx]


def _split_inverted(clause: str) -> tuple[str, str]:
    """Undo the inversion of "Is <subject> <predicate>" / "Should <subject> <verb> ..."."""
    words = clause.split()
    aux = words[0].lower() if words else ""
    table: frozenset[str] | None = None
    if aux in _BE:
        table = _PRED_START
    elif aux in _MODAL:
        table = _BASE_VERBS
    if table is not None:
        for i in range(2, min(len(words), 9)):
            w = words[i].lower()
            if w in table or (aux in _BE and w.endswith("ly")):
                subject = swap_pronouns(" ".join(words[1:i]))
                pred = swap_pronouns(" ".join(words[i:]))
                if aux in _MODAL:
                    pos = aux if aux not in {"do", "does"} else ""
                    neg = f"{aux} not"
                else:
                    pos, neg = aux, f"{aux} not"
                yes = " ".join(x for x in (subject, pos, pred) if x) + "."
                no = f"{subject} {neg} {pred}."
                return yes[0].upper() + yes[1:], no[0].upper() + no[1:]
    body = swap_pronouns(clause)
    return f"{body}. Yes.", f"{body}. No, not at all."


def readings(question: str) -> tuple[str, str]:
    """Return (yes_reading, no_reading) for ``question``."""
    context, clause = _last_sentence(question)
    clause = clause.strip().rstrip("?").strip()
    m = _CLAUSE.search(clause)
    if m is None:
        yes, no = _split_inverted(clause)
    else:
        aux, subj = m.group("aux").lower(), m.group("subj").lower()
        before, rest = clause[: m.start()], clause[m.end() :]
        if subj == "you" and aux in _YOU_AUX:
            pos, neg = _YOU_AUX[aux]
            ever = re.match(r"ever\s+", rest, re.I)
            if ever:
                rest = rest[ever.end() :]
                pos, neg = (pos or "sometimes"), ("have never" if aux == "have" else "never")
            subject = "I"
        elif subj != "you" and aux in _OTHER_AUX:
            pos, neg = _OTHER_AUX[aux]
            subject = subj
        else:
            pos, neg, subject = aux, f"{aux} not", subj
        rest = swap_pronouns(rest)
        before = swap_pronouns(before).strip()
        lead = f"{before} " if before else ""
        yes = " ".join(w for w in (lead + subject, pos, rest) if w).strip() + "."
        no = " ".join(w for w in (lead + subject, neg, rest) if w).strip() + "."
        yes, no = yes[0].upper() + yes[1:], no[0].upper() + no[1:]
    if context:
        ctx = swap_pronouns(context).strip()
        yes, no = f"{ctx} {yes}", f"{ctx} {no}"
    return yes, no
