"""Start a production-mode CrowdCX server on a fresh SQLite file for a benchmark, and measure
its cold start and memory. Shared by the bench scripts; not a test."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tree_rss_mib(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MiB."""
    out = subprocess.run(
        ["ps", "-e", "-o", "pid=,ppid=,rss="], capture_output=True, text=True, check=True
    ).stdout
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for line in out.splitlines():
        p, pp, r = (int(x) for x in line.split())
        children.setdefault(pp, []).append(p)
        rss[p] = r
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        total += rss.get(p, 0)
        stack.extend(children.get(p, []))
    return total / 1024


class Server:
    def __init__(
        self, workers: int = 2, demo: bool = True, extra_env: dict[str, str] | None = None
    ) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="crowdcx-bench-"))
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "CROWDCX_DATABASE_URL": f"sqlite:///{self.dir / 'crowdcx.db'}",
            "CROWDCX_PORT": str(self.port),
            "CROWDCX_SECRET_KEY": "bench-secret",
            "CROWDCX_ENV": "production",
            "CROWDCX_LOG_LEVEL": "warning",
            **(extra_env or {}),
        }
        self.workers = workers
        cli = [sys.executable, "-m", "crowdcx"]
        subprocess.run([*cli, "migrate"], env=self.env, check=True, capture_output=True)
        if demo:
            subprocess.run([*cli, "demo"], env=self.env, check=True, capture_output=True)
        self.proc: subprocess.Popen[bytes] | None = None
        self.cold_start_s = 0.0

    def start(self) -> Server:
        cli = [
            sys.executable,
            "-m",
            "crowdcx",
            "serve",
            "--production",
            "--workers",
            str(self.workers),
        ]
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            cli, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        while time.perf_counter() - started < 60:
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    self.cold_start_s = time.perf_counter() - started
                    return self
            except httpx.HTTPError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("server did not start within 60 s")

    def rss_mib(self) -> float:
        assert self.proc is not None
        return tree_rss_mib(self.proc.pid)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self.proc = None

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its living descendants (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    cpu: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        ppid, utime, stime = int(fields[1]), int(fields[11]), int(fields[12])
        children.setdefault(ppid, []).append(int(entry.name))
        cpu[int(entry.name)] = (utime + stime) / tick
    total, stack = 0.0, [pid]
    while stack:
        p = stack.pop()
        total += cpu.get(p, 0.0)
        stack.extend(children.get(p, []))
    return total
