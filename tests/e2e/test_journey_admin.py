"""First admin journeys: the admin creates a focal point, who appears in the list and can sign
in; the audit log shows the sign-ins and the change, with before and after side by side."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.e2e


def test_admin_creates_a_focal_point(page: Any, new_page: Any, sign_in: Any, shot: Any) -> None:
    sign_in(page, "admin")
    page.locator("nav.main-nav a[href='/admin/users']").click()
    assert page.locator("h1").inner_text() == "Users"
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
    assert page.locator("#country-err").inner_text() == "A focal point needs a country."
    assert page.locator("#name").input_value() == "Punto focal Perú"
    shot(page, "refused-without-country")
    page.locator("#country").select_option("PER")
    page.locator("#password").fill("inicial-segura-1")
    page.locator("#confirm").fill("inicial-segura-1")
    page.locator("main form[method=post] button[type=submit]").click()
    page.wait_for_url("**/admin/users")
    row = page.locator("table.users tr", has_text="punto.focal.per@example.org")
    assert row.count() == 1 and "Punto focal Perú" in row.inner_text()
    assert "created" in page.locator(".flash").inner_text()
    shot(page, "created")

    # The new focal point signs in with the initial password, in Spanish.
    other = new_page()
    other.goto("/login")
    other.locator("input[name=email]").fill("punto.focal.per@example.org")
    other.locator("input[name=password]").fill("inicial-segura-1")
    other.locator("main form button[type=submit]").click()
    other.wait_for_load_state()
    assert "/login" not in other.url
    assert other.locator("html").get_attribute("lang") == "es"
    shot(other, "new-user-signed-in")

    # The audit log holds the creation; its page shows the new record.
    page.locator("nav.main-nav a[href='/admin/audit']").click()
    page.locator("#action").select_option("create")
    page.locator("form.filters button[type=submit]").click()
    page.locator("table.audit tbody tr").first.get_by_role("link").click()
    assert "punto.focal.per@example.org" in page.locator("table.diff").inner_text()
    assert page.locator("table.diff tr.changed").count() > 5
    shot(page, "audit-create")


def test_audit_log_shows_sign_ins(page: Any, new_page: Any, sign_in: Any, shot: Any) -> None:
    sign_in(new_page(), "analyst")
    sign_in(page, "admin")
    page.goto("/admin/audit")
    page.locator("#action").select_option("sign_in")
    page.locator("form.filters button[type=submit]").click()
    page.wait_for_load_state()
    assert "action=sign_in" in page.url
    rows = page.locator("table.audit tbody tr")
    assert "admin@demo.sscmatch" in rows.first.inner_text()  # newest first: the admin's own
    table = page.locator("table.audit").inner_text()
    assert "analyst@demo.sscmatch" in table
    shot(page, "sign-ins")
    page.locator("#user").fill("analyst@demo.sscmatch")
    page.locator("form.filters button[type=submit]").click()
    page.wait_for_load_state()
    assert "admin@demo.sscmatch" not in page.locator("table.audit").inner_text()
    shot(page, "analyst-only")
