"""Reading the searcher's cache: result pages (§4.4) and the quiz card (§4.5, matching §10).

Snapshot columns come from the cache; what is live is read from current data: the photo's
blurhash, who messaged whom, the privacy masking, and (README decision) whether the
prospect is still visible — people who were deactivated, deleted, became hidden from
strangers or unverified-but-required since the cache was built are dropped.
"""

from __future__ import annotations

from typing import Any

from duo import person_view as pv
from duo import visibility
from duo.search.ranking import PROMOTE_VERIFIED_AT
from duo.sql.database import Queryable

_STILL_VISIBLE = f"{visibility.listed_for('$1', 'p')} AND {visibility.verification_ok('p')}"

# V's level below P's privacy level: the card is blurred and says what V would need.
_REQUIRED = pv.required_to_view("p", "me.verification_level_id")

_LIVE_COLUMNS = f"""
    {_REQUIRED} AS verification_required_to_view,
    c.prospect_person_id, c.prospect_uuid, c.profile_photo_uuid,
    (SELECT ph.blurhash FROM photo ph WHERE ph.uuid = c.profile_photo_uuid LIMIT 1) AS profile_photo_blurhash,
    c.name, c.age"""

# Every search forgets the pending club of the searcher's sessions (§4.2); folded into the
# read, a cached page or quiz card is one statement (one round trip, no transaction).
_CLEAR_PENDING = """cleared AS (
    UPDATE duo_session SET pending_club_name = NULL
    WHERE person_id = $1 AND pending_club_name IS NOT NULL
)"""

_PAGE = f"""
WITH {_CLEAR_PENDING}
SELECT {_LIVE_COLUMNS}, c.match_percentage, c.verified,
       {visibility.messaged("$1", "p.id")} AS person_messaged_prospect,
       {visibility.messaged("p.id", "$1")} AS prospect_messaged_person
FROM search_cache c
JOIN person p ON p.id = c.prospect_person_id
CROSS JOIN (SELECT verification_level_id FROM person WHERE id = $1) me
WHERE c.searcher_person_id = $1 AND c.position > $2::BIGINT AND c.position <= $2::BIGINT + $3::BIGINT
  AND {_STILL_VISIBLE}
ORDER BY c.position
"""

# Ranked first, checked for visibility after: only the top rows pay for the checks.
_QUIZ = f"""
WITH {_CLEAR_PENDING}, me AS (
    SELECT personality, count_answers, verification_level_id FROM person WHERE id = $1
), promote AS (
    SELECT count(*) FILTER (WHERE c.profile_photo_uuid IS NOT NULL AND c.verified) >= {PROMOTE_VERIFIED_AT}
           AND (SELECT count_answers FROM me) > 0 AS yes
    FROM search_cache c WHERE c.searcher_person_id = $1
)
SELECT {_LIVE_COLUMNS}, c.current_match AS match_percentage
FROM (SELECT c.*, match_percentage(c.personality, me.personality) AS current_match,
             CASE WHEN promote.yes THEN c.profile_photo_uuid IS NOT NULL AND c.verified
                  ELSE c.profile_photo_uuid IS NOT NULL END AS first
      FROM search_cache c CROSS JOIN me CROSS JOIN promote
      WHERE c.searcher_person_id = $1
      ORDER BY first DESC, current_match DESC, c.position
      OFFSET 0) c
JOIN person p ON p.id = c.prospect_person_id
CROSS JOIN me
WHERE {_STILL_VISIBLE}
ORDER BY c.first DESC, c.current_match DESC, c.position
LIMIT 1
"""


def _row(record: Any) -> dict[str, Any]:
    row = dict(record)
    if row["verification_required_to_view"] is not None:
        row["prospect_person_id"] = row["prospect_uuid"] = row["profile_photo_uuid"] = None
    return row


async def read_page(conn: Queryable, person_id: int, offset: int, n: int) -> list[dict[str, Any]]:
    """Cached positions offset+1 … offset+n, best first."""
    return [_row(r) for r in await conn.fetch(_PAGE, person_id, offset, n)]


async def read_quiz(conn: Queryable, person_id: int) -> list[dict[str, Any]]:
    """The best cached row by the searcher's current personality, or nothing."""
    return [_row(r) for r in await conn.fetch(_QUIZ, person_id)]
