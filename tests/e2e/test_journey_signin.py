"""First journeys: every demo role signs in through the form and sees its own menu; the
language switcher turns the interface into Spanish."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import url_for

from sscmatch.web.access import PUBLIC, SIGNED_IN, rule_for
from sscmatch.web.templating import NAV
from tests.e2e.conftest import DEMO, LiveServer, expect

pytestmark = pytest.mark.e2e


def expected_menu(live_server: LiveServer, role: str) -> set[str]:
    """The menu addresses a role may open, from the app's own access rules."""
    app = live_server.app
    with app.test_request_context():
        return {
            url_for(endpoint)
            for endpoint, _label in NAV
            if endpoint in app.view_functions
            and ({PUBLIC, SIGNED_IN, role} & (rule_for(endpoint) or frozenset()))
        }


@pytest.mark.one_case_on_postgresql(who="secretariat")
@pytest.mark.parametrize("who", list(DEMO))
def test_each_demo_role_signs_in_and_sees_its_menu(
    page: Any, live_server: LiveServer, sign_in: Any, shot: Any, who: str
) -> None:
    page.goto("/login")
    expect(page.locator("details.demo-accounts")).to_be_visible()  # demo mode says so
    shot(page, "login")
    account = sign_in(page, who)
    shot(page, "signed-in")
    header = page.locator("header .who")
    expect(header).to_contain_text(account.name, use_inner_text=True)
    menu = {link.get_attribute("href") for link in page.locator("nav.main-nav a").element_handles()}
    assert menu == expected_menu(live_server, account.role)
    admin_links = {"/admin/users", "/admin/audit"}
    if account.role == "admin":
        assert admin_links <= menu
    else:
        assert not admin_links & menu
    # The interface follows the account's language (the GTM focal point works in Spanish);
    # an account that chose none follows the browser's (this page's is British English).
    expect(page.locator("html")).to_have_attribute("lang", account.language or "en")


def test_language_switcher_turns_the_page_into_spanish(page: Any, shot: Any) -> None:
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    shot(page, "english")
    page.locator("#lang-select").select_option("es")
    page.locator("form.lang-form button[type=submit]").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page).to_have_url(re.compile("/login$"))  # back where we were
    expect(page.locator("#lang-select")).to_have_value("es")
    shot(page, "spanish")
    # The choice sticks for the next page of the visit.
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "es")


def test_browser_preference_chooses_the_language(new_page: Any) -> None:
    page = new_page(locale="pt-BR")
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "pt")
