"""The analyst's journey in a real browser: the network page draws the knowledge base, a theme
filter changes it, clicking Brazil lists its exchanges, the gaps and charts show, a country
profile opens."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.e2e


def test_network_draw_filter_click_brazil(page: Any, sign_in: Any, shot: Any) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "response",
        lambda r: (
            errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    sign_in(page, "analyst")
    page.goto("/network")
    canvas = page.locator("#net canvas")
    canvas.wait_for()
    page.wait_for_function(
        "document.querySelector('#net canvas').getAttribute('aria-label').includes('/')"
    )
    all_label = canvas.get_attribute("aria-label")
    shot(page, "network")
    assert not errors, errors

    # Click Brazil where the drawing put it: ask the page's data for its position.
    data = page.evaluate("fetch(document.getElementById('net').dataset.src).then(r => r.json())")
    brazil = next(n for n in data["nodes"] if n["id"] == "BRA")
    box = canvas.bounding_box()
    xs = [n["x"] for n in data["nodes"]]
    ys = [n["y"] for n in data["nodes"]]
    # the same fit as network.js: pad 40, uniform scale, centred
    w, h = box["width"], box["height"]
    sw, sh = max(max(xs) - min(xs), 50), max(max(ys) - min(ys), 50)
    k = min((w - 80) / sw, (h - 80) / sh)
    x = 40 - min(xs) * k + (w - 80 - sw * k) / 2 + brazil["x"] * k
    y = 40 - min(ys) * k + (h - 80 - sh * k) / 2 + brazil["y"] * k
    page.mouse.move(box["x"] + x, box["y"] + y)
    page.mouse.down()
    page.mouse.up()
    panel = page.locator("#net-panel")
    panel.locator("ul.net-exchanges li").first.wait_for()
    assert "Brazil" in panel.inner_text()
    assert panel.locator("ul.net-exchanges li").count() > 10
    shot(page, "brazil-clicked")

    # A theme filter changes what is drawn.
    page.select_option("#f-theme", "education-skills")
    page.click("form.net-filters button[type=submit]")
    page.wait_for_url("**theme=education-skills**")
    page.wait_for_function(
        "document.querySelector('#net canvas').getAttribute('aria-label').includes('/')"
    )
    assert canvas.get_attribute("aria-label") != all_label
    shot(page, "filtered")

    page.goto("/network/charts")
    assert page.locator("svg.chart-svg").count() >= 3
    assert page.locator("#gaps h3").count() >= 1
    shot(page, "charts")

    page.goto("/countries/BRA")
    assert "Brazil" in page.locator("h1").inner_text()
    shot(page, "brazil-profile")
    assert not errors, errors
