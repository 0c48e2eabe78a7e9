"""The ticket pages through HTTP forms: ask, workspace, claim, reply, resolve, rate, staff
queue, policy and access log."""

from __future__ import annotations

import html
import re
from datetime import UTC
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from crowdcx.kernel.db import Database
from crowdcx.tickets.models import ExpertProfileRow, TicketRatingRow, TicketRow
from tests.conftest import PASSWORD, Person, World
from tests.tickets.test_api import Desk


def sign_in(client: TestClient, person: Person) -> str:
    client.cookies.clear()
    client.get("/login")
    token = client.cookies.get("crowdcx_csrf")
    assert token
    response = client.post(
        "/login",
        data={"csrf_token": token, "email": person.email, "password": PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 303
    return token


def ask_by_form(
    client: TestClient, slug: str, token: str, subject: str, body: str, **fields: str
) -> str:
    """The signed-in customer sends the new-inquiry form; the new ticket's page address."""
    created = client.post(
        f"/b/{slug}/tickets/new",
        data={"csrf_token": token, "subject": subject, "body": body, "skill": "general",
              **fields},
        follow_redirects=False,
    )  # fmt: skip
    assert created.status_code == 303, created.text[:500]
    return str(created.headers["location"])


def test_the_whole_road_by_forms(client: TestClient, world: World) -> None:
    desk = Desk(client, world, experts=1)
    expert = desk.experts[0]
    slug = desk.slug

    token = sign_in(client, expert)
    page = client.get(f"/b/{slug}/workspace")
    assert page.status_code == 200
    client.post(f"/b/{slug}/workspace/availability", data={"csrf_token": token, "online": "1"})

    token = sign_in(client, desk.customer)
    form = client.get(f"/b/{slug}/tickets/new")
    assert 'name="subject"' in form.text
    created = client.post(
        f"/b/{slug}/tickets/new",
        data={
            "csrf_token": token,
            "subject": "订单没有收到",
            "body": "我上周下的订单还没有收到。",
            "skill": "general",
            "phone": "13812345678",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    ticket_url = created.headers["location"]
    tid = int(ticket_url.rsplit("/", 1)[1])
    assert "订单没有收到" in client.get(ticket_url).text
    assert client.get(f"/b/{slug}/tickets").status_code == 200

    token = sign_in(client, expert)
    offers = client.get(f"/b/{slug}/workspace/offers")
    assert "订单没有收到" in offers.text
    assert re.search(r'class="countdown" data-expires="[^"]+"', offers.text)
    client.post(f"{ticket_url}/act", data={"csrf_token": token, "action": "claim"})
    claimed = client.get(ticket_url)
    assert "138****5678" in claimed.text
    client.post(f"{ticket_url}/messages", data={"csrf_token": token, "body": "请检查物流单号"})
    client.post(f"{ticket_url}/act", data={"csrf_token": token, "action": "resolve"})

    token = sign_in(client, desk.customer)
    page = client.get(ticket_url)
    assert "请检查物流单号" in page.text
    assert 'name="csat"' in page.text
    rated = client.post(
        f"{ticket_url}/rating", data={"csrf_token": token, "csat": "5"}, follow_redirects=True
    )
    assert rated.status_code == 200
    assert 'name="csat"' not in rated.text

    sign_in(client, expert)
    earnings = client.get(f"/b/{slug}/earnings")
    assert str(tid) in earnings.text

    sign_in(client, desk.admin)
    log = client.get(f"/b/{slug}/admin/access-log")
    assert log.status_code == 200
    policy = client.get(f"/b/{slug}/admin/policy")
    assert "rate_card" in policy.text


def test_policy_page_reports_errors_and_keeps_the_draft(client: TestClient, world: World) -> None:
    desk = Desk(client, world, experts=0)
    token = sign_in(client, desk.admin)
    bad = client.post(
        f"/b/{desk.slug}/admin/policy",
        data={"csrf_token": token, "policy_json": '{"languages": ["xx"]}'},
    )
    assert bad.status_code == 422
    assert "xx" in bad.text
    broken = client.post(
        f"/b/{desk.slug}/admin/policy", data={"csrf_token": token, "policy_json": "{not json"}
    )
    assert broken.status_code == 422
    # The quality section is edited there too, each problem explained in the admin's language.
    assert '"pass_mark": 70' in html.unescape(client.get(f"/b/{desk.slug}/admin/policy").text)
    client.cookies.set("crowdcx_locale", "ru")
    draft = '{"quality": {"base_rate": 10, "pass_mark": 90}}'
    bad = client.post(
        f"/b/{desk.slug}/admin/policy", data={"csrf_token": token, "policy_json": draft}
    )
    assert bad.status_code == 422
    assert "quality.base_rate" in bad.text
    assert "числом от 0 до 1" in bad.text
    assert desk.get("/policy", desk.admin).json()["quality"]["pass_mark"] == 70


def test_staff_queue_lists_escalations(client: TestClient, world: World) -> None:
    desk = Desk(client, world, experts=1)
    expert = desk.experts[0]
    desk.online(expert)
    tid = desk.ask()["id"]
    desk.post(f"/tickets/{tid}/claim", expert)
    desk.post(f"/tickets/{tid}/escalate", expert, {"reason": "退款需要主管"})
    sign_in(client, desk.agent)
    queue = client.get(f"/b/{desk.slug}/staff")
    assert "退款需要主管" in queue.text
    assert client.get(f"/b/{desk.slug}/workspace").status_code == 403


def test_agent_assist_shows_what_the_handler_may_reuse(client: TestClient, world: World) -> None:
    """Beside a ticket, experts and staff see related articles at their visibility; the
    customer does not get this panel, and an expert never sees staff-only material."""
    from tests.knowledge.test_api import Kb

    kb = Kb(client, world)
    kb.seed()
    kb.publish(kb.write("订单物流一直不更新怎么办", "在订单详情页复制物流单号，联系快递公司查询。",
                        visibility="experts"))  # fmt: skip
    kb.publish(kb.write("内部：物流不更新的补发口径", "订单物流三天不更新，直接补发。",
                        visibility="staff"))  # fmt: skip
    admin = kb.reviewer.auth
    assert client.put(kb.url("/policy"), json={"routing_mode": "pull"}, headers=admin).is_success
    profile = {"skills": {"general": 5}, "languages": ["zh-Hans"], "tier": 0, "certifications": []}
    assert client.put(kb.url(f"/experts/{kb.expert.id}"), json=profile, headers=admin).is_success
    kb.post("/experts/me/availability", kb.expert, {"online": True})
    inquiry = {"subject": "订单物流三天没有更新", "body": "我的订单物流一直不更新。"}
    r = kb.post("/tickets", kb.customer, {**inquiry, "skill": "general"})
    assert r.status_code == 201, r.text
    tid = r.json()["id"]
    assert kb.post(f"/tickets/{tid}/claim", kb.expert).status_code == 200
    sign_in(client, kb.expert)
    page = client.get(f"/b/{kb.slug}/tickets/{tid}")
    assert 'id="assist-h"' in page.text
    assert "订单物流一直不更新怎么办" in page.text
    assert "补发口径" not in page.text
    sign_in(client, kb.author)  # an agent: staff see staff-only material too
    assert "补发口径" in client.get(f"/b/{kb.slug}/tickets/{tid}").text
    sign_in(client, kb.customer)
    assert 'id="assist-h"' not in client.get(f"/b/{kb.slug}/tickets/{tid}").text


def test_broken_policy_json_is_explained_in_the_readers_language(
    client: TestClient, world: World
) -> None:
    """A syntax error in the policy used to come back as Python's English message
    ("Expecting ':' delimiter: line 3 column 17 (char 42)") whatever the admin's language."""
    desk = Desk(client, world, experts=0)
    token = sign_in(client, desk.admin)
    client.cookies.set("crowdcx_locale", "ru")
    draft = '{\n  "languages": ["ru"],\n  "sla_hours" 4\n}'
    broken = client.post(
        f"/b/{desk.slug}/admin/policy", data={"csrf_token": token, "policy_json": draft}
    )
    assert broken.status_code == 422
    assert "Expecting" not in broken.text
    assert "строка 3, позиция 15" in broken.text
    assert "двоеточия" in broken.text  # what is wrong there: the colon after a name
    assert html.unescape(broken.text).count(draft) == 1  # the draft stays in the editor
    client.cookies.set("crowdcx_locale", "zh-Hant")
    listed = client.post(
        f"/b/{desk.slug}/admin/policy", data={"csrf_token": token, "policy_json": "[1, 2]"}
    )
    assert listed.status_code == 422
    assert "not an object" not in listed.text
    assert "JSON 物件" in listed.text


def test_a_refused_rating_keeps_the_score_and_words_chosen(
    client: TestClient, world: World
) -> None:
    """The customer chose 4 stars and wrote a comment; an out-of-range recommendation score
    refused the form, and the page came back with no star chosen and the comment gone."""
    desk = Desk(client, world, experts=1)
    expert = desk.experts[0]
    desk.online(expert)
    tid = desk.ask()["id"]
    assert desk.post(f"/tickets/{tid}/claim", expert).status_code == 200
    assert desk.post(f"/tickets/{tid}/resolve", expert).status_code == 200
    token = sign_in(client, desk.customer)
    refused = client.post(
        f"/b/{desk.slug}/tickets/{tid}/rating",
        data={"csrf_token": token, "csat": "4", "nps": "11", "comment": "Быстро & вежливо"},
    )
    assert refused.status_code == 422
    checked = re.findall(r'name="csat" value="(\d)"[^>]*\bchecked\b', refused.text)
    assert checked == ["4"]
    assert re.search(r'<input id="f-nps" name="nps" value="11"', refused.text)
    assert 'value="Быстро &amp; вежливо"' in refused.text
    assert 'id="e-nps"' in refused.text  # the reason is beside the field it is about
    typo = client.post(
        f"/b/{desk.slug}/tickets/{tid}/rating",
        data={"csrf_token": token, "csat": "5", "nps": "l0", "comment": ""},
    )
    assert typo.status_code == 422  # a typo is not taken for "no recommendation score"
    assert re.search(r'name="csat" value="5"[^>]*\bchecked\b', typo.text)


def test_browser_line_breaks_count_as_one_character(client: TestClient, world: World) -> None:
    """A description of 20,000 characters or fewer typed in a browser arrives with CR LF
    line breaks, and was refused as longer than 20,000."""
    desk = Desk(client, world, experts=0)
    token = sign_in(client, desk.customer)
    lines = ["Заказ 12345 не пришёл, трек-номер не обновляется уже неделю, помогите."] * 280
    typed = "\r\n".join(lines)
    assert len(typed.replace("\r\n", "\n")) <= 20_000 < len(typed)
    ticket_url = ask_by_form(client, desk.slug, token, "Заказ не пришёл", typed)
    tid = int(ticket_url.rsplit("/", 1)[1])
    assert desk.get(f"/tickets/{tid}", desk.customer).json()["body"] == "\n".join(lines)
    replied = client.post(f"{ticket_url}/messages", data={"csrf_token": token, "body": typed},
                          follow_redirects=False)  # fmt: skip
    assert replied.status_code == 303, replied.text[:500]


def test_full_width_digits_are_numbers_in_the_forms(
    client: TestClient, world: World, db: Database
) -> None:
    """An admin typing with a Chinese input method in full-width mode wrote "general：４" and
    tier "１": the expert form said to write skills as name:level. The rating form refused
    "１０" as a recommendation score the same way."""
    desk = Desk(client, world, experts=1)
    expert = desk.experts[0]
    token = sign_in(client, desk.admin)
    saved = client.post(
        f"/b/{desk.slug}/admin/experts/{expert.id}",
        data={"csrf_token": token, "skills": "general：４，orders:２", "languages": ["zh-Hans"],
              "tier": "１", "certifications": ""},
        follow_redirects=False,
    )  # fmt: skip
    assert saved.status_code == 303, saved.text[:500]
    with db.sessions() as s:
        row = s.scalar(select(ExpertProfileRow).where(ExpertProfileRow.user_id == expert.id))
        assert row is not None
        assert (row.skills, row.tier) == ({"general": 4, "orders": 2}, 1)
    desk.online(expert)
    tid = desk.ask()["id"]
    assert desk.post(f"/tickets/{tid}/claim", expert).status_code == 200
    assert desk.post(f"/tickets/{tid}/resolve", expert).status_code == 200
    token = sign_in(client, desk.customer)
    rated = client.post(
        f"/b/{desk.slug}/tickets/{tid}/rating",
        data={"csrf_token": token, "csat": "５", "nps": "１０", "comment": ""},
        follow_redirects=False,
    )
    assert rated.status_code == 303, rated.text[:500]
    with db.sessions() as s:
        rating = s.scalar(select(TicketRatingRow).where(TicketRatingRow.ticket_id == tid))
        assert rating is not None
        assert (rating.csat, rating.nps) == (5, 10)


def test_history_names_who_acted_in_the_readers_language(client: TestClient, world: World) -> None:
    """The history's actor roles are codes in the database; the page shows them translated."""
    desk = Desk(client, world, experts=1)
    expert = desk.experts[0]
    slug = desk.slug
    token = sign_in(client, expert)
    client.post(f"/b/{slug}/workspace/availability", data={"csrf_token": token, "online": "1"})
    token = sign_in(client, desk.customer)
    ticket_url = ask_by_form(client, slug, token, "订单没有收到", "我上周下的订单还没有收到。")
    token = sign_in(client, expert)
    client.get(f"/b/{slug}/workspace/offers")
    client.post(f"{ticket_url}/act", data={"csrf_token": token, "action": "claim"})
    client.cookies.set("crowdcx_locale", "ru")
    history = client.get(ticket_url).text.split('id="hist-h"', 1)[1]
    assert "(customer)" not in history
    assert "(expert)" not in history
    assert "(Клиент)" in history
    assert "(Эксперт)" in history


def test_times_are_shown_in_the_brands_time_zone(client: TestClient, world: World) -> None:
    """A brand in Shanghai reads its tickets' times on Shanghai's clock, not the server's
    UTC: the list, the conversation and the history all say when it happened there."""
    desk = Desk(client, world, experts=1)
    slug = desk.slug
    patched = client.patch(
        f"/api/v1/brands/{slug}",
        json={"settings": {"timezone": "Asia/Shanghai"}},
        headers=desk.admin.auth,
    )
    assert patched.status_code == 200, patched.text
    token = sign_in(client, desk.customer)
    ticket_url = ask_by_form(client, slug, token, "耳机连不上", "耳机一直连不上蓝牙。")
    client.post(f"{ticket_url}/messages", data={"csrf_token": token, "body": "还是不行"})
    with world.db.transaction() as uow:
        ticket = uow.session.get(TicketRow, int(ticket_url.rsplit("/", 1)[1]))
        assert ticket is not None
        started = ticket.case_started_at
    shanghai = started.astimezone(ZoneInfo("Asia/Shanghai"))
    # By the hour: the customer's reply and the history's moments are a few ms later.
    utc_shown = started.astimezone(UTC).strftime("%Y-%m-%d %H:")
    listing = client.get(f"/b/{slug}/tickets").text
    assert shanghai.strftime("%Y-%m-%d %H:%M") in listing
    assert utc_shown not in listing
    page = client.get(ticket_url).text
    assert shanghai.strftime("%Y-%m-%d %H:") in page  # the reply's time
    assert utc_shown not in page
    sign_in(client, desk.agent)  # staff also see the history
    page = client.get(ticket_url).text
    history = page.split('id="hist-h"', 1)[1]
    assert shanghai.strftime("%Y-%m-%d %H:") in history
    assert utc_shown not in page


def test_agent_assist_shows_a_repeated_past_ticket_once(client: TestClient, world: World) -> None:
    """Past tickets that say the same word for word are one suggestion, not a column of
    copies that pushes the articles out of the panel."""
    from tests.knowledge.test_api import Kb

    kb = Kb(client, world)
    kb.seed()
    admin = kb.reviewer.auth
    assert client.put(kb.url("/policy"), json={"routing_mode": "pull"}, headers=admin).is_success
    profile = {"skills": {"general": 5}, "languages": ["zh-Hans"], "tier": 0, "certifications": []}
    assert client.put(kb.url(f"/experts/{kb.expert.id}"), json=profile, headers=admin).is_success
    kb.post("/experts/me/availability", kb.expert, {"online": True})
    inquiry = {"subject": "耳机无法连接蓝牙", "body": "耳机昨天开始连不上手机。"}
    inquiry["skill"] = "general"
    for _ in range(3):
        tid = kb.post("/tickets", kb.customer, inquiry).json()["id"]
        assert kb.post(f"/tickets/{tid}/claim", kb.expert).status_code == 200
        assert kb.post(f"/tickets/{tid}/resolve", kb.expert).status_code == 200
    tid = kb.post("/tickets", kb.customer, inquiry).json()["id"]
    assert kb.post(f"/tickets/{tid}/claim", kb.expert).status_code == 200
    sign_in(client, kb.expert)
    page = client.get(f"/b/{kb.slug}/tickets/{tid}").text
    panel = page.split('id="assist-h"', 1)[1].split("</section>", 1)[0]
    assert panel.count("<li") == 1, panel


def test_a_customers_tickets_are_paged_back_to_the_first(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "My tickets" showed the newest 100 and no way to older ones."""
    from crowdcx.tickets import pages

    monkeypatch.setattr(pages, "MY_TICKETS_PAGE", 2)
    desk = Desk(client, world, experts=0)
    ids = [desk.ask(subject=f"Вопрос {n}")["id"] for n in range(5)]
    sign_in(client, desk.customer)
    client.cookies.set("crowdcx_locale", "ru")
    seen: list[int] = []
    url = f"/b/{desk.slug}/tickets"
    for _ in range(5):
        listing = client.get(url)
        assert listing.status_code == 200
        seen += [int(i) for i in re.findall(rf'href="/b/{desk.slug}/tickets/(\d+)"', listing.text)]
        older = re.search(r'href="([^"]+)" rel="next"', listing.text)
        if older is None:
            break
        assert "Следующая страница" in listing.text
        url = html.unescape(older.group(1))
    assert seen == sorted(ids, reverse=True)
    assert client.get(f"/b/{desk.slug}/tickets?before=abc").status_code == 200  # read as none
