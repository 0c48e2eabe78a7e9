"""What one write of the search index costs (issue 5: an accept indexes a newly solved question,
a vote re-adds an unchanged one, an edit re-adds a changed one), this tree against a reference
tree's ``search/index.py`` (``--against``, a git revision: the old way), in one run.

On a brand holding ``--documents`` question documents (Russian, title 6 words, body 60, from
the 53 words of the community demo content: ~200 term rows a document, nearly all of them
there already, as in an established brand's index), each write is ``index.add`` of one document in its
own transaction, committed, as a request does; analysis is done before the clock starts (the
accept does it before its first write: search.service.prepare). Three shapes:

- ``new``: a document never indexed (what an accept writes);
- ``same``: a document again with the same text and one more vote (a vote);
- ``changed``: a document again with its body edited (an edit, a different accepted answer).

The two trees' modules write to two databases built alike, in rounds that alternate which
goes first, so a loaded machine slows both alike. Prints µs per write (median of the rounds'
means), this process's CPU µs per write (all of SQLite's work, which runs in-process: the
figure a loaded machine disturbs least) and statements per write.

    .venv/bin/python bench/index_add.py [--documents 3000] [--writes 200] [--rounds 5]
        [--against 5c2bbea] [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
        (a scratch database per tree is created there and dropped)
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from sqlalchemy import Engine, create_engine, event, text  # noqa: E402

from crowdcx.search import index as this_index  # noqa: E402

WORDS = sorted(
    set(
        re.findall(
            r"[а-яё]{4,}",
            (ROOT / "src/crowdcx/community/demo_content.py").read_text(encoding="utf-8").lower(),
        )
    )
)


def reference_module(revision: str) -> ModuleType:
    """``crowdcx.search.index`` as it was at ``revision`` (the old way)."""
    source = subprocess.run(
        ["git", "show", f"{revision}:src/crowdcx/search/index.py"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    spec = importlib.util.spec_from_loader("reference_index", loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["reference_index"] = module  # dataclasses look their module up
    exec(compile(source, f"{revision}:index.py", "exec"), module.__dict__)  # noqa: S102
    return module


def document(mod: ModuleType, rnd: random.Random, ref: int) -> Any:
    return mod.IndexDocument(
        brand_id=1, kind="question", ref_id=str(ref), language="ru", visibility="public",
        title=" ".join(rnd.choices(WORDS, k=6)).capitalize(),
        body=" ".join(rnd.choices(WORDS, k=60)),
    )  # fmt: skip


@contextmanager
def database(postgres: str) -> Iterator[Engine]:
    if postgres:
        name = f"bench_index_add_{uuid.uuid4().hex[:8]}"
        admin = create_engine(postgres.replace("postgresql://", "postgresql+psycopg://"),
                              isolation_level="AUTOCOMMIT")  # fmt: skip
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = admin.url.set(database=name)
        engine = create_engine(url)
        try:
            with engine.begin() as conn:
                this_index.create_postgres_index(conn)
            yield engine
        finally:
            engine.dispose()
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
        return
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{os.path.join(tmp, 'index.db')}")

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:  # as kernel.db does
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        with engine.begin() as conn:
            this_index.create_sqlite_index(conn)
        yield engine
        engine.dispose()


def seed(engine: Engine, mod: ModuleType, n: int) -> None:
    rnd = random.Random(1)
    with engine.begin() as conn:
        index = mod.index_class_for(conn)(conn, mod.IndexConfig())
        index.add_many(document(mod, rnd, i) for i in range(n))
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))


def timed(engine: Engine, mod: ModuleType, docs: list[Any]) -> tuple[float, float, float]:
    """Mean µs per ``add`` (each committed alone), the CPU µs this process spent on it (all
    of SQLite's work: it runs in-process; on PostgreSQL only the client's share), and
    statements per add. Each document is analysed just before its clock starts, as the accept
    does before its first write (the analysis cache holds the last 64)."""
    config = mod.IndexConfig()
    statements = [0]

    def count(*_args: Any) -> None:
        statements[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    elapsed = cpu = 0.0
    for d in docs:
        mod.analyse_document(d.title, d.body, d.language, config)
        start, start_cpu = time.perf_counter(), time.process_time()
        with engine.begin() as conn:
            mod.index_class_for(conn)(conn, config).add(d)
        elapsed += time.perf_counter() - start
        cpu += time.process_time() - start_cpu
    event.remove(engine, "before_cursor_execute", count)
    return elapsed / len(docs) * 1e6, cpu / len(docs) * 1e6, statements[0] / len(docs)


def shapes(mod: ModuleType, round_: int, writes: int, documents: int) -> dict[str, list[Any]]:
    """The round's documents of each shape (the same for both trees: built from one seed)."""
    rnd = random.Random(100 + round_)
    base = documents + round_ * writes
    new = [document(mod, rnd, base + i) for i in range(writes)]
    seeded = random.Random(1)
    olds = [document(mod, seeded, i) for i in range(documents)]  # as seed() made them
    # Each round its own seeded documents (a shuffle of them all, cut per round), so that a
    # 'same' write never meets a document an earlier 'changed' one edited.
    order = random.Random(2).sample(range(documents), documents)
    picked = order[round_ * 2 * writes : (round_ + 1) * 2 * writes]
    same = [replace(olds[i], helpful_votes=round_ + 1) for i in picked[:writes]]
    changed = [
        replace(olds[i], body=olds[i].body + " " + " ".join(rnd.choices(WORDS, k=3)))
        for i in picked[writes:]
    ]
    return {"new": new, "same": same, "changed": changed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=3000)
    parser.add_argument("--writes", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--against", default="5c2bbea")
    parser.add_argument("--postgres", default="")
    args = parser.parse_args()
    if args.documents < 2 * args.writes * args.rounds:
        parser.error("--documents must be at least 2 x --writes x --rounds")
    trees = {"this tree": this_index, f"{args.against} (reference)": reference_module(args.against)}
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"{backend}, {args.documents} documents, {args.writes} writes x {args.rounds} rounds, "
          f"{platform.python_version()}, load {os.getloadavg()[0]:.1f}")  # fmt: skip
    results: dict[tuple[str, str], list[float]] = {}
    cpus: dict[tuple[str, str], list[float]] = {}
    per_write: dict[tuple[str, str], float] = {}
    with database(args.postgres) as first, database(args.postgres) as second:
        engines = dict(zip(trees, (first, second), strict=True))
        for name, mod in trees.items():
            seed(engines[name], mod, args.documents)
        for r in range(args.rounds):
            order = list(trees) if r % 2 == 0 else list(reversed(trees))
            for shape in ("new", "same", "changed"):
                for name in order:
                    mod = trees[name]
                    docs = shapes(mod, r, args.writes, args.documents)[shape]
                    us, cpu, stmts = timed(engines[name], mod, docs)
                    results.setdefault((name, shape), []).append(us)
                    cpus.setdefault((name, shape), []).append(cpu)
                    per_write[(name, shape)] = stmts
        same_contents = equal_counts(engines)
    print(f"{'shape':<8} {'tree':<24} {'µs/write':>9} {'CPU µs':>7} {'statements':>10}  "
          "rounds' means (µs/write)")  # fmt: skip
    for shape in ("new", "same", "changed"):
        for name in trees:
            means = results[(name, shape)]
            print(f"{shape:<8} {name:<24} {statistics.median(means):>9.0f} "
                  f"{statistics.median(cpus[(name, shape)]):>7.0f} "
                  f"{per_write[(name, shape)]:>10.1f}  "
                  + " ".join(f"{m:.0f}" for m in means))  # fmt: skip
        ours, ref = (statistics.median(results[(n, shape)]) for n in trees)
        ours_cpu, ref_cpu = (statistics.median(cpus[(n, shape)]) for n in trees)
        print(f"{shape:<8} {'ratio (reference/this)':<24} {ref / ours:>9.2f} "
              f"{ref_cpu / ours_cpu:>7.2f}")  # fmt: skip
    print(f"same term counts and statistics in both databases: {same_contents}")
    print(f"load after: {os.getloadavg()[0]:.1f}")


def equal_counts(engines: dict[str, Engine]) -> bool:
    """Both trees' databases hold the same term counts and statistics after the same writes."""
    seen = []
    for engine in engines.values():
        with engine.connect() as conn:
            terms = conn.execute(
                text(
                    "SELECT visibility, field, term, df FROM search_term WHERE df <> 0 "
                    "ORDER BY visibility, field, term"
                )
            ).all()
            stats = conn.execute(
                text(
                    "SELECT visibility, documents, word_tokens, gram_tokens FROM search_stats "
                    "WHERE documents <> 0 ORDER BY visibility"
                )
            ).all()
        seen.append(([tuple(t) for t in terms], [tuple(s) for s in stats]))
    return seen[0] == seen[1]


if __name__ == "__main__":
    main()
