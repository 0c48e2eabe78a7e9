"""When the help center finds nothing, "Ask an expert" and "Ask the community" take what the
reader searched for to the form: they opened empty, and the reader typed it all again."""

from __future__ import annotations

import html
import re
from urllib.parse import quote

from fastapi.testclient import TestClient

from tests.conftest import World
from tests.tickets.test_pages import sign_in


def test_asking_after_a_fruitless_search_starts_from_the_search(
    client: TestClient, world: World
) -> None:
    slug = world.brand(default_locale="ru", locales=["ru", "en"])
    customer = world.member(slug, ["customer"], "Иван")
    sign_in(client, customer)
    asked = "телевизор не показывает каналы & <пульт>"
    page = client.get(f"/b/{slug}/help", params={"q": asked}).text
    found = page[page.index('class="card notice"') :]  # not the header's links
    expert = re.search(r'href="(/b/[^"]+/tickets/new[^"]*)"', found)
    community = re.search(r'href="(/b/[^"]+/community/ask[^"]*)"', found)
    assert expert
    assert community
    assert html.unescape(expert.group(1)) == f"/b/{slug}/tickets/new?subject={quote(asked)}"
    form = client.get(html.unescape(expert.group(1))).text
    assert 'value="телевизор не показывает каналы &amp; &lt;пульт&gt;"' in form
    ask = client.get(html.unescape(community.group(1))).text
    assert 'value="телевизор не показывает каналы &amp; &lt;пульт&gt;"' in ask
    # The forms open empty as before when nothing was searched.
    assert 'id="f-subject" name="subject" value=""' in client.get(f"/b/{slug}/tickets/new").text
