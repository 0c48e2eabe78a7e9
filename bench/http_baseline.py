"""HTTP ceiling of the production-mode server: requests/s and p50/p99 latency for
`GET /healthz` and an authenticated `GET /api/v1/me`, driven by Debian's wrk (or, without it,
a bounded async httpx client), plus cold start to first 200 and idle RSS.

    .venv/bin/python bench/http_baseline.py [--seconds 10] [--connections 16] [--workers 2]

Load generator and server share this machine's cores; compare figures taken in one run."""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _server import Server

DEMO_EMAIL = "ivan@volga.example"
DEMO_PASSWORD = "crowdcx-demo-2026"


def _ms(value: str) -> float:
    match = re.match(r"([\d.]+)(us|ms|s)", value)
    assert match, value
    number, unit = float(match.group(1)), match.group(2)
    return number / 1000 if unit == "us" else number * 1000 if unit == "s" else number


def run_wrk(url: str, seconds: int, connections: int, headers: dict[str, str]) -> dict[str, float]:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    for key, value in headers.items():
        cmd += ["-H", f"{key}: {value}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    lat = {p: _ms(re.search(rf"\s{p}%\s+(\S+)", out).group(1)) for p in ("50", "99")}  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rps,
        "p50_ms": lat["50"],
        "p99_ms": lat["99"],
        "errors": float(non2xx.group(1)) if non2xx else 0.0,
    }


async def _async_load(
    url: str, seconds: int, connections: int, headers: dict[str, str]
) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal errors
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            r = await client.get(url, headers=headers)
            latencies.append((time.perf_counter() - t0) * 1000)
            errors += r.status_code >= 400

    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=connections)) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(connections)))
        elapsed = time.perf_counter() - started
    q = statistics.quantiles(latencies, n=100)
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": q[49],
        "p99_ms": q[98],
        "errors": float(errors),
    }


def load(url: str, seconds: int, connections: int, headers: dict[str, str]) -> dict[str, float]:
    if shutil.which("wrk"):
        return run_wrk(url, seconds, connections, headers)
    return asyncio.run(_async_load(url, seconds, connections, headers))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    server = Server(workers=args.workers)
    with server:
        time.sleep(2)
        idle = server.rss_mib()
        token = httpx.post(
            f"{server.base}/api/v1/auth/token",
            json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD},
        ).json()["access_token"]
        results = {
            "GET /healthz": load(f"{server.base}/healthz", args.seconds, args.connections, {}),
            "GET /api/v1/me (bearer)": load(
                f"{server.base}/api/v1/me",
                args.seconds,
                args.connections,
                {"Authorization": f"Bearer {token}"},
            ),
            # The help-center search API, anonymous (records a deflection event per query).
            "GET /api/v1/brands/volga/search (ru)": load(
                f"{server.base}/api/v1/brands/volga/search?q=%D0%BD%D0%B5%20%D1%80%D0%B0%D0%B1%D0%BE%D1%82%D0%B0%D0%B5%D1%82%20%D0%B8%D0%BD%D1%82%D0%B5%D1%80%D0%BD%D0%B5%D1%82",
                args.seconds,
                args.connections,
                {},
            ),
            "GET /api/v1/brands/lumen/search (zh)": load(
                f"{server.base}/api/v1/brands/lumen/search?q=%E8%93%9D%E7%89%99%E8%BF%9E%E4%B8%8D%E4%B8%8A",
                args.seconds,
                args.connections,
                {},
            ),
        }
        peak = server.rss_mib()
    driver = "wrk" if shutil.which("wrk") else "httpx async"
    print(
        f"# HTTP baseline — {time.strftime('%Y-%m-%d')} — {platform.machine()}, {platform.python_version()}, driver {driver}"
    )
    print(
        f"server: crowdcx serve --production --workers {args.workers} on SQLite; {args.connections} connections, {args.seconds} s each\n"
    )
    print("| endpoint | req/s | p50 ms | p99 ms | errors |")
    print("|---|---:|---:|---:|---:|")
    for name, r in results.items():
        print(
            f"| {name} | {r['rps']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['errors']:.0f} |"
        )
    print(
        f"\ncold start to first 200: {server.cold_start_s:.2f} s; RSS idle {idle:.0f} MiB, after load {peak:.0f} MiB"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "results": results,
                    "cold_start_s": server.cold_start_s,
                    "idle_rss_mib": idle,
                    "peak_rss_mib": peak,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
