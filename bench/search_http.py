"""Search throughput over HTTP with 100,000 documents in one brand (issue 4).

The production-mode server (2 workers, SQLite) holds the demo data plus ``--docs`` published
documents in the Volga brand's search index, synthesised exactly as bench/search_latency.py
does (the evaluation sets' own sentences in en / ru / zh-Hans / zh-Hant; 80 % public, 15 %
experts, 5 % staff). Real questions from those sets, mixed evenly across the four languages,
are sent by Debian's ``wrk`` as anonymous customers to the product's API,
``GET /api/v1/brands/volga/search?q=…&lang=…`` (analysis, index, ranking, snippets,
out-of-scope decision, and the deflection event each search writes). Each phase runs alone.

References in the same run: ``GET /healthz`` (the HTTP stack alone) and the same search API on
a demo-sized brand (Lumen, a few dozen documents: the request without a large index). The
peers search by substring; askbot answered 15 searches/s, p95 361 ms, with 4 clients
(``../shared/peers.md``). Reported: requests/s, p50/p95/p99, non-2xx answers and server CPU
per request (master + workers, /proc).

    .venv/bin/python bench/search_http.py [--docs 100000] [--queries 1000] [--seconds 15]
        [--connections 4,16] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from _server import Server, tree_cpu_seconds  # noqa: E402
from crowdcx.kernel.db import make_engine  # noqa: E402
from crowdcx.search.index import SqliteSearchIndex  # noqa: E402
from crowdcx.search.service import CONFIG  # noqa: E402
from search_latency import pools, synthesise  # noqa: E402

LANG_PARAM = {"en": "en", "ru": "ru", "zh-Hans": "zh-Hans", "zh-Hant": "zh-Hant"}

# wrk cycles through the paths (each thread from its own random start) and prints the
# percentiles wrk itself cannot be asked for on the command line.
LUA = """
paths = {%s}
local i = 0
function init(args) i = math.random(#paths) end
function request()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
function done(summary, latency, requests)
  io.write(string.format("RESULT %%d %%d %%.3f %%.3f %%.3f %%d\\n", summary.requests,
    summary.duration, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, summary.errors.status + summary.errors.connect
    + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def seed(
    db_path: Path, brand_slug: str, n_docs: int, n_queries: int, datasets: Path
) -> tuple[float, list[tuple[str, str]]]:
    """Add ``n_docs`` documents to the brand's index; return (seconds, [(query, lang)])."""
    rng = random.Random(20261124)
    doc_pools, query_pools = pools(datasets)
    languages = list(doc_pools)
    with sqlite3.connect(db_path) as raw:
        (brand_id,) = raw.execute("SELECT id FROM brands WHERE slug = ?", (brand_slug,)).fetchone()

    engine = make_engine(f"sqlite:///{db_path}")
    started = time.perf_counter()
    with engine.begin() as conn:
        index = SqliteSearchIndex(conn, CONFIG)
        index.add_many(synthesise(n_docs, rng, doc_pools, brand_id, ref_prefix="bench-"))
        index.optimize()  # as the product's bulk loads do
    build_s = time.perf_counter() - started
    engine.dispose()
    langs = [languages[i % len(languages)] for i in range(n_queries)]
    return build_s, [(rng.choice(query_pools[lang]), LANG_PARAM[lang]) for lang in langs]


def run_wrk(
    server: Server, paths: list[str], seconds: int, connections: int, tmp: Path
) -> dict[str, float]:
    script = tmp / "paths.lua"
    script.write_text(LUA % ",".join(json.dumps(p) for p in paths), encoding="utf-8")
    threads = min(2, connections)
    assert server.proc is not None
    cpu0 = tree_cpu_seconds(server.proc.pid)
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "5s",
            "-s",
            str(script),
            server.base,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    cpu = tree_cpu_seconds(server.proc.pid) - cpu0
    match = re.search(r"RESULT (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+) (\d+)", out)
    assert match, out
    requests, duration_us = int(match.group(1)), int(match.group(2))
    return {
        "rps": requests / (duration_us / 1e6),
        "p50_ms": float(match.group(3)),
        "p95_ms": float(match.group(4)),
        "p99_ms": float(match.group(5)),
        "errors": int(match.group(6)),
        "cpu_ms": cpu * 1000 / max(requests, 1),
        "requests": requests,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", default="4,16")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    server = Server(workers=args.workers)
    db_path = server.dir / "crowdcx.db"
    build_s, queries = seed(db_path, "volga", args.docs, args.queries, args.datasets)

    def search_paths(slug: str) -> list[str]:
        return [
            f"/api/v1/brands/{slug}/search?q={quote(q)}&lang={lang}&limit=10" for q, lang in queries
        ]

    phases = {
        "GET /healthz (reference)": ["/healthz"],
        "search, demo-sized brand (reference)": search_paths("lumen"),
        f"search, {args.docs:,} documents": search_paths("volga"),
    }
    results: dict[str, dict[int, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp, server:
        time.sleep(1)
        for conn_count in (int(c) for c in args.connections.split(",")):
            for name, paths in phases.items():
                run_wrk(server, paths[:50], 2, conn_count, Path(tmp))  # warm caches
                results.setdefault(name, {})[conn_count] = run_wrk(
                    server, paths, args.seconds, conn_count, Path(tmp)
                )
    print(
        f"# Search over HTTP — {time.strftime('%Y-%m-%d %H:%M')} — {platform.machine()}, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )
    print(
        f"server: crowdcx serve --production --workers {args.workers} on SQLite; "
        f"{args.docs:,} documents added in {build_s:.0f} s; {len(queries)} real questions "
        f"(en / ru / zh-Hans / zh-Hant), anonymous; wrk, {args.seconds} s per phase\n"
    )
    print("| phase | connections | req/s | p50 ms | p95 ms | p99 ms | non-2xx | CPU ms/req |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, by_conn in results.items():
        for conn_count, r in by_conn.items():
            print(
                f"| {name} | {conn_count} | {r['rps']:.0f} | {r['p50_ms']:.1f} | "
                f"{r['p95_ms']:.1f} | {r['p99_ms']:.1f} | {r['errors']} | {r['cpu_ms']:.2f} |"
            )
    print("\naskbot 0.13 (../shared/peers.md, 4 clients): 15.0 searches/s, p95 361 ms")
    if args.json:
        args.json.write_text(
            json.dumps({"build_s": build_s, "docs": args.docs, "results": results}, indent=2),
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
