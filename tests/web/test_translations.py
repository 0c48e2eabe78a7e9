"""The catalogs are complete: every UI string in the source has a translation in zh-Hans,
zh-Hant and ru, with the same placeholders, and nothing in a catalog is left fuzzy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from crowdcx.kernel.i18n import CATALOG_DIR

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


def test_traditional_chinese_uses_taiwan_words() -> None:
    text = (CATALOG_DIR / "zh_Hant" / "LC_MESSAGES" / "messages.po").read_text(encoding="utf-8")
    for simplified_only in ("登录", "账户", "賬戶", "默认", "信息"):
        assert simplified_only not in text
