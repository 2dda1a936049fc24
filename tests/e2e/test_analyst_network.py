"""An analyst's network pages as a report is made from them: what a reader sets on the drawing
(a focused country, the year of the time slider, colours by community, with the filters) is in
the page's address, so a link shared or reloaded shows the same; and on a phone (390 px), in
French, every control of the analyst's pages is at least 24 px either way and no page is wider
than the screen."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import expect
from tests.e2e.test_focal_forms import PHONE, _switch_language
from tests.e2e.test_focal_targets import SMALL_JS, _judge

pytestmark = [pytest.mark.e2e, pytest.mark.same_on_every_database]

# What the drawing shows, as a reader (or a screen reader) can tell.
STATE_JS = """() => ({
  focus: document.getElementById('net-focus').value,
  year: document.getElementById('net-year').value,
  colour: document.getElementById('net-colour').checked,
  faded: document.querySelectorAll('#net circle.net-node.faded').length,
  nodes: document.querySelectorAll('#net circle.net-node').length,
  summary: document.querySelector('#net svg.net-svg').getAttribute('aria-label'),
})"""


def _drawn(page: Any) -> dict[str, Any]:
    page.locator("#net svg.net-svg:not([aria-busy]) circle.net-node").first.wait_for()
    page.wait_for_timeout(500)  # the slider's pause (200 ms) before it reloads, transitions
    page.wait_for_function("() => !document.querySelector('#net svg[aria-busy]')")
    state: dict[str, Any] = page.evaluate(STATE_JS)
    return state


def test_what_a_reader_sets_on_the_drawing_is_in_the_address(new_page: Any, sign_in: Any) -> None:
    page = new_page()
    sign_in(page, "analyst")
    page.goto("/network?region=Americas")
    _drawn(page)
    steps: dict[str, Callable[[], Any]] = {
        "focus": lambda: page.select_option("#net-focus", "BRA"),
        "year": lambda: page.locator("#net-year").fill("2009"),
        "colour": lambda: page.locator("#net-colour").check(),
    }
    wrong = []
    for name, step in steps.items():
        step()
        seen = _drawn(page)
        other = new_page()
        sign_in(other, "analyst")
        other.goto(page.url)
        shared = _drawn(other)
        if shared != seen:
            wrong.append((name, page.url, seen, shared))
        other.context.close()
    assert not wrong, wrong


def test_every_download_link_gives_the_network_drawn(new_page: Any, sign_in: Any) -> None:
    """With the time slider at a year, each download of "this network" holds the network as
    drawn (the side panel's lists already followed the slider): its exchanges are the
    drawing's, and so on back at the last year."""
    page = new_page()
    sign_in(page, "analyst")
    page.goto("/network?region=Americas")
    last = _drawn(page)["year"]
    wrong = []
    for year in ("2009", last):
        page.locator("#net-year").fill(year)
        drawn = _drawn(page)["summary"]
        for link in page.locator(".net-downloads a").all():
            href = str(link.get_attribute("href"))
            fmt = re.search(r"format=([\w-]+)", href)
            body = page.request.get(href).body()
            if fmt and fmt.group(1) == "json":
                exchanges = json.loads(body)["graph"]["exchanges"]
                if f" {exchanges} " not in f" {drawn} ".replace(".", " "):
                    wrong.append((year, href, exchanges, drawn))
            if year != last and f"year_to={year}" not in href:
                wrong.append((year, href))
    assert not wrong, wrong


def test_a_focused_countrys_read_out_says_its_partners_in_the_right_form(
    new_page: Any, sign_in: Any
) -> None:
    """Spanish: focusing each country reads out its partners, and the drawing's summary its
    countries, links and exchanges, each word in the form its number wants ("1 país socio",
    "1 intercambio"; it read "Alemania y sus 1 socios", "2 países, 1 vínculos, 1 intercambios")."""
    page = new_page("es-ES")
    sign_in(page, "analyst")
    page.goto("/network")
    page.select_option("#lang-select", "es")
    with page.expect_navigation():
        page.click("form.lang-form button")
    _drawn(page)
    codes = page.evaluate(
        "() => [...document.querySelectorAll('#net-focus option')].map(o => o.value)"
    )
    status = page.locator("#net-status")
    read = []
    for code in [c for c in codes if c][:30]:
        page.select_option("#net-focus", code)
        expect(status).to_have_text(re.compile(r"\d"), use_inner_text=True)
        read.append(status.inner_text())
    # the drawing's summary, of a year with one exchange and of every year
    for query in ("?year_from=2015&year_to=2015", ""):
        page.goto(f"/network{query}")
        read.append(_drawn(page)["summary"])
    text = " | ".join(read)
    assert not re.search(r"(?<![\d.])1 (socios|países|vínculos|intercambios)", text), text
    assert re.search(r"(?<![\d.])1 país socio\b", text), text
    assert re.search(r"(?<![\d.])1 intercambio\b", text), text
    assert re.search(r"(?<![\d.])([2-9]|\d\d+) vínculos\b", text), text


PAGES = (
    "/network",
    "/network?layout=spring&theme=enforcement",
    "/network/charts",
    "/countries",
    "/countries/BRA",
    "/network/exchanges?node=BRA",
)


def test_the_analysts_pages_fit_a_phone_and_a_finger(new_page: Any, sign_in: Any) -> None:
    page = new_page()
    page.set_viewport_size(PHONE)
    sign_in(page, "analyst")
    _switch_language(page, "fr")
    bad: dict[str, list[str]] = {}
    for path in PAGES:
        page.goto(path)
        if path.startswith("/network?") or path == "/network":
            page.locator("#net svg.net-svg:not([aria-busy]) circle.net-node").first.wait_for()
        _judge(page, bad)
    expect(page.locator("main h1")).to_be_visible()
    assert not bad, bad
    assert SMALL_JS  # the rule judged (shared with the focal points' pages)
