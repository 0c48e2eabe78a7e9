"""Inquiry intake throughput: 2,000 online experts; inquiries created over HTTP by concurrent
clients against the production-mode server on SQLite; each is routed and offered in the same
request. Reports inquiries created (and offered) per second with p50/p95/p99, beside two
ceilings measured in the same run: `GET /healthz` (the HTTP stack alone) and a customer's
`GET /api/v1/me` with a bearer token (the cheapest authenticated API request: token lookup,
one user, a small JSON answer) — no intake can be faster than the latter on this stack.

    .venv/bin/python bench/inquiry_pipeline.py [--inquiries 20000] [--experts 2000]

Driven by Debian's wrk with a Lua script that rotates customers' bearer tokens (falls back to
a bounded async httpx client without wrk). Server and driver share this machine's 2 cores."""

from __future__ import annotations

import argparse
import json
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _server import Server
from crowdcx.identity import service as identity
from crowdcx.identity.models import User
from crowdcx.kernel.db import Database
from crowdcx.kernel.models import utcnow
from crowdcx.tenancy import service as tenancy
from crowdcx.tenancy.models import Membership, MembershipRole
from crowdcx.tickets import service as tickets
from crowdcx.tickets.models import ExpertProfileRow, TicketRow
from http_baseline import _ms, load

SUBJECTS = [
    ("耳机无法连接蓝牙", "我的耳机昨天开始连不上手机的蓝牙。", "zh-Hans"),
    ("訂單還沒有到貨", "我上週的訂單到現在還沒收到。", "zh-Hant"),
    ("Не приходит заказ", "Заказ оплачен неделю назад, но не доставлен.", "ru"),
    ("Refund not received", "I returned the item two weeks ago and got no refund.", "en"),
]


def seed(url: str, experts: int, customers: int) -> list[str]:
    """A brand with `experts` online experts and `customers` customers; returns their tokens."""
    db = Database(url)
    now = utcnow()
    rng = random.Random(7)
    with db.transaction() as uow:
        tenancy.create_brand(
            uow,
            slug="bench",
            name="Bench",
            default_locale="en",
            locales=["zh-Hans", "zh-Hant", "ru", "en"],
        )
        ctx = tenancy.access_brand(uow.session, "bench", None)
        tickets.set_policy(uow, ctx, {"max_concurrent": 20, "routing_mode": "both"}, now)
        brand_id = ctx.brand.id
        rows = []
        for i in range(experts + customers):
            expert = i < experts
            user = User(
                email=f"{'e' if expert else 'c'}{i}@bench.example",
                password_hash="!",
                display_name=f"U{i}",
                locale="en",
            )
            uow.session.add(user)
            rows.append((user, expert))
        uow.session.flush()
        tokens = []
        for user, expert in rows:
            membership = Membership(brand_id=brand_id, user_id=user.id)
            membership.roles = [
                MembershipRole(brand_id=brand_id, role="expert" if expert else "customer")
            ]
            uow.session.add(membership)
            if expert:
                langs = rng.sample(["zh-Hans", "zh-Hant", "ru", "en"], k=rng.randint(1, 3))
                skills = {
                    s: rng.randint(1, 5)
                    for s in rng.sample(["general", "orders"], k=rng.randint(1, 2))
                }
                uow.session.add(
                    ExpertProfileRow(
                        brand_id=brand_id,
                        user_id=user.id,
                        skills=skills,
                        languages=langs,
                        tier=rng.randint(0, 3),
                        certifications=[],
                        online=True,
                        load=0,
                    )
                )
            else:
                raw, _t = identity.issue_token(uow, user, "api", timedelta(hours=6), now)
                tokens.append(raw)
    db.dispose()
    return tokens


LUA = """
local tokens = {%s}
local bodies = {%s}
local n = 0
request = function()
  n = n + 1
  local headers = {}
  headers["Authorization"] = "Bearer " .. tokens[(n %% #tokens) + 1]
  headers["Content-Type"] = "application/json"
  return wrk.format("POST", "/api/v1/brands/bench/tickets", headers, bodies[(n %% #bodies) + 1])
end
"""


def wrk_post(base: str, tokens: list[str], requests: int, connections: int) -> dict[str, float]:
    bodies = [
        json.dumps({"subject": s, "body": b, "skill": k, "language": lang}, ensure_ascii=False)
        for (s, b, lang) in SUBJECTS
        for k in ("general", "orders")
    ]
    script = LUA % (
        ", ".join(json.dumps(t) for t in tokens),
        ", ".join(json.dumps(b, ensure_ascii=False) for b in bodies),
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(script)
    # wrk runs for a duration; estimate it from a short probe so ~`requests` are sent.
    probe = subprocess.run(
        [
            "wrk",
            "-t1" if connections < 2 else "-t2",
            f"-c{connections}",
            "-d3s",
            "--latency",
            "-s",
            fh.name,
            base,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", probe).group(1))  # type: ignore[union-attr]
    seconds = max(5, int(requests / max(rate, 1.0)))
    out = subprocess.run(
        [
            "wrk",
            "-t1" if connections < 2 else "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "--timeout",
            "10s",
            "-s",
            fh.name,
            base,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    lat = {p: _ms(re.search(rf"\s{p}%\s+(\S+)", out).group(1)) for p in ("50", "90", "99")}  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "requests": total + int(re.search(r"(\d+) requests in", probe).group(1)),
        "rps": rps,
        "p50_ms": lat["50"],
        "p90_ms": lat["90"],
        "p99_ms": lat["99"],
        "errors": float(non2xx.group(1)) if non2xx else 0.0,
        "seconds": seconds,
    }  # type: ignore[union-attr]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--inquiries", type=int, default=20_000)
    parser.add_argument("--experts", type=int, default=2_000)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("this benchmark needs Debian's wrk: apt-get install wrk")

    server = Server(workers=args.workers, demo=False, extra_env={"CROWDCX_SWEEP_INTERVAL_S": "0"})
    started = time.perf_counter()
    tokens = seed(server.env["CROWDCX_DATABASE_URL"], args.experts, args.customers)
    seeded = time.perf_counter() - started
    with server:
        ceiling = load(f"{server.base}/healthz", 8, args.connections, {})
        bare = load(f"{server.base}/api/v1/me", 8, args.connections,
                    {"Authorization": f"Bearer {tokens[0]}"})  # fmt: skip
        intake = wrk_post(server.base, tokens, args.inquiries, args.connections)
        rss = server.rss_mib()
    db = Database(server.env["CROWDCX_DATABASE_URL"])
    with db.sessions() as session:
        counts = dict(
            session.execute(select(TicketRow.status, func.count()).group_by(TicketRow.status)).all()
        )
    db.dispose()
    created = sum(counts.values())
    offered = counts.get("offered", 0)
    print(
        f"# Inquiry pipeline — {time.strftime('%Y-%m-%d')} — {platform.machine()}, Python {platform.python_version()}"
    )
    print(
        f"{args.experts} online experts, {args.customers} customers (seeded in {seeded:.1f} s); production server, {args.workers} workers, SQLite; wrk {args.connections} connections\n"
    )
    print("| measure | value |")
    print("|---|---:|")
    print(
        f"| GET /healthz ceiling, req/s | {ceiling['rps']:.0f} (p99 {ceiling['p99_ms']:.1f} ms) |"
    )
    print(
        f"| GET /api/v1/me (bearer) ceiling, req/s | {bare['rps']:.0f} (p99 {bare['p99_ms']:.1f} ms) |"
    )
    print(f"| inquiries created | {created} ({counts}) |")
    print(f"| inquiries created and offered | {offered} ({offered / max(created, 1):.1%}) |")
    print(
        f"| intake throughput, inquiries/s | {intake['rps']:.0f} ({intake['rps'] / bare['rps']:.0%} of /me) |"
    )
    print(
        f"| intake latency p50 / p90 / p99 ms | {intake['p50_ms']:.1f} / {intake['p90_ms']:.1f} / {intake['p99_ms']:.1f} |"
    )
    print(f"| non-2xx answers | {intake['errors']:.0f} |")
    print(f"| server RSS after the run | {rss:.0f} MiB |")


if __name__ == "__main__":
    main()
