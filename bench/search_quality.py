"""Search quality benchmark: our engine, end to end, on the baselines' task constructions.

Every task is built exactly as /work/shared/search-baselines.md ("Task constructions",
"Metrics") describes, and every query goes through the product path: raw string →
``crowdcx.search.analysis`` → ``SqliteSearchIndex.search`` (SQLite FTS5, in-memory database,
one brand per knowledge base) → best document per unit. Out-of-scope thresholds are chosen on
the dev split (CLINC150) or by 2-fold cross-fitting on even/odd test rows per bot (HINT3).

Usage:
    .venv/bin/python bench/search_quality.py [--datasets ../shared/datasets] [--json out.json]
        [--tasks banking77,clinc150,...] [--gram-weight 0.5] [--title-weight 2] [--jieba]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import html
import json
import re
import statistics
import sys
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.pool import StaticPool

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from crowdcx.search.index import (  # noqa: E402
    IndexConfig,
    IndexDocument,
    SqliteSearchIndex,
    create_sqlite_index,
    query_tokens,
)
from crowdcx.search.rules import choose_oos_threshold  # noqa: E402

BRAND = 1

# Best baseline per task (R@1, R@5, MRR@10, oos_F1 or None, method) from search-baselines.md.
BASELINES: dict[str, tuple[float, float, float, float | None, str]] = {
    "banking77/intent-doc": (0.838, 0.969, 0.895, None, "M0=M1"),
    "banking77/phrase-docs": (0.839, 0.972, 0.896, None, "M4"),
    "clinc150/intent-doc": (0.859, 0.972, 0.909, 0.486, "M0=M1"),
    "clinc150/phrase-docs": (0.836, 0.963, 0.892, 0.431, "M4 (F1: M2)"),
    "hint3/intent-doc": (0.696, 0.927, 0.796, 0.780, "M4 (F1: M2)"),
    "hint3/phrase-docs": (0.680, 0.913, 0.778, 0.776, "M4"),
    "xquad_r-en": (0.742, 0.906, 0.814, None, "M4"),
    "xquad_r-ru": (0.708, 0.889, 0.787, None, "M4"),
    "xquad_r-zh": (0.708, 0.905, 0.795, None, "M1"),
    "xquad_r-zh2en": (0.066, 0.117, 0.087, None, "M1=M2=M3 (floor)"),
    "xquad_r-zhHant2zhHans": (0.687, 0.865, 0.766, None, "M3"),
    "drcd": (0.913, 0.987, 0.945, None, "M1"),
    "rubq-q2answer": (0.013, 0.034, 0.022, None, "M2=M3 (floor)"),
    "rubq-related": (0.442, 0.696, 0.554, None, "M2=M3"),
    "rubq-ru2en": (0.103, 0.134, 0.115, None, "M4 (floor)"),
    "se-duplicate-qtitle": (0.400, 0.600, 0.492, None, "M2=M3"),
    "se-duplicate-qtitle+body": (0.300, 0.500, 0.383, None, "M2=M3"),
    "se-linked-qtitle": (0.385, 0.561, 0.457, None, "M2=M3"),
    "se-linked-qtitle+body": (0.361, 0.541, 0.441, None, "M0"),
}


@dataclass
class Doc:
    unit: str
    body: str
    title: str = ""


@dataclass
class Query:
    text: str
    relevant: frozenset[str]  # empty = out of scope
    exclude: str | None = None  # the query's own unit, never counted


@dataclass
class Kb:
    """One knowledge base (one brand index) and the queries asked of it."""

    name: str
    docs: list[Doc]
    queries: list[Query]
    dev_queries: list[Query] = field(default_factory=list)
    cross_fit: bool = False


@dataclass
class Task:
    name: str
    description: str
    kbs: list[Kb]
    per_unit: bool = False  # several docs per unit: fetch 100 docs, unit = best doc
    oos: bool = False


# --- dataset loaders ------------------------------------------------------------------------


def _csv_rows(path: Path) -> list[tuple[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        return [(row[0], row[1]) for row in reader if len(row) >= 2]


def _intent_kbs(
    name: str,
    train: list[tuple[str, str]],
    test: list[tuple[str, str]],
    dev: list[tuple[str, str]],
    oos_label: str | None,
    phrase: bool,
    cross_fit: bool = False,
) -> Kb:
    if phrase:
        docs = [Doc(label, text) for text, label in train]
    else:
        grouped: dict[str, list[str]] = defaultdict(list)
        for text, label in train:
            grouped[label].append(text)
        docs = [Doc(label, "\n".join(texts)) for label, texts in grouped.items()]

    def queries(rows: list[tuple[str, str]]) -> list[Query]:
        return [Query(t, frozenset() if lab == oos_label else frozenset([lab])) for t, lab in rows]

    return Kb(name, docs, queries(test), queries(dev), cross_fit)


def banking77(root: Path) -> list[Task]:
    train = _csv_rows(root / "banking77/train.csv")
    test = _csv_rows(root / "banking77/test.csv")
    return [
        Task(
            f"banking77/{kind}",
            "KB from train.csv, queries test.csv",
            [_intent_kbs("banking77", train, test, [], None, kind == "phrase-docs")],
            per_unit=kind == "phrase-docs",
        )
        for kind in ("intent-doc", "phrase-docs")
    ]


def clinc150(root: Path) -> list[Task]:
    data = json.loads((root / "clinc150/data_full.json").read_text(encoding="utf-8"))

    def rows(key: str) -> list[tuple[str, str]]:
        return [(t, lab) for t, lab in data[key]]

    train, test = rows("train"), rows("test") + rows("oos_test")
    dev = rows("val") + rows("oos_val")
    return [
        Task(
            f"clinc150/{kind}",
            "KB train; test = test + oos_test; threshold on val + oos_val",
            [_intent_kbs("clinc150", train, test, dev, "oos", kind == "phrase-docs")],
            per_unit=kind == "phrase-docs",
            oos=True,
        )
        for kind in ("intent-doc", "phrase-docs")
    ]


def hint3(root: Path) -> list[Task]:
    tasks = []
    for kind in ("intent-doc", "phrase-docs"):
        kbs = []
        for bot in ("sofmattress", "curekart", "powerplay11"):
            train = _csv_rows(root / f"hint3/v2/train/{bot}_train.csv")
            test = _csv_rows(root / f"hint3/v2/test/{bot}_test.csv")
            kbs.append(
                _intent_kbs(
                    f"hint3-{bot}",
                    train,
                    test,
                    [],
                    "NO_NODES_DETECTED",
                    kind == "phrase-docs",
                    cross_fit=True,
                )
            )
        tasks.append(
            Task(
                f"hint3/{kind}",
                "per-bot KB and cross-fitted threshold; queries pooled",
                kbs,
                per_unit=kind == "phrase-docs",
                oos=True,
            )
        )
    return tasks


def _xquad(root: Path, lang: str) -> tuple[list[Doc], dict[str, tuple[str, str]]]:
    """Sentences as docs; question id → (question, relevant sentence unit)."""
    data = json.loads((root / f"xquad_r/{lang}.json").read_text(encoding="utf-8"))
    docs: list[Doc] = []
    questions: dict[str, tuple[str, str]] = {}
    for a, article in enumerate(data["data"]):
        for p, para in enumerate(article["paragraphs"]):
            for s, sentence in enumerate(para["sentences"]):
                docs.append(Doc(f"{a}.{p}.{s}", sentence))
            for qa in para["qas"]:
                start = qa["answers"][0]["answer_start"]
                for s, (b, e) in enumerate(para["sentence_breaks"]):
                    if b <= start <= e:
                        questions[qa["id"]] = (qa["question"], f"{a}.{p}.{s}")
                        break
    return docs, questions


def xquad_r(root: Path) -> list[Task]:
    import opencc

    tasks = []
    loaded = {lang: _xquad(root, lang) for lang in ("en", "ru", "zh")}
    for lang in ("en", "ru", "zh"):
        docs, qs = loaded[lang]
        queries = [Query(q, frozenset([u])) for q, u in qs.values()]
        tasks.append(
            Task(f"xquad_r-{lang}", f"{lang} question → {lang} sentence", [Kb(lang, docs, queries)])
        )
    en_docs, en_qs = loaded["en"]
    zh_qs = loaded["zh"][1]
    cross = [Query(q, frozenset([en_qs[i][1]])) for i, (q, _) in zh_qs.items() if i in en_qs]
    tasks.append(Task("xquad_r-zh2en", "zh question → en sentence", [Kb("zh2en", en_docs, cross)]))
    s2twp = opencc.OpenCC("s2twp")
    hant = [Query(s2twp.convert(q), frozenset([u])) for q, u in zh_qs.values()]
    tasks.append(
        Task(
            "xquad_r-zhHant2zhHans",
            "zh question (OpenCC s2twp) → zh-Hans sentence",
            [Kb("zhHant", loaded["zh"][0], hant)],
        )
    )
    return tasks


def drcd(root: Path) -> list[Task]:
    docs: list[Doc] = []
    queries: list[Query] = []
    for split in ("dev", "test"):
        data = json.loads((root / f"drcd/DRCD_{split}.json").read_text(encoding="utf-8"))
        for article in data["data"]:
            for para in article["paragraphs"]:
                unit = f"{split}:{para['id']}"
                docs.append(Doc(unit, para["context"]))
                queries.extend(Query(qa["question"], frozenset([unit])) for qa in para["qas"])
    return [Task("drcd", "zh-Hant question → paragraph (dev+test)", [Kb("drcd", docs, queries)])]


def rubq(root: Path) -> list[Task]:
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for name in (
        "RuBQ_1.0/RuBQ_1.0_dev.json",
        "RuBQ_1.0/RuBQ_1.0_test.json",
        "RuBQ_2.0/RuBQ_2.0_dev.json",
    ):
        path = root / "rubq" / name
        if not path.exists():
            path = root / "rubq" / Path(name).name
        for row in json.loads(path.read_text(encoding="utf-8")):
            if row["question_text"] not in seen:
                seen.add(row["question_text"])
                rows.append(row)
    answers = sorted({str(r["answer_text"]) for r in rows})
    q2a = Kb(
        "q2answer",
        [Doc(a, a) for a in answers],
        [Query(r["question_text"], frozenset([str(r["answer_text"])])) for r in rows],
    )
    by_uri: dict[str, set[str]] = defaultdict(set)
    for i, r in enumerate(rows):
        for uri in r.get("question_uris") or []:
            by_uri[uri].add(str(i))
    related_queries = []
    for i, r in enumerate(rows):
        rel = set().union(*(by_uri[u] for u in r.get("question_uris") or [])) - {str(i)}
        if rel:
            related_queries.append(Query(r["question_text"], frozenset(rel), exclude=str(i)))
    related = Kb(
        "related", [Doc(str(i), r["question_text"]) for i, r in enumerate(rows)], related_queries
    )
    ru2en = Kb(
        "ru2en",
        [Doc(str(i), r.get("question_eng") or "") for i, r in enumerate(rows)],
        [Query(r["question_text"], frozenset([str(i)])) for i, r in enumerate(rows)],
    )
    return [
        Task("rubq-q2answer", "ru question → answer string", [q2a]),
        Task("rubq-related", "ru question → questions sharing an entity", [related]),
        Task("rubq-ru2en", "ru question → its en translation", [ru2en]),
    ]


_TAG_RE = re.compile(r"<[^>]+>")


def _strip_html(value: str) -> str:
    return html.unescape(_TAG_RE.sub(" ", value))


def stackexchange(root: Path) -> list[Task]:
    base = root / "stackexchange_quantumcomputing"
    with gzip.open(base / "Posts.xml.gz") as fh:
        posts = ET.parse(fh).getroot()  # noqa: S314 - a local, trusted data dump
    questions: dict[str, tuple[str, str]] = {}
    for row in posts:
        if row.get("PostTypeId") == "1":
            questions[row.get("Id", "")] = (
                row.get("Title", ""),
                _strip_html(row.get("Body", "")),
            )
    links = ET.parse(base / "PostLinks.xml").getroot()  # noqa: S314
    dup: dict[str, set[str]] = defaultdict(set)
    linked: dict[str, set[str]] = defaultdict(set)
    for row in links:
        a, b, kind = row.get("PostId", ""), row.get("RelatedPostId", ""), row.get("LinkTypeId")
        if a not in questions or b not in questions or a == b:
            continue
        if kind == "3":
            dup[a].add(b)
        if kind in ("1", "3"):
            linked[a].add(b)
            linked[b].add(a)
    docs = [Doc(qid, body, title) for qid, (title, body) in questions.items()]
    tasks = []
    for name, groups in (("duplicate", dup), ("linked", linked)):
        for qform in ("qtitle", "qtitle+body"):
            queries = []
            for qid, rel in sorted(groups.items(), key=lambda kv: int(kv[0])):
                title, body = questions[qid]
                text = title if qform == "qtitle" else f"{title}\n{body}"
                queries.append(Query(text, frozenset(rel), exclude=qid))
            tasks.append(
                Task(
                    f"se-{name}-{qform}", f"{qform} → {name} question(s)", [Kb(name, docs, queries)]
                )
            )
    return tasks


LOADERS: dict[str, Callable[[Path], list[Task]]] = {
    "banking77": banking77,
    "clinc150": clinc150,
    "hint3": hint3,
    "xquad_r": xquad_r,
    "drcd": drcd,
    "rubq": rubq,
    "stackexchange": stackexchange,
}


# --- running --------------------------------------------------------------------------------


@dataclass
class Ranked:
    rank: int | None  # rank of the best relevant unit (ties broken against it), None = miss
    top_unit: str | None
    top_score: float


def _rank(unit_scores: dict[str, float], query: Query) -> Ranked:
    if query.exclude is not None:
        unit_scores.pop(query.exclude, None)
    if not unit_scores:
        return Ranked(None, None, 0.0)
    top_unit, top_score = max(unit_scores.items(), key=lambda kv: kv[1])
    rel_scores = [s for u, s in unit_scores.items() if u in query.relevant]
    if not rel_scores:
        return Ranked(None, top_unit, top_score)
    best = max(rel_scores)
    ahead = sum(1 for u, s in unit_scores.items() if u not in query.relevant and s >= best)
    return Ranked(1 + ahead, top_unit, top_score)


def run_kb(kb: Kb, task: Task, config: IndexConfig, hidden: bool = False) -> dict[str, Any]:
    engine = create_engine("sqlite://", poolclass=StaticPool)
    with engine.begin() as conn:
        create_sqlite_index(conn)
        index = SqliteSearchIndex(conn, config)
        units = [d.unit for d in kb.docs]
        started = time.perf_counter()
        index.add_many(
            IndexDocument(
                brand_id=BRAND,
                kind="article",
                ref_id=str(i),
                language="",
                visibility="public",
                title=d.title,
                body=d.body,
            )
            for i, d in enumerate(kb.docs)
        )
        build_s = time.perf_counter() - started
        if hidden:  # the same texts again, staff-only: what a customer must not be moved by
            index.add_many(
                IndexDocument(BRAND, "article", f"staff{i}", "", "staff", d.title, d.body)
                for i, d in enumerate(kb.docs)
            )
        limit = 100 if task.per_unit else 11

        def ask(q: Query) -> Ranked:
            tokens = query_tokens(q.text, config)
            hits = index.search(BRAND, tokens, ("public",), ("article",), limit)
            scores: dict[str, float] = {}
            for hit in hits:
                unit = units[int(hit.ref_id)]
                if hit.text_score > scores.get(unit, float("-inf")):
                    scores[unit] = hit.text_score
            return _rank(scores, q)

        if kb.queries:
            ask(kb.queries[0])  # warm-up
        timings: list[float] = []
        results: list[Ranked] = []
        for q in kb.queries:
            t0 = time.perf_counter()
            results.append(ask(q))
            timings.append((time.perf_counter() - t0) * 1000)
        dev = [ask(q) for q in kb.dev_queries]
    engine.dispose()
    return {"results": results, "dev": dev, "build_s": build_s, "timings": timings}


def _oos_predictions(kb: Kb, results: list[Ranked], dev: list[Ranked]) -> list[bool]:
    """Hand off (True) per test query, threshold from dev or 2-fold cross-fitting."""
    if kb.cross_fit:
        scores = [r.top_score for r in results]
        is_oos = [not q.relevant for q in kb.queries]
        handoff = [False] * len(results)
        for fit, apply in ((0, 1), (1, 0)):
            thr = choose_oos_threshold(scores[fit::2], is_oos[fit::2])
            for i in range(apply, len(results), 2):
                handoff[i] = scores[i] < thr
        return handoff
    thr = choose_oos_threshold([r.top_score for r in dev], [not q.relevant for q in kb.dev_queries])
    return [r.top_score < thr for r in results]


def run_task(task: Task, config: IndexConfig, hidden: bool = False) -> dict[str, Any]:
    ranks: list[int | None] = []
    timings: list[float] = []
    build = 0.0
    tp = fp = fn = 0
    inscope_ok = overall_ok = n_in = n_all = 0
    n_docs = 0
    for kb in task.kbs:
        out = run_kb(kb, task, config, hidden)
        build += out["build_s"]
        timings.extend(out["timings"])
        n_docs += len(kb.docs)
        handoff = _oos_predictions(kb, out["results"], out["dev"]) if task.oos else None
        for i, (q, r) in enumerate(zip(kb.queries, out["results"], strict=True)):
            n_all += 1
            if q.relevant:
                n_in += 1
                ranks.append(r.rank)
            if handoff is None:
                continue
            oos = not q.relevant
            if handoff[i] and oos:
                tp += 1
            elif handoff[i]:
                fp += 1
            elif oos:
                fn += 1
            right = (not handoff[i]) and r.top_unit in q.relevant
            inscope_ok += int(bool(q.relevant) and right)
            overall_ok += int(right or (oos and handoff[i]))
    n = len(ranks)
    row: dict[str, Any] = {
        "task": task.name,
        "description": task.description,
        "documents": n_docs,
        "queries": n,
        "R@1": sum(1 for r in ranks if r == 1) / n,
        "R@5": sum(1 for r in ranks if r is not None and r <= 5) / n,
        "MRR@10": sum(1 / r for r in ranks if r is not None and r <= 10) / n,
        "index_build_s": build,
        "mean_ms": statistics.fmean(timings),
        "p95_ms": statistics.quantiles(timings, n=20)[-1] if len(timings) > 1 else timings[0],
    }
    if task.oos:
        p = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        row.update(
            oos_queries=n_all - n_in,
            oos_P=p,
            oos_R=rec,
            oos_F1=2 * p * rec / (p + rec) if p + rec else 0.0,
            inscope_acc=inscope_ok / n_in,
            overall_acc=overall_ok / n_all,
        )
    return row


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def print_table(rows: Sequence[dict[str, Any]]) -> None:
    print(
        "| task | n | R@1 | best R@1 | R@5 | best R@5 | MRR@10 | best MRR | oos F1 | best F1 "
        "| build s | mean ms | p95 ms | best method |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        b = BASELINES.get(row["task"], (None, None, None, None, ""))
        print(
            f"| {row['task']} | {row['queries']} | {_fmt(row['R@1'])} | {_fmt(b[0])} "
            f"| {_fmt(row['R@5'])} | {_fmt(b[1])} | {_fmt(row['MRR@10'])} | {_fmt(b[2])} "
            f"| {_fmt(row.get('oos_F1'))} | {_fmt(b[3])} | {row['index_build_s']:.2f} "
            f"| {row['mean_ms']:.2f} | {row['p95_ms']:.2f} | {b[4]} |"
        )
    oos_rows = [r for r in rows if "oos_F1" in r]
    if oos_rows:
        print()
        print("| task | oos_P | oos_R | oos_F1 | inscope_acc | overall_acc |")
        print("|---|---|---|---|---|---|")
        for r in oos_rows:
            print(
                f"| {r['task']} | {r['oos_P']:.3f} | {r['oos_R']:.3f} | {r['oos_F1']:.3f} "
                f"| {r['inscope_acc']:.3f} | {r['overall_acc']:.3f} |"
            )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--tasks", default=",".join(LOADERS))
    parser.add_argument("--only", default="", help="comma-separated task names to keep")
    parser.add_argument("--title-weight", type=float, default=IndexConfig().title_weight)
    parser.add_argument("--gram-weight", type=float, default=IndexConfig().gram_weight)
    parser.add_argument("--jieba", action="store_true", default=IndexConfig().jieba_words)
    parser.add_argument(
        "--gram-generate",
        action=argparse.BooleanOptionalAction,
        default=IndexConfig().gram_generate,
        help="trigrams generate candidates for every query (default: only when no word is known)",
    )
    parser.add_argument(
        "--hidden-copy",
        action="store_true",
        help="index every document twice, the copy staff-only (searched as a customer)",
    )
    parser.add_argument("--scoped-rescore", type=int, default=IndexConfig().scoped_rescore)
    parser.add_argument(
        "--scoped-window",
        action=argparse.BooleanOptionalAction,
        default=IndexConfig().scoped_window,
        help="SQLite picks a restricted viewer's candidates by their own statistics",
    )
    args = parser.parse_args(argv)
    config = IndexConfig(
        scoped_rescore=args.scoped_rescore,
        scoped_window=args.scoped_window,
        title_weight=args.title_weight,
        gram_weight=args.gram_weight,
        jieba_words=args.jieba,
        gram_generate=args.gram_generate,
    )
    only = {t for t in args.only.split(",") if t}
    rows = []
    for name in args.tasks.split(","):
        for task in LOADERS[name](args.datasets):
            if only and task.name not in only:
                continue
            row = run_task(task, config, args.hidden_copy)
            rows.append(row)
            print(
                f"{row['task']}: R@1 {row['R@1']:.3f} R@5 {row['R@5']:.3f} "
                f"MRR {row['MRR@10']:.3f} F1 {_fmt(row.get('oos_F1'))} "
                f"build {row['index_build_s']:.2f}s p95 {row['p95_ms']:.2f}ms",
                file=sys.stderr,
                flush=True,
            )
    print(f"config: {config}")
    print_table(rows)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "config": config.__dict__
                    if hasattr(config, "__dict__")
                    else {k: getattr(config, k) for k in config.__slots__},
                    "rows": rows,
                },
                indent=2,
                ensure_ascii=False,
            ),
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
