"""The browser's Back keeps a focal point's half-filled form, sent or not: on each form (need and
capacity, new and edited, a commitment's update), what was typed is there again after leaving
the page by a link and coming back with Back, both before sending it and after a refusal. The
tester's finding: after a refusal, Back to the form met the browser's "Confirm form
resubmission" (ERR_CACHE_MISS: signed-in pages are no-store), what was typed out of reach. A form
sent and saved is not filled again by Back (a second record would be one Enter away)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.conftest import LiveServer, expect, hold_scripts
from tests.e2e.test_focal_forms import PEOPLE, _choose_theme, _own_records, on_a_phone

pytestmark = [pytest.mark.e2e, pytest.mark.same_on_every_database]


def _away_and_back(page: Any, path: str) -> None:
    """Leaves the form by its page's first link back (the crumbs), then presses Back."""
    form_at = re.compile(re.escape(path) + "$")
    page.locator("main .crumbs a").first.press("Enter")
    expect(page).not_to_have_url(form_at)
    page.go_back()
    expect(page).to_have_url(form_at)


def _kept(page: Any, typed: dict[str, str], theme: str | None) -> None:
    for selector, value in typed.items():
        expect(page.locator(selector), f"{page.url}: {selector} after Back").to_have_value(value)
    if theme:
        expect(page.locator(".theme-picker .chips")).to_contain_text(theme)


@pytest.mark.parametrize(("lang", "who"), PEOPLE, ids=[p[0] for p in PEOPLE])
def test_back_keeps_a_half_filled_focal_form_sent_or_not(
    new_page: Any, sign_in: Any, live_server: LiveServer, lang: str, who: str
) -> None:
    page, account = on_a_phone(new_page, sign_in, lang, who)
    need, capacity, commitment = _own_records(live_server, str(account.country))
    for path, date in (
        ("/needs/new", "#desired_from"),
        (f"/needs/{need}/edit", "#desired_from"),
        ("/capacities/new", "#available_from"),
        (f"/capacities/{capacity}/edit", "#available_from"),
    ):
        for refused in (False, True):
            page.goto(path)
            typed = {
                "#title": f"Moitié remplie {lang} {refused}",
                "#description": "Un long texte tapé sur le téléphone",
                date: "31/02/2027" if refused else "03/2027",
            }
            for selector, value in typed.items():
                page.fill(selector, value)
            _choose_theme(page, "migra")
            chip = page.locator(".theme-picker .chips li").last
            expect(chip).to_be_visible()
            theme = chip.inner_text().strip(" ×\n")
            if refused:
                with page.expect_navigation():
                    page.locator("#title").press("Enter")
                expect(page.locator(f"{date}[aria-invalid=true]")).to_be_attached()
            _away_and_back(page, path)
            _kept(page, typed, theme)
    for refused in (False, True):
        page.goto(commitment)
        page.select_option("#status", "fulfilled")
        page.fill("#evidence", "")
        page.fill("#note", f"Rapport en cours de rédaction {refused}")
        if refused:
            with page.expect_navigation():
                page.locator("#evidence").press("Enter")
            expect(page.locator("#evidence[aria-invalid=true]")).to_be_attached()
        _away_and_back(page, commitment)
        _kept(
            page,
            {"#status": "fulfilled", "#note": f"Rapport en cours de rédaction {refused}"},
            None,
        )


def test_back_never_overwrites_what_is_typed_before_the_scripts_came(
    new_page: Any, sign_in: Any
) -> None:
    """What Back puts again into a form goes only where nothing was typed on the page meanwhile:
    on a slow page the person may begin to correct a field before form-draft.js has run, and
    the draft must not put the old words back over the new ones."""
    page, _account = on_a_phone(new_page, sign_in, "pt", "bra")
    page.goto("/needs/new")
    page.fill("#title", "Título do rascunho")
    page.fill("#description", "Descrição do rascunho")
    page.locator("main .crumbs a").first.press("Enter")
    expect(page).not_to_have_url(re.compile("/needs/new$"))
    run_scripts = hold_scripts(page)
    page.go_back()
    page.fill("#title", "Título corrigido")  # before the page's scripts came
    run_scripts()
    expect(page.locator("#title")).to_have_value("Título corrigido")
    expect(page.locator("#description")).to_have_value("Descrição do rascunho")
