"""Search latency at 100,000 documents in four languages on SQLite FTS5.

Documents are synthesised from the evaluation datasets' own texts (never copied into the
repository): per language a pool of sentences, each document = one sentence as title + 2-4
sentences as body, drawn with a fixed seed. English: banking77 + CLINC150 training phrases and
XQuAD-R en sentences; Russian: XQuAD-R ru sentences + RuBQ questions; Simplified Chinese:
XQuAD-R zh sentences; Traditional Chinese: DRCD paragraphs cut into sentences. One brand,
80 % public / 15 % experts / 5 % staff; queries are searched as a customer (public only).

Queries are real questions (banking77 test, XQuAD-R ru/zh questions, DRCD questions), mixed
evenly. Latency = raw query string → analysed → searched → top 10 (what the product does).
Throughput = queries per second of that same loop, one thread, in process (no HTTP; the HTTP
figure is in bench/http_baseline.py). The reference, timed beside every query in the same run:
FTS5's own ``bm25()`` order of the same analysed tokens, without the re-ranking.

``--db PATH`` keeps the built index in PATH and reuses it when it exists (for quick
iterations on the query path; the build time is then not measured). The index holds the
analysed tokens, so rebuild it after changing the analysis.

Usage:
    .venv/bin/python bench/search_latency.py [--datasets ../shared/datasets] [--docs 100000]
        [--queries 2000] [--json out.json] [--db /tmp/search-100k.db]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from crowdcx.kernel.db import make_engine  # noqa: E402
from crowdcx.search.index import (  # noqa: E402
    IndexConfig,
    IndexDocument,
    SqliteSearchIndex,
    create_sqlite_index,
    query_tokens,
)

_ZH_SENTENCE = re.compile(r"[^。！？]+[。！？]?")


def _xquad(root: Path, lang: str) -> tuple[list[str], list[str]]:
    data = json.loads((root / f"xquad_r/{lang}.json").read_text(encoding="utf-8"))
    sentences: list[str] = []
    questions: list[str] = []
    for article in data["data"]:
        for para in article["paragraphs"]:
            sentences.extend(para["sentences"])
            questions.extend(qa["question"] for qa in para["qas"])
    return sentences, questions


def pools(root: Path) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    def csv_texts(path: Path) -> list[str]:
        with path.open(newline="", encoding="utf-8") as fh:
            return [row[0] for row in list(csv.reader(fh))[1:]]

    clinc = json.loads((root / "clinc150/data_full.json").read_text(encoding="utf-8"))
    en_sent, _ = _xquad(root, "en")
    ru_sent, ru_q = _xquad(root, "ru")
    zh_sent, zh_q = _xquad(root, "zh")
    rubq = json.loads((root / "rubq/RuBQ_1.0_test.json").read_text(encoding="utf-8"))
    hant_sent: list[str] = []
    hant_q: list[str] = []
    for split in ("dev", "test"):
        data = json.loads((root / f"drcd/DRCD_{split}.json").read_text(encoding="utf-8"))
        for article in data["data"]:
            for para in article["paragraphs"]:
                hant_sent.extend(s for s in _ZH_SENTENCE.findall(para["context"]) if s.strip())
                hant_q.extend(qa["question"] for qa in para["qas"])
    docs = {
        "en": csv_texts(root / "banking77/train.csv") + [t for t, _ in clinc["train"]] + en_sent,
        "ru": ru_sent + [r["question_text"] for r in rubq],
        "zh-Hans": zh_sent,
        "zh-Hant": hant_sent,
    }
    queries = {
        "en": csv_texts(root / "banking77/test.csv"),
        "ru": ru_q,
        "zh-Hans": zh_q,
        "zh-Hant": hant_q,
    }
    return docs, queries


def synthesise(
    n_docs: int,
    rng: random.Random,
    doc_pools: dict[str, list[str]],
    brand_id: int = 1,
    ref_prefix: str = "",
) -> Iterator[IndexDocument]:
    """``n_docs`` articles, the languages in turn: a sentence as title, 2-4 as body; 80 %
    public, 15 % experts, 5 % staff (also used by bench/search_http.py)."""
    languages = list(doc_pools)
    for i in range(n_docs):
        lang = languages[i % len(languages)]
        pool = doc_pools[lang]
        sep = "" if lang.startswith("zh") else " "
        body = sep.join(rng.choice(pool) for _ in range(rng.randint(2, 4)))
        roll = rng.random()
        visibility = "public" if roll < 0.8 else "experts" if roll < 0.95 else "staff"
        yield IndexDocument(
            brand_id=brand_id,
            kind="article",
            ref_id=f"{ref_prefix}{i}",
            language=lang,
            visibility=visibility,
            title=rng.choice(pool),
            body=body,
        )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--candidates", type=int, default=IndexConfig().rerank_candidates)
    parser.add_argument("--max-df", type=float, default=IndexConfig().candidate_max_df)
    parser.add_argument("--budget", type=int, default=IndexConfig().candidate_budget)
    parser.add_argument("--order-max-df", type=float, default=IndexConfig().order_max_df)
    parser.add_argument(
        "--reference",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="time FTS5's own bm25 order of the same tokens beside every query",
    )
    parser.add_argument("--gram-weight", type=float, default=IndexConfig().gram_weight)
    parser.add_argument(
        "--gram-generate",
        action=argparse.BooleanOptionalAction,
        default=IndexConfig().gram_generate,
    )
    parser.add_argument(
        "--scoped-rescore",
        type=int,
        default=IndexConfig().scoped_rescore,
        help="matches SQLite re-scores when the viewer cannot see the whole index (0 = off)",
    )
    parser.add_argument("--db", type=Path, default=None, help="keep/reuse the index here")
    args = parser.parse_args(argv)
    rng = random.Random(20261124)
    doc_pools, query_pools = pools(args.datasets)
    languages = list(doc_pools)
    config = IndexConfig(
        rerank_candidates=args.candidates,
        candidate_max_df=args.max_df,
        candidate_budget=args.budget,
        order_max_df=args.order_max_df,
        gram_weight=args.gram_weight,
        gram_generate=args.gram_generate,
        scoped_rescore=args.scoped_rescore,
    )

    def documents() -> Iterator[IndexDocument]:
        return synthesise(args.docs, rng, doc_pools)

    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "search.db"
        engine = make_engine(f"sqlite:///{db}")  # the product's pragmas
        build_s: float | None = None
        if args.db is not None and args.db.exists():
            for _ in documents():  # same random draws as a build, so the same queries follow
                pass
        else:
            with engine.begin() as conn:
                create_sqlite_index(conn)
                started = time.perf_counter()
                index = SqliteSearchIndex(conn, config)
                index.add_many(documents())
                index.optimize()  # as the product's bulk loads do (import-faq, reindex)
                build_s = time.perf_counter() - started
        queries = [rng.choice(query_pools[languages[i % 4]]) for i in range(args.queries)]
        per_lang: dict[str, list[float]] = {lang: [] for lang in languages}
        timings: list[float] = []
        reference: list[float] = []
        ref_config = IndexConfig(rerank_candidates=0, gram_weight=0.0)

        def timed(conn: Any, cfg: IndexConfig, q: str) -> float:
            # One index object per query, as the product makes one per request (its caches
            # of per-brand statistics live no longer than that).
            t0 = time.perf_counter()
            SqliteSearchIndex(conn, cfg).search(
                1, query_tokens(q, cfg), ("public",), ("article",), 10
            )
            return (time.perf_counter() - t0) * 1000

        with engine.connect() as conn:
            timed(conn, config, queries[0])
            timed(conn, ref_config, queries[0])
            loop_s = 0.0
            for i, q in enumerate(queries):
                # The reference (FTS5's own bm25 order of the same tokens, no re-ranking) runs
                # beside each query, alternately before and after it: this shared machine's
                # load drifts, the ratio taken in one run holds.
                if args.reference and i % 2 == 0:
                    reference.append(timed(conn, ref_config, q))
                ms = timed(conn, config, q)
                loop_s += ms / 1000
                timings.append(ms)
                per_lang[languages[i % 4]].append(ms)
                if args.reference and i % 2 == 1:
                    reference.append(timed(conn, ref_config, q))
        engine.dispose()
    result = {
        "documents": args.docs,
        "queries": len(timings),
        "index_build_s": None if build_s is None else round(build_s, 2),
        "p50_ms": round(percentile(timings, 0.50), 2),
        "p95_ms": round(percentile(timings, 0.95), 2),
        "mean_ms": round(statistics.fmean(timings), 2),
        "throughput_qps": round(len(timings) / loop_s, 1),
        "per_language_p95_ms": {k: round(percentile(v, 0.95), 2) for k, v in per_lang.items()},
        "config": str(config),
    }
    if reference:
        result["reference_fts5_bm25_only"] = {
            "p50_ms": round(percentile(reference, 0.50), 2),
            "p95_ms": round(percentile(reference, 0.95), 2),
            "mean_ms": round(statistics.fmean(reference), 2),
        }
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
