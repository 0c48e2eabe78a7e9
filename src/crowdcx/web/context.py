"""Per-request web context, set by one pure ASGI middleware before anything else runs:

- the reader's locale (``?lang=`` > ``crowdcx_locale`` cookie > brand default for brand pages
  > Accept-Language > English), put in the i18n context variable so templates, validation
  messages and error details all use it;
- the CSRF token (double-submit: a random cookie that forms and HTMX echo back);
- security headers on every response;
- a cap on the request body (1 MB by default; larger for the paths a :class:`BodyLimit`
  names, such as imports), answered with problem+json 413, or with an error page when a
  browser sent the form.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any, Final

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crowdcx.kernel.i18n import _, set_locale
from crowdcx.kernel.language import DEFAULT_LOCALE, negotiate, normalize_locale
from crowdcx.kernel.numbers import ascii_int

LOCALE_COOKIE = "crowdcx_locale"
CSRF_COOKIE = "crowdcx_csrf"
SESSION_COOKIE = "crowdcx_session"
_BRAND_PATH = re.compile(r"^/(?:b|api/v1/brands)/([a-z0-9-]{1,40})(?:/|$)")

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        b"script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'",
    ),
]


class BrandLocales:
    """slug → default locale, cached briefly so locale resolution costs no query per request."""

    def __init__(self, lookup: Callable[[str], str | None], ttl: float = 30.0) -> None:
        self._lookup = lookup
        self._ttl = ttl
        self._cache: dict[str, tuple[float, str | None]] = {}

    def get(self, slug: str) -> str | None:
        now = time.monotonic()
        hit = self._cache.get(slug)
        if hit is not None and now - hit[0] < self._ttl:
            return hit[1]
        value = self._lookup(slug)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[slug] = (now, value)
        return value

    def forget(self, slug: str) -> None:
        self._cache.pop(slug, None)


def parse_cookies(scope: Scope) -> dict[str, str]:
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed cookie header is the client's problem, not a 500
                return {}
            return {k: m.value for k, m in jar.items()}
    return {}


def header(scope: Scope, wanted: bytes) -> str:
    for name, value in scope.get("headers", ()):
        if name == wanted:
            return str(value.decode("latin-1"))
    return ""


def problem_bytes(status: int, code: str, title: str, detail: str, **extra: Any) -> bytes:
    body = {
        "type": f"urn:crowdcx:problem:{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    body.update(extra)
    return orjson.dumps(body)


@dataclass(frozen=True)
class BodyLimit:
    """A body cap other than the ordinary one for the paths ``paths`` matches (each way in to
    the same use case, API and page alike), refused with ``code`` and ``message()`` (a
    translated sentence naming the limit as the people who meet it know it)."""

    paths: re.Pattern[str]
    max_bytes: int
    code: str
    message: Callable[[], str]
    # The body carries files whose bytes may hold 0x00 without holding U+0000 (UTF-16 text):
    # a multipart body is then not searched for NULs; the route checks the decoded text.
    files_decoded_by_route: bool = False


# Renders a refusal as an HTML page for a browser: (scope, status, code, title, detail).
PageRefusal = Callable[[Scope, int, str, str, str], bytes]


class WebContextMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        brand_locales: BrandLocales,
        max_body_bytes: int,
        secure_cookies: bool = False,
        body_limits: Sequence[BodyLimit] = (),
        page_refusal: PageRefusal | None = None,
    ) -> None:
        self.app = app
        self.brand_locales = brand_locales
        self.max_body = max_body_bytes
        self.secure = secure_cookies
        self.body_limits = tuple(body_limits)
        self.page_refusal = page_refusal

    def _limit(self, path: str) -> BodyLimit | None:
        return next((lim for lim in self.body_limits if lim.paths.fullmatch(path)), None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookies = parse_cookies(scope)
        locale = self._locale(scope, cookies)
        set_locale(locale)
        state = scope.setdefault("state", {})
        state["locale"] = locale
        state["cookies"] = cookies
        csrf = cookies.get(CSRF_COOKIE, "")
        new_csrf = not (16 <= len(csrf) <= 100)
        if new_csrf:
            csrf = secrets.token_urlsafe(24)
        state["csrf_token"] = csrf

        # Bulk imports (FAQ CSV) may be larger than an ordinary form or JSON body.
        limit = self._limit(scope.get("path", ""))
        cap = limit.max_bytes if limit else self.max_body
        length = ascii_int(header(scope, b"content-length"), limit=None)
        if length is not None and length > cap:
            await self._too_large(scope, send, limit)
            return
        if b"%00" in scope.get("query_string", b"") or "\x00" in scope.get("path", ""):
            await self._nul(scope, send)
            return
        content_type = header(scope, b"content-type")
        nul_forms = (
            _NUL_NEVER
            if limit and limit.files_decoded_by_route and _multipart(content_type)
            else _nul_forms(content_type)
        )

        received = 0
        too_large = False
        has_nul = False
        tail = b""

        async def limited_receive() -> Message:
            nonlocal received, too_large, has_nul, tail
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > cap:
                    too_large = True
                    raise BodyTooLargeError
                seen = tail + chunk  # an escape may straddle two chunks
                if nul_forms.search(seen):
                    has_nul = True
                    raise BodyTooLargeError
                tail = seen[-64:]
            return message

        response_started = False
        replaced = False

        async def send_with_headers(message: Message) -> None:
            nonlocal response_started, replaced
            if replaced:
                return  # the app's own answer to a truncated body is swallowed
            if message["type"] == "http.response.start":
                if too_large or has_nul:  # the app saw the body cut short: answer why
                    replaced = True
                    response_started = True
                    await self._refuse_body(scope, send, limit, too_large)
                    return
                response_started = True
                headers = list(message.get("headers", []))
                headers.extend(SECURITY_HEADERS)
                if new_csrf:
                    cookie = f"{CSRF_COOKIE}={csrf}; Path=/; SameSite=Lax"
                    if self.secure:
                        cookie += "; Secure"
                    headers.append((b"set-cookie", cookie.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except Exception:
            if (too_large or has_nul) and not response_started:
                await self._refuse_body(scope, send, limit, too_large)
            else:
                raise

    def _locale(self, scope: Scope, cookies: dict[str, str]) -> str:
        query = scope.get("query_string", b"").decode("latin-1")
        for part in query.split("&"):
            if part.startswith("lang="):
                chosen = normalize_locale(part[5:].replace("%2D", "-"))
                if chosen:
                    return chosen
        chosen = (
            normalize_locale(cookies.get(LOCALE_COOKIE, "")) if LOCALE_COOKIE in cookies else None
        )
        if chosen:
            return chosen
        match = _BRAND_PATH.match(scope.get("path", ""))
        accept = header(scope, b"accept-language")
        negotiated = negotiate(accept) if accept else None
        if negotiated:
            return negotiated
        if match:
            brand_default = self.brand_locales.get(match.group(1))
            if brand_default:
                return brand_default
        return DEFAULT_LOCALE

    async def _refuse_body(
        self, scope: Scope, send: Send, limit: BodyLimit | None, too_large: bool
    ) -> None:
        if too_large:
            await self._too_large(scope, send, limit)
        else:
            await self._nul(scope, send)

    async def _too_large(self, scope: Scope, send: Send, limit: BodyLimit | None) -> None:
        if limit is not None:
            code, detail = limit.code, limit.message()
        else:
            code = "body_too_large"
            detail = _("The request body is larger than %(n)d bytes; send less data.") % {
                "n": self.max_body
            }
        await self._refuse(scope, send, 413, code, _("Request too large"), detail)

    async def _nul(self, scope: Scope, send: Send) -> None:
        detail = _(
            "The request contains a NUL character (U+0000), which no text may hold; remove it."
        )
        await self._refuse(scope, send, 422, "nul_character", _("Invalid input"), detail)

    async def _refuse(
        self, scope: Scope, send: Send, status: int, code: str, title: str, detail: str
    ) -> None:
        if self.page_refusal is not None and _wants_page(scope):
            body = self.page_refusal(scope, status, code, title, detail)
            content_type = b"text/html; charset=utf-8"
        else:
            body = problem_bytes(status, code, title, detail)
            content_type = b"application/problem+json"
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", content_type),
                    (b"content-length", str(len(body)).encode()),
                    *SECURITY_HEADERS,
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _wants_page(scope: Scope) -> bool:
    """A browser's request (a form, a page), answered with a page rather than problem+json:
    the same choice as ``web.problems.wants_json``, from the raw scope."""
    path = scope.get("path", "")
    if path.startswith("/api/") or path in ("/healthz", "/live"):
        return False
    accept = header(scope, b"accept")
    return not ("application/json" in accept and "text/html" not in accept)


class BodyTooLargeError(Exception):
    """Raised into the app's body read when the body is refused (too large, or a NUL)."""


# A NUL in a body: the raw byte (any type), ``%00`` in a form, ``\u0000`` in JSON unless
# its backslash is itself escaped (``\\u0000`` is the text "\u0000", which people write).
_NUL_RAW: Final = re.compile(rb"\x00")
_NUL_FORM: Final = re.compile(rb"\x00|%00")
_NUL_JSON: Final = re.compile(rb"\x00|(?<!\\)(?:\\\\)*\\u0000")


_NUL_NEVER: Final = re.compile(rb"(?!)")


def _multipart(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() == "multipart/form-data"


def _nul_forms(content_type: str) -> re.Pattern[bytes]:
    """How a NUL character looks in a body of this type. PostgreSQL refuses it in text and
    SQLite would keep it, so it is refused at the edge, alike on both."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        return _NUL_FORM
    if kind == "application/json" or kind.endswith("+json"):
        return _NUL_JSON
    return _NUL_RAW
