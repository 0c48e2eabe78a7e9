"""The knowledge-base rules with plain values: workflow, validation, CSV rows, diffs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crowdcx.knowledge import rules

POLICY = rules.KbRoles()
AUTHOR = rules.Actor(1, frozenset({"expert"}))  # writes, does not review
REVIEWER = rules.Actor(2, frozenset({"brand_admin"}))
EXPERT = rules.Actor(3, frozenset({"expert"}))
CUSTOMER = rules.Actor(4, frozenset({"customer"}))


def article(state: str, live: bool = False) -> rules.ArticleState:
    return rules.ArticleState(state, 1, live)  # type: ignore[arg-type]


def test_the_happy_path() -> None:
    assert rules.transition(article("draft"), "submit", AUTHOR, POLICY) == "in_review"
    assert rules.transition(article("in_review"), "approve", REVIEWER, POLICY) == "approved"
    assert rules.transition(article("approved"), "publish", REVIEWER, POLICY) == "published"
    assert rules.transition(article("published", True), "archive", REVIEWER, POLICY) == "archived"


@pytest.mark.parametrize("actor", [AUTHOR, rules.Actor(1, frozenset({"agent", "brand_admin"}))])
def test_the_author_never_approves_their_own_article(actor: rules.Actor) -> None:
    outcome = rules.transition(article("in_review"), "approve", actor, POLICY)
    assert isinstance(outcome, rules.Violation)
    assert outcome.code in ("own_article", "not_reviewer")


def test_steps_cannot_be_skipped_or_taken_by_the_wrong_people() -> None:
    assert rules.transition(article("draft"), "publish", REVIEWER, POLICY) == rules.Violation(
        "bad_state", "state", {"action": "publish", "state": "draft"}
    )
    assert isinstance(
        rules.transition(article("in_review"), "approve", EXPERT, POLICY), rules.Violation
    )
    assert isinstance(
        rules.transition(article("draft"), "submit", CUSTOMER, POLICY), rules.Violation
    )
    # The author may archive an unpublished draft of their own, not a live article.
    assert rules.transition(article("draft"), "archive", AUTHOR, POLICY) == "archived"
    assert isinstance(
        rules.transition(article("published", True), "archive", AUTHOR, POLICY), rules.Violation
    )
    assert rules.allowed_actions(article("in_review"), AUTHOR, POLICY) == ["archive"]
    assert rules.allowed_actions(article("in_review"), REVIEWER, POLICY) == ["approve", "archive"]


def test_roles_are_brand_policy() -> None:
    policy = rules.kb_roles_from({"knowledge": {"reviewers": ["expert"], "review_days": 30}})
    assert rules.transition(article("in_review"), "approve", EXPERT, policy) == "approved"
    assert isinstance(
        rules.transition(article("in_review"), "approve", REVIEWER, policy), rules.Violation
    )
    assert policy.review_days == 30
    assert rules.kb_roles_from({"knowledge": {"reviewers": "nonsense"}}) == POLICY


@given(
    st.sampled_from(rules.STATES),
    st.sampled_from(rules.ACTIONS),
    st.integers(1, 4),
    st.frozensets(st.sampled_from(["customer", "helper", "expert", "agent", "brand_admin"])),
    st.booleans(),
)
def test_no_approval_by_the_author_whatever_the_state_and_roles(
    state: str, action: str, user: int, roles: frozenset[str], live: bool
) -> None:
    outcome = rules.transition(article(state, live), action, rules.Actor(user, roles), POLICY)
    if action == "approve" and user == 1:
        assert isinstance(outcome, rules.Violation)
    if isinstance(outcome, str):
        assert outcome in rules.STATES


def test_who_wrote_the_text_under_review() -> None:
    # Before the first publish every revision is under review; after it, those since the live one.
    revisions = [(1, 1), (2, 2), (3, None)]
    assert rules.text_authors(1, revisions, None) == {1, 2}
    assert rules.text_authors(1, [(1, 1), (2, 2), (3, 1)], 2) == {1}
    assert rules.text_authors(None, [(1, 5)], None) == {5}  # imported: the importer wrote it


def test_a_reviewer_never_approves_a_revision_they_wrote() -> None:
    # The reviewer (2) rewrote the author's (1) draft: neither of them may approve it.
    rewritten = rules.ArticleState(
        "in_review", 1, False, writers=rules.text_authors(1, [(1, 1), (2, 2)], None)
    )
    assert rules.transition(rewritten, "approve", REVIEWER, POLICY) == rules.Violation(
        "own_article", "action", {"action": "approve"}
    )
    assert "approve" not in rules.allowed_actions(rewritten, REVIEWER, POLICY)
    other = rules.Actor(5, frozenset({"agent"}))
    assert rules.transition(rewritten, "approve", other, POLICY) == "approved"


@given(st.frozensets(st.integers(1, 6)), st.integers(1, 6))
def test_no_approval_by_anyone_who_wrote_the_text(writers: frozenset[int], user: int) -> None:
    state = rules.ArticleState("in_review", 1, False, writers=writers)
    outcome = rules.transition(
        state, "approve", rules.Actor(user, frozenset({"brand_admin"})), POLICY
    )
    assert isinstance(outcome, rules.Violation) == (user in writers or user == 1)


EXPERT_READS = rules.Actor(3, frozenset({"expert"}), reads=frozenset({"public", "experts"}))
AGENT_READS = rules.Actor(2, frozenset({"agent"}), reads=frozenset(rules.VISIBILITIES))


def test_writing_never_lifts_the_reading_level() -> None:
    staff = rules.ArticleState("draft", 3, False, visibility="staff")
    assert rules.may_write(EXPERT_READS, POLICY)
    assert not rules.may_read(staff, EXPERT_READS, POLICY)  # even as its author
    assert rules.may_read(staff, AGENT_READS, POLICY)
    # A live copy within the level stays readable while a restricted revision is worked on,
    # but only as a reader's copy: no working revision, no workflow.
    pending = rules.ArticleState("draft", 2, True, visibility="staff", live_visibility="public")
    assert rules.may_read_live(pending, EXPERT_READS)
    assert not rules.may_read_working(pending, EXPERT_READS, POLICY)
    assert rules.edit_state(pending, EXPERT_READS, POLICY) == rules.Violation(
        "not_author", "action", {"action": "edit"}
    )
    own = rules.ArticleState("draft", 3, True, visibility="staff", live_visibility="public")
    assert rules.edit_state(own, EXPERT_READS, POLICY) == rules.Violation(
        "restricted", "action", {"action": "edit"}
    )
    assert rules.allowed_actions(own, EXPERT_READS, POLICY) == []
    # Readers who write nothing never see a working revision, whatever its visibility.
    draft = rules.ArticleState("draft", 1, False)
    assert not rules.may_read(draft, rules.Actor(4, frozenset({"customer"})), POLICY)


def test_an_expert_reviewer_acts_only_within_their_level() -> None:
    policy = rules.kb_roles_from({"knowledge": {"reviewers": ["expert"]}})
    staff = rules.ArticleState("in_review", 1, False, visibility="staff")
    assert rules.transition(staff, "approve", EXPERT_READS, policy) == rules.Violation(
        "restricted", "action", {"action": "approve"}
    )
    experts = rules.ArticleState("in_review", 1, False, visibility="experts")
    assert rules.transition(experts, "approve", EXPERT_READS, policy) == "approved"


def test_a_visibility_above_ones_own_is_refused() -> None:
    assert rules.check_visibility("experts", EXPERT_READS) is None
    assert rules.check_visibility("staff", EXPERT_READS) == rules.Violation(
        "visibility_not_allowed", "visibility", {"value": "staff", "allowed": "public, experts"}
    )
    assert rules.check_visibility("staff", AGENT_READS) is None


def test_readers_get_the_published_tags_only() -> None:
    assert rules.published_tags(True, ["蓝牙"]) == ("蓝牙",)
    # Nothing live (a draft never published, or archived): no tags for readers.
    assert rules.published_tags(False, ["内部"]) == ()
    assert rules.published_tags(True, None) == ()


def test_freshness() -> None:
    now = datetime(2026, 11, 24, tzinfo=UTC)
    due = rules.review_by(now - timedelta(days=200), POLICY)
    assert rules.is_stale(due, True, now)
    assert not rules.is_stale(due, False, now)
    assert not rules.is_stale(rules.review_by(now, POLICY), True, now)


def test_languages_and_tags_are_normalised() -> None:
    assert rules.normalise_language("zh_CN") == "zh-Hans"
    assert rules.normalise_language("ZH-TW") == "zh-Hant"
    assert rules.normalise_language("Russian") == "ru"
    assert rules.normalise_language("fr") is None
    assert rules.normalise_language(" 中文(简体) ") == "zh-Hans"  # the picker's name, half-width
    assert rules.normalise_language("Chinese  (Traditional)") == "zh-Hant"
    assert rules.normalise_language("РУССКИЙ") == "ru"
    assert rules.normalise_language("中文") is None  # simplified or traditional? not guessed
    assert rules.normalise_tags([" Bluetooth ", "bluetooth", "", "蓝牙"]) == ["bluetooth", "蓝牙"]
    assert isinstance(rules.normalise_tags(["x" * 41]), rules.Violation)


def test_csv_rows_report_each_problem_with_its_line() -> None:
    content = (
        "\ufeffQuestion,Answer,Language,Tags,Visibility\n"
        'Как сменить тариф?,"В приложении,\nраздел «Тарифы»",ru,тарифы|приложение,\n'
        "No answer,,en,,public\n"
        "Same,a,en,,public\n"
        "same,b,en,,public\n"
    )
    parsed = rules.parse_faq_csv(content)
    assert not isinstance(parsed, rules.Violation)
    rows = list(parsed)
    assert [r.line for r in rows] == [3, 4, 5, 6]
    first = rows[0].draft
    assert first is not None
    assert first.tags == ("тарифы", "приложение")
    assert first.visibility == "public"
    assert "\n" in first.body
    assert rows[1].problem == rules.Violation("required", "body")
    assert rows[3].problem is not None
    assert rows[3].problem.code == "duplicate_row"


def test_export_round_trips_through_import() -> None:
    text = rules.faq_csv([('問題, "引號"', "答案\n第二行", "zh-Hant", ["標籤", "b"], "experts")])
    parsed = rules.parse_faq_csv(text)
    assert not isinstance(parsed, rules.Violation)
    (row,) = list(parsed)
    assert row.draft == rules.Draft(
        '問題, "引號"', "答案\n第二行", "zh-Hant", ("標籤", "b"), "experts"
    )


@given(st.text(max_size=400))
def test_any_text_parses_to_rows_or_a_reason_never_an_exception(content: str) -> None:
    parsed = rules.parse_faq_csv("question,answer,language,tags,visibility\n" + content)
    if "\x00" in content:  # U+0000 is in no text: the file is refused whole
        assert parsed == rules.Violation("nul_character", "file")
        return
    assert not isinstance(parsed, rules.Violation)
    for row in parsed:
        assert (row.draft is None) != (row.problem is None)


def test_diff_shows_the_changed_lines() -> None:
    out = rules.diff("Title", "one\ntwo", "Title", "one\nthree", ("v1", "v2"))
    assert "--- v1" in out
    assert "+++ v2" in out
    assert "-two" in out
    assert "+three" in out


@given(
    st.text(min_size=1, max_size=40).filter(lambda t: t.strip() != ""),
    st.sampled_from(["=", "+", "-", "@", "'=", ""]),
)
def test_the_export_never_starts_a_formula_and_imports_back_as_it_was(
    text: str, start: str
) -> None:
    """CSV injection: '=HYPERLINK(…)' in a question must not run when a brand opens the export
    in a spreadsheet; the import reads the cell back unchanged."""
    value = start + text
    cell = rules.csv_cell(value)
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert rules.csv_uncell(cell) == value


def test_an_exported_formula_is_text_and_round_trips() -> None:
    out = rules.faq_csv([('=HYPERLINK("http://evil")', "@SUM(1) 退货", "zh-Hans", ["x"], "public")])
    assert "'=HYPERLINK" in out
    assert "'@SUM" in out
    parsed = rules.parse_faq_csv(out)
    assert not isinstance(parsed, rules.Violation)
    draft = next(iter(parsed)).draft
    assert draft is not None
    assert (draft.title, draft.body) == ('=HYPERLINK("http://evil")', "@SUM(1) 退货")


@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_the_csv_delimiter_is_found_from_the_file(sep: str) -> None:
    """Excel in ru (decimal-comma) locales saves CSV with semicolons; sheets download as TSV."""
    cells = ['"Вопрос, с запятой; и точкой с запятой"', '"Ответ; 1,5 ₽"', "ru", "a|b", "public"]
    content = sep.join(rules.FAQ_COLUMNS) + "\r\n" + sep.join(cells) + "\r\n"
    parsed = rules.parse_faq_csv(content)
    assert not isinstance(parsed, rules.Violation), parsed
    (row,) = list(parsed)
    assert row.draft == rules.Draft(
        "Вопрос, с запятой; и точкой с запятой", "Ответ; 1,5 ₽", "ru", ("a", "b"), "public"
    )


def test_a_comma_file_whose_answers_hold_semicolons_stays_comma_separated() -> None:
    content = "question,answer,language\n" + "".join(
        f"Q{i},a; b; c; d; e; f,en\n" for i in range(30)
    )
    parsed = rules.parse_faq_csv(content)
    assert not isinstance(parsed, rules.Violation), parsed
    rows = list(parsed)
    assert len(rows) == 30
    assert rows[0].draft is not None
    assert rows[0].draft.body == "a; b; c; d; e; f"


def test_a_file_with_no_known_delimiter_reads_as_comma_separated() -> None:
    assert rules.parse_faq_csv("question|answer|language\nx|y|en\n") == rules.Violation(
        "missing_columns", "file", {"columns": "question, answer, language"}
    )


def test_decimal_commas_in_every_row_do_not_hide_the_semicolons() -> None:
    content = "question;answer;language\n" + "".join(
        f"Тариф {i};Цена 1,5 ₽ за минуту, 2,5 ₽ за SMS;ru\n" for i in range(10)
    )
    parsed = rules.parse_faq_csv(content)
    assert not isinstance(parsed, rules.Violation), parsed
    rows = list(parsed)
    assert [r.draft.body if r.draft else r.problem for r in rows][:1] == [
        "Цена 1,5 ₽ за минуту, 2,5 ₽ за SMS"
    ]
    assert len(rows) == 10


def test_a_draft_of_invisible_characters_is_refused_and_stray_ones_are_trimmed() -> None:
    assert rules.validate_draft("\u200b", "Ответ.", "ru", [], "public") == rules.Violation(
        "invisible", "title"
    )
    assert rules.validate_draft("Вопрос", "\ufeff\u2060 ", "ru", [], "public") == (
        rules.Violation("invisible", "body")
    )
    assert rules.validate_draft("", "Ответ.", "ru", [], "public") == rules.Violation(
        "required", "title"
    )
    draft = rules.validate_draft("\ufeff如何退款？\u200b", "在订单页面申请。", "zh", [], "public")
    assert isinstance(draft, rules.Draft)
    assert draft.title == "如何退款？"


def test_uploads_are_read_as_utf8_or_as_utf16_when_their_mark_says_so() -> None:
    text = "question\tanswer\n如何退款？\tЯ\n"
    assert rules.decode_upload(text.encode()) == rules.Decoded(text, "utf-8")
    assert rules.decode_upload(b"\xef\xbb\xbf" + text.encode()) == rules.Decoded(text, "utf-8")
    assert rules.decode_upload(text.encode("utf-16")) == rules.Decoded(text, "utf-16")
    data = b"\xfe\xff" + text.encode("utf-16-be")
    assert rules.decode_upload(data) == rules.Decoded(text, "utf-16")
    assert rules.decode_upload(UNREADABLE) is None


# Bytes that no encoding reads as text (charset-normalizer finds them all mess).
UNREADABLE = bytes(range(256)) * 4

SIMPLIFIED = (
    "question,answer,language\n如何退货？,打开订单，点击退货。,zh-Hans\n"
    "运费多少？,满99元包邮。,zh-Hans\n"
)
TRADITIONAL = (
    "question,answer,language\n如何退貨？,打開訂單，點擊退貨。,zh-Hant\n"
    "運費多少？,滿99元免運費。,zh-Hant\n"
)
RUSSIAN = (
    "question,answer,language\nКак вернуть наушники?,Откройте заказ и нажмите кнопку.,ru\n"
    "Сколько идёт доставка?,Обычно три дня.,ru\n"
)
ENGLISH = "question,answer,language\nCafé opening hours?,“Nine to five” every day.,en\n"


@pytest.mark.parametrize(
    ("text", "encoding", "languages"),
    [
        (SIMPLIFIED, "gbk", ["zh-Hans"]),
        (SIMPLIFIED, "gb2312", ["zh-Hans", "zh-Hant", "ru", "en"]),
        (TRADITIONAL, "big5", ["zh-Hant", "en"]),
        (TRADITIONAL, "cp950", ["zh-Hans", "zh-Hant"]),
        (RUSSIAN, "cp1251", ["ru", "en"]),
        (RUSSIAN, "koi8_r", ["ru"]),
        (RUSSIAN, "cp1251", ["zh-Hans", "zh-Hant", "ru", "en"]),
        (ENGLISH, "cp1252", ["en", "ru"]),
    ],
)
def test_a_file_excel_saved_in_a_windows_encoding_is_read_in_it(
    text: str, encoding: str, languages: list[str]
) -> None:
    """Excel on a Chinese or Russian Windows saves "CSV" as GBK, Big5 or Windows-1251, not
    UTF-8: such files were refused with "save the CSV as UTF-8", which most admins cannot do
    without help. The brand's languages say which encodings to try."""
    decoded = rules.decode_upload(text.encode(encoding), languages)
    assert decoded is not None
    assert decoded.text == text
    assert decoded.encoding in rules.ENCODING_NAMES


def test_only_the_brands_languages_encodings_are_tried() -> None:
    # A Russian brand is not handed a Chinese file read as Cyrillic mojibake, nor the reverse.
    assert rules.decode_upload(SIMPLIFIED.encode("gbk"), ["ru", "en"]) is None
    assert rules.decode_upload(RUSSIAN.encode("cp1251"), ["zh-Hans", "en"]) is None
    assert rules.decode_upload(RUSSIAN.encode("cp1251"), []) is None


def test_an_excel_separator_line_is_obeyed_and_skipped() -> None:
    """A first line ``sep=;`` tells Excel the separator (exporters write it so a file opens
    right in any locale); it was taken for the header row: "lacks the columns question…"."""
    content = "sep=;\r\nquestion;answer;language\r\nКак сменить тариф?;Цена 1,5 ₽;ru\r\n;x;ru\r\n"
    parsed = rules.parse_faq_csv(content)
    assert not isinstance(parsed, rules.Violation), parsed
    rows = list(parsed)
    assert rows[0].draft is not None
    assert rows[0].draft.body == "Цена 1,5 ₽"
    assert [r.line for r in rows] == [3, 4]  # lines of the file as the person sees it
    tabs = '"sep=\t"\nquestion\tanswer\tlanguage\nQ\tA, b\ten\n'
    parsed = rules.parse_faq_csv(tabs)
    assert not isinstance(parsed, rules.Violation), parsed
    draft = next(iter(parsed)).draft
    assert draft is not None
    assert draft.body == "A, b"


def test_header_names_with_stray_invisible_characters_are_found() -> None:
    """A header cell pasted from a web page or a chat ("question" + a zero-width space) read
    as an unknown column: the file was refused as lacking it."""
    content = "\u200bquestion;answer\u2060;language\ufeff\nКак сменить тариф?;В приложении.;ru\n"
    parsed = rules.parse_faq_csv(content)
    assert not isinstance(parsed, rules.Violation), parsed
    assert next(iter(parsed)).draft is not None


@pytest.mark.parametrize(
    "header",
    [
        "问题,答案,语言,标签,可见范围",
        "問題,答案,語言,標籤,可見範圍",
        "Вопрос,Ответ,Язык,Теги,Видимость",
    ],
)
def test_a_header_in_the_admins_language_names_the_columns(header: str) -> None:
    """A sheet headed "问题,答案,语言" was refused as lacking every column."""
    parsed = rules.parse_faq_csv(f"{header}\n发票怎么开？,在订单详情页申请。,zh-Hans,发票,staff\n")
    assert not isinstance(parsed, rules.Violation), parsed
    draft = next(iter(parsed)).draft
    assert draft is not None
    assert (draft.title, draft.body, draft.language) == (
        "发票怎么开？",
        "在订单详情页申请。",
        "zh-Hans",
    )
    assert (draft.tags, draft.visibility) == (("发票",), "staff")
