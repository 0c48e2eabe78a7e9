"""A real server (the `crowdcx` CLI on a fresh SQLite file with demo data) and Debian's
Chromium driven by Playwright."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-results" / "e2e"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("e2e") / "crowdcx.db"
    port = free_port()
    env = {
        **os.environ,
        "CROWDCX_DATABASE_URL": f"sqlite:///{db}",
        "CROWDCX_PORT": str(port),
        "CROWDCX_PASSWORD_HASH_PROFILE": "fast",
        "CROWDCX_SECRET_KEY": "e2e-secret",
    }
    env.pop("CROWDCX_REDIS_URL", None)
    cli = [sys.executable, "-m", "crowdcx"]
    subprocess.run([*cli, "migrate"], env=env, check=True, capture_output=True)
    # No ticket history: the walks count from an empty queue (tests/tickets covers history).
    subprocess.run([*cli, "demo", "--no-history"], env=env, check=True, capture_output=True)
    log = (tmp_path_factory.getbasetemp() / "server.log").open("wb")
    server = subprocess.Popen([*cli, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        server.kill()
        pytest.fail("the server did not answer /healthz within 30 s")
    yield base
    server.terminate()
    try:
        server.wait(10)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            "Debian's chromium is missing: run `make system-deps` "
            "(apt-get install chromium fonts-noto-cjk)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
