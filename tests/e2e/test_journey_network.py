"""The analyst's network in a real browser (issue 14, item 7): the map layout draws the countries
on a basemap from the vendored Natural Earth data with labels that do not overlap; the force
layout spreads the countries instead of one clump; a country's neighbourhood can be focused from
the list, a click or the keyboard; the time slider shows the network as it stood at the end of a
year; the drawing works by keyboard and by touch; the measures are explained in plain words."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.e2e

LABEL_OVERLAPS = """() => {
  const boxes = [...document.querySelectorAll('#net .net-label')].map(t => t.getBBox());
  let n = 0;
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const a = boxes[i], b = boxes[j];
    if (a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height) n++;
  }
  return n; }"""
# mean distance of each circle to its nearest neighbour, in units of the drawing's width
SPREAD = """() => {
  const c = [...document.querySelectorAll('#net circle.net-node')].map(e => [+e.getAttribute('cx'), +e.getAttribute('cy')]);
  const w = document.querySelector('#net svg').viewBox.baseVal.width;
  let sum = 0;
  for (const p of c) { let best = Infinity;
    for (const q of c) if (q !== p) best = Math.min(best, Math.hypot(p[0]-q[0], p[1]-q[1]));
    sum += best; }
  return sum / c.length / w; }"""


def _drawn(page: Any) -> str:
    page.locator("#net svg.net-svg:not([aria-busy]) circle.net-node").first.wait_for()
    return str(page.locator("#net svg.net-svg").get_attribute("aria-label"))


def _errors(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "response",
        lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    return errors


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("en-GB", ("countries", "links", "Betweenness")),
        ("es-ES", ("países", "vínculos", "PageRank")),
    ],
)
def test_map_with_basemap_readable_labels_focus_and_slider(
    new_page: Any, sign_in: Any, shot: Any, locale: str, words: tuple[str, str, str]
) -> None:
    page = new_page(locale=locale)
    errors = _errors(page)
    sign_in(page, "analyst")
    page.goto("/network")
    page.select_option("#lang-select", locale[:2])  # the account's own language is English
    page.click("form.lang-form button")
    page.wait_for_load_state()
    summary = _drawn(page)
    assert words[0] in summary and words[1] in summary
    page.locator("#net path.net-land").first.wait_for()
    assert page.locator("#net path.net-land").count() > 150  # Natural Earth's countries
    assert page.locator("#net .net-label").count() >= 15
    assert page.evaluate(LABEL_OVERLAPS) == 0
    notes = page.locator("section.net-notes").inner_text()
    assert words[2] in notes and page.locator("section.net-notes dt").count() == 3
    shot(page, "map")

    # Clicking Brazil lists its exchanges.
    page.locator("#net circle.net-node[data-id=BRA]").click()
    panel = page.locator("#net-panel")
    panel.locator("ul.net-exchanges li").first.wait_for()
    assert "Brazil" in panel.inner_text() or "Brasil" in panel.inner_text()
    assert panel.locator("ul.net-exchanges li").count() > 10

    # Focus on Mozambique: only its neighbourhood stays bright, and every label is readable.
    page.select_option("#net-focus", "MOZ")
    page.wait_for_timeout(400)  # the zoom's transition
    faded = page.locator("#net circle.net-node.faded").count()
    bright = page.locator("#net circle.net-node:not(.faded)").count()
    assert faded > 10 and 2 <= bright < 20
    assert page.locator("#net .net-label").count() >= bright - 1
    assert page.evaluate(LABEL_OVERLAPS) == 0
    shot(page, "focus-mozambique")
    page.locator("[data-zoom=reset]").click()
    assert page.locator("#net circle.net-node.faded").count() == 0

    # The time slider: the network as it stood at the end of 2009 is smaller.
    slider = page.locator("#net-year")
    assert slider.is_visible()
    before = page.locator("#net circle.net-node").count()
    slider.fill("2009")
    page.wait_for_function(
        "n => document.querySelectorAll('#net circle.net-node').length < n", arg=before
    )
    assert page.locator("#net-year-out").inner_text() == "2009"
    assert _drawn(page) != summary
    shot(page, "until-2009")
    assert not errors, errors


def test_force_layout_is_spread_and_keyboard_works(page: Any, sign_in: Any, shot: Any) -> None:
    errors = _errors(page)
    sign_in(page, "analyst")
    page.goto("/network?layout=spring")
    _drawn(page)
    assert page.evaluate(SPREAD) > 0.02  # no clump: neighbours are apart
    assert page.evaluate(LABEL_OVERLAPS) == 0
    shot(page, "force")

    svg = page.locator("#net svg.net-svg")
    svg.focus()
    status = page.locator("#net-status")
    first = status.inner_text()
    assert first  # focusing the drawing reads out a country
    svg.press("ArrowRight")
    assert status.inner_text() and status.inner_text() != first
    active = page.locator("#net circle.net-node.active")
    assert active.count() == 1
    code = active.get_attribute("data-id")
    svg.press("Enter")
    page.locator("#net-panel ul.net-exchanges li").first.wait_for()
    svg.press("f")
    page.wait_for_timeout(400)
    assert page.locator("#net-focus").input_value() == code
    assert page.locator("#net circle.net-node.faded").count() > 0
    svg.press("Escape")
    assert page.locator("#net circle.net-node.faded").count() == 0
    assert not errors, errors


def test_touch_tap_selects_a_country(
    new_page: Any, sign_in: Any, browser: Any, live_server: Any
) -> None:
    context = browser.new_context(
        base_url=live_server.url, has_touch=True, is_mobile=True,
        viewport={"width": 390, "height": 844}, locale="es-ES",
    )  # fmt: skip
    page = context.new_page()
    try:
        sign_in(page, "analyst")
        page.goto("/network")
        _drawn(page)
        page.locator("#net circle.net-node[data-id=BRA]").tap()
        page.locator("#net-panel ul.net-exchanges li").first.wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= 391
        assert page.evaluate(LABEL_OVERLAPS) == 0
    finally:
        context.close()


def test_charts_and_profile_still_show(page: Any, sign_in: Any, shot: Any) -> None:
    sign_in(page, "analyst")
    page.goto("/network/charts")
    assert page.locator("svg.chart-svg").count() >= 3
    assert page.locator("#gaps h3").count() >= 1
    shot(page, "charts")
    page.goto("/countries/BRA")
    assert "Brazil" in page.locator("h1").inner_text()
    shot(page, "brazil-profile")
