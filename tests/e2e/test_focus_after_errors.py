"""A refused form puts the focus on its first field in error, so a keyboard user goes on from
there (the audit: the focus was left on the page's body, behind the skip link and the whole
menu). Walks the forms of each role's daily work, submitted empty or with a bad value, from the
keyboard (static/js/focus-error.js, loaded by every page)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import expect

pytestmark = [pytest.mark.e2e, pytest.mark.same_on_every_database]

# (who, the form's page, what to do there to have it refused)
FORMS = (
    ("gtm", "/needs/new", [("#title", "")]),
    ("bra", "/capacities/new", [("#title", "")]),
    ("gtm", "/account", [("#current", "x")]),
    ("admin", "/admin/users/new", [("#email", "not-an-e-mail")]),
)


@pytest.mark.parametrize(("who", "path", "typed"), FORMS, ids=[f[1] for f in FORMS])
def test_a_refused_form_puts_the_focus_on_its_first_field_in_error(
    new_page: Any, sign_in: Any, who: str, path: str, typed: list[tuple[str, str]]
) -> None:
    page = new_page("fr-FR")
    sign_in(page, who)
    page.goto(path)
    for selector, value in typed:
        page.fill(selector, value)
    with page.expect_navigation():
        page.locator(typed[-1][0]).press("Enter")
    first_bad = page.locator('main [aria-invalid="true"]').first
    expect(first_bad).to_be_attached()
    page.wait_for_function(
        "() => document.activeElement && document.activeElement !== document.body"
    )
    focused = page.evaluate("() => document.activeElement.getAttribute('aria-invalid')")
    assert focused == "true", (
        f"{path}: the focus is on {page.evaluate('() => document.activeElement.outerHTML.slice(0, 80)')}"
    )
