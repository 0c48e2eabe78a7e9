"""The community in Russian, in Debian's Chromium: a customer asks, a helper answers, a
veteran upvotes, the asker accepts; the helper sees the points, a new badge and level 2 on
the profile and in the notifications, and appears on the weekly leaderboard. Then a spam
question flagged by three trusted members disappears from the community and shows up in the
review queue."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from crowdcx.demo import DEMO_PASSWORD

pytestmark = pytest.mark.e2e

ASKER = "ivan@volga.example"
HELPER = "olga@volga.example"
VETERANS = ["dmitry@volga.example", "maria@volga.example", "alexey@volga.example"]
SPAMMER = "spam@volga.example"
TITLE = "Не приходят SMS после смены тарифа"
SPAM = "Дешёвые айфоны за полцены, пишите"
RUDE = "Глупый ответ, ничего не понятно"


def sign_in(page: Any, base: str, email: str) -> None:
    # Leave the previous page first: its background requests (the live stream reconnecting)
    # would otherwise come back after the cookies are cleared with a fresh CSRF cookie that
    # no longer matches the sign-in form (a 403 and a flaky walk).
    page.goto("about:blank")
    page.context.clear_cookies()
    page.goto(f"{base}/login")
    page.fill("#f-email", email)
    page.fill("#f-password", DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{base}/")


def test_russian_helper_is_upvoted_accepted_levels_up_and_spam_is_hidden(
    live_server: str, browser: Any, artifacts: Path
) -> None:
    context = browser.new_context(locale="ru-RU", viewport={"width": 1200, "height": 900})
    page = context.new_page()
    base = live_server

    # The customer asks; similar questions are looked up while typing.
    sign_in(page, base, ASKER)
    page.goto(f"{base}/b/volga/community/ask")
    assert page.locator("html").get_attribute("lang") == "ru"
    page.select_option("#a-community", "mobile")
    page.fill("#a-title", "интернет в роуминге")
    page.locator("#similar a").first.wait_for(timeout=10_000)
    assert "роуминге" in page.locator("#similar").inner_text()
    page.fill("#a-title", TITLE)
    page.fill("#a-body", "Сменил тариф вчера, с тех пор SMS от банков не приходят.")
    page.get_by_role("button", name="Опубликовать вопрос").click()
    page.wait_for_url(re.compile(r".*/community/questions/\d+$"))
    question_url = page.url
    assert page.get_by_role("heading", name=TITLE).is_visible()

    # The helper answers.
    sign_in(page, base, HELPER)
    page.goto(question_url)
    page.fill(
        "#ans-body", "Проверьте, не включён ли **запрет коротких номеров** в личном кабинете."
    )
    page.get_by_role("button", name="Опубликовать ответ").click()
    page.wait_for_url(re.compile(r".*#answers$"))
    answer = page.locator("article.answer").first
    assert "запрет коротких номеров" in answer.inner_text()

    # A veteran upvotes it; the asker accepts it.
    sign_in(page, base, VETERANS[0])
    page.goto(question_url)
    page.locator("article.answer button[data-vote=up]").first.click()
    page.wait_for_load_state()
    assert page.locator("article.answer .score").first.inner_text().strip() == "1"
    sign_in(page, base, ASKER)
    page.goto(question_url)
    page.get_by_role("button", name=re.compile("Принять этот ответ")).click()
    page.wait_for_load_state()
    assert page.locator("article.answer.accepted").count() == 1
    assert "Принятый ответ" in page.locator("article.answer").first.inner_text()
    page.screenshot(path=str(artifacts / "community-accepted-ru.png"), full_page=True)

    # The helper sees what it earned: notifications, profile with points, badge and level.
    sign_in(page, base, HELPER)
    page.goto(f"{base}/b/volga/community")
    count = page.locator("a[data-count-src] .nav-count")
    count.wait_for(state="visible")
    assert int(count.inner_text()) >= 3  # answer accepted, level 2, badge
    page.goto(f"{base}/b/volga/notifications")
    notes = page.locator("main ul.notifications").inner_text()
    assert "Вы достигли уровня 2." in notes
    assert "Вы получили значок «Первый принятый ответ»." in notes
    assert f"Ваш ответ на «{TITLE}» принят." in notes
    page.screenshot(path=str(artifacts / "community-notifications-ru.png"), full_page=True)
    page.goto(question_url)
    page.locator("article.answer a[href*='/community/users/']").first.click()
    page.wait_for_url(re.compile(r".*/community/users/\d+$"))
    assert page.locator("[data-testid=level]").inner_text() == "Уровень 2"
    assert int(page.locator("[data-testid=points]").inner_text()) >= 150
    assert "Первый принятый ответ" in page.locator("ul.badges").inner_text()
    assert "Ответ принят" in page.locator("table").inner_text()  # the points history
    page.screenshot(path=str(artifacts / "community-profile-ru.png"), full_page=True)
    page.goto(f"{base}/b/volga/community/leaderboard?period=week")
    board = page.locator("table.leaderboard").inner_text()
    assert "Ольга Смирнова" in board
    page.screenshot(path=str(artifacts / "community-leaderboard-ru.png"), full_page=True)

    # A rude comment under the accepted answer: a veteran (review privilege) hides it; it
    # leaves the page and waits in the review queue under "hidden comments".
    sign_in(page, base, ASKER)
    page.goto(question_url)
    answer = page.locator("article.answer").first
    answer.locator("details.inline summary", has_text="Добавить комментарий").click()
    answer.locator("textarea[name=body]").fill(RUDE)
    answer.get_by_role("button", name="Комментировать").click()
    page.wait_for_load_state()
    assert RUDE in page.locator("article.answer").first.inner_text()
    sign_in(page, base, VETERANS[0])
    page.goto(question_url)
    comment = page.locator("li.comment", has_text=RUDE)
    comment.get_by_role("button", name="Скрыть").click()
    page.wait_for_load_state()
    assert RUDE not in page.locator("main").inner_text()
    page.goto(f"{base}/b/volga/community/moderation")
    assert RUDE in page.locator("main").inner_text()
    assert "Скрытые комментарии" in page.locator("main").inner_text()

    # Spam: three trusted members flag it; it is hidden and waits in the review queue.
    sign_in(page, base, SPAMMER)
    page.goto(f"{base}/b/volga/community/ask")
    page.select_option("#a-community", "mobile")
    page.fill("#a-title", SPAM)
    page.fill("#a-body", "Звоните, всё оригинал: http://cheap-phones.example")
    page.get_by_role("button", name="Опубликовать вопрос").click()
    page.wait_for_url(re.compile(r".*/community/questions/\d+$"))
    spam_url = page.url
    for veteran in VETERANS:
        sign_in(page, base, veteran)
        page.goto(spam_url)
        question = page.locator("article.question")
        question.locator("details.flag summary").click()
        question.locator("select[name=reason]").select_option("spam")
        question.get_by_role("button", name="Отправить жалобу").click()
        page.wait_for_load_state()
    assert "скрыта до проверки модератором" in page.locator("main").inner_text()
    assert SPAM not in page.locator("main").inner_text()  # gone from the community home
    page.goto(f"{base}/b/volga/community/moderation")
    queue = page.locator("main").inner_text()
    assert SPAM in queue
    assert "Скрыто" in queue
    assert "Спам" in queue
    page.screenshot(path=str(artifacts / "community-review-queue-ru.png"), full_page=True)
    context.close()
