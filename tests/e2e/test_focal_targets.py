"""A focal point's pages on a phone (390 px), after real use, in French and Portuguese: every
control a finger must hit is at least 24 by 24 px (WCAG 2.5.8; a link inside a line of text is
the rule's exception), and no page is wider than the screen once a need with a long title
without spaces, a long institution name and several themes is registered. The tester's finding:
the modality checkboxes (13 px), the theme picker's remove buttons (18 by 16 px) and the notice
filter's checkbox (stretched to the filter's width, 13 px high)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import assert_fits, expect
from tests.e2e.test_focal_forms import PEOPLE, _choose_theme, on_a_phone

pytestmark = [pytest.mark.e2e, pytest.mark.same_on_every_database]

# The controls smaller than 24 px either way, a link in a line of text left out.
SMALL_JS = """() => { const out = [];
  for (const el of document.querySelectorAll('main a[href], main button, main input:not([type=hidden]), main select, main textarea, main summary')) {
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height || (r.width >= 24 && r.height >= 24)) continue;
    if (el.tagName === 'A' && getComputedStyle(el).display === 'inline') continue;
    out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className ? '.' + el.className : '')
      + ' ' + r.width.toFixed(1) + 'x' + r.height.toFixed(1) + ' ' + (el.textContent || el.value || '').trim().slice(0, 30));
  } return out; }"""

PAGES = (
    "/",
    "/needs",
    "/capacities",
    "/exchanges",
    "/followup",
    "/followup/commitments",
    "/notices",
)


def _judge(page: Any, bad: dict[str, list[str]]) -> None:
    """Opens the page's folded filters, then notes its small targets and checks its width."""
    expect(page.locator("main h1")).to_be_visible()
    toggle = page.locator(".filters-toggle")
    if toggle.count() and toggle.first.is_visible():
        toggle.first.click()
        expect(page.locator(".filters").first).to_be_visible()
    assert_fits(page)
    small = page.evaluate(SMALL_JS)
    if small:
        bad[page.url] = small


@pytest.mark.parametrize(("lang", "who"), PEOPLE, ids=[p[0] for p in PEOPLE])
def test_a_focal_points_pages_fit_a_phone_and_a_finger(
    new_page: Any, sign_in: Any, lang: str, who: str
) -> None:
    page, _account = on_a_phone(new_page, sign_in, lang, who)
    bad: dict[str, list[str]] = {}
    # Real use: a need with a long word for a title, the longest institution and many themes.
    page.goto("/needs/new")
    page.fill("#title", f"Inspeção{lang}" + "DoTrabalhoInfantilNasPlantaçõesDeCafé" * 3)
    for words in ("travail", "migra", "statist", "social", "educa"):
        _choose_theme(page, words)
    longest = page.evaluate(
        "() => [...document.querySelectorAll('#institution option')]"
        ".reduce((a, o) => o.text.length > a.text.length ? o : a).value"
    )
    page.select_option("#institution", longest)
    page.locator("#modalities-0").check()
    _judge(page, bad)
    with page.expect_navigation():
        page.locator("#title").press("Enter")
    expect(page.locator(".flash-success")).to_be_visible()
    need_page = page.url  # read after expect
    for path in (need_page, f"{need_page}/edit", "/capacities/new", *PAGES):
        page.goto(path)
        _judge(page, bad)
    for listing, link in (
        ("/capacities", "main a[href^='/capacities/']:not([href$='/new'])"),
        ("/exchanges", "main a[href^='/exchanges/']"),
        ("/followup/commitments", "main a[href^='/followup/commitments/']"),
    ):
        page.goto(listing)
        page.goto(page.locator(link).first.get_attribute("href"))
        _judge(page, bad)
    assert not bad, "\n".join(f"{url}: {', '.join(small)}" for url, small in bad.items())
