"""Loading the generated trait scores, and rebuilding answers' evidence when they change."""

import numpy as np
import trio

from duo.matching.personality import AnswerScores, Evidence
from duo.services import Services
from duo.sql.seed import seed_reference_data
from tests.factories import onboarded_user


async def test_changed_scores_rebuild_every_answerers_personality(svc: Services) -> None:
    with trio.fail_after(60):
        alice = await onboarded_user(svc, "Alice")
        answers = {5: True, 17: False, 300: True, 1999: None}
        for question_id, value in answers.items():
            await svc.db.execute(
                "INSERT INTO answer (person_id, question_id, answer, public_) VALUES ($1, $2, $3, TRUE)",
                alice.person_id, question_id, value,
            )
        # the scores in the table are stale (as before a new score file): seeding reloads them
        await svc.db.execute("UPDATE duo_seed_state SET fingerprint = 'stale' WHERE name = 'question_scores'")
        await svc.db.execute("UPDATE question SET presence_given_yes = array_full(46, 0) WHERE id = 5")
        await seed_reference_data(svc.db)

        questions = {r["id"]: r for r in await svc.db.fetch("SELECT * FROM question WHERE id = ANY($1)", list(answers))}
        assert questions[5]["presence_given_yes"] != [0] * 46
        expected = Evidence()
        for question_id, value in answers.items():
            expected = expected.replace(None, AnswerScores.of(questions[question_id], value))
        row = await svc.db.fetchrow(
            "SELECT presence_score, absence_score, count_answers, personality FROM person WHERE id = $1",
            alice.person_id,
        )
        assert row is not None
        assert (tuple(row["presence_score"]), tuple(row["absence_score"])) == (expected.presence, expected.absence)
        assert row["count_answers"] == expected.count_answers == 3
        np.testing.assert_allclose(row["personality"].to_numpy(), expected.personality(), atol=1e-6)
