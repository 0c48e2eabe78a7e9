"""Help-center pages through HTTP forms, and the ``crowdcx import-faq`` command."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import update
from typer.testing import CliRunner

from crowdcx.kernel.db import Database
from crowdcx.kernel.models import utcnow
from crowdcx.knowledge.models import Article
from tests.conftest import World
from tests.knowledge.test_api import CSV, STAFF_TITLE, Kb
from tests.tickets.test_pages import sign_in


def test_reader_searches_opens_and_says_it_solved_it(client: TestClient, world: World) -> None:
    kb = Kb(client, world)
    kb.seed()
    aid = kb.write("耳机无法连接蓝牙怎么办？", "长按充电盒按钮 **10 秒**，然后重新配对蓝牙。")
    kb.publish(aid)
    client.cookies.clear()
    home = client.get(f"/b/{kb.slug}/help", params={"q": "蓝牙连不上"})
    assert home.status_code == 200
    assert "耳机无法连接蓝牙怎么办？" in home.text
    assert "<mark>" in home.text
    fragment = client.get(
        f"/b/{kb.slug}/help/search", params={"q": "藍牙"}, headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert f"/help/articles/{aid}" in fragment.text
    nothing = client.get(
        f"/b/{kb.slug}/help/search", params={"q": "qwertyuiop"}, headers={"HX-Request": "true"}
    )
    assert f"/b/{kb.slug}/tickets/new" in nothing.text  # the next lane is offered
    article = client.get(f"/b/{kb.slug}/help/articles/{aid}", params={"q": "蓝牙"})
    assert article.status_code == 200
    assert "<strong>10 秒</strong>" in article.text
    token = client.cookies.get("crowdcx_csrf")
    done = client.post(
        f"/b/{kb.slug}/help/articles/{aid}/feedback",
        data={"csrf_token": token, "helpful": "yes", "q": "蓝牙"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    stats = kb.get("/search/deflection", kb.reviewer).json()
    assert stats["opened"] == 1
    assert stats["solved"] == 1


def test_a_plain_search_keeps_the_whole_query(client: TestClient, world: World) -> None:
    """Without htmx, /help/search redirects to /help?q=…, encoded: & # + % and CJK intact."""
    slug = world.brand()
    for q in ["AT&T роуминг", "C# 教程", "退货 + 退款", "如何申請退貨？運費 50% & 發票 #2"]:
        r = client.get(f"/b/{slug}/help/search", params={"q": q}, follow_redirects=False)
        assert r.status_code == 303
        location = r.headers["location"]
        assert parse_qs(urlsplit(location).query)["q"] == [q], location
        home = client.get(location)
        assert home.status_code == 200
        assert f'value="{escape(q)}"' in home.text


def test_a_missing_article_is_explained_in_the_readers_language(
    client: TestClient, world: World
) -> None:
    """The error page's heading and the API problem's title speak the reader's language too
    (they were English on a Russian or Chinese page: "Not found" over a Russian sentence)."""
    kb = Kb(client, world)
    client.cookies.clear()
    page = client.get(f"/b/{kb.slug}/help/articles/999", headers={"Accept-Language": "ru"})
    assert page.status_code == 404
    assert "<h1>Не найдено</h1>" in page.text
    assert "Not found" not in page.text
    r = client.get(kb.url("/articles/999"), headers={"Accept-Language": "zh-TW"})
    assert (r.status_code, r.json()["title"]) == (404, "找不到")
    r = client.post(kb.url("/articles"), json={"title": "x"}, headers={"Accept-Language": "ru"})
    assert (r.status_code, r.json()["title"]) == (401, "Вы не вошли")


def test_help_pages_keep_staff_articles_from_experts(
    client: TestClient, world: World, db: Database
) -> None:
    """The review queue, the stale list, "my drafts", the home lists, the article and editor
    pages show an expert nothing staff-only, and the editor offers no visibility above theirs."""
    kb = Kb(client, world)
    live = kb.write(STAFF_TITLE, "仅限员工。", visibility="staff")
    kb.publish(live)
    fresh = kb.write("如何申请退货？", "签收后 7 天内可退货。")
    kb.publish(fresh)
    queued = kb.write("内部：待审核的员工文章", "仅限员工。", visibility="staff")
    assert kb.post(f"/articles/{queued}/submit", kb.author).status_code == 200
    r = kb.post(
        "/articles", kb.expert, {"title": "专家的草稿", "body": "草稿。", "language": "zh-Hans"}
    )
    raised = r.json()["id"]
    r = client.patch(
        kb.url(f"/articles/{raised}"),
        json={"title": "内部：员工改写的草稿", "visibility": "staff"},
        headers=kb.reviewer.auth,
    )
    assert r.status_code == 200
    # A staff-only revision of a public article: experts keep reading the live copy only.
    r = client.patch(
        kb.url(f"/articles/{fresh}"), json={"body": "内部：员工可免运费。", "visibility": "staff"},
        headers=kb.reviewer.auth,
    )  # fmt: skip
    assert r.status_code == 200
    with db.transaction() as uow:  # both live articles are due for a freshness review
        uow.session.execute(
            update(Article)
            .where(Article.id.in_([live, fresh]))
            .values(review_by=utcnow() - timedelta(days=1))
        )
    staff_titles = [STAFF_TITLE, "内部：待审核的员工文章", "内部：员工改写的草稿"]
    sign_in(client, kb.reviewer)
    staff_review = client.get(f"/b/{kb.slug}/help/review").text
    assert STAFF_TITLE in staff_review  # stale
    assert "内部：待审核的员工文章" in staff_review  # waiting for review
    token = sign_in(client, kb.expert)
    review = client.get(f"/b/{kb.slug}/help/review")
    assert review.status_code == 200
    assert "如何申请退货？" in review.text  # the stale list still has what experts may read
    home = client.get(f"/b/{kb.slug}/help")
    assert "如何申请退货？" in home.text
    for page in (review, home):
        assert not [t for t in staff_titles if t in page.text]
    for aid in (live, queued, raised):
        assert client.get(f"/b/{kb.slug}/help/articles/{aid}").status_code == 404
        assert client.get(f"/b/{kb.slug}/help/articles/{aid}/edit").status_code == 404
    for url in (f"/help/articles/{fresh}", f"/help/articles/{fresh}?draft=1"):
        reader = client.get(f"/b/{kb.slug}{url}")
        assert "签收后 7 天内可退货。" in reader.text
        assert "内部：员工可免运费。" not in reader.text
        assert f"/help/articles/{fresh}/edit" not in reader.text  # no editor's card
    assert client.get(f"/b/{kb.slug}/help/articles/{fresh}/edit").status_code == 403
    editor = client.get(f"/b/{kb.slug}/help/new")
    assert 'value="experts"' in editor.text
    assert 'value="staff"' not in editor.text
    made = client.post(
        f"/b/{kb.slug}/help/new",
        data={"csrf_token": token, "title": "固件降级", "body": "步骤。", "language": "zh-Hans",
              "visibility": "staff"},
    )  # fmt: skip
    assert made.status_code == 422
    assert "You can only give an article a visibility you may read yourself" in made.text


def test_the_article_page_shows_readers_the_published_tags(
    client: TestClient, world: World
) -> None:
    kb = Kb(client, world)
    aid = kb.write("Roaming in Europe", "Roaming is free in the EU.", "en", tags=["roaming"])
    kb.publish(aid)
    r = client.patch(
        kb.url(f"/articles/{aid}"), json={"tags": ["internal-waiver"]}, headers=kb.author.auth
    )
    assert r.status_code == 200
    client.cookies.clear()
    reader = client.get(f"/b/{kb.slug}/help/articles/{aid}")
    assert reader.status_code == 200
    assert "internal-waiver" not in reader.text
    assert "roaming" in reader.text  # the live copy's tags
    sign_in(client, kb.author)
    assert "internal-waiver" in client.get(f"/b/{kb.slug}/help/articles/{aid}?draft=1").text


def test_author_writes_with_preview_and_reviewer_publishes(
    client: TestClient, world: World
) -> None:
    kb = Kb(client, world)
    token = sign_in(client, kb.author)
    preview = client.post(
        f"/b/{kb.slug}/help/preview",
        data={"csrf_token": token, "body": "**粗体** <script>x</script>"},
    )
    assert "<strong>粗体</strong>" in preview.text
    assert "<script>" not in preview.text
    bad = client.post(
        f"/b/{kb.slug}/help/new",
        data={
            "csrf_token": token,
            "title": "",
            "body": "x",
            "language": "en",
            "visibility": "public",
        },
    )
    assert bad.status_code == 422
    assert "This field is required." in bad.text
    made = client.post(
        f"/b/{kb.slug}/help/new",
        data={"csrf_token": token, "title": "Смена тарифа", "body": "В приложении.",
              "language": "ru", "tags": "тарифы | приложение", "visibility": "public"},
        follow_redirects=False,
    )  # fmt: skip
    assert made.status_code == 303
    aid = int(made.headers["location"].split("/")[-1].split("?")[0])
    client.post(
        f"/b/{kb.slug}/help/articles/{aid}/act", data={"csrf_token": token, "action": "submit"}
    )
    token = sign_in(client, kb.reviewer)
    queue = client.get(f"/b/{kb.slug}/help/review")
    assert "Смена тарифа" in queue.text
    for action in ("approve", "publish"):
        r = client.post(
            f"/b/{kb.slug}/help/articles/{aid}/act",
            data={"csrf_token": token, "action": action},
            follow_redirects=False,
        )
        assert r.status_code == 303
    assert kb.search("тарифы", kb.customer)["results"][0]["id"] == str(aid)


def test_import_page_shows_the_summary(client: TestClient, world: World, db: Database) -> None:
    from crowdcx.knowledge import jobs

    kb = Kb(client, world)
    token = sign_in(client, kb.reviewer)
    r = client.post(
        f"/b/{kb.slug}/help/import",
        data={"csrf_token": token, "publish": "on"},
        files={"file": ("faq.csv", CSV.encode(), "text/csv")},
    )
    assert r.status_code == 200  # the import's page, waiting for the worker
    jobs.run_pending(db)
    r = client.get(str(r.url))
    assert "4 imported, 4 skipped." in r.text
    assert "fr" in r.text


def test_cli_imports_csv_and_markdown(
    client: TestClient, world: World, database_url: str, tmp_path: Path, monkeypatch: object
) -> None:
    from crowdcx.cli import app as cli

    kb = Kb(client, world)
    admin = world.person(platform_admin=True)
    csv_file = tmp_path / "faq.csv"
    csv_file.write_text(CSV, encoding="utf-8")
    folder = tmp_path / "md"
    folder.mkdir()
    (folder / "roaming.md").write_text(
        "---\nlanguage: ru\ntags: [роуминг]\n---\n# Роуминг за границей\n\nПодключите пакет.\n",
        encoding="utf-8",
    )
    (folder / "broken.md").write_text("---\nlanguage: [\n---\nbody", encoding="utf-8")
    env = {"CROWDCX_DATABASE_URL": database_url}
    runner = CliRunner()
    out = runner.invoke(
        cli, ["import-faq", "--brand", kb.slug, str(csv_file), "--publish", "--as", admin.email],
        env=env,
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "4 imported" in out.output
    assert "4 skipped" in out.output
    out = runner.invoke(
        cli, ["import-faq", "--brand", kb.slug, str(folder), "--publish", "--as", admin.email],
        env=env,
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "1 imported" in out.output
    assert "broken.md" in out.output
    found = kb.search("роуминг", kb.customer)["results"]
    assert found
    assert found[0]["title"] == "Роуминг за границей"
    missing = runner.invoke(cli, ["import-faq", "--brand", kb.slug, "/nope.csv"], env=env)
    assert missing.exit_code == 2


def test_markdown_import_skips_a_file_it_cannot_read_and_goes_into_folders(
    client: TestClient, world: World, database_url: str, tmp_path: Path
) -> None:
    """Front matter with a key that is not text (``2024: notes``) made python-frontmatter
    raise TypeError, and a folder named ``*.md`` made reading it raise IsADirectoryError:
    either one ended the whole import with a traceback."""
    from crowdcx.cli import app as cli
    from crowdcx.knowledge.service import markdown_rows

    kb = Kb(client, world)
    admin = world.person(platform_admin=True)
    folder = tmp_path / "md"
    (folder / "archive.md").mkdir(parents=True)
    (folder / "archive.md" / "apn.md").write_text(
        "---\nlanguage: ru\n---\n# Настройка APN\n\nУкажите internet.\n", encoding="utf-8"
    )
    (folder / "notes.md").write_text("---\n2024: release notes\n---\nBody.\n", encoding="utf-8")
    (folder / "router.md").write_text(
        "---\ntitle: Reset your router\nlanguage: en\n---\nUnplug it.\n", encoding="utf-8"
    )
    rows = {where: problem for where, _draft, problem in markdown_rows(folder)}
    assert sorted(rows) == [str(Path("archive.md") / "apn.md"), "notes.md", "router.md"]
    assert rows["notes.md"] is not None
    assert "key must be text" in rows["notes.md"].params["reason"]
    out = CliRunner().invoke(
        cli, ["import-faq", "--brand", kb.slug, str(folder), "--as", admin.email],
        env={"CROWDCX_DATABASE_URL": database_url},
    )  # fmt: skip
    assert out.exit_code == 0, (out.output, repr(out.exception))
    assert "2 imported" in out.output
    assert "1 skipped" in out.output
    assert "notes.md" in out.output


def test_a_bulk_import_and_a_reindex_leave_search_answering(
    client: TestClient, world: World, database_url: str, tmp_path: Path, monkeypatch: Any
) -> None:
    """An import of at least BULK_IMPORT published rows compacts the index afterwards, as
    `crowdcx reindex` does; searches answer the same before and after."""
    from crowdcx import cli as cli_module
    from crowdcx.search.index import SqliteSearchIndex

    kb = Kb(client, world)
    admin = world.person(platform_admin=True)
    rows = ["question,answer,language,tags,visibility"]
    rows += [
        f"Тариф номер {i},Подключите тариф {i} в приложении.,ru,тарифы,public" for i in range(100)
    ]
    csv_file = tmp_path / "bulk.csv"
    csv_file.write_text("\n".join(rows) + "\n", encoding="utf-8")
    compacted: list[bool] = []
    original = SqliteSearchIndex.optimize

    def optimize(self: SqliteSearchIndex) -> None:
        compacted.append(True)
        original(self)

    monkeypatch.setattr(SqliteSearchIndex, "optimize", optimize)
    env = {"CROWDCX_DATABASE_URL": database_url}
    runner = CliRunner()
    args = ["import-faq", "--brand", kb.slug, str(csv_file), "--publish", "--as", admin.email]
    out = runner.invoke(cli_module.app, args, env=env)
    assert out.exit_code == 0, out.output
    assert f"{cli_module.BULK_IMPORT} imported" in out.output
    assert compacted == ([True] if database_url.startswith("sqlite") else [])
    before = kb.search("тариф 42", kb.customer)["results"]
    assert before[0]["title"] == "Тариф номер 42"
    out = runner.invoke(cli_module.app, ["reindex"], env=env)
    assert out.exit_code == 0, out.output
    assert kb.search("тариф 42", kb.customer)["results"] == before


def test_markdown_files_saved_with_a_bom_import_with_their_titles(
    client: TestClient, world: World, database_url: str, tmp_path: Path
) -> None:
    """Notepad and many Windows editors save UTF-8 with a byte-order mark. It was read as a
    character: the front matter after it was not recognised (no language: the file was
    skipped) and a first heading was not seen ("\\ufeff# …"), so the title fell back to the
    file name and the heading stayed in the body."""
    from crowdcx.cli import app as cli

    kb = Kb(client, world)
    admin = world.person(platform_admin=True)
    folder = tmp_path / "md"
    folder.mkdir()
    (folder / "roaming.md").write_bytes(
        "\ufeff---\nlanguage: ru\n---\n# Роуминг за границей\n\nПодключите пакет.\n".encode()
    )
    (folder / "refund.md").write_bytes(
        "\ufeff---\nlanguage: zh-Hans\n---\n# 如何申请退款\n\n在订单页面申请。\n".encode()
    )
    out = CliRunner().invoke(
        cli, ["import-faq", "--brand", kb.slug, str(folder), "--publish", "--as", admin.email],
        env={"CROWDCX_DATABASE_URL": database_url},
    )  # fmt: skip
    assert out.exit_code == 0, (out.output, repr(out.exception))
    assert "2 imported" in out.output, out.output
    titles = {a["title"]: a for a in kb.get("/articles", kb.reviewer).json()["items"]}
    assert set(titles) == {"Роуминг за границей", "如何申请退款"}
    assert all("\ufeff" not in a["title"] for a in titles.values())


def _faq_of_size(n_bytes: int) -> bytes:
    answer = "Откройте приложение и выберите раздел «Тарифы». " * 40  # few rows, many bytes
    row = "Вопрос номер {i}," + answer + ",ru,,public\n"
    lines = ["question,answer,language,tags,visibility\n"]
    size, i = len(lines[0].encode()), 0
    while size < n_bytes:
        lines.append(row.format(i=i))
        size += len(lines[-1].encode())
        i += 1
    return "".join(lines).encode()


def test_the_import_page_takes_what_the_api_takes(
    client: TestClient, world: World, db: Database
) -> None:
    """The page fell under the 1 MB cap of ordinary forms while the API took 5 MB: a 2 MB
    FAQ the API imported was refused by the page, with a problem+json ("larger than 1048576
    bytes") shown to the browser as raw text."""
    kb = Kb(client, world)
    token = sign_in(client, kb.reviewer)
    content = _faq_of_size(2 * 1024 * 1024)
    r = client.post(
        f"/b/{kb.slug}/help/import",
        data={"csrf_token": token},
        files={"file": ("faq.csv", content, "text/csv")},
    )
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"].startswith("text/html")
    from crowdcx.knowledge import jobs

    jobs.run_pending(db)
    rows = content.count(b"\n") - 1
    assert f"{rows} imported" in client.get(str(r.url)).text


def test_the_import_page_refuses_an_oversized_file_in_words(
    client: TestClient, world: World
) -> None:
    """Past the import limit the page says so in the reader's language, as a page; far past
    it the body is not read, and the browser still gets a page, not problem+json."""
    kb = Kb(client, world)
    token = sign_in(client, kb.reviewer)
    client.cookies.set("crowdcx_locale", "ru")
    over = b"question,answer,language\n" + b"x" * (5 * 1024 * 1024)
    r = client.post(
        f"/b/{kb.slug}/help/import",
        data={"csrf_token": token},
        files={"file": ("faq.csv", over, "text/csv")},
    )
    assert r.status_code == 413, r.text[:300]
    assert r.headers["content-type"].startswith("text/html")
    assert "импортировать не более 5 МБ" in r.text, r.text[-2000:]
    huge = b"x" * (9 * 1024 * 1024)
    r = client.post(
        f"/b/{kb.slug}/help/import",
        data={"csrf_token": token},
        files={"file": ("faq.csv", huge, "text/csv")},
    )
    assert r.status_code == 413
    assert r.headers["content-type"].startswith("text/html"), r.text[:300]
    assert "импортировать не более 5 МБ" in r.text, r.text[-2000:]


def test_markdown_tags_written_with_chinese_or_semicolon_separators_are_split(
    tmp_path: Path,
) -> None:
    """Front matter ``tags: 退款，订单、发票`` (Chinese commas) was one tag "退款，订单、发票";
    a longer list went past the 40-character limit of a tag and the whole file was skipped."""
    from crowdcx.knowledge.service import markdown_rows

    (tmp_path / "refund.md").write_text(
        "---\nlanguage: zh-Hans\ntags: 退款，订单、发票\n---\n# 如何申请退款\n\n在订单页面申请。\n",
        encoding="utf-8",
    )
    (tmp_path / "roaming.md").write_text(
        "---\nlanguage: ru\ntags: роуминг; тарифы, за границей\n---\n# Роуминг\n\nПакет.\n",
        encoding="utf-8",
    )
    long_list = "，".join(["退款", "订单", "发票", "配送", "售后", "会员", "积分", "优惠券",
                          "物流", "地址", "支付", "账单", "客服", "投诉", "保修"])  # fmt: skip
    (tmp_path / "services.md").write_text(
        f"---\nlanguage: zh-Hans\ntags: {long_list}\n---\n# 服务\n\n说明。\n", encoding="utf-8"
    )
    rows = {where: (draft, problem) for where, draft, problem in markdown_rows(tmp_path)}
    assert all(problem is None for _d, problem in rows.values()), rows
    assert rows["refund.md"][0] is not None
    assert rows["refund.md"][0].tags == ("退款", "订单", "发票")
    assert rows["roaming.md"][0] is not None
    assert rows["roaming.md"][0].tags == ("роуминг", "тарифы", "за границей")
    assert rows["services.md"][0] is not None
    assert len(rows["services.md"][0].tags) == 15


def test_tags_typed_with_a_chinese_input_method_are_split_in_the_editor(
    client: TestClient, world: World
) -> None:
    """The editor asks for tags "separated by |"; a Chinese input method in Chinese
    punctuation mode types the bar as "｜" (and the comma as "，"): "退款｜订单" was saved as
    one tag, on writing and on editing."""
    kb = Kb(client, world)
    token = sign_in(client, kb.author)
    made = client.post(
        f"/b/{kb.slug}/help/new",
        data={"csrf_token": token, "title": "如何申请退款？", "body": "在订单页面申请。",
              "language": "zh-Hans", "tags": "退款｜订单", "visibility": "public"},
        follow_redirects=False,
    )  # fmt: skip
    assert made.status_code == 303, made.text[:300]
    aid = int(made.headers["location"].split("/")[-1].split("?")[0])
    assert kb.get(f"/articles/{aid}", kb.author).json()["tags"] == ["退款", "订单"]
    edit = client.post(
        f"/b/{kb.slug}/help/articles/{aid}/edit",
        data={"csrf_token": token, "title": "如何申请退款？", "body": "在订单页面申请。",
              "language": "zh-Hans", "tags": "退款｜订单｜发票", "visibility": "public",
              "note": ""},
        follow_redirects=False,
    )  # fmt: skip
    assert edit.status_code == 303, edit.text[:300]
    assert kb.get(f"/articles/{aid}", kb.author).json()["tags"] == ["退款", "订单", "发票"]


def test_an_intake_by_form_a_suggestion_solved_counts_shown_and_solved(
    client: TestClient, world: World
) -> None:
    """The same case through the pages: the inquiry form, the ticket page's "Maybe this
    answers it" and "A suggestion solved it". The API counted the intake's suggestions as
    shown; the form counted nothing shown, so the figures read one solved of none shown."""
    kb = Kb(client, world)
    kb.seed()
    aid = kb.write("耳机无法连接蓝牙怎么办？", "长按充电盒按钮 10 秒，然后重新配对蓝牙。")
    kb.publish(aid)
    token = sign_in(client, kb.customer)
    r = client.post(
        f"/b/{kb.slug}/tickets/new",
        data={"csrf_token": token, "subject": "蓝牙耳机连不上手机", "body": "配对总是失败",
              "skill": "general"},
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 303, r.text
    ticket_url = r.headers["location"]
    page = client.get(ticket_url)
    assert f"/help/articles/{aid}" in page.text
    client.get(ticket_url)  # looked at twice: still one intake that showed suggestions
    done = client.post(
        f"{ticket_url}/act", data={"csrf_token": token, "action": "deflect"},
        follow_redirects=False,
    )  # fmt: skip
    assert done.status_code == 303, done.text
    stats = kb.get("/search/deflection", kb.reviewer).json()
    assert (stats["shown"], stats["solved"]) == (1, 1), stats


def test_cli_reads_a_windows_encoded_csv_and_says_so(
    client: TestClient, world: World, database_url: str, tmp_path: Path
) -> None:
    from crowdcx.cli import app as cli

    kb = Kb(client, world)
    admin = world.person(platform_admin=True)
    csv_file = tmp_path / "faq.csv"
    csv_file.write_bytes(
        "question,answer,language\r\nКак сменить тариф?,В приложении.,ru\r\n".encode("cp1251")
    )
    out = CliRunner().invoke(
        cli, ["import-faq", "--brand", kb.slug, str(csv_file), "--as", admin.email],
        env={"CROWDCX_DATABASE_URL": database_url},
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "read as Windows-1251" in out.output
    assert "1 imported" in out.output
    titles = [a["title"] for a in kb.get("/articles", kb.reviewer).json()["items"]]
    assert titles == ["Как сменить тариф?"]


def test_a_search_shows_an_article_once_in_the_readers_script(
    client: TestClient, world: World
) -> None:
    """An article and its translation are one answer: a Traditional Chinese reader finds the
    Traditional version, not both versions one under the other."""
    kb = Kb(client, world)
    kb.seed()
    hans = kb.write("耳机无法连接蓝牙怎么办？", "长按充电盒按钮 10 秒，然后重新配对蓝牙。")
    kb.publish(hans)
    hant = kb.write(
        "耳機無法連接藍牙怎麼辦？", "長按充電盒按鈕 10 秒，然後重新配對藍牙。", "zh-Hant",
        translation_of=hans,
    )  # fmt: skip
    kb.publish(hant)
    client.cookies.clear()
    client.cookies.set("crowdcx_locale", "zh-Hant")
    typing = {"HX-Request": "true"}
    for response in (
        client.get(f"/b/{kb.slug}/help", params={"q": "藍牙"}),
        client.get(f"/b/{kb.slug}/help/search", params={"q": "藍牙"}, headers=typing),
    ):
        assert response.status_code == 200
        results = response.text.split("<ol", 1)[1].split("</ol>", 1)[0]
        assert f"/help/articles/{hant}" in results
        assert f"/help/articles/{hans}" not in results


def test_an_article_the_editor_let_through_is_saved_whatever_its_line_breaks(
    client: TestClient, world: World
) -> None:
    """The editor's maxlength (50 000) counts a line break as one character; the browser sends
    it as CR LF. An article of short lines within the editor's limit arrived longer than
    the form's 60 000 and the whole text was refused on an error page, lost; one a little
    shorter was called too long. Counted as the writer counts, it is saved; the limit holds."""
    kb = Kb(client, world)
    token = sign_in(client, kb.author)
    lines = "Step.\r\n" * 8000  # 48 000 characters in the editor, 56 000 sent
    fields = {"csrf_token": token, "title": "Steps", "language": "en", "tags": "",
              "visibility": "public"}  # fmt: skip
    for body in (lines, "ab\r\n" * 16_000):  # 48 000 in the editor, 64 000 sent
        made = client.post(f"/b/{kb.slug}/help/new", data={**fields, "body": body},
                           follow_redirects=False)  # fmt: skip
        assert made.status_code == 303, made.text[:300]
        aid = int(made.headers["location"].split("/")[-1].split("?")[0])
        saved = kb.get(f"/articles/{aid}", kb.author).json()["body"]
        assert saved.replace("\r\n", "\n") == body.replace("\r\n", "\n").strip()
    too_long = "x" * 50_001
    refused = client.post(f"/b/{kb.slug}/help/new", data={**fields, "body": too_long},
                          follow_redirects=False)  # fmt: skip
    assert refused.status_code == 422
    assert too_long in refused.text  # the editor again, with the text in it


def test_a_reader_it_did_not_help_goes_on_with_their_search(
    client: TestClient, world: World
) -> None:
    """ "No" on an article offered "Ask an expert" with an empty subject (the search was
    dropped by the redirect) and never the community, which the search page offers."""
    kb = Kb(client, world)
    kb.seed()
    aid = kb.write("如何申请退货和退款？", "在“我的订单”中申请退货。")
    kb.publish(aid)
    client.cookies.clear()
    client.get(f"/b/{kb.slug}/help/articles/{aid}", params={"q": "退款 & 运费"})
    token = client.cookies.get("crowdcx_csrf")
    done = client.post(
        f"/b/{kb.slug}/help/articles/{aid}/feedback",
        data={"csrf_token": token, "helpful": "no", "q": "退款 & 运费", "comment": "运费呢？"},
    )
    assert done.status_code == 200
    assert parse_qs(urlsplit(str(done.url)).query) == {"thanks": ["no"], "q": ["退款 & 运费"]}
    assert f"/b/{kb.slug}/tickets/new?subject=%E9%80%80%E6%AC%BE%20%26%20" in done.text
    assert f"/b/{kb.slug}/community/ask?title=%E9%80%80%E6%AC%BE%20%26%20" in done.text


def test_an_import_s_skipped_rows_name_the_cell_to_fix(
    client: TestClient, world: World, db: Database
) -> None:
    """A row with an empty answer said only "line 3: This field is required." — in a summary
    of rows, not beside a field, that does not say which cell is wrong."""
    from crowdcx.knowledge import jobs

    kb = Kb(client, world)
    token = sign_in(client, kb.reviewer)
    csv_text = (
        "question,answer,language,tags,visibility\n"
        "发票怎么开？,,zh-Hans,发票,public\n"
        "保修多久？,一年。,zh-Hans,保修,internal\n"
    )
    r = client.post(
        f"/b/{kb.slug}/help/import",
        data={"csrf_token": token},
        files={"file": ("faq.csv", csv_text.encode(), "text/csv")},
    )
    jobs.run_pending(db)
    english = client.get(str(r.url)).text
    assert "line 2, column “answer”" in english
    assert "line 3, column “visibility”" in english
    chinese = client.get(str(r.url), params={"lang": "zh-Hans"}).text
    assert "第 2 行“answer”列" in chinese


def test_a_reviewer_reads_what_changed_since_the_live_version(
    client: TestClient, world: World
) -> None:
    """The versions' diff was only in the API: a reviewer on the article page saw "version 2"
    in the history and had to compare the texts by eye."""
    kb = Kb(client, world)
    aid = kb.write("如何修改收货地址？", "在订单页点击“修改地址”。\n\n发货后不能修改。")
    kb.publish(aid)
    r = client.patch(
        kb.url(f"/articles/{aid}"),
        json={"body": "在订单页点击“修改地址”。\n\n发货后请联系快递修改。"},
        headers=kb.author.auth,
    )
    assert r.status_code == 200, r.text
    sign_in(client, kb.reviewer)
    article = client.get(f"/b/{kb.slug}/help/articles/{aid}", params={"lang": "zh-Hans"})
    link = f"/b/{kb.slug}/help/articles/{aid}/changes?from=1&amp;to=2"
    assert article.text.count(link) == 2  # beside the live/working switch and in the history
    changes = client.get(
        f"/b/{kb.slug}/help/articles/{aid}/changes", params={"from": 1, "to": 2, "lang": "zh-Hans"}
    )
    assert changes.status_code == 200
    assert "从版本 1 到版本 2 的改动" in changes.text
    assert "<del>− 发货后不能修改。</del>" in changes.text
    assert "<ins>+ 发货后请联系快递修改。</ins>" in changes.text
    assert "<span>  # 如何修改收货地址？</span>" in changes.text  # context: the title
    same = client.get(f"/b/{kb.slug}/help/articles/{aid}/changes", params={"from": 2, "to": 2})
    assert "These two versions read the same." in same.text
    missing = client.get(f"/b/{kb.slug}/help/articles/{aid}/changes", params={"from": 1, "to": 9})
    assert missing.status_code == 404
    sign_in(client, kb.customer)
    refused = client.get(f"/b/{kb.slug}/help/articles/{aid}/changes", params={"from": 1, "to": 2})
    assert refused.status_code in (403, 404)


def test_a_reviewer_confirms_a_stale_article_is_still_accurate(
    client: TestClient, world: World, db: Database
) -> None:
    """The stale list led to an article whose only actions were Edit and Archive: an accurate
    article left the list only after an edit, a review by someone else and a publish."""
    kb = Kb(client, world)
    aid = kb.write("如何修改收货地址？", "在订单页点击“修改地址”。")
    kb.publish(aid)
    with db.transaction() as uow:
        uow.session.execute(
            update(Article).where(Article.id == aid).values(review_by=utcnow() - timedelta(days=1))
        )
    token = sign_in(client, kb.reviewer)
    assert "如何修改收货地址？" in client.get(f"/b/{kb.slug}/help/review").text
    page = client.get(f"/b/{kb.slug}/help/articles/{aid}", params={"lang": "zh-Hans"})
    assert "确认内容仍然准确" in page.text
    done = client.post(
        f"/b/{kb.slug}/help/articles/{aid}/act", data={"csrf_token": token, "action": "confirm"}
    )
    assert done.status_code == 200
    assert "确认内容仍然准确" not in done.text  # fresh again: not offered
    assert "这篇文章需要复查" in page.text
    assert "这篇文章需要复查" not in done.text
    review = client.get(f"/b/{kb.slug}/help/review").text
    assert "如何修改收货地址？" not in review
    # Only a reviewer may say so; and a fresh article is not offered it.
    assert kb.post(f"/articles/{aid}/confirm", kb.customer).status_code == 403
    fresh = client.get(f"/b/{kb.slug}/help/articles/{aid}", params={"lang": "zh-Hans"})
    assert "确认内容仍然准确" not in fresh.text


def test_a_refused_action_names_the_state_and_action_as_the_page_does(
    client: TestClient, world: World
) -> None:
    """Publishing again from a stale page (a second click, the back button) said
    "状态为“published”的文章不能执行“publish”。": the codes, not the words on the buttons."""
    kb = Kb(client, world)
    aid = kb.write("如何修改收货地址？", "在订单页点击“修改地址”。")
    kb.publish(aid)
    token = sign_in(client, kb.reviewer)
    again = client.post(
        f"/b/{kb.slug}/help/articles/{aid}/act",
        data={"csrf_token": token, "action": "publish"},
        params={"lang": "zh-Hans"},
    )
    assert again.status_code == 409
    assert "状态为“已发布”的文章不能执行“发布”。" in again.text
    assert "published" not in again.text
    api = kb.post(f"/articles/{aid}/publish", kb.reviewer)
    assert api.json()["code"] == "bad_state"


def test_a_file_with_the_wrong_header_lists_the_missing_columns_as_chinese_lists_them(
    client: TestClient, world: World
) -> None:
    """ "标题行缺少列 question, answer, language": an English comma list in a Chinese
    sentence."""
    kb = Kb(client, world)
    token = sign_in(client, kb.reviewer)
    r = client.post(
        f"/b/{kb.slug}/help/import",
        data={"csrf_token": token},
        params={"lang": "zh-Hans"},
        files={"file": ("faq.csv", "Q,A,Lang\n发票怎么开？,申请电子发票,zh-Hans\n".encode())},
    )
    assert r.status_code == 422
    assert "question、answer、language" in r.text


def test_a_translation_goes_into_a_language_the_article_lacks(
    client: TestClient, world: World
) -> None:
    """ "Add a translation" opened the editor in the reader's language even when that was the
    original's, and saving made a second variant in one language ("Also in: English" on an
    English article)."""
    kb = Kb(client, world)
    aid = kb.write("How do I change my address?", "Open the order and choose Change address.", "en")
    token = sign_in(client, kb.author)
    editor = client.get(f"/b/{kb.slug}/help/new", params={"translation_of": aid, "lang": "en"}).text
    assert 'value="en" lang="en" selected' not in editor
    assert 'value="zh-Hans" lang="zh-Hans" selected' in editor
    same = client.post(
        f"/b/{kb.slug}/help/new",
        data={"csrf_token": token, "title": "Change address", "body": "Again.", "language": "en",
              "visibility": "public", "translation_of": str(aid)},
    )  # fmt: skip
    assert same.status_code == 422
    assert "This article already has a version in English" in same.text
    api = kb.post(
        "/articles", kb.author,
        {"title": "Change address", "body": "Again.", "language": "en", "translation_of": aid},
    )  # fmt: skip
    assert api.status_code == 422
    assert api.json()["code"] == "translation_exists"
    ok = client.post(
        f"/b/{kb.slug}/help/new",
        data={"csrf_token": token, "title": "如何修改地址？", "body": "打开订单。",
              "language": "zh-Hans", "visibility": "public", "translation_of": str(aid)},
    )  # fmt: skip
    assert ok.status_code == 200
    assert "English" in ok.text  # "Also in: English"


def test_a_result_s_title_marks_the_words_searched_for_as_its_snippet_does(
    client: TestClient, world: World
) -> None:
    """Only the snippet under a result marked the matched words; the title, what a reader
    scans first, did not."""
    kb = Kb(client, world)
    kb.seed()
    aid = kb.write("如何申请退货和退款？", "在“我的订单”中申请退货，收到商品后原路退款。")
    kb.publish(aid)
    client.cookies.clear()
    fragment = client.get(
        f"/b/{kb.slug}/help/search", params={"q": "退款"}, headers={"HX-Request": "true"}
    )
    assert "<strong>如何申请退货和<mark>退款</mark>？</strong>" in fragment.text
    home = client.get(f"/b/{kb.slug}/help", params={"q": "退款 <b>"})
    assert "<strong>如何申请退货和<mark>退款</mark>？</strong>" in home.text
    assert "<b>" not in home.text.split('id="results"')[1].split("</div>")[0]


def test_an_import_s_summary_says_where_the_imported_drafts_are(
    client: TestClient, world: World, db: Database
) -> None:
    """ "4 imported" and nothing more: the drafts were in no list the page led to (not in the
    review queue, not in search); only "My drafts" on another page held them."""
    from crowdcx.knowledge import jobs

    kb = Kb(client, world)
    token = sign_in(client, kb.author)
    r = client.post(
        f"/b/{kb.slug}/help/import",
        data={"csrf_token": token},
        files={"file": ("faq.csv", CSV.encode(), "text/csv")},
    )
    jobs.run_pending(db)
    summary = client.get(str(r.url), params={"lang": "zh-Hans"}).text
    assert "导入的文章是草稿：请在“我的草稿”中打开并提交审核。" in summary
    assert f'href="/b/{kb.slug}/help/review#d-h"' in summary
    drafts = client.get(f"/b/{kb.slug}/help/review").text
    assert "如何申请退款？" in drafts


def test_the_other_languages_follow_the_full_width_colon_without_a_space(
    client: TestClient, world: World
) -> None:
    """ "其他语言版本： 中文（繁體）": a space after the full-width colon, which has its own."""
    kb = Kb(client, world)
    aid = kb.write("如何修改收货地址？", "在订单页点击“修改地址”。")
    kb.publish(aid)
    other = kb.write(
        "如何修改收貨地址？", "在訂單頁點擊「修改地址」。", "zh-Hant", translation_of=aid
    )
    kb.publish(other)
    page = client.get(f"/b/{kb.slug}/help/articles/{aid}", params={"lang": "zh-Hans"}).text
    assert f'其他语言版本：<a href="/b/{kb.slug}/help/articles/{other}"' in page
    english = client.get(f"/b/{kb.slug}/help/articles/{aid}", params={"lang": "en"}).text
    assert f'Also in: <a href="/b/{kb.slug}/help/articles/{other}"' in english


def test_the_editor_says_which_field_to_fix_and_says_it_beside_the_field(
    client: TestClient, world: World
) -> None:
    """An empty answer gave "This field is required." above the form, and no field said it:
    the writer had to guess which one."""
    kb = Kb(client, world)
    token = sign_in(client, kb.author)
    r = client.post(
        f"/b/{kb.slug}/help/new",
        data={"csrf_token": token, "title": "发票怎么开？", "body": "\u200b",
              "language": "zh-Hans", "visibility": "public"},
        params={"lang": "zh-Hans"},
    )  # fmt: skip
    assert r.status_code == 422
    assert '<p class="alert" role="alert">回答（Markdown）：' in r.text
    assert '<p class="error" id="e-body">' in r.text
    assert 'aria-describedby="e-body"' in r.text


def test_an_empty_editor_s_preview_says_there_is_nothing_yet(
    client: TestClient, world: World
) -> None:
    """The preview box of a new article was an empty card under its heading until the writer
    typed: it looked broken."""
    kb = Kb(client, world)
    sign_in(client, kb.author)
    editor = client.get(f"/b/{kb.slug}/help/new", params={"lang": "zh-Hans"}).text
    preview = editor.split('id="preview"')[1].split("</div>")[0]
    assert "还没有可预览的内容。" in preview
    # Emptied again while typing: the live preview says so in the writer's language too (the
    # message sat inside an f-string, where extraction never found it).
    token = client.cookies.get("crowdcx_csrf")
    emptied = client.post(
        f"/b/{kb.slug}/help/preview",
        data={"csrf_token": token, "body": ""},
        params={"lang": "zh-Hans"},
    )
    assert "还没有可预览的内容。" in emptied.text
