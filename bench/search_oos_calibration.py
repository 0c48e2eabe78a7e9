"""Calibrate the "nothing matches well: hand off" threshold on the normalised confidence
(search.rules.confidence = best hit's BM25 / the query's attainable BM25), the way the
product uses it: ONE fixed value for every brand.

The threshold is fitted on CLINC150's dev split (val + oos_val, one document per intent) and
then applied unchanged to CLINC150 test and to each HINT3 bot. Beside it, for reference, the
baselines' method: a raw-score threshold fitted per knowledge base (dev split for CLINC150,
2-fold cross-fitting on the test rows for HINT3) — which a live product cannot do, since it
has no labelled out-of-scope traffic per brand.

    .venv/bin/python bench/search_oos_calibration.py [--datasets ../shared/datasets]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.pool import StaticPool

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from crowdcx.search import rules  # noqa: E402
from crowdcx.search.index import (  # noqa: E402
    IndexConfig,
    IndexDocument,
    SqliteSearchIndex,
    create_sqlite_index,
    query_tokens,
)
from search_quality import Kb, clinc150, hint3  # noqa: E402

BRAND = 1


def scored(kb: Kb, queries: list, config: IndexConfig) -> list[tuple[float, float, bool, bool]]:
    """Per query: (confidence, raw top score, is out of scope, top-1 right)."""
    engine = create_engine("sqlite://", poolclass=StaticPool)
    out = []
    with engine.begin() as conn:
        create_sqlite_index(conn)
        index = SqliteSearchIndex(conn, config)
        units = [d.unit for d in kb.docs]
        index.add_many(
            IndexDocument(BRAND, "article", str(i), "", "public", d.title, d.body)
            for i, d in enumerate(kb.docs)
        )
        for q in queries:
            tokens = query_tokens(q.text, config)
            hits = index.search(BRAND, tokens, ("public",), ("article",), 1)
            top = hits[0].text_score if hits else 0.0
            conf = rules.confidence(top, index.max_score(BRAND, tokens)) if hits else 0.0
            right = bool(hits) and units[int(hits[0].ref_id)] in q.relevant
            out.append((conf, top, not q.relevant, right))
    engine.dispose()
    return out


def f1(handoff: list[bool], oos: list[bool]) -> tuple[float, float, float]:
    tp = sum(h and o for h, o in zip(handoff, oos, strict=True))
    p = tp / sum(handoff) if sum(handoff) else 0.0
    r = tp / sum(oos) if sum(oos) else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def report(
    name: str, rows: list[tuple[float, float, bool, bool]], threshold: float, raw: list[bool]
) -> None:
    oos = [r[2] for r in rows]
    handoff = [r[0] < threshold for r in rows]
    p, rec, fone = f1(handoff, oos)
    _, _, raw_f1 = f1(raw, oos)
    inscope = [r for r, h in zip(rows, handoff, strict=True) if not r[2]]
    answered = sum(1 for r, h in zip(rows, handoff, strict=True) if not r[2] and r[3] and not h)
    overall = sum(
        1
        for r, h in zip(rows, handoff, strict=True)
        if (r[2] and h) or (not r[2] and r[3] and not h)
    )
    print(
        f"| {name} | {len(rows)} | {sum(oos)} | {p:.3f} | {rec:.3f} | **{fone:.3f}** | "
        f"{answered / max(len(inscope), 1):.3f} | {overall / len(rows):.3f} | {raw_f1:.3f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    args = parser.parse_args()
    config = IndexConfig()
    clinc = next(t for t in clinc150(args.datasets) if t.name == "clinc150/intent-doc")
    kb = clinc.kbs[0]
    dev = scored(kb, kb.dev_queries, config)
    fit = rules.fit_oos_threshold([r[0] for r in dev], [r[2] for r in dev])
    print(f"threshold fitted on CLINC150 dev (n={len(dev)}): {fit.threshold:.4f} "
          f"(dev F1 {fit.f1:.3f}); product constant DEFAULT_OOS_THRESHOLD = "
          f"{rules.DEFAULT_OOS_THRESHOLD}\n")  # fmt: skip
    threshold = rules.DEFAULT_OOS_THRESHOLD
    print(
        "| test set | n | OOS | oos P | oos R | oos F1 (one fixed threshold) | in-scope answered right | overall acc | F1, raw score fitted per KB (baseline method) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    test = scored(kb, kb.queries, config)
    raw_thr = rules.choose_oos_threshold([r[1] for r in dev], [r[2] for r in dev])
    report("clinc150 test", test, threshold, [r[1] < raw_thr for r in test])
    pooled: list[tuple[float, float, bool, bool]] = []
    pooled_raw: list[bool] = []
    hint = next(t for t in hint3(args.datasets) if t.name == "hint3/intent-doc")
    for bot in hint.kbs:
        rows = scored(bot, bot.queries, config)
        raw = [False] * len(rows)
        scores, labels = [r[1] for r in rows], [r[2] for r in rows]
        for a, b in ((0, 1), (1, 0)):
            thr = rules.choose_oos_threshold(scores[a::2], labels[a::2])
            for i in range(b, len(rows), 2):
                raw[i] = scores[i] < thr
        report(bot.name, rows, threshold, raw)
        pooled += rows
        pooled_raw += raw
    report("hint3 pooled", pooled, threshold, pooled_raw)


if __name__ == "__main__":
    main()
