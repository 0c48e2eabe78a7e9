"""FAQ imports as background jobs: the upload is checked and stored at once (202), a worker
runs it (here called directly: no sleeping), and the job reports its progress and summary.
A 10,000-row import ran inside the request for 12–60 s, holding the request and, on SQLite
with one handler thread, its whole worker."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from crowdcx.kernel.db import Database
from crowdcx.kernel.models import utcnow
from crowdcx.knowledge import jobs
from crowdcx.knowledge import service as kb_service
from crowdcx.knowledge.models import Article, ImportJob
from tests.conftest import Person, World
from tests.knowledge.test_api import CSV, Kb
from tests.knowledge.test_rules import UNREADABLE
from tests.tickets.test_pages import sign_in


def _upload(
    kb: Kb,
    content: str = CSV,
    publish: bool = True,
    *,
    who: Person | None = None,
    language: str | None = None,
    **params: Any,
) -> Any:
    """Upload ``content`` as ``who`` (the reviewer) reading ``language`` (None: their own)."""
    return kb.client.post(
        kb.url("/imports"), params=params,
        files={"file": ("faq.csv", content.encode(), "text/csv")},
        data={"publish": "true" if publish else "false"},
        headers={**(who or kb.reviewer).auth,
                 **({"Accept-Language": language} if language else {})},
    )  # fmt: skip


def _articles(db: Database) -> int:
    with db.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Article)) or 0)


def _job(db: Database, job_id: int) -> ImportJob:
    with db.sessions() as session:
        return session.get_one(ImportJob, job_id)


def test_an_import_is_accepted_at_once_and_polled_to_its_summary(
    client: TestClient, world: World, db: Database
) -> None:
    kb = Kb(client, world)
    r = _upload(kb)
    assert r.status_code == 202, r.text
    location = r.headers["location"]
    job_id = r.json()["id"]
    assert location == kb.url(f"/imports/{job_id}")
    assert r.json()["state"] == "queued"
    assert r.json()["progress"] == {"rows_total": 8, "rows_done": 0, "imported": 0, "skipped": 0}
    assert r.json()["summary"] is None
    assert _articles(db) == 0  # nothing imported inside the request
    queued = client.get(location, headers=kb.reviewer.auth)
    assert queued.status_code == 200
    assert queued.json()["state"] == "queued"

    assert jobs.run_pending(db) == 1
    done = client.get(location, headers=kb.reviewer.auth).json()
    assert done["state"] == "done", done
    assert done["progress"]["rows_done"] == 8
    assert done["started_at"]
    assert done["finished_at"]
    summary = done["summary"]
    # The same summary the import answered with when it ran inside the request.
    other = Kb(client, world)
    inline = _upload(other, wait="true")
    assert inline.status_code == 200, inline.text
    expected = inline.json()
    assert (summary["imported"], summary["skipped"]) == (expected["imported"], 4) == (4, 4)
    assert summary["problems"] == expected["problems"]
    assert len(summary["article_ids"]) == 4
    codes = sorted(p["code"] for p in summary["problems"])
    assert codes == ["bad_language", "bad_visibility", "duplicate_row", "required"]
    assert kb.search("退款", kb.customer)["results"]
    # The stored file is dropped once the job is done.
    assert _job(db, job_id).content is None
    assert jobs.run_pending(db) == 0


def test_a_job_is_read_by_its_brand_only_and_refused_uploads_store_nothing(
    client: TestClient, world: World, db: Database
) -> None:
    kb = Kb(client, world)
    job_id = _upload(kb).json()["id"]
    other = Kb(client, world)
    r = client.get(other.url(f"/imports/{job_id}"), headers=other.reviewer.auth)
    assert r.status_code == 404
    assert r.json()["code"] == "import_not_found"
    assert client.get(kb.url(f"/imports/{job_id}"), headers=kb.customer.auth).status_code == 403
    # Another author of the brand does not read the reviewer's import; a reviewer reads all.
    assert client.get(kb.url(f"/imports/{job_id}"), headers=kb.expert.auth).status_code == 404
    assert client.get(kb.url("/imports/99999"), headers=kb.reviewer.auth).status_code == 404
    for bad in (b"title,body\nx,y\n", b"", UNREADABLE):
        r = client.post(
            kb.url("/imports"), files={"file": ("f.csv", bad, "text/csv")},
            headers=kb.author.auth,
        )  # fmt: skip
        assert r.status_code == 422, r.text
    assert _upload(kb, publish=True).status_code == 202
    r = client.post(
        kb.url("/imports"), files={"file": ("f.csv", CSV.encode(), "text/csv")},
        data={"publish": "true"}, headers=kb.expert.auth,
    )  # fmt: skip
    assert r.status_code == 403
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ImportJob)) == 2


def test_a_job_two_workers_reach_runs_once(client: TestClient, world: World, db: Database) -> None:
    kb = Kb(client, world)
    job_id = _upload(kb).json()["id"]
    at = utcnow()
    first = jobs.claim(db, job_id, at)
    assert first is not None
    assert jobs.claim(db, job_id, at) is None  # a second process finds it taken
    assert jobs.run_job(db, job_id) is False
    assert jobs.run_pending(db) == 0
    assert _articles(db) == 0
    # Another process on its own engine (a second server process) finds it taken too.
    second = Database(db.url)
    try:
        assert jobs.run_pending(second) == 0
    finally:
        second.dispose()
    assert _job(db, job_id).state == "running"


class _Crash(BaseException):
    """The process dying mid-import (nothing catches it)."""


def test_a_stale_running_job_is_resumed_where_it_stopped(
    client: TestClient, world: World, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kb_service, "IMPORT_CHUNK", 2)
    kb = Kb(client, world)
    job_id = _upload(kb).json()["id"]
    original = kb_service.create_article
    calls: list[int] = []

    def crash_on_the_fourth(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 4:  # the third row, imported after the first chunk, is not committed
            raise _Crash
        return original(*args, **kwargs)

    monkeypatch.setattr(kb_service, "create_article", crash_on_the_fourth)
    with pytest.raises(_Crash):
        jobs.run_job(db, job_id)
    monkeypatch.setattr(kb_service, "create_article", original)
    left = _job(db, job_id)
    assert left.state == "running"
    assert left.imported == 2  # the first chunk was committed with its progress
    assert 0 < left.rows_done < 8
    assert _articles(db) == 2
    # Still fresh: nobody takes it over.
    assert jobs.run_pending(db) == 0
    later = utcnow() + jobs.STALE_AFTER + timedelta(seconds=1)
    assert jobs.run_pending(db, now=later) == 1
    done = client.get(kb.url(f"/imports/{job_id}"), headers=kb.reviewer.auth).json()
    assert done["state"] == "done", done
    summary = done["summary"]
    assert (summary["imported"], summary["skipped"]) == (4, 4), summary
    assert "exists" not in [p["code"] for p in summary["problems"]]  # not counted twice
    assert len(set(summary["article_ids"])) == 4
    assert _articles(db) == 4


def test_a_worker_that_lost_its_job_does_not_commit_its_chunk(
    client: TestClient, world: World, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker stalled past STALE_AFTER (not dead) whose job was taken over: its next chunk
    is rolled back instead of importing the same rows beside the new worker."""
    monkeypatch.setattr(kb_service, "IMPORT_CHUNK", 2)
    kb = Kb(client, world)
    job_id = _upload(kb).json()["id"]
    original = kb_service.faq_rows

    def taken_over_meanwhile(parsed: Any) -> Any:
        # Another process claims the job as stale just as this one starts on it.
        assert jobs.claim(db, job_id, utcnow() + jobs.STALE_AFTER * 2) is not None
        return original(parsed)

    monkeypatch.setattr(kb_service, "faq_rows", taken_over_meanwhile)
    assert jobs.run_job(db, job_id) is False
    assert _articles(db) == 0
    assert _job(db, job_id).state == "running"


def test_a_job_that_fails_says_why(
    client: TestClient, world: World, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    kb = Kb(client, world)
    job_id = _upload(kb).json()["id"]

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(kb_service, "create_article", broken)
    assert jobs.run_pending(db) == 1
    location = kb.url(f"/imports/{job_id}")
    job = client.get(location, headers={**kb.reviewer.auth, "Accept-Language": "en"}).json()
    assert job["state"] == "failed"
    assert job["error"] == "The import stopped on an unexpected error; try again."  # no internals
    assert jobs.run_pending(db, now=utcnow() + jobs.STALE_AFTER * 2) == 0  # not retried
    # Stored as the reason's code, said in each reader's language.
    assert _job(db, job_id).error == "unexpected"
    ru = client.get(location, headers={**kb.reviewer.auth, "Accept-Language": "ru"}).json()
    assert ru["error"].startswith("Импорт остановился из-за непредвиденной ошибки")
    # A job failed before codes were stored keeps its sentence.
    with db.transaction() as uow:
        uow.session.get_one(ImportJob, job_id).error = "Импорт остановлен."
    assert client.get(location, headers=kb.reviewer.auth).json()["error"] == "Импорт остановлен."


def test_the_import_page_shows_progress_then_the_summary(
    client: TestClient, world: World, db: Database
) -> None:
    kb = Kb(client, world)
    token = sign_in(client, kb.reviewer)
    client.cookies.set("crowdcx_locale", "ru")
    r = client.post(
        f"/b/{kb.slug}/help/import",
        data={"csrf_token": token, "publish": "on"},
        files={"file": ("faq.csv", CSV.encode(), "text/csv")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:300]
    location = r.headers["location"]
    assert location.startswith(f"/b/{kb.slug}/help/import/")
    waiting = client.get(location)
    assert waiting.status_code == 200
    assert 'http-equiv="refresh"' in waiting.text
    assert "faq.csv" in waiting.text
    assert "0 / 8" in waiting.text
    assert jobs.run_pending(db) == 1
    done = client.get(location)
    assert done.status_code == 200
    assert 'http-equiv="refresh"' not in done.text
    assert "Импортировано: 4, пропущено: 4." in done.text, done.text[-3000:]
    # The skipped rows' reasons, in the uploader's language (the worker has no request).
    assert "«fr» — неподдерживаемый язык" in done.text
    # Another brand's job is not found from this brand.
    other = Kb(client, world)
    job_id = location.rsplit("/", 1)[1]
    assert client.get(f"/b/{other.slug}/help/import/{job_id}").status_code in (403, 404)


def test_a_windows_encoded_csv_imports_and_the_page_says_how_it_was_read(
    client: TestClient, world: World, db: Database
) -> None:
    """A Russian admin's Excel saves Windows-1251; a mainland one's saves GBK. Both files
    import with their text intact, and the page names the encoding it read, so that a wrong
    guess (possible on a very short file) is seen before anyone publishes."""
    slug = world.brand(default_locale="ru", locales=["ru", "en"])
    admin = world.member(slug, ["brand_admin"])
    token = sign_in(client, admin)
    content = "question,answer,language\r\nКак сменить тариф?,В приложении «Мой тариф».,ru\r\n"
    r = client.post(
        f"/b/{slug}/help/import",
        files={"file": ("faq.csv", content.encode("cp1251"), "text/csv")},
        data={"csrf_token": token, "publish": "on"}, follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 303, r.text
    assert r.headers["location"].endswith("?read_as=cp1251")
    assert jobs.run_pending(db) == 1
    page = client.get(r.headers["location"]).text
    assert "Windows-1251" in page
    assert "1 imported" in page or "1 импортировано" in page, page
    with db.sessions() as session:
        titles = session.scalars(select(Article.title).where(Article.title.like("Как%"))).all()
    assert titles == ["Как сменить тариф?"]
    # A UTF-8 file says nothing of encodings; a made-up read_as is ignored.
    r = client.post(
        f"/b/{slug}/help/import",
        files={"file": ("faq.csv", content.replace("тариф", "пакет").encode(), "text/csv")},
        data={"csrf_token": token}, follow_redirects=False,
    )  # fmt: skip
    assert "read_as" not in r.headers["location"]
    assert "Windows-1251" not in client.get(r.headers["location"] + "?read_as=cp1251x").text
    # The API takes the same files: GBK for a brand serving Simplified Chinese.
    kb = Kb(client, world)
    gbk = "question,answer,language\n如何退货？,打开订单，点击退货。,zh-Hans\n".encode("gbk")
    summary = kb.import_file(kb.author, gbk)
    assert summary["imported"] == 1, summary
    titles = [a["title"] for a in kb.get("/articles", kb.author).json()["items"]]
    assert "如何退货？" in titles


def test_the_housekeeping_drops_jobs_ended_a_month_ago_and_keeps_unfinished_ones(
    client: TestClient, world: World, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Import jobs were kept forever after they ended; the hourly housekeeping now drops the
    ones that ended more than 30 days ago — not a queued or running one, however old."""
    from crowdcx.tickets.sweeper import housekeep

    kb = Kb(client, world)
    done = _upload(kb).json()["id"]
    assert jobs.run_pending(db) == 1
    failed = _upload(kb).json()["id"]

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk on fire")

    with monkeypatch.context() as patched:
        patched.setattr(kb_service, "import_drafts", broken)
        assert jobs.run_pending(db) == 1
    running = _upload(kb).json()["id"]
    assert jobs.claim(db, running, utcnow()) is not None  # a worker holds it (and then dies)
    queued = _upload(kb).json()["id"]

    def states() -> dict[int, int]:
        return {
            job_id: client.get(kb.url(f"/imports/{job_id}"), headers=kb.reviewer.auth).status_code
            for job_id in (done, failed, running, queued)
        }

    assert _job(db, done).state == "done"
    assert _job(db, failed).state == "failed"
    ended = utcnow()
    month = jobs.KEEP_FINISHED
    assert "import_jobs_pruned" not in housekeep(db, ended + month - timedelta(hours=1))
    assert set(states().values()) == {200}
    assert housekeep(db, ended + month + timedelta(hours=1)).get("import_jobs_pruned") == 2
    assert states() == {done: 404, failed: 404, running: 200, queued: 200}
    assert _articles(db) == 4  # the articles a dropped job imported stay
    # A year on, the unfinished ones are still there for a worker to take.
    assert "import_jobs_pruned" not in housekeep(db, ended + timedelta(days=365))
    assert states() == {done: 404, failed: 404, running: 200, queued: 200}


def _recent_rows(html: str) -> list[str]:
    table = html.split('data-testid="recent-imports"', 1)[1].split("</table>", 1)[0]
    return table.split("<tbody>", 1)[1].split("</tr>")[:-1]


def test_the_import_page_lists_the_last_ten_imports_newest_first(
    client: TestClient, world: World, db: Database
) -> None:
    """The import page listed no earlier import: now it shows the last ten, newest first,
    with when, who, the file, its state and counts, each linking to the job's page — all of
    the brand's for a reviewer, their own for another author (the jobs they may open)."""
    kb = Kb(client, world)

    def page_as(person: Any) -> str:
        sign_in(client, person)
        client.cookies.set("crowdcx_locale", "ru")
        r = client.get(f"/b/{kb.slug}/help/import")
        assert r.status_code == 200
        return str(r.text)

    empty = page_as(kb.reviewer)
    assert "Последние импорты" in empty
    assert "Импортов пока не было." in empty
    assert 'data-testid="recent-imports"' not in empty

    first = _upload(kb).json()["id"]
    assert jobs.run_pending(db) == 1
    (row,) = _recent_rows(page_as(kb.reviewer))
    assert f'href="/b/{kb.slug}/help/import/{first}"' in row
    assert "faq.csv" in row
    assert "审核" in row  # who uploaded it
    assert "Импорт завершён" in row
    assert row.endswith("<td>4</td><td>4</td>")  # rows imported, rows skipped

    queued = [
        client.post(
            kb.url("/imports"), files={"file": (f"faq-{i}.csv", CSV.encode(), "text/csv")},
            headers=kb.reviewer.auth,
        ).json()["id"]
        for i in range(10)
    ]  # fmt: skip
    own = client.post(
        kb.url("/imports"), files={"file": ("mine.csv", CSV.encode(), "text/csv")},
        headers=kb.expert.auth,
    ).json()["id"]  # fmt: skip

    listed = page_as(kb.reviewer)
    assert "Импортов пока не было." not in listed
    rows = _recent_rows(listed)
    links = [f"/b/{kb.slug}/help/import/{job_id}" for job_id in [own, *queued[::-1]][:10]]
    assert len(rows) == 10
    for row, link in zip(rows, links, strict=True):
        assert f'href="{link}"' in row
        assert client.get(link).status_code == 200
    assert "mine.csv" in rows[0]
    assert "专家" in rows[0]  # an expert's upload, seen by the reviewer
    assert "faq-9.csv" in rows[1]
    assert "Ожидает запуска" in rows[1]
    assert "faq-0.csv" not in listed  # the eleventh newest and older are not listed
    assert f'/help/import/{first}"' not in listed

    # An author who is not a reviewer sees only their own imports (others' are a 404).
    (mine,) = _recent_rows(page_as(kb.expert))
    assert "mine.csv" in mine
    other = Kb(client, world)
    sign_in(client, other.reviewer)
    client.cookies.set("crowdcx_locale", "ru")
    assert "Импортов пока не было." in client.get(f"/b/{other.slug}/help/import").text


def test_skip_reasons_are_read_in_the_readers_language(
    client: TestClient, world: World, db: Database
) -> None:
    """A Russian admin uploads; a Chinese colleague reads the summary later: the reasons and
    the line numbers are said again in the reader's language, not stored Russian."""
    kb = Kb(client, world)
    r = kb.client.post(
        kb.url("/imports"), files={"file": ("faq.csv", CSV.encode(), "text/csv")},
        data={"publish": "true"}, headers={**kb.reviewer.auth, "Accept-Language": "ru"},
    )  # fmt: skip
    assert r.status_code == 202, r.text
    jobs.run_pending(db)
    stored = _job(db, r.json()["id"]).problems
    assert any("строка" in str(p["where"]) for p in stored)  # written in the uploader's

    def problems(lang: str) -> dict[str, dict[str, str]]:
        got = client.get(r.headers["location"], headers={**kb.author.auth, "Accept-Language": lang})
        assert got.status_code == 200, got.text
        return {p["code"]: p for p in got.json()["summary"]["problems"]}

    zh = problems("zh-Hans")
    assert zh["bad_visibility"]["reason"].startswith("“vip”不是有效的可见范围")
    assert zh["bad_visibility"]["where"] == "第 7 行“visibility”列"
    assert zh["duplicate_row"]["where"] == "第 8 行"
    assert "строка" not in str(zh)
    ru = problems("ru")
    assert ru["bad_visibility"]["where"] == "строка 7, столбец «visibility»"
    assert "vip" in ru["bad_visibility"]["reason"]
    assert problems("en")["bad_visibility"]["where"] == "line 7, column “visibility”"
    # The page says it in its reader's language too.
    sign_in(client, kb.author)
    client.cookies.set("crowdcx_locale", "zh-Hant")
    page = client.get(f"/b/{kb.slug}/help/import/{r.json()['id']}")
    assert page.status_code == 200
    assert "第 7 行" in page.text
    assert "「vip」不是有效的可見範圍" in page.text
    assert "строка" not in page.text


def test_a_summary_stored_before_codes_were_kept_reads_as_stored() -> None:
    old = [{"where": "строка 3", "code": "bad_language", "reason": "Язык «fr» не поддерживается."}]
    assert kb_service.problem_reasons(old) == old
    odd = [{"where": "a.md", "code": "too_long", "field": "title", "params": {}, "reason": "x"}]
    assert kb_service.problem_reasons(odd)[0]["reason"] == "x"  # parameters it cannot fill


def test_why_a_job_failed_is_read_in_the_readers_language(
    client: TestClient, world: World, db: Database
) -> None:
    """An author uploads a draft import in Russian, then loses the author role before the
    worker runs it: the job fails as refused, and each reader — the API in Chinese, the page
    in Traditional Chinese — is told why in their own language, not in stored Russian."""
    kb = Kb(client, world)
    r = _upload(kb, publish=False, who=kb.author, language="ru")
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    taken = client.put(
        f"/api/v1/brands/{kb.slug}/members/{kb.author.id}",
        json={"roles": ["customer"]}, headers=kb.reviewer.auth,
    )  # fmt: skip
    assert taken.status_code == 200, taken.text
    assert jobs.run_pending(db) == 1
    assert _job(db, job_id).error == "not_author"  # the reason's code, in no one's language
    assert _articles(db) == 0

    def error(lang: str) -> str:
        got = client.get(
            r.headers["location"], headers={**kb.reviewer.auth, "Accept-Language": lang}
        )
        assert got.status_code == 200, got.text
        assert got.json()["state"] == "failed"
        return str(got.json()["error"])

    assert error("en") == "Only the brand's authors can write help-center articles."
    assert error("zh-Hans") == "只有品牌的作者可以撰写帮助中心文章。"
    assert error("ru").startswith("Писать статьи справочного центра могут только авторы")
    sign_in(client, kb.reviewer)
    client.cookies.set("crowdcx_locale", "zh-Hant")
    page = client.get(f"/b/{kb.slug}/help/import/{job_id}")
    assert page.status_code == 200
    assert "只有品牌的作者可以撰寫說明中心文章。" in page.text
    assert "Писать" not in page.text


LACKS_LANGUAGE = {
    "en": "The header row lacks the column(s) language; expected question,answer,language,",
    "ru": "В строке заголовков нет столбцов language; ожидаются",
    "zh-Hans": "标题行缺少列 language；应为",
    "zh-Hant": "標題行缺少列 language；應為",
}


def test_a_file_refused_inside_the_job_is_said_in_each_readers_language(
    client: TestClient, world: World, db: Database
) -> None:
    """A job whose stored file the worker refuses (one stored by a release that read it
    otherwise; here its header changed underneath) stored the refusal's sentence in the
    uploader's Russian: every reader got Russian. It now stores the code and parameters,
    and each reader is told in their language."""
    kb = Kb(client, world)
    r = _upload(kb, publish=False, language="ru")
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    with db.transaction() as uow:
        job = uow.session.get_one(ImportJob, job_id)
        job.content = "question,answer\nq,a\n"
    assert jobs.run_pending(db) == 1
    stored = _job(db, job_id).error or ""
    assert '"code": "missing_columns"' in stored  # the code and parameters, not only a sentence
    assert '"params": {"columns": "language"}' in stored
    assert jobs.failure(stored) == jobs.Failure(
        "missing_columns", LACKS_LANGUAGE["en"] + "tags,visibility."
    )
    for lang, said in LACKS_LANGUAGE.items():
        got = client.get(
            r.headers["location"], headers={**kb.reviewer.auth, "Accept-Language": lang}
        ).json()
        assert got["state"] == "failed"
        assert got["error"].startswith(said), (lang, got["error"])
    sign_in(client, kb.reviewer)
    client.cookies.set("crowdcx_locale", "zh-Hant")
    page = client.get(f"/b/{kb.slug}/help/import/{job_id}")
    assert page.status_code == 200
    assert LACKS_LANGUAGE["zh-Hant"] in page.text
    assert "В строке" not in page.text


@pytest.mark.parametrize("lang", sorted(LACKS_LANGUAGE))
def test_a_refusal_inside_a_waited_import_answers_its_code(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch, lang: str
) -> None:
    """``wait=true`` answered a refusal of the file inside the job with reason ``refused``
    and the sentence in the uploader's language; now the refusal's code, and the reader's
    language."""
    from types import SimpleNamespace

    from crowdcx.knowledge import rules

    refuse = rules.Violation("missing_columns", "file", {"columns": "language"})
    monkeypatch.setattr(
        jobs, "rules", SimpleNamespace(parse_faq_csv=lambda _c: refuse, Violation=rules.Violation)
    )  # the job's own reading of the file, as by another release
    kb = Kb(client, world)
    failed = _upload(kb, language=lang, wait="true")
    assert failed.status_code == 422, failed.text
    assert failed.headers["content-type"] == "application/problem+json"
    body = failed.json()
    assert (body["code"], body["reason"]) == ("import_failed", "missing_columns")
    assert LACKS_LANGUAGE[lang] in body["detail"]
    assert body["job"] in body["detail"]


def test_a_job_failed_before_codes_were_stored_keeps_its_sentence() -> None:
    old = "Файл не является корректным CSV: строка 3."
    assert jobs.failure(old) == jobs.Failure("refused", old)
    assert jobs.failure("{not json") == jobs.Failure("refused", "{not json")
    kept = '{"code": "article_changed", "reason": "The article changed meanwhile."}'
    assert jobs.failure(kept) == jobs.Failure("article_changed", "The article changed meanwhile.")
    assert jobs.failure('{"code": "not_author"}') == jobs.Failure(
        "not_author", "Only the brand's authors can write help-center articles."
    )
    assert jobs.failure(None) is None
