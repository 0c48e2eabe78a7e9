"""Every error leaves as RFC 9457 problem+json on the API, or as a page for a browser.

Validation messages are translated by error type, name the field, and never echo a traceback."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi._compat import ModelField
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DataError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import HTMLResponse, Response

from crowdcx.kernel.errors import AppError
from crowdcx.kernel.i18n import _, current_locale, gettext

log = logging.getLogger("crowdcx.errors")


def wants_json(request: Request) -> bool:
    path = request.url.path
    if path.startswith("/api/") or path in ("/healthz", "/live"):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def problem_response(error: AppError, request: Request) -> Response:
    body: dict[str, Any] = {
        "type": f"urn:crowdcx:problem:{error.code}",
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
        "code": error.code,
        "instance": request.url.path,
    }
    if error.field:
        body["field"] = error.field
    if error.errors:
        body["errors"] = error.errors
    body.update(error.extra)
    headers = {}
    if error.status == 429 and "retry_after" in error.extra:
        headers["retry-after"] = str(error.extra["retry_after"])
    if error.status == 401:
        headers["www-authenticate"] = 'Bearer realm="crowdcx"'
    return Response(
        orjson.dumps(body),
        status_code=error.status,
        media_type="application/problem+json",
        headers=headers,
    )


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or "body"


def _body_params(dependant: Dependant) -> Iterator[ModelField]:
    yield from dependant.body_params
    for sub in dependant.dependencies:
        yield from _body_params(sub)


def form_label(request: Request, name: str) -> str | None:
    """The label a page's form shows the reader for the field ``name``, in their language:
    the field's ``title`` on its route (``Form(title=N_("Your name"))``, the label's msgid),
    or None for a field with none (a hidden or button field, which no label names)."""
    dependant = getattr(request.scope.get("route"), "dependant", None)
    if dependant is None:
        return None
    for param in _body_params(dependant):
        if name in (param.alias, param.name) and param.field_info.title:
            return gettext(param.field_info.title)
    return None


_CHOICES = re.compile(r"\^\(([\w-]+(?:\|[\w-]+)*)\)\$")
_BOUNDS: dict[str, tuple[str, Callable[[], str]]] = {
    "greater_than_equal": ("ge", lambda: _("Use a number of at least %(n)s.")),
    "greater_than": ("gt", lambda: _("Use a number greater than %(n)s.")),
    "less_than_equal": ("le", lambda: _("Use a number of at most %(n)s.")),
    "less_than": ("lt", lambda: _("Use a number less than %(n)s.")),
}


def validation_message(err: dict[str, Any]) -> tuple[str, str]:
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return "required", _("This field is required.")
    if kind == "extra_forbidden":
        return "unknown_field", _("This field is not accepted here; remove it.")
    if kind == "json_invalid":
        return "invalid_json", _("The body is not valid JSON: %(why)s.") % {
            "why": ctx.get("error", "syntax error")
        }
    if kind in ("string_too_short", "too_short"):
        return "too_short", _("Too short: use at least %(n)s.") % {"n": ctx.get("min_length", "?")}
    if kind in ("string_too_long", "too_long"):
        return "too_long", _("Too long: use at most %(n)s.") % {"n": ctx.get("max_length", "?")}
    if kind == "string_pattern_mismatch":
        # Patterns here are lists of choices, ``^(a|b|c)$``: name them, as for a literal.
        choices = _CHOICES.fullmatch(str(ctx.get("pattern", "")))
        if choices:
            return "not_allowed", _("Choose one of: %(choices)s.") % {
                "choices": ", ".join(choices.group(1).split("|"))
            }
        return "invalid", _("Invalid value.")
    if kind.startswith("string_") or kind == "string_type":
        return "not_text", _("Expected text here.")
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return "not_integer", _("Expected a whole number here.")
    if kind in ("float_type", "float_parsing", "decimal_type", "decimal_parsing", "finite_number"):
        return "not_number", _("Expected a number here, like 0.8.")
    if kind in ("bool_type", "bool_parsing"):
        return "not_boolean", _("Expected true or false here.")
    if kind in ("list_type",):
        return "not_list", _("Expected a list here.")
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "not_object", _("Expected an object here.")
    if kind == "value_error" and "email" in str(err.get("msg", "")).lower():
        return "invalid_email", _("Enter a valid e-mail address, like name@example.com.")
    if kind == "literal_error":
        return "not_allowed", _("Choose one of: %(choices)s.") % {
            "choices": ctx.get("expected", "")
        }
    if kind in _BOUNDS:
        # Said from the bound, in the reader's language (the validator's text is English).
        bound = ctx.get(_BOUNDS[kind][0], "?")
        return "out_of_range", _BOUNDS[kind][1]() % {"n": bound}
    # Any other kind: the validator's own words are English, so only an English reader
    # gets them (a Russian reader got "Input should be a valid number, …" for a float).
    if current_locale() == "en" and err.get("msg"):
        return "invalid", str(err["msg"])
    return "invalid", _("Invalid value.")


_COLUMN_LENGTH = re.compile(r"character varying\((\d+)\)")


def _too_long_text(exc: Exception) -> str:
    limit = _COLUMN_LENGTH.search(str(getattr(exc, "orig", exc)))
    if limit is None:
        return _("A text in this request is too long to be stored; shorten it and send it again.")
    return _(
        "A text in this request is too long to be stored: at most %(n)s characters. Shorten "
        "it and send it again."
    ) % {"n": limit.group(1)}


def _unique_violation(exc: IntegrityError) -> bool:
    """A unique key refused the row: SQLSTATE 23505 on PostgreSQL, the UNIQUE (or PRIMARY
    KEY) constraint message on SQLite."""
    orig = exc.orig
    if getattr(orig, "sqlstate", None) == "23505":
        return True
    text = str(orig)
    return text.startswith(("UNIQUE constraint failed", "PRIMARY KEY constraint failed"))


_PART_SIZE = re.compile(r"exceeded maximum size of (\d+)KB")
_TOO_MANY = re.compile(r"Too many (fields|files)\. Maximum number of \w+ is (\d+)")


def framework_error(status: int, said: str, request: Request) -> AppError:
    """An HTTP error the web framework raised itself (Starlette's or FastAPI's own English
    words, as ``said``): a stable code and a sentence in the reader's language. A malformed
    body or form (400), a refusal of its own (401, 403), a body or part too large (413), a
    content type it cannot read (415), an unprocessable request (422); any other status is
    ``http_error``, said by its class."""
    if status == 400:
        part = _PART_SIZE.search(said)
        if part:
            return AppError(400, "part_too_large", _(
                "A field or file in this form is larger than %(kb)s KB; send a smaller one."
            ) % {"kb": part.group(1)})  # fmt: skip
        many = _TOO_MANY.search(said)
        if many:
            return AppError(400, "too_many_parts", _(
                "This form has too many fields or files: at most %(n)s. Send fewer at once."
            ) % {"n": many.group(2)})  # fmt: skip
        return AppError(400, "malformed_body", _(
            "The request's body could not be read: it is not a well-formed form, upload or "
            "JSON document. Send it again from the page, or check its content type."
        ))  # fmt: skip
    if status == 401:
        return AppError(401, "unauthenticated", _("Sign in to continue."))
    if status == 403:
        return AppError(403, "forbidden", _("You are not allowed to do this here."))
    if status == 413:
        return AppError(413, "body_too_large", _("This request is too large; send less at once."))
    if status == 415:
        kind = request.headers.get("content-type", "").split(";")[0].strip() or "?"
        return AppError(415, "unsupported_media_type", _(
            "This address does not accept content of type %(type)s."
        ) % {"type": kind})  # fmt: skip
    if status == 422:
        return AppError(422, "unprocessable", _(
            "This request could not be processed as sent; check what it contains."
        ))  # fmt: skip
    if status >= 500:
        return AppError(status, "http_error", _(
            "Something went wrong on our side; nothing was saved. Try again in a moment."
        ))  # fmt: skip
    return AppError(status, "http_error", _(
        "This request was refused (HTTP status %(status)s); check the address and what was sent."
    ) % {"status": status})  # fmt: skip


def install(app: FastAPI, render_error_page: Any) -> None:
    def respond(request: Request, error: AppError) -> Response:
        if wants_json(request):
            return problem_response(error, request)
        return render_error_page(request, error)  # type: ignore[no-any-return]

    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> Response:
        return respond(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = []
        for err in exc.errors():
            code, message = validation_message(dict(err))
            errors.append(
                {"field": _field_name(tuple(err.get("loc", ()))), "code": code, "message": message}
            )
        first = (
            errors[0]
            if errors
            else {"field": "body", "code": "invalid", "message": _("Invalid input.")}
        )
        if first["code"] == "invalid_json":
            first["field"] = "body"
            errors = [first]
            error = AppError(422, "invalid_json", first["message"], field="body", errors=errors)
        elif not wants_json(request) and (label := form_label(request, first["field"])):
            # Every other refused field is listed under the sentence, by its label too.
            for err in errors[1:]:
                err["label"] = form_label(request, err["field"]) or err["field"]
            # A person at a form reads the field by the label the form shows them.
            detail = _("Check the field “%(label)s”: %(message)s") % {
                "label": label,
                "message": first["message"],
            }
            error = AppError(422, "validation_failed", detail, field=first["field"], errors=errors)
        else:
            detail = _("Check the field %(field)s: %(message)s") % first
            error = AppError(422, "validation_failed", detail, field=first["field"], errors=errors)
        return respond(request, error)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            error = AppError(404, "not_found", _("There is nothing at this address."))
        elif exc.status_code == 405:
            error = AppError(
                405,
                "method_not_allowed",
                _("This address does not accept %(method)s.") % {"method": request.method},
                title=_("Method not allowed"),
            )
        else:
            error = framework_error(exc.status_code, str(exc.detail), request)
        response = respond(request, error)
        # The framework's own headers stay: a 405's Allow (RFC 9110 says it must be sent),
        # a security scheme's WWW-Authenticate.
        for name, value in (exc.headers or {}).items():
            if name.lower() not in ("content-type", "content-length"):
                response.headers.setdefault(name, value)
        return response

    @app.exception_handler(OverflowError)
    @app.exception_handler(DataError)
    async def _out_of_range(request: Request, exc: Exception) -> Response:
        # An id or amount past the database's 64-bit integers, in a path, form or body the
        # edge accepted as an int: SQLite refuses to bind it (OverflowError), PostgreSQL to
        # store it (SQLSTATE 22003). The unit of work rolled back; nothing was written.
        sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
        if sqlstate == "22001":
            # A text longer than its column, which the edge let through: PostgreSQL refuses
            # it (SQLite never checks), so a missing max_length showed only there as a 500.
            log.warning("text too long on %s %s: %s", request.method, request.url.path,
                        exc)  # fmt: skip
            return respond(request, AppError(422, "text_too_long", _too_long_text(exc)))
        if isinstance(exc, OverflowError) or sqlstate == "22003":
            return respond(request, AppError(
                422, "number_out_of_range",
                _("A number in this request is too large; check the ids and amounts sent."),
            ))  # fmt: skip
        return await _unexpected(request, exc)

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> Response:
        # Two requests doing the same thing at the same moment (a double click, two tabs,
        # two agents): both read "not there yet", the database's unique key let one write
        # and refused the other. The loser's unit of work rolled back whole; tell it so.
        # Any other integrity failure (a missing reference, a NOT NULL) is our bug: a 500.
        if _unique_violation(exc):
            log.info("concurrent duplicate on %s %s: %s", request.method, request.url.path,
                     exc.orig)  # fmt: skip
            return respond(request, AppError(
                409, "concurrent_change",
                _("The same change arrived twice at the same moment and only the first one "
                  "counted; reload to see the result."),
            ))  # fmt: skip
        return await _unexpected(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        error = AppError(
            500,
            "internal_error",
            _("Something went wrong on our side; nothing was saved. Try again in a moment."),
        )
        if wants_json(request):
            return problem_response(error, request)
        return HTMLResponse("<h1>500</h1><p>" + error.detail + "</p>", status_code=500)
