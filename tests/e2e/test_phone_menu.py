"""The header on a phone: every role's menu and tools fold behind one "Menu" button, so a page
starts with its own content; the button opens and closes them by pointer and by keyboard
(Escape gives the focus back); on a wide screen the button is not there and the menu is in view.
Walks every demo role (each in its account's language) at 390 px, and a desktop width."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, select

from sscmatch.models import Notice, User
from sscmatch.workflow.reminders import catalogue
from tests.e2e.conftest import DEMO, assert_fits

ROLES = ("secretariat", "gtm", "analyst", "admin")
# The folded header: one row (the brand and the button), where the full menu took four to six.
FOLDED_HEADER_PX = 90


@pytest.mark.same_on_every_database
@pytest.mark.parametrize("role", ROLES)
def test_the_menu_folds_on_a_phone_and_opens_by_pointer_and_keyboard(
    new_page: Any, sign_in: Any, shot: Any, role: str
) -> None:
    page = new_page(locale="es-ES")
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, role)
    page.goto("/")
    toggle = page.locator("header.top .menu-toggle")
    nav = page.locator("header.top nav.main-nav")
    expect(toggle).to_be_visible()
    lang = page.locator("html").get_attribute("lang") or "en"  # the account's own language
    expect(toggle).to_contain_text(catalogue(lang).ugettext("Menu"))
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(nav).to_be_hidden()
    expect(page.locator("#lang-select")).to_be_hidden()
    height = page.locator("header.top").bounding_box()["height"]
    assert height <= FOLDED_HEADER_PX, f"{role}: the folded header is {height} px tall"
    shot(page, f"{role}-folded")

    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(nav).to_be_visible()
    expect(page.locator("#lang-select")).to_be_visible()
    expect(page.locator("header.top form[action$='/logout'] button")).to_be_visible()
    links = nav.locator("a")
    expect(links.first).to_be_visible()
    for box in (links.nth(i).bounding_box() for i in range(links.count())):
        assert box is not None and box["x"] + box["width"] <= 391, f"{role}: a link is cut off"
    assert_fits(page)
    shot(page, f"{role}-open")

    page.keyboard.press("Escape")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(nav).to_be_hidden()
    expect(toggle).to_be_focused()

    page.keyboard.press("Enter")  # the focused toggle opens it again, and a link is reachable
    expect(nav).to_be_visible()
    page.keyboard.press("Tab")
    expect(nav.locator("a").first).to_be_focused()


@pytest.mark.same_on_every_database
def test_on_a_wide_screen_the_menu_is_in_view_and_the_button_is_not(
    new_page: Any, sign_in: Any
) -> None:
    page = new_page(locale="es-ES")
    sign_in(page, "gtm")
    page.goto("/needs")
    expect(page.locator("header.top .menu-toggle")).to_be_hidden()
    expect(page.locator("header.top nav.main-nav a[aria-current=page]")).to_be_visible()
    expect(page.locator("#lang-select")).to_be_visible()


def test_the_button_counts_unread_notices(new_page: Any, sign_in: Any, live_server: Any) -> None:
    """Unread notices are counted on the folded menu's button, as on the notices link it folds
    away (the analyst, whom no journey notifies, gets two)."""
    engine = live_server.app.extensions["sscmatch.engine"]
    with Session(engine) as s:
        analyst = s.exec(select(User).where(User.email == DEMO["analyst"].email)).one()
        for number in ("1", "2"):
            s.add(
                Notice(
                    user_id=analyst.id,
                    kind="need.endorse",
                    params={"id": f"N-MENU-{number}", "title": "Menu test"},
                    entity="need",
                    entity_id=f"N-MENU-{number}",
                )
            )
        s.commit()
    page = new_page(locale="es-ES")
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "analyst")
    page.goto("/")
    expect(page.locator("header.top .menu-toggle .count")).to_have_text("2")
    page.goto("/notices")
    page.locator("main form button[type=submit]").first.click()  # mark all read
    expect(page.locator("header.top .menu-toggle .count")).to_have_count(0)
