"""Where a page may send a browser back to: same-site paths only, never another host."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from fastapi import Request

# Pages a person should not land on again once signed in.
_SIGN_IN_PAGES = ("/login", "/register")


def safe_next(target: str | None, default: str = "/") -> str:
    """``target`` when it is a path on this site, else ``default``. Browsers read a backslash
    as a slash and drop tabs and line breaks, so "/\\evil.example" or "/<TAB>/evil.example"
    would leave the site: anything holding them is refused too."""
    if not target:
        return default
    if "\\" in target or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def return_path(request: Request) -> str:
    """The page to come back to after a detour (signing in, switching the language): this
    page with its query for a GET; for a form post, the same-site page the form was on (a
    GET of the form's own address would not show it), else the start page."""
    if request.method in ("GET", "HEAD"):
        query = request.url.query
        return safe_next(request.url.path + (f"?{query}" if query else ""))
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc and referer.netloc == request.url.netloc:
        return safe_next(referer.path + (f"?{referer.query}" if referer.query else ""))
    return "/"


def sign_in_url(request: Request) -> str:
    """The sign-in page, bringing the person back here afterwards."""
    return _detour(request, "/login")


def register_url(request: Request) -> str:
    """The sign-up page, bringing the person back here afterwards."""
    return _detour(request, "/register")


def with_next(path: str, target: str | None) -> str:
    """``path`` (the sign-in or sign-up page) carrying a same-site ``next`` when there is
    one worth keeping."""
    kept = safe_next(target)
    return path if kept == "/" else f"{path}?" + urlencode({"next": kept})


def _detour(request: Request, path: str) -> str:
    back = return_path(request)
    if back == "/" or urlsplit(back).path in _SIGN_IN_PAGES:
        # On the sign-in or sign-up page, keep where that page was to send them.
        return with_next(path, request.query_params.get("next"))
    return with_next(path, back)
