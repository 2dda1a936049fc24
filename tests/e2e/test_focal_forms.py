"""A focal point's forms, refused, on a phone (390 px) and from the keyboard alone, in French and
Portuguese: each field of each form is made the one in error in turn (need and capacity,
registered and edited, and a commitment's update), and the focus must land on it, or on the box
that stands in for it on the page (the theme picker's search box stands in for its select), so
the keyboard user goes on from the field to correct. The tester's finding: a refusal whose first
field in error is the themes left the focus on the page's body (static/js/focus-error.js ran
before the theme picker had replaced the select it had focused)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, col, select

from sscmatch.models import Capacity, Commitment, Need
from tests.e2e.conftest import LiveServer, expect

pytestmark = [pytest.mark.e2e, pytest.mark.same_on_every_database]

# (language, demo account): a French-speaking focal point uses the header's switcher.
PEOPLE = (("fr", "gtm"), ("pt", "bra"))
PHONE = {"width": 390, "height": 844}


def _own_records(live_server: LiveServer, country: str) -> tuple[str, str, str]:
    """A need and a capacity the focal point may edit and a commitment they may update."""
    with Session(live_server.app.extensions["sscmatch.engine"]) as session:
        need = session.exec(
            select(Need.id).where(Need.country == country, col(Need.status).in_(["draft", "open"]))
        ).first()
        capacity = session.exec(select(Capacity.id).where(Capacity.country == country)).first()
        commitment = session.exec(
            select(Commitment.id).where(
                Commitment.owner_country == country,
                col(Commitment.status).in_(["pending", "in_progress"]),
            )
        ).first()
    assert need and capacity and commitment, country
    return need, capacity, f"/followup/commitments/{commitment}"


def add_commitment(live_server: LiveServer, key: str, country: str, what: str) -> str:
    """A pending commitment of ``country``, the test's own (made once: the database is the
    whole browser session's)."""
    with Session(live_server.app.extensions["sscmatch.engine"]) as session:
        if session.get(Commitment, key) is None:
            session.add(Commitment(id=key, owner_country=country, description=what))
            session.commit()
    return key


def _switch_language(page: Any, lang: str) -> None:
    page.goto("/needs")
    toggle = page.locator(".menu-toggle")
    if toggle.is_visible():
        toggle.click()
    page.select_option("#lang-select", lang)
    with page.expect_navigation():
        page.locator("form.lang-form button").press("Enter")
    expect(page.locator("html")).to_have_attribute("lang", lang)


def on_a_phone(new_page: Any, sign_in: Any, lang: str, who: str) -> tuple[Any, Any]:
    """A page 390 px wide, the focal point ``who`` signed in and reading ``lang``; with the
    account."""
    page = new_page(f"{lang}-{'FR' if lang == 'fr' else 'BR'}")
    page.set_viewport_size(PHONE)
    account = sign_in(page, who)
    _switch_language(page, lang)
    return page, account


def _refused(page: Any, send_from: str, focused: str) -> None:
    """Sends the form with Enter in ``send_from``; the refusal must put the focus on
    ``focused``, marked in error."""
    with page.expect_navigation():
        page.locator(send_from).press("Enter")
    expect(page.locator(focused)).to_have_attribute("aria-invalid", "true")
    expect(page.locator(focused), f"{page.url}: the focus is not on {focused}").to_be_focused()


def _choose_theme(page: Any, words: str) -> None:
    """Picks the first theme the picker suggests for ``words``, from the keyboard."""
    page.locator("#themes-search").focus()
    page.keyboard.type(words)
    expect(page.locator("#themes-list li").first).to_be_visible()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("#themes-list")).to_be_hidden()


def _drop_themes(page: Any) -> None:
    """Removes every chosen theme with Backspace in the picker's empty search box."""
    page.locator("#themes-search").focus()
    chips = page.locator(".theme-picker .chips li")
    for left in range(chips.count() - 1, -1, -1):
        page.keyboard.press("Backspace")
        expect(chips).to_have_count(left)


def _walk_record_form(page: Any, path: str, dates: tuple[str, str], capacity: bool) -> None:
    """Each field of a need or capacity form as the one in error, in the form's order."""
    page.goto(path)
    page.fill("#title", "Inspection du travail des enfants / Inspeção do trabalho infantil")
    _drop_themes(page)
    _refused(page, "#title", "#themes-search")
    _choose_theme(page, "travail")
    page.fill("#languages", "xyzzy")
    _refused(page, "#title", "#languages")
    page.fill("#languages", "fr; pt")
    page.fill(f"#{dates[0]}", "31/02/2027")
    _refused(page, "#languages", f"#{dates[0]}")
    page.fill(f"#{dates[0]}", "03/2027")
    page.fill(f"#{dates[1]}", "2026")
    _refused(page, f"#{dates[0]}", f"#{dates[1]}")
    page.fill(f"#{dates[1]}", "")
    if capacity:
        page.fill("#max_per_year", "beaucoup")
        _refused(page, "#title", "#max_per_year")
        page.fill("#max_per_year", "")
    page.fill("#title", "")
    _refused(page, f"#{dates[0]}", "#title")


@pytest.mark.parametrize(("lang", "who"), PEOPLE, ids=[p[0] for p in PEOPLE])
def test_a_refused_focal_form_puts_the_focus_on_the_field_to_correct(
    new_page: Any, sign_in: Any, live_server: LiveServer, lang: str, who: str
) -> None:
    page, account = on_a_phone(new_page, sign_in, lang, who)
    need, capacity, commitment = _own_records(live_server, str(account.country))
    for path, dates, is_capacity in (
        ("/needs/new", ("desired_from", "desired_to"), False),
        (f"/needs/{need}/edit", ("desired_from", "desired_to"), False),
        ("/capacities/new", ("available_from", "available_to"), True),
        (f"/capacities/{capacity}/edit", ("available_from", "available_to"), True),
    ):
        _walk_record_form(page, path, dates, is_capacity)
    page.goto(commitment)
    page.select_option("#status", "fulfilled")
    page.fill("#evidence", "")
    _refused(page, "#due", "#evidence")
    page.fill("#evidence", "https://example.org/rapport")
    page.fill("#due", "30/02/2030")
    _refused(page, "#evidence", "#due")
    page.fill("#due", "")
    page.select_option("#status", "dropped")
    page.fill("#note", "")
    _refused(page, "#evidence", "#note")
