"""After each of a focal point's saves, from the keyboard, the focus lands on what it did: the
message the next page opens with ("Enregistré N-2026-… (version 1).", "Engagement mis à jour."),
so Tab goes on from there, not from the top of the page through the whole menu. Walked on a
phone in French and Portuguese over each step a focal point takes on these pages: a need and a
capacity registered and edited, the need submitted for endorsement, a commitment updated. The
tester's finding: the focus was on the page's body, the message after the menu."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import LiveServer, expect
from tests.e2e.test_focal_forms import PEOPLE, _choose_theme, add_commitment, on_a_phone

pytestmark = [pytest.mark.e2e, pytest.mark.same_on_every_database]


def _lands_on_the_result(page: Any, press: Any) -> None:
    """Takes the step (Enter on ``press``); the next page's message holds the focus."""
    with page.expect_navigation():
        press.press("Enter")
    message = page.locator("main .flash").first
    expect(message).to_be_visible()
    expect(message, f"{page.url}: the focus is not on the step's result").to_be_focused()


@pytest.mark.parametrize(("lang", "who"), PEOPLE, ids=[p[0] for p in PEOPLE])
def test_after_a_focal_points_save_the_focus_is_on_its_result(
    new_page: Any, sign_in: Any, live_server: LiveServer, lang: str, who: str
) -> None:
    page, account = on_a_phone(new_page, sign_in, lang, who)
    records: dict[str, str] = {}
    for kind in ("needs", "capacities"):
        page.goto(f"/{kind}/new")
        page.fill("#title", f"Inspection report ({lang}, {kind})")
        _choose_theme(page, "inspe")
        _lands_on_the_result(page, page.locator("#title"))
        records[kind] = page.url  # read after expect
        page.goto(f"{records[kind]}/edit")
        page.fill("#description", "Shared each year with the other countries")
        _lands_on_the_result(page, page.locator("#title"))
    # the need just saved: a draft, submitted for endorsement
    page.goto(records["needs"])
    _lands_on_the_result(page, page.locator("main .endorsement button[type=submit]"))
    country = str(account.country)
    commitment = add_commitment(
        live_server, f"focal-result-{lang}-{country}", country, f"Publish the report ({lang})"
    )
    page.goto(f"/followup/commitments/{commitment}")
    page.select_option("#status", "in_progress")
    _lands_on_the_result(page, page.locator("#due"))
