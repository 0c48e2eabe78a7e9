"""Refusals a person can act on, in their language: a form field refused at the edge named by
the label its form shows; the web framework's own HTTP errors (a malformed body, a part too
large, 401/403/415/422) with a stable code and a sentence in the reader's language; an
import sent with no file answered on the import page; an import that fails inside a
``wait=true`` request said with its job and reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.exceptions import HTTPException as StarletteHTTPException

from crowdcx.kernel.db import Database
from crowdcx.knowledge import service as kb_service
from crowdcx.knowledge.models import ImportJob
from tests.conftest import World
from tests.knowledge.test_api import CSV, Kb
from tests.test_bad_input import assert_problem
from tests.tickets.test_pages import sign_in

LOCALES = ("en", "ru", "zh-Hans", "zh-Hant")
CATALOGS = Path(__file__).parent.parent / "src" / "crowdcx" / "translations"


def _catalog(locale: str) -> dict[str, str]:
    with (CATALOGS / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return {str(m.id): str(m.string) for m in read_po(fh) if m.id and m.string}


# Page form fields that no label names: hidden fields, buttons, choices from a list.
NOT_TYPED = {
    "csrf_token", "next", "back", "version", "cursor", "before", "all", "account", "action",
    "suggestion", "internal", "online", "csat", "helpful", "q", "visibility", "language",
    "translation_of", "closed", "kind", "target", "stop", "decision", "locale",
    "default_locale", "locales", "membership", "skill", "community", "publish", "roles",
    "languages", "value", "answer_id", "user_id", "score_solved", "score_accuracy",
    "score_tone", "score_policy",
    "reason", "currency",  # a flag's reason is a list; a payout's currency is hidden
}  # fmt: skip


def _page_routes(app: FastAPI) -> list[APIRoute]:
    def walk(routes: list[Any]) -> list[Any]:
        found = []
        for route in routes:
            inner = getattr(route, "original_router", None) or (
                route if not isinstance(route, APIRoute) and hasattr(route, "routes") else None
            )
            found += walk(inner.routes) if inner is not None else [route]
        return found

    return [
        route
        for route in walk(app.routes)
        if isinstance(route, APIRoute) and not route.path.startswith("/api/")
    ]


def test_every_field_a_person_types_into_a_page_form_has_a_translated_label(
    app: FastAPI,
) -> None:
    """A refused field is named by its route's ``title``: one missing (or untranslated) and
    the refusal falls back to the field's code, "Проверьте поле display_name"."""
    catalogs = {locale: _catalog(locale) for locale in ("ru", "zh_Hans", "zh_Hant")}
    seen = 0
    for route in _page_routes(app):
        for param in route.dependant.body_params:
            name = param.alias or param.name
            title = param.field_info.title
            if title is None:
                assert name in NOT_TYPED, f"{route.path}: field {name} has no label (title)"
                continue
            seen += 1
            for locale, catalog in catalogs.items():
                assert catalog.get(title), f"{route.path}: label {title!r} not in {locale}"
    assert seen > 50


SIGN_IN_PAGE_LABELS = {
    "en": "Check the field “Your name”: Too long: use at most 80.",
    "ru": "Проверьте поле «Ваше имя»: Слишком длинно: не более 80.",
    "zh-Hans": "请检查“您的名字”：太长：最多 80。",
    "zh-Hant": "請檢查「您的名字」：太長：最多 80。",
}


@pytest.mark.parametrize("locale", LOCALES)
def test_a_form_field_refused_at_the_edge_is_named_by_its_label(
    client: TestClient, world: World, locale: str
) -> None:
    """The account form's name field takes 80 characters and says so to no browser: 81 were
    refused as "Check the field display_name", the code, not the label the reader sees."""
    person = world.person()
    token = sign_in(client, person)
    typed = "名" * 81
    refused = client.post(
        f"/account?lang={locale}", data={"csrf_token": token, "display_name": typed}
    )
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("text/html")
    assert SIGN_IN_PAGE_LABELS[locale] in refused.text, refused.text[:3000]
    assert "display_name" not in refused.text
    assert f">{typed}</textarea>" in refused.text  # what was typed is kept to copy
    # A browser is told the limit, so that in ordinary use it never sends more.
    form = client.get(f"/account?lang={locale}").text
    field = form[form.index('name="display_name"') :].split(">", 1)[0]
    assert 'maxlength="80"' in field
    # The API keeps the field's code: a program reads it.
    api = client.patch(
        "/api/v1/me",
        json={"display_name": "x" * 200},
        headers={**person.auth, "accept-language": locale},
    )
    body = assert_problem(api, 422)
    assert body["field"] == "display_name"


def test_a_field_sent_under_another_name_is_named_by_its_label(
    client: TestClient, world: World
) -> None:
    """A community's address name is sent as ``slug``, the route's ``community_slug``."""
    slug = world.brand()
    admin = world.member(slug, ["brand_admin"])
    token = sign_in(client, admin)
    refused = client.post(
        f"/b/{slug}/community/new?lang=ru",
        data={"csrf_token": token, "name": "Наушники", "slug": "a" * 41},
    )
    assert refused.status_code == 422
    label = _catalog("ru")["Address name"]
    assert f"Проверьте поле «{label}»: Слишком длинно: не более 40." in refused.text
    assert "поле slug" not in refused.text


def test_every_refused_field_of_a_form_is_named_not_only_the_first(
    client: TestClient, world: World
) -> None:
    """Two fields over their limit: the page said only the first, so the reader mended it,
    sent again and was refused again for the second."""
    slug = world.brand()
    admin = world.member(slug, ["brand_admin"])
    token = sign_in(client, admin)
    refused = client.post(
        f"/b/{slug}/community/new?lang=ru",
        data={"csrf_token": token, "name": "Н" * 121, "slug": "a" * 41, "description": "д" * 2001},
    )
    assert refused.status_code == 422
    ru = _catalog("ru")
    assert ru["Also check:"] in refused.text
    named = [ru[label] for label in ("Name", "Address name", "Description")]
    assert all(f"«{label}»" in refused.text for label in named)
    assert "не более 40" in refused.text
    assert "не более 2000" in refused.text
    assert "description" not in refused.text.split("<main", 1)[1].split("</section>")[0]


MALFORMED = {
    "en": "The request's body could not be read",
    "ru": "Не удалось прочитать тело запроса",
    "zh-Hans": "无法读取请求正文",
    "zh-Hant": "無法讀取請求本文",
}


@pytest.mark.parametrize("locale", LOCALES)
def test_a_malformed_body_is_said_in_the_readers_language(
    client: TestClient, world: World, locale: str
) -> None:
    """Starlette's "Missing boundary in multipart." and "Part exceeded maximum size of
    1024KB." reached every reader in English, under the code ``http_error``."""
    slug = world.brand()
    admin = world.member(slug, ["brand_admin"])
    headers = {**admin.auth, "accept-language": locale}
    url = f"/api/v1/brands/{slug}/imports"
    broken = client.post(
        url, content=b"garbage", headers={**headers, "content-type": "multipart/form-data"}
    )
    body = assert_problem(broken, 400)
    assert body["code"] == "malformed_body"
    assert MALFORMED[locale] in str(body["detail"])
    assert "boundary" not in str(body["detail"])
    big = client.post(
        url,
        files={"file": ("a.csv", b"x"), "publish": (None, b"y" * 1_100_000)},
        headers=headers,
    )
    body = assert_problem(big, 400)
    assert body["code"] == "part_too_large"
    assert "1024" in str(body["detail"])
    assert ("Part exceeded" in str(body["detail"])) is False
    # A browser gets the error page, in its language.
    token = sign_in(client, admin)
    page = client.post(
        f"/b/{slug}/help/import?lang={locale}",
        content=f"csrf_token={token}".encode(),
        headers={"content-type": "multipart/form-data"},  # no boundary
    )
    assert page.status_code == 400, page.text[:500]
    assert page.headers["content-type"].startswith("text/html")
    assert MALFORMED[locale] in page.text.replace("&#39;", "'")


FRAMEWORK = {
    401: ("unauthenticated", {"en": "Sign in to continue.", "ru": "Войдите, чтобы продолжить.",
                              "zh-Hans": "请登录后继续。", "zh-Hant": "請登入後繼續。"}),
    403: ("forbidden", {"en": "You are not allowed to do this here.",
                        "ru": "Здесь вам это делать нельзя.", "zh-Hans": "您无权在此执行此操作。",
                        "zh-Hant": "您無權在此執行此操作。"}),
    413: ("body_too_large", {"en": "This request is too large", "ru": "Этот запрос слишком большой",
                             "zh-Hans": "此请求过大", "zh-Hant": "此請求過大"}),
    415: ("unsupported_media_type", {"en": "does not accept content of type text/x-odd",
                                     "ru": "не принимает содержимое типа text/x-odd",
                                     "zh-Hans": "不接受 text/x-odd 类型",
                                     "zh-Hant": "不接受 text/x-odd 類型"}),
    422: ("unprocessable", {"en": "could not be processed as sent", "ru": "не удалось обработать",
                            "zh-Hans": "无法按原样处理", "zh-Hant": "無法按原樣處理"}),
    418: ("http_error", {"en": "HTTP status 418", "ru": "HTTP-статус 418",
                         "zh-Hans": "HTTP 状态 418", "zh-Hant": "HTTP 狀態 418"}),
}  # fmt: skip


@pytest.mark.parametrize("locale", LOCALES)
def test_the_frameworks_own_http_errors_have_a_code_and_the_readers_language(
    app: FastAPI, client: TestClient, locale: str
) -> None:
    @app.post("/api/v1/test-framework/{status}")
    @app.post("/test-framework/{status}")
    def raises(status: int) -> None:  # as Starlette or FastAPI's security classes do
        raise StarletteHTTPException(status, "Not authenticated, in English")

    for status, (code, said) in FRAMEWORK.items():
        headers = {"accept-language": locale, "content-type": "text/x-odd"}
        body = assert_problem(
            client.post(f"/api/v1/test-framework/{status}", headers=headers), status
        )
        assert body["code"] == code
        assert said[locale] in str(body["detail"]), body
        assert "English" not in str(body["detail"])
        page = client.post(f"/test-framework/{status}", headers={**headers, "accept": "text/html"})
        assert page.status_code == status
        assert page.headers["content-type"].startswith("text/html")
        assert said[locale] in page.text


def test_the_frameworks_headers_stay_on_its_errors(app: FastAPI, client: TestClient) -> None:
    """A 405 must say which methods the address takes (RFC 9110 §15.5.6), and a 503 may say
    when to come back: the translated answer dropped the framework's headers."""

    @app.post("/api/v1/test-headers")
    def busy() -> None:
        raise StarletteHTTPException(503, "Busy", headers={"Retry-After": "120"})

    wrong = client.delete("/api/v1/me")
    assert_problem(wrong, 405)
    assert "GET" in wrong.headers["allow"]
    page = client.delete("/", headers={"accept": "text/html"})
    assert page.status_code == 405
    assert "GET" in page.headers["allow"]
    busy_answer = client.post("/api/v1/test-headers")
    assert busy_answer.status_code == 503
    assert busy_answer.headers["retry-after"] == "120"


NO_FILE = {
    "en": "Choose a CSV file to import.",
    "ru": "Выберите CSV-файл для импорта.",
    "zh-Hans": "请选择要导入的 CSV 文件。",
    "zh-Hant": "請選擇要匯入的 CSV 檔案。",
}


@pytest.mark.parametrize("locale", LOCALES)
def test_an_import_sent_with_no_file_shows_the_import_page(
    client: TestClient, world: World, db: Database, locale: str
) -> None:
    """Sent with no file (a browser that skips ``required``, or none chosen: an empty part),
    the generic refusal page stood in for the import page."""
    kb = Kb(client, world)
    token = sign_in(client, kb.reviewer)
    url = f"/b/{kb.slug}/help/import?lang={locale}"
    for sent in (
        {"data": {"csrf_token": token, "publish": "on"}, "files": {"other": ("", b"")}},
        {"data": {"csrf_token": token}, "files": {"file": ("", b"")}},
    ):
        refused = client.post(url, **sent)  # type: ignore[arg-type]
        assert refused.status_code == 422, refused.text[:500]
        assert 'action="/b/' in refused.text  # the import form, again
        assert 'name="file"' in refused.text
        assert f'<p class="error" id="e-file" role="alert">{NO_FILE[locale]}</p>' in refused.text
        assert 'aria-describedby="e-file"' in refused.text
    with db.sessions() as session:
        assert session.query(ImportJob).count() == 0


def test_an_import_that_fails_inside_the_request_says_which_job_and_why(
    client: TestClient, world: World, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``wait=true`` answered a job that failed on our side with a bare 500 naming neither
    the job nor the reason: now 500 still (a fault of ours, which a retry may get past), with
    the job to look at and the reason's code; a refusal of the content is a 422."""
    kb = Kb(client, world)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(kb_service, "import_drafts", broken)
    for locale, said in (("en", "failed: The import stopped"), ("ru", "не удался")):
        failed = kb.client.post(
            kb.url("/imports"), params={"wait": "true"},
            files={"file": ("faq.csv", CSV.encode(), "text/csv")},
            headers={**kb.reviewer.auth, "accept-language": locale},
        )  # fmt: skip
        assert failed.status_code == 500, failed.text
        assert failed.headers["content-type"] == "application/problem+json"
        body = failed.json()
        assert body["code"] == "import_failed"
        assert body["reason"] == "unexpected"
        job = body["job"]
        assert job == kb.url(f"/imports/{body['job_id']}")
        assert job in str(body["detail"])
        assert said in str(body["detail"])
        state = client.get(str(job), headers=kb.reviewer.auth).json()
        assert state["state"] == "failed"

    def refused(*args: Any, **kwargs: Any) -> Any:
        from crowdcx.kernel.errors import AppError

        raise AppError(409, "article_changed", "The article changed meanwhile.")

    monkeypatch.setattr(kb_service, "import_drafts", refused)
    failed = kb.client.post(
        kb.url("/imports"), params={"wait": "true"},
        files={"file": ("faq.csv", CSV.encode(), "text/csv")}, headers=kb.reviewer.auth,
    )  # fmt: skip
    body = assert_problem(failed, 422)
    assert (body["code"], body["reason"]) == ("import_failed", "article_changed")
    assert "The article changed meanwhile." in str(body["detail"])
