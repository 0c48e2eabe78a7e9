"""One error family with stable codes. Each channel maps it once: problem+json for the API,
an error page for full page loads, a fragment for HTMX requests."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from crowdcx.kernel.i18n import N_, gettext


@dataclass
class AppError(Exception):
    """A failure a person can act on. ``code`` is stable API contract; ``detail`` is prose."""

    status: int
    code: str
    detail: str
    title: str = ""
    field: str | None = None
    errors: list[dict[str, Any]] = dc_field(default_factory=list)
    extra: dict[str, Any] = dc_field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.detail)
        if not self.title:
            # In the reader's language: the title heads the error page and the problem.
            self.title = gettext(_TITLES.get(self.status, _OTHER))


_OTHER = N_("Request failed")
_TITLES = {
    400: N_("Bad request"),
    401: N_("Not signed in"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    409: N_("Conflict"),
    413: N_("Request too large"),
    415: N_("Unsupported media type"),
    422: N_("Invalid input"),
    429: N_("Too many attempts"),
    500: N_("Internal error"),
}


def not_found(detail: str, code: str = "not_found") -> AppError:
    """``detail`` is a whole, translated sentence: "There is no brand “x”." """
    return AppError(404, code, detail)


def conflict(code: str, detail: str, **extra: Any) -> AppError:
    return AppError(409, code, detail, extra=extra)


def invalid(field_name: str, detail: str, code: str = "invalid") -> AppError:
    return AppError(
        422,
        code,
        detail,
        field=field_name,
        errors=[{"field": field_name, "code": code, "message": detail}],
    )


def forbidden(detail: str, code: str = "forbidden") -> AppError:
    return AppError(403, code, detail)


def unauthenticated(detail: str = "", code: str = "unauthenticated") -> AppError:
    """``detail`` defaults to "Sign in to continue." in the reader's language (it was English
    under a translated title on every page that asks to sign in)."""
    return AppError(401, code, detail or gettext("Sign in to continue."))
