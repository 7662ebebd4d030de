"""``python -m tools.question_traits``: regenerate duo/data/question-trait-scores.json."""

from .generate import main

raise SystemExit(main())
