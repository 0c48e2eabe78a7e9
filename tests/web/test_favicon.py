"""Browsers ask for /favicon.ico on every page load: it answered 404 each time."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient


def test_the_site_icon_is_served_and_kept(client: TestClient) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/vnd.microsoft.icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"  # an ICO header, one image at least
    assert int.from_bytes(response.content[4:6], "little") >= 1
    cache = response.headers["cache-control"]
    max_age = re.search(r"max-age=(\d+)", cache)
    assert max_age is not None, cache
    assert int(max_age.group(1)) >= 30 * 86400
    assert "no-store" not in cache


def test_pages_link_the_icon(client: TestClient) -> None:
    page = client.get("/login").text
    assert '<link rel="icon" href="/favicon.ico"' in page
