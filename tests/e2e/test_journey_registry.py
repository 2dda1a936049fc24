"""Registry journey in a real browser: a Spanish-speaking focal point registers a need with the
theme picker (typing in Spanish), submits it, and the secretariat endorses it; the list is
readable on a phone."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.conftest import assert_fits, expect, expect_at_least

pytestmark = pytest.mark.e2e


def test_focal_point_registers_a_need_with_the_theme_picker(
    new_page: Any, sign_in: Any, shot: Any
) -> None:
    page = new_page("es-ES")
    sign_in(page, "gtm")
    page.goto("/needs/new")
    # the picker replaced the multi-select with a search box
    search = page.locator("#themes-search")
    expect(search).to_be_visible()
    search.fill("inspección")
    option = page.locator("#themes-list [role=option]").first
    option.wait_for()
    expect(option).to_contain_text("inspección", ignore_case=True, use_inner_text=True)
    # a screen reader hears how many themes were found, in the reader's language
    expect(page.locator(".theme-picker [aria-live]")).to_contain_text("Temas encontrados: ")
    search.press("Enter")
    expect(page.locator(".theme-picker .picked .chip")).to_have_count(1)
    # the chip's remove button is named in the reader's language
    chip = page.locator(".theme-picker .picked .chip").first.inner_text().strip(" ×\n")
    remove = page.locator(".theme-picker .chip-remove").first
    expect(remove).to_have_attribute("aria-label", f"Quitar el tema {chip}")
    page.fill("#title", "Inspección en fincas de café (e2e)")
    page.fill("#languages", "español")
    shot(page, "need-form")
    page.click("form.registry-form button[type=submit]")
    page.wait_for_url(re.compile(r"/needs/N-\d{4}-\d{4}$"))
    expect(page.locator("h1").first).to_contain_text(
        "Inspección en fincas de café (e2e)", use_inner_text=True
    )
    page.click("form[action$='/submit'] button")
    # the click waits for the POST to commit, not for the page it redirects to: wait for it
    page.locator(".badge-submitted").first.wait_for()
    expect_at_least(page.locator(".badge-submitted"), 1)
    need_url = page.url
    shot(page, "submitted")

    sec = new_page()
    sign_in(sec, "secretariat")
    sec.goto("/needs?queue=submitted")
    expect(sec.locator("main").first).to_contain_text(
        "Inspección en fincas de café (e2e)", use_inner_text=True
    )
    sec.goto(need_url)
    sec.click("form[action$='/endorse'] button")
    sec.locator(".badge-open").first.wait_for()
    expect_at_least(sec.locator(".badge-open"), 1)
    shot(sec, "endorsed")


def test_lists_read_on_a_phone(new_page: Any, sign_in: Any, shot: Any) -> None:
    page = new_page()
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, "analyst")
    page.goto("/capacities?q=inspecci%C3%B3n+laboral")
    expect_at_least(page.locator(".record"), 1)  # more than 0
    assert_fits(page, 375)
    shot(page, "capacities-phone")
