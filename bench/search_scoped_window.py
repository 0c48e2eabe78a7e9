"""SQLite search as a customer: the scoped window against FTS5's bm25() window, in one run.

A customer may not see every document (at 100,000 documents: 80 % public, 15 % experts,
5 % staff), so FTS5's bm25(), whose idf and average length cover the whole index, would let
what they cannot see choose which of their matches get re-ranked (issue 4). The scoped window
(``IndexConfig.scoped_window``, the default) chooses them by the viewer's own statistics.
(``--viewer staff`` searches every visibility: FTS5's window was exact there, and the
scoped window is used for every viewer.) This times both on the same index and queries (bench/search_latency.py's documents and
queries), each query searched both ways one after the other, the order alternated (the
machine's load drifts; the ratio taken in one run holds). It also counts how often each
window's top 10 differs from re-scoring every match (``scoped_rescore``), the exact top 10
both approximate, on the first ``--exact`` queries.

Usage:
    PYTHONPATH=src .venv/bin/python bench/search_scoped_window.py --db /tmp/search-100k.db
        [--datasets ../shared/datasets] [--docs 100000] [--queries 1000] [--exact 200]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from crowdcx.kernel.db import make_engine  # noqa: E402
from crowdcx.search.index import (  # noqa: E402
    IndexConfig,
    SqliteSearchIndex,
    create_sqlite_index,
    query_tokens,
)
from search_latency import percentile, pools, synthesise  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--exact", type=int, default=200, help="queries checked against all")
    parser.add_argument("--db", type=Path, required=True, help="keep/reuse the index here")
    parser.add_argument(
        "--viewer",
        choices=["customer", "staff"],
        default="customer",
        help="customer: public only (80 %% of the index); staff: every visibility",
    )
    args = parser.parse_args(argv)
    rng = random.Random(20261124)  # bench/search_latency.py's seed: the same queries
    doc_pools, query_pools = pools(args.datasets)
    languages = list(doc_pools)
    engine = make_engine(f"sqlite:///{args.db}")
    if args.db.exists():
        for _ in synthesise(args.docs, rng, doc_pools):  # the same random draws as a build
            pass
    else:
        with engine.begin() as conn:
            create_sqlite_index(conn)
            index = SqliteSearchIndex(conn, IndexConfig())
            index.add_many(synthesise(args.docs, rng, doc_pools))
            index.optimize()
    queries = [rng.choice(query_pools[languages[i % 4]]) for i in range(args.queries)]
    scoped = IndexConfig()
    fts5 = replace(scoped, scoped_window=False)
    exact = replace(scoped, scoped_window=False, scoped_rescore=1_000_000)
    configs = {"scoped window": scoped, "FTS5 window": fts5}
    seen = ("public",) if args.viewer == "customer" else ("public", "experts", "staff")

    def run(conn: Any, cfg: IndexConfig, q: str) -> tuple[float, list[tuple[str, float]]]:
        t0 = time.perf_counter()
        hits = SqliteSearchIndex(conn, cfg).search(1, query_tokens(q, cfg), seen, ("article",), 10)
        ms = (time.perf_counter() - t0) * 1000
        return ms, [(h.ref_id, round(h.text_score, 9)) for h in hits]

    timings: dict[str, list[float]] = {name: [] for name in configs}
    differs = dict.fromkeys(configs, 0)
    checked = 0
    with engine.connect() as conn:
        for cfg in configs.values():
            run(conn, cfg, queries[0])  # warm the caches alike
        for i, q in enumerate(queries):
            names = list(configs) if i % 2 == 0 else list(reversed(configs))
            tops = {}
            for name in names:
                ms, tops[name] = run(conn, configs[name], q)
                timings[name].append(ms)
            if i < args.exact:
                checked += 1
                _ms, best = run(conn, exact, q)
                for name in configs:
                    differs[name] += tops[name] != best
    engine.dispose()
    result: dict[str, Any] = {
        "documents": args.docs,
        "queries": len(queries),
        "viewer": args.viewer,
    }
    for name, values in timings.items():
        result[name] = {
            "p50_ms": round(percentile(values, 0.50), 2),
            "p95_ms": round(percentile(values, 0.95), 2),
            "mean_ms": round(statistics.fmean(values), 2),
            f"top10_differs_from_rescoring_all_of_{checked}": differs[name],
        }
    ref = result["FTS5 window"]
    result["p95_ratio_scoped_to_fts5"] = round(result["scoped window"]["p95_ms"] / ref["p95_ms"], 3)
    result["p50_ratio_scoped_to_fts5"] = round(result["scoped window"]["p50_ms"] / ref["p50_ms"], 3)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
