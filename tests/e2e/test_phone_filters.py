"""A list's filters on a phone: every list page with three fields or more folds its filters
behind one button, in the reader's language, that says how many are set, so the list starts on
the first screen; the button opens them (pointer or keyboard) and Escape closes them with the
focus back on it. On a wide screen the button is not there and the filters are in view."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from sscmatch.workflow.reminders import catalogue
from tests.e2e.conftest import hold_scripts

# What the browser makes of the pages: the same on any database (tests/conftest.py).
pytestmark = [pytest.mark.e2e, pytest.mark.same_on_every_database]

# Every list page with a filter form, as the secretariat (who may see them all).
LISTS = (
    "/needs",
    "/capacities",
    "/exchanges",
    "/review/queue",
    "/review/needs",
    "/review/awaiting",
    "/review/vetoes",
    "/tours",
    "/followup/commitments?country=all",
    "/notices",
    "/network",
    "/countries",
    "/matching/runs",
)
FIELDS = "input:not([type=hidden]):not([type=submit]):not([type=checkbox]), select, textarea"


def test_every_lists_filters_fold_on_a_phone(new_page: Any, sign_in: Any, shot: Any) -> None:
    page = new_page(locale="es-ES")
    page.set_viewport_size({"width": 390, "height": 844})
    label = catalogue("es").ugettext("Filters")
    sign_in(page, "secretariat")
    before = page.locator("html").get_attribute("lang") or "en"
    _choose_language(page, "es")
    try:
        folded = _walk(page, label, shot)
    finally:
        _choose_language(page, before)  # the shared database's account as it was
    # every list with a filter form of three fields or more was folded (lists of one or two
    # fields, such as the tours', are left alone)
    assert {"/needs", "/review/queue", "/exchanges", "/network"} <= set(folded), folded


def _choose_language(page: Any, lang: str) -> None:
    page.goto("/account")
    page.locator(".menu-toggle").click()
    page.select_option("#lang-select", lang)
    with page.expect_navigation():
        page.click("form.lang-form button")


def _walk(page: Any, label: str, shot: Any) -> list[str]:
    """Every list folds its filters; the needs' fold shows its count, opens and closes.
    Returns the lists whose filters were folded."""
    folded = []
    for path in LISTS:
        page.goto(path)
        for form in page.locator("main form.filters").all():
            if form.locator(FIELDS).count() < 3:
                continue
            toggle = page.locator(
                f"button.filters-toggle[aria-controls='{form.get_attribute('id')}']"
            )
            expect(toggle).to_be_visible()
            expect(toggle).to_have_text(label)
            expect(form).to_be_hidden()
            folded.append(path)

    page.goto("/needs?status=open&year=2019")
    toggle = page.locator("button.filters-toggle")
    form = page.locator("main form.filters")
    expect(toggle).to_have_text(f"{label} (2)")
    top = page.locator("main .record").first.bounding_box()
    assert top is not None and top["y"] < 844, "the first need is not on the first screen"
    shot(page, "needs-folded")
    toggle.focus()
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(form).to_be_visible()
    shot(page, "needs-open")
    form.locator("select").first.focus()
    page.keyboard.press("Escape")
    expect(form).to_be_hidden()
    expect(toggle).to_be_focused()
    return folded


def test_filters_stay_in_view_on_a_wide_screen(new_page: Any, sign_in: Any) -> None:
    page = new_page(locale="es-ES")
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, "secretariat")
    page.goto("/needs")
    expect(page.locator("main form.filters")).to_be_visible()
    expect(page.locator("button.filters-toggle")).to_be_hidden()


def test_filters_someone_is_typing_in_stay_open(new_page: Any, sign_in: Any) -> None:
    """On a slow page the person may be in a filter before the script that folds them has run:
    the filters stay open, the field keeps the focus and what was typed."""
    page = new_page(locale="es-ES")
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "secretariat")
    run_scripts = hold_scripts(page)
    page.goto("/needs")
    form = page.locator("main form.filters")
    field = form.locator("input[type=search], input[type=text]").first
    field.click()
    page.keyboard.type("inspección")
    run_scripts()
    expect(page.locator("button.filters-toggle")).to_have_attribute("aria-expanded", "true")
    expect(form).to_be_visible()
    expect(field).to_be_focused()
    page.keyboard.type(" laboral")
    expect(field).to_have_value("inspección laboral")
