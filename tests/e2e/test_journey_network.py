"""The analyst's network in a real browser (issue 14, item 7): the map layout draws the countries
on a basemap from the vendored Natural Earth data with labels that do not overlap; the force
layout spreads the countries instead of one clump; a country's neighbourhood can be focused from
the list, a click or the keyboard; the time slider shows the network as it stood at the end of a
year; the drawing works by keyboard and by touch; the measures are explained in plain words."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.conftest import assert_fits, expect, expect_at_least

pytestmark = pytest.mark.e2e

LABEL_OVERLAPS = """() => {
  const boxes = [...document.querySelectorAll('#net .net-label')].map(t => t.getBBox());
  let n = 0;
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const a = boxes[i], b = boxes[j];
    if (a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height) n++;
  }
  return n; }"""
NOT_EMPTY = re.compile(r"[\s\S]")  # any text at all
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


@pytest.mark.one_case_on_postgresql(locale="es-ES")
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
    with page.expect_navigation():  # the page in that language, not the one drawn before it
        page.click("form.lang-form button")
    summary = _drawn(page)
    assert words[0] in summary and words[1] in summary
    page.locator("#net path.net-land").first.wait_for()
    expect_at_least(page.locator("#net path.net-land"), 151)  # Natural Earth's countries
    expect_at_least(page.locator("#net .net-label"), 15)
    assert page.evaluate(LABEL_OVERLAPS) == 0
    expect(page.locator("section.net-notes")).to_contain_text(words[2], use_inner_text=True)
    expect(page.locator("section.net-notes dt")).to_have_count(3)
    shot(page, "map")

    # Clicking Brazil lists its exchanges.
    page.locator("#net circle.net-node[data-id=BRA]").click()
    panel = page.locator("#net-panel")
    panel.locator("ul.net-exchanges li").first.wait_for()
    expect(panel).to_contain_text(re.compile("Brazil|Brasil"), use_inner_text=True)
    expect_at_least(panel.locator("ul.net-exchanges li"), 11)  # more than 10

    # Focus on Mozambique: only its neighbourhood stays bright, and every label is readable.
    page.select_option("#net-focus", "MOZ")
    expect_at_least(page.locator("#net circle.net-node.faded"), 11)  # more than 10
    page.wait_for_timeout(400)  # the zoom's transition
    bright = page.locator("#net circle.net-node:not(.faded)").count()  # the focus is drawn
    assert 2 <= bright < 20
    expect_at_least(page.locator("#net .net-label"), bright - 1)
    assert page.evaluate(LABEL_OVERLAPS) == 0
    shot(page, "focus-mozambique")
    page.locator("[data-zoom=reset]").click()
    expect(page.locator("#net circle.net-node.faded")).to_have_count(0)

    # The time slider: the network as it stood at the end of 2009 is smaller.
    slider = page.locator("#net-year")
    expect(slider).to_be_visible()
    before = page.locator("#net circle.net-node").count()
    slider.fill("2009")
    page.wait_for_function(
        "n => document.querySelectorAll('#net circle.net-node').length < n", arg=before
    )
    expect(page.locator("#net-year-out")).to_have_text("2009", use_inner_text=True)
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
    expect(status).to_have_text(NOT_EMPTY, use_inner_text=True)  # it reads out a country
    first = status.inner_text()
    svg.press("ArrowRight")
    expect(status).not_to_have_text(re.compile(f"^{re.escape(first)}$"), use_inner_text=True)
    expect(status).to_have_text(NOT_EMPTY, use_inner_text=True)
    active = page.locator("#net circle.net-node.active")
    expect(active).to_have_count(1)
    code = active.get_attribute("data-id")
    svg.press("Enter")
    page.locator("#net-panel ul.net-exchanges li").first.wait_for()
    svg.press("f")
    page.wait_for_timeout(400)
    assert code is not None  # as input_value() == code said: a value is never None
    expect(page.locator("#net-focus")).to_have_value(code)
    expect_at_least(page.locator("#net circle.net-node.faded"), 1)  # more than 0
    svg.press("Escape")
    expect(page.locator("#net circle.net-node.faded")).to_have_count(0)
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
        assert_fits(page)
        assert page.evaluate(LABEL_OVERLAPS) == 0
    finally:
        context.close()


def test_charts_and_profile_still_show(page: Any, sign_in: Any, shot: Any) -> None:
    sign_in(page, "analyst")
    page.goto("/network/charts")
    expect_at_least(page.locator("svg.chart-svg"), 3)
    expect_at_least(page.locator("#gaps h3"), 1)
    shot(page, "charts")
    page.goto("/countries/BRA")
    expect(page.locator("h1")).to_contain_text("Brazil", use_inner_text=True)
    shot(page, "brazil-profile")


def test_the_read_out_counts_agree_with_their_words(new_page: Any, sign_in: Any) -> None:
    """Spanish, keyboard: each country is read out as "Angola: 1 brindado, 3 recibidos…", the
    word in the form its number wants (it read "1 brindados")."""
    page = new_page("es-ES")
    sign_in(page, "analyst")
    page.goto("/network?layout=spring")
    _drawn(page)
    svg = page.locator("#net svg.net-svg")
    svg.focus()
    status = page.locator("#net-status")
    read = set()
    for _ in range(25):
        expect(status).to_have_text(NOT_EMPTY, use_inner_text=True)
        read.add(status.inner_text())
        svg.press("ArrowRight")
    text = " | ".join(sorted(read))
    assert not re.search(r"(?<![\d.])1 (brindados|recibidos|conjuntos|países)", text), text
    assert re.search(r"(?<![\d.])1 (brindado|recibido|conjunto|país socio)\b", text), text
    assert re.search(r"(?<![\d.])([02-9]|\d\d+) (brindados|recibidos|conjuntos|países)", text), text
