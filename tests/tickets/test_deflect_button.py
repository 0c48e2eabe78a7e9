"""On a ticket that showed no suggestion, the customer's only "next step" was a primary (red)
button "A suggestion solved it", which closes the ticket for good as solved by self-service:
the most inviting button on the page was the one that ends the conversation with the expert.
It is a secondary button now, as decline, escalate and reopen are."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.conftest import World
from tests.tickets.test_api import Desk
from tests.tickets.test_pages import ask_by_form, sign_in


def test_the_generic_deflect_button_is_not_the_primary_action(
    client: TestClient, world: World
) -> None:
    desk = Desk(client, world, experts=0)
    token = sign_in(client, desk.customer)
    url = ask_by_form(client, desk.slug, token, "地址填错了", "下单时地址写错了，请帮我改一下。")
    page = client.get(url)
    form = re.search(
        r'<form[^>]*>(?:(?!</form>).)*value="deflect"(?:(?!</form>).)*</form>', page.text, re.S
    )
    assert form, page.text
    button = re.search(r'<button type="submit" class="([^"]+)"', form.group())
    assert button
    assert "secondary" in button.group(1).split()
