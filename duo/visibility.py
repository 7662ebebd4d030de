"""Who may see whom: the building blocks of http-api-social §3 as SQL conditions.

Each function returns a boolean SQL expression to paste into a ``WHERE`` clause. Its
arguments are SQL expressions too: ``prospect`` is the alias of the ``person`` row being
shown (P), ``viewer`` an expression for the viewer's (V's) person id — usually a query
parameter such as ``"$1"`` — or ``None`` for an anonymous viewer (no session)::

    from duo.visibility import visible_to
    row = await conn.fetchrow(
        f"SELECT p.name FROM person p WHERE p.id = $2 AND {visible_to('$1', 'p')}",
        viewer_id, prospect_id)

``visible_to`` is the rule for looking at one person (``/prospect-profile``, and by README
decision ``/compare-*`` and ``/me/<tiny_id>``): V always sees V; otherwise P must be
activated, must not have skipped V, must not hide from strangers unless P messaged V, and
V's verification level must reach P's privacy level unless P messaged V. V having skipped
P does not hide P (the profile shows ``is_skipped``). An anonymous viewer is an unverified
stranger whom nobody messaged or skipped.

Lists (search, the feed, visitors) start from ``listed_for``: P is activated, shown to V
as a stranger, and has not skipped V. Each adds its own rules from the same blocks: search
excludes ``skipped(V, P)`` and ``messaged(V, P)`` unless V's preferences say ``Yes``, and
excludes ``not verification_ok(P)`` and ``is_bot(P)`` (§3 table); the feed also needs
``level_reaches`` with no exception for people who messaged V. Whether V's level reaches P's
privacy level is ``level_reaches`` everywhere, so the privacy rule has one home.
"""

from __future__ import annotations


def skipped(subject: str, object_: str) -> str:
    """``subject`` skipped (blocked) ``object_``."""
    return (
        "EXISTS (SELECT 1 FROM skipped WHERE skipped.subject_person_id = "
        f"{subject} AND skipped.object_person_id = {object_})"
    )


def messaged(subject: str, object_: str) -> str:
    """``subject`` has sent ``object_`` at least one message."""
    return (
        "EXISTS (SELECT 1 FROM messaged WHERE messaged.subject_person_id = "
        f"{subject} AND messaged.object_person_id = {object_})"
    )


def shown_to_strangers(prospect: str, viewer: str | None) -> str:
    """P does not hide from strangers, or P messaged V (then V is no stranger)."""
    if viewer is None:
        return f"NOT {prospect}.hide_me_from_strangers"
    return f"(NOT {prospect}.hide_me_from_strangers OR {messaged(f'{prospect}.id', viewer)})"


def level_reaches(viewer_level: str, prospect: str) -> str:
    """A viewer of verification level ``viewer_level`` meets P's privacy verification level."""
    return f"{viewer_level} >= {prospect}.privacy_verification_level_id"


def privacy_level_met(prospect: str, viewer: str | None) -> str:
    """V's verification level reaches P's privacy verification level, or P messaged V."""
    if viewer is None:
        return level_reaches("1", prospect)
    level = f"(SELECT viewer.verification_level_id FROM person viewer WHERE viewer.id = {viewer})"
    return f"({level_reaches(level, prospect)} OR {messaged(f'{prospect}.id', viewer)})"


def verification_ok(prospect: str) -> str:
    """P is verified, or P does not require verification to be listed."""
    return f"({prospect}.verification_level_id > 1 OR NOT {prospect}.verification_required)"


def is_bot(prospect: str) -> str:
    return f"('bot' = ANY({prospect}.roles))"


def listed_for(viewer: str, prospect: str) -> str:
    """What every list requires before its own rules: P is activated, does not hide from V
    as a stranger, and has not skipped V."""
    return (
        f"({prospect}.activated AND {shown_to_strangers(prospect, viewer)}"
        f" AND NOT {skipped(f'{prospect}.id', viewer)})"
    )


def visible_to(viewer: str | None, prospect: str = "prospect") -> str:
    """V may look at P (see the module documentation)."""
    rules = [
        f"{prospect}.activated",
        shown_to_strangers(prospect, viewer),
        privacy_level_met(prospect, viewer),
    ]
    if viewer is None:
        return "(" + " AND ".join(rules) + ")"
    rules.append(f"NOT {skipped(f'{prospect}.id', viewer)}")
    return f"({prospect}.id = {viewer} OR (" + " AND ".join(rules) + "))"
