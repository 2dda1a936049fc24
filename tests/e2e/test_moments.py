"""Moments in the reader's time zone: a reader in Guatemala (UTC−6, no summer time) reading the
audit log in Spanish sees each moment at Guatemalan time, written the Spanish way, with the UTC
text the server wrote kept as the element's title; the server's own text (what a reader without
JavaScript sees) says UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import TIMEOUT_MS

GUATEMALA = timedelta(hours=-6)


def test_moments_are_shown_in_the_readers_time_zone_and_language(
    browser: Any, live_server: Any, sign_in: Any, shot: Any
) -> None:
    context = browser.new_context(
        base_url=live_server.url, locale="es-GT", timezone_id="America/Guatemala"
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        sign_in(page, "admin")  # the sign-in is the audit log's newest event
        page.goto("/admin/audit")
        page.select_option("#lang-select", "es")
        page.locator("form.lang-form button[type=submit]").click()
        expect(page.locator("html")).to_have_attribute("lang", "es")
        page.wait_for_load_state()  # the Spanish page's
        first = page.locator("main time[data-moment]").first
        expect(first).to_have_attribute("data-local", "")
        shot(page, "audit-es-guatemala")
        utc = datetime.fromisoformat(first.get_attribute("datetime") or "")
        assert utc.tzinfo is not None and utc.utcoffset() == timedelta(0)
        local = utc + GUATEMALA
        text = first.inner_text()
        assert "UTC" not in text, text
        assert re.search(rf"\b0?{local.hour}:{local.minute:02d}:{local.second:02d}\b", text), (
            text,
            local,
        )
        assert str(local.year) in text and str(local.day) in text, (text, local)
        title = first.get_attribute("title") or ""
        assert title.endswith("UTC"), title
        assert re.search(rf"\b0?{utc.hour}:{utc.minute:02d}\b", title), (title, utc)  # es: H:mm
        assert utc > datetime.now(UTC) - timedelta(hours=1)  # this very sign-in
    finally:
        context.close()
