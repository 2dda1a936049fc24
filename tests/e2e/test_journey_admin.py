"""First admin journeys: the admin creates a focal point, who appears in the list and can sign
in; the audit log shows the sign-ins and the change, with before and after side by side; a change
of role is confirmed first, on a phone, by the keyboard."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.conftest import assert_fits, expect, expect_at_least
from tests.e2e.test_journey_review_day import _focused_on

pytestmark = pytest.mark.e2e


def test_admin_creates_a_focal_point(page: Any, new_page: Any, sign_in: Any, shot: Any) -> None:
    sign_in(page, "admin")
    page.locator("nav.main-nav a[href='/admin/users']").click()
    expect(page.locator("h1")).to_have_text("Users", use_inner_text=True)
    shot(page, "users")
    page.locator("a[href='/admin/users/new']").click()
    form = page.locator("main form[method=post]")
    # A failed submit first: the focal point has no country; what was typed stays.
    form.locator("#email").fill("punto.focal.per@example.org")
    form.locator("#name").fill("Punto focal Perú")
    form.locator("#role").select_option("focal_point")
    form.locator("#constituency").select_option("workers")
    form.locator("#language").select_option("es")
    form.locator("#password").fill("inicial-segura-1")
    form.locator("#confirm").fill("inicial-segura-1")
    form.locator("button[type=submit]").click()
    expect(page.locator("#country-err")).to_have_text(
        "A focal point needs a country.", use_inner_text=True
    )
    expect(page.locator("#name")).to_have_value("Punto focal Perú")
    shot(page, "refused-without-country")
    page.locator("#country").select_option("PER")
    page.locator("#password").fill("inicial-segura-1")
    page.locator("#confirm").fill("inicial-segura-1")
    page.locator("main form[method=post] button[type=submit]").click()
    page.wait_for_url("**/admin/users")
    row = page.locator("table.users tr", has_text="punto.focal.per@example.org")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Punto focal Perú", use_inner_text=True)
    expect(page.locator(".flash")).to_contain_text("created", use_inner_text=True)
    shot(page, "created")

    # The new focal point signs in with the initial password, in Spanish.
    other = new_page()
    other.goto("/login")
    other.locator("input[name=email]").fill("punto.focal.per@example.org")
    other.locator("input[name=password]").fill("inicial-segura-1")
    other.locator("main form button[type=submit]").click()
    expect(other).not_to_have_url(re.compile("/login"))
    expect(other.locator("html")).to_have_attribute("lang", "es")
    shot(other, "new-user-signed-in")

    # The audit log holds the creation; its page shows the new record.
    page.locator("nav.main-nav a[href='/admin/audit']").click()
    page.locator("#action").select_option("create")
    page.locator("form.filters button[type=submit]").click()
    page.wait_for_url(re.compile(r"action=create"))  # the filtered list, not the one before it
    page.locator("table.audit tbody tr").first.get_by_role("link").click()
    expect(page.locator("table.diff")).to_contain_text(
        "punto.focal.per@example.org", use_inner_text=True
    )
    expect_at_least(page.locator("table.diff tr.changed"), 6)  # more than 5
    shot(page, "audit-create")


def test_audit_log_shows_sign_ins(page: Any, new_page: Any, sign_in: Any, shot: Any) -> None:
    sign_in(new_page(), "analyst")
    sign_in(page, "admin")
    page.goto("/admin/audit")
    page.locator("#action").select_option("sign_in")
    page.locator("form.filters button[type=submit]").click()
    expect(page).to_have_url(re.compile("action=sign_in"))
    rows = page.locator("table.audit tbody tr")
    # newest first: the admin's own
    expect(rows.first).to_contain_text("admin@demo.sscmatch", use_inner_text=True)
    expect(page.locator("table.audit")).to_contain_text(
        "analyst@demo.sscmatch", use_inner_text=True
    )
    shot(page, "sign-ins")
    page.locator("#user").fill("analyst@demo.sscmatch")
    page.locator("form.filters button[type=submit]").click()
    expect(page.locator("table.audit")).not_to_contain_text(
        "admin@demo.sscmatch", use_inner_text=True
    )
    shot(page, "analyst-only")


def _save_by_keyboard(page: Any) -> None:
    page.locator("main form[method=post] button.primary").first.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_a_change_of_role_is_confirmed_first_on_a_phone(
    new_page: Any, sign_in: Any, shot: Any
) -> None:
    """The account's sessions and API token end with a change of role: the page says so before
    anything is written; Cancel leaves the role as it was, Confirm (focused) changes it."""
    page = new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "admin")
    page.goto("/admin/users/new")
    form = page.locator("main form[method=post]")
    form.locator("#email").fill("rights.e2e@example.org")
    form.locator("#role").select_option("analyst")
    form.locator("#password").fill("inicial-segura-2")
    form.locator("#confirm").fill("inicial-segura-2")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/admin/users")
    page.locator("table.users a", has_text="rights.e2e@example.org").click()
    page.wait_for_url(re.compile(r".*/admin/users/\d+$"))  # the user's page, not the list
    user_page = page.url
    assert_fits(page)  # the user page on a phone
    role = page.locator("dl.facts")
    expect(role).to_contain_text("Analyst", use_inner_text=True)
    expect(page.locator("main p.hint").first).to_contain_text(
        "you are asked to confirm it first", use_inner_text=True
    )

    page.locator("#role").select_option("secretariat")
    _save_by_keyboard(page)
    expect(page.locator("h1")).to_have_text(
        "Change the role, country or constituency of rights.e2e@example.org?",
        use_inner_text=True,
    )
    expect(page.locator("ul.consequences")).to_contain_text(
        "will be signed out everywhere and their API token revoked", use_inner_text=True
    )
    _focused_on(page, "form.confirm-form button[type=submit]")  # Enter confirms
    assert_fits(page)
    shot(page, "role-change-asked")
    page.get_by_role("link", name="Go back without changing anything").click()
    page.wait_for_url(user_page)
    expect(role).to_contain_text("Analyst", use_inner_text=True)

    page.locator("#role").select_option("secretariat")
    _save_by_keyboard(page)
    _focused_on(page, "form.confirm-form button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".flash")).to_contain_text(
        "is signed out everywhere and their API token is revoked", use_inner_text=True
    )
    expect(role).to_contain_text("Technical secretariat", use_inner_text=True)
    assert_fits(page)
    shot(page, "role-changed")
