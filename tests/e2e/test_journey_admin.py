"""First admin journeys: the admin creates a focal point, who appears in the list and can sign
in; the audit log shows the sign-ins and the change, with before and after side by side."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.conftest import expect, expect_at_least

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
