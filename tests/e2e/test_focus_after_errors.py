"""A refused form puts the focus on its first field in error, so a keyboard user goes on from
there (the audit: the focus was left on the page's body, behind the skip link and the whole
menu). Walks the forms of each role's daily work, submitted empty or with a bad value, from the
keyboard (static/js/focus-error.js, loaded by every page)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import expect, hold_scripts
from tests.e2e.test_layout import records

pytestmark = [pytest.mark.e2e, pytest.mark.same_on_every_database]
__all__ = ["records"]

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


# Every page whose script puts the focus on load (static/js/focus-error.js on every page, the
# tour editor's own for its rows): who, the form's page, the field emptied to have it refused,
# the field typed in meanwhile.
FOCUS_ON_LOAD = (
    ("gtm", "/needs/new", "#title", "description"),
    ("secretariat", "/tours/{tour}/edit", "input[name=title]", "objective"),
)


@pytest.mark.parametrize(
    ("who", "path", "emptied", "typed_in"), FOCUS_ON_LOAD, ids=[f[1] for f in FOCUS_ON_LOAD]
)
def test_a_refused_form_leaves_the_focus_where_the_user_already_is(
    new_page: Any,
    sign_in: Any,
    records: dict[str, str],
    who: str,
    path: str,
    emptied: str,
    typed_in: str,
) -> None:
    """The focus goes to the field in error when the page's scripts run; someone who has
    already clicked into another field and typed keeps the focus there, and what they type next
    goes where they typed. (In CI a journey typed its note while the page's scripts came slowly;
    the focus then jumped to the evidence field and the note's words went after the evidence's
    link.)"""
    page = new_page("es-ES")
    sign_in(page, who)
    page.goto(path.format(tour=records["tour"]))
    page.locator(emptied).fill("")
    run_scripts = hold_scripts(page)
    with page.expect_navigation():
        page.locator(emptied).press("Enter")  # refused: the title is required
    expect(page.locator(emptied)).to_have_attribute("aria-invalid", "true")
    field = page.locator(f"main textarea#{typed_in}")
    field.fill("")
    field.click()
    page.keyboard.type("Primeras palabras")
    run_scripts()  # the page's scripts come
    page.keyboard.type(" y las siguientes")
    focused = page.evaluate("() => document.activeElement.id")
    assert focused == typed_in, f"the focus moved to #{focused}"
    expect(field).to_have_value("Primeras palabras y las siguientes")
    expect(page.locator(emptied)).to_have_value("")


def test_the_theme_list_someone_is_on_hands_the_focus_to_its_search_box(
    new_page: Any, sign_in: Any
) -> None:
    """The theme picker hides the plain list of themes behind a search box when its script
    runs: someone already on the list (a slow page) is then in the search box, not lost."""
    page = new_page("es-ES")
    sign_in(page, "gtm")
    run_scripts = hold_scripts(page)
    page.goto("/needs/new")
    page.locator("select#themes").focus()
    run_scripts()
    expect(page.locator("#themes-search")).to_be_focused()
