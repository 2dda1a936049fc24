"""Every page, a failed sign-in and refused forms pass axe-core's audit of WCAG 2.2 levels A and
AA (Deque's engine, shipped inside the axe-playwright-python wheel): contrast, names and roles,
labels, landmarks, focusable scrolling boxes, touch targets, and the rest of its rules. Our own
walks check some of these on every page cheaply (tests/web/test_accessible_pages.py,
UNREACHABLE_JS in test_layout); axe checks them all, in a real browser, at a phone's width where
the layout differs most: every page of the URL map once, in one language (its rules read the
markup and the colours, the same in every language; about half a second a page). It found the
sign-in page's demo accounts and a tour's delegation in boxes that scrolled sideways that the
keyboard could not reach (static/js/scroll-cue.js now gives such boxes the focus)."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.e2e.test_layout import PHONE, arguments, is_a_page, records, settle, walk_every_page

pytestmark = [pytest.mark.e2e, pytest.mark.same_on_every_database]
__all__ = ["arguments", "records"]

WCAG_AA = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
    "resultTypes": ["violations"],
}
AXE = Axe()


def violations(page: Any) -> list[str]:
    """axe-core's WCAG A/AA violations on the page as it is, a line each with where."""
    found = AXE.run(page, options=WCAG_AA).response["violations"]
    return [
        f"{page.url}: {v['id']} ({v['impact']}) at {[n['target'] for n in v['nodes'][:3]]}: "
        f"{v['help']}"
        for v in found
    ]


def test_every_page_passes_the_audit_on_a_phone(
    new_page: Any, sign_in: Any, live_server: Any, arguments: dict[str, Any]
) -> None:
    """Every page of the URL map at 390 px in Spanish, by a role that may see it (the layout
    walk's pages and records)."""
    problems: list[str] = []
    audited = 0
    for _who, _endpoint, path, page, answer in walk_every_page(
        new_page, sign_in, live_server.app, arguments, "es-ES"
    ):
        if not is_a_page(answer):
            continue  # the layout walk fails it, saying why
        settle(page, path)
        problems += violations(page)
        audited += 1
    assert problems == [], "\n".join(problems)
    assert audited > 40, audited


# (who, the form's page, the field emptied to have it refused)
REFUSED = (("gtm", "/needs/new", "#title"), ("bra", "/capacities/new", "#title"))


def test_sign_in_and_refused_forms_pass_the_audit_on_a_phone(new_page: Any, sign_in: Any) -> None:
    """The pages' other states: the sign-in page (with its demo accounts), a failed sign-in, and
    forms refused with their messages beside the fields, in French (the longest words)."""
    problems: list[str] = []
    page = new_page(locale="fr-FR")
    page.set_viewport_size(PHONE)
    page.goto("/login")
    problems += violations(page)
    page.fill("#email", "nobody@example.org")
    page.fill("#password", "not the password")
    with page.expect_navigation():
        page.press("#password", "Enter")
    problems += violations(page)
    for who, path, emptied in REFUSED:
        page = new_page(locale="fr-FR")
        page.set_viewport_size(PHONE)
        sign_in(page, who)
        page.goto(path)
        page.fill(emptied, "")
        with page.expect_navigation():
            page.press(emptied, "Enter")
        page.locator('main [aria-invalid="true"]').first.wait_for()
        problems += violations(page)
    assert problems == [], "\n".join(problems)
