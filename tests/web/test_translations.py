"""The catalogs are complete: every UI string in the source has a translation in zh-Hans,
zh-Hant and ru, with the same placeholders, and nothing in a catalog is left fuzzy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from crowdcx.kernel.i18n import CATALOG_DIR
from tests.conftest import World

SRC = Path(__file__).resolve().parents[2] / "src" / "crowdcx"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2")]


@pytest.fixture(scope="module")
def source_ids() -> set[str]:
    ids = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(SRC), METHODS, keywords=KEYWORDS, options_map={"**/templates/**.html": {}}
    ):
        ids.add(message if isinstance(message, str) else message[0])
    assert len(ids) > 300
    return ids


@pytest.mark.parametrize("locale", ["zh_Hans", "zh_Hant", "ru"])
def test_every_ui_string_is_translated_with_its_placeholders(
    locale: str, source_ids: set[str]
) -> None:
    with (CATALOG_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    translated = {(m.id if isinstance(m.id, str) else m.id[0]): m for m in catalog if m.id}
    missing = sorted(source_ids - set(translated))
    assert not missing, f"run `make messages` and translate: {missing[:10]}"
    for msgid, message in translated.items():
        assert "fuzzy" not in message.flags, f"{locale}: {msgid!r} is fuzzy"
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        want = sorted(PLACEHOLDER.findall(msgid))
        assert all(forms), f"{locale}: {msgid!r} has no translation"
        for form in forms:  # plural forms keep the placeholders too (%(num)s)
            assert sorted(PLACEHOLDER.findall(form)) == want, (
                f"{locale}: placeholders differ in {msgid!r}"
            )


# Mainland words (often left by a character-only conversion) and their Taiwan wording.
MAINLAND_WORDS = {
    "登录": "登入", "登錄": "登入", "账户": "帳戶", "賬戶": "帳戶", "默认": "預設",
    "默認": "預設", "信息": "訊息", "用户": "使用者", "用戶": "使用者", "软件": "軟體",
    "軟件": "軟體", "视频": "影片", "視頻": "影片", "网络": "網路", "網絡": "網路",
    "文本": "文字", "反饋": "回饋", "帖子": "貼文", "稽核": "審核 (review, not audit)",
    "釋出": "發布 / 發表 (publish, post)", "許可權": "權限", "幫助中心": "說明中心",
    "垃圾資訊": "垃圾訊息", "贊": "讚", "“": "「", "”": "」",
    "訪問": "存取 (access; 訪問 is an interview)", "回復": "回覆 (reply; 回復 is to recover)",
    "數據": "資料 (data)", "大促": "促銷活動 (a sales event)",
}  # fmt: skip


def test_traditional_chinese_uses_taiwan_words() -> None:
    with (CATALOG_DIR / "zh_Hant" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="zh_Hant")
    texts = [
        (m.id if isinstance(m.id, str) else m.id[0], form)
        for m in catalog
        if m.id
        for form in (m.string if isinstance(m.string, tuple) else (m.string,))
    ]
    found = [
        f"{msgid!r}: {word} -> {taiwan}"
        for msgid, text in texts
        for word, taiwan in MAINLAND_WORDS.items()
        if word in text
    ]
    assert not found, found
    # "文件" is Taiwan's word for a document; a file on a computer is "檔案".
    assert not [msgid for msgid, text in texts if "file" in msgid.lower() and "文件" in text]


# Taiwan words in the mainland catalog, and the mainland wording.
TAIWAN_WORDS = {
    "说明中心": "帮助中心", "登入": "登录", "使用者": "用户", "贴文": "帖子", "网路": "网络",
    "预设": "默认", "讯息": "信息 / 消息", "软体": "软件", "帐户": "账户", "回覆": "回复",
}  # fmt: skip


def test_simplified_chinese_uses_mainland_words() -> None:
    """The content-gaps page told a mainland reader about the "说明中心" (Taiwan's word for
    the help center) that every other zh-Hans page calls 帮助中心."""
    with (CATALOG_DIR / "zh_Hans" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="zh_Hans")
    found = [
        f"{m.id!r}: {word} -> {mainland}"
        for m in catalog
        if m.id
        for form in (m.string if isinstance(m.string, tuple) else (m.string,))
        for word, mainland in TAIWAN_WORDS.items()
        if word in form
    ]
    assert not found, found


@pytest.mark.parametrize("locale", ["zh_Hans", "zh_Hant"])
def test_chinese_addresses_the_reader_in_one_register(locale: str) -> None:
    """The catalogs mixed the familiar 你 and the polite 您, sometimes on one page ("感谢您"
    beside "你的工单"). Customer service in Chinese says 您: every string does."""
    with (CATALOG_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    familiar = [
        m.id
        for m in catalog
        if m.id
        for form in (m.string if isinstance(m.string, tuple) else (m.string,))
        if "你" in form
    ]
    assert not familiar, f"{locale}: use 您, not 你: {familiar[:5]}"


def test_the_sign_in_prompt_is_in_the_readers_language(client: TestClient, world: World) -> None:
    """A page or API call that needs a signed-in person said "Sign in to continue." in English
    under a translated title."""
    slug = world.brand(default_locale="ru", locales=["ru", "zh-Hans", "en"])
    client.cookies.set("crowdcx_locale", "ru")
    page = client.get(f"/b/{slug}/admin/policy")
    assert page.status_code == 401
    assert "Войдите, чтобы продолжить." in page.text
    client.cookies.clear()
    api = client.get(f"/api/v1/brands/{slug}/tickets", headers={"Accept-Language": "zh-CN"})
    assert api.status_code == 401
    assert api.json()["detail"] == "请登录后继续。"
