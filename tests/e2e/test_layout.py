"""The layout defects of issue 14 (item 9), in a real browser at 390 px and at desktop width, in
Spanish: no page wider than the screen, no table or chart cut off outside a scrolling box, chart
labels clear of their bars, checkboxes beside their labels, the header naming the role once,
languages by name, evidence addresses as links, a favicon, the theme picker choosing what is
highlighted now, and the tour editor's rows added in place. Screenshots of every page and width
go to test-artifacts/e2e/<test>/."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import url_for
from sqlmodel import Session, col, select

from sscmatch.matching.model import FACTORS
from sscmatch.models import (
    AuditEvent,
    Calibration,
    Capacity,
    Commitment,
    Exchange,
    Job,
    MatchRun,
    Need,
    Proposal,
    User,
)
from sscmatch.workflow import tours as tours_wf
from tests.e2e.conftest import DEMO, assert_fits, expect, expect_at_least

# What the browser makes of the pages: the same on any database (tests/conftest.py).
pytestmark = pytest.mark.same_on_every_database

WIDTHS = (390, 1280)
# Elements wider than their box must sit in a box that scrolls (a table-wrap), never be cut off.
OVERFLOW_JS = """() => { const bad = [];
  for (const t of document.querySelectorAll('main table, main svg.chart-svg')) {
    const r = t.getBoundingClientRect(); if (!r.width) continue;
    let el = t, scroll = false, out = false;
    while (el && el.tagName !== 'MAIN') {
      const cs = getComputedStyle(el);
      if (['auto', 'scroll'].includes(cs.overflowX)) { scroll = true; break; }
      const p = el.parentElement && el.parentElement.getBoundingClientRect();
      if (p && r.right > p.right + 1) out = true;
      el = el.parentElement; }
    if (out && !scroll) bad.push((t.getAttribute('class') || t.tagName) + ' ' + Math.round(r.right));
  } return bad; }"""


# A box that scrolls sideways because its content is wider (at desktop width none should).
SCROLLING_JS = """() => { const bad = [];
  for (const el of document.querySelectorAll('main *')) {
    if (!['auto', 'scroll'].includes(getComputedStyle(el).overflowX)) continue;
    if (el.scrollWidth > el.clientWidth + 1) {
      const s = el.closest('section'); const h = s && s.querySelector('h2, h3');
      bad.push((h ? h.textContent.trim() : el.className) + ' ' + el.scrollWidth + '>' + el.clientWidth);
    } } return bad; }"""
# Every box of the page that scrolls sideways has the line that says so just above it (or as
# its first line), visible and in the page's language (static/js/scroll-cue.js).
UNCUED_JS = """() => { const bad = [];
  const shown = (cue) => cue && cue.className === 'scroll-cue' && !cue.hidden && cue.offsetHeight;
  for (const el of document.querySelectorAll('main *')) {
    if (!['auto', 'scroll'].includes(getComputedStyle(el).overflowX)) continue;
    if (el.scrollWidth <= el.clientWidth + 1) continue;
    const cue = [el.previousElementSibling, el.firstElementChild].find(shown);
    if (!cue || cue.textContent !== document.body.dataset.scrollLabel) {
      bad.push(el.tagName + '.' + el.className + ' ' + el.scrollWidth + '>' + el.clientWidth);
    } } return bad; }"""
# Boxes that scroll sideways that the keyboard cannot reach: without the focus, the arrow keys
# cannot scroll a box that holds no link or field (the demo accounts on the sign-in page at
# 390 px; axe-core's rule scrollable-region-focusable found it). static/js/scroll-cue.js gives
# every such box tabindex 0.
UNREACHABLE_JS = """() => [...document.querySelectorAll('main *')].filter(el =>
  ['auto', 'scroll'].includes(getComputedStyle(el).overflowX)
  && el.scrollWidth > el.clientWidth + 1 && el.tabIndex < 0
).map(el => el.tagName + '.' + el.className)"""
# A required field's star on its label's line, not under it (a field stacks its parts).
STARS_JS = """() => [...document.querySelectorAll('main .req')].filter(star => {
  const label = star.parentElement.querySelector('label');
  if (!label) return true;
  const a = label.getBoundingClientRect(), b = star.getBoundingClientRect();
  return b.width && Math.abs(b.bottom - a.bottom) > 4;
}).map(star => (star.parentElement.textContent || '').trim())"""
# Ordinary words and figures broken across lines: a word of at most 12 letters (a heading, a
# country, "Puntuación") or a figure ("0,64", "+0,342") that fits any column a phone's table
# gives it, split in two because a squeezed column broke it anywhere ("Kirguistá/n", "1,0/0").
# Long words (a pasted reference, an address) may break: test_long_text_lists wants them to.
# Text no one sees is left out (a table's headings hidden behind its cards are 1 px wide).
SPLIT_JS = r"""() => { const bad = new Set(); const range = document.createRange();
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const tokens = /(?<![\p{L}\p{N}])(\p{L}{2,12}|[+\u2212-]?\p{N}+(?:[.,\u00a0\u202f]\p{N}+)*%?)(?![\p{L}\p{N}])/gu;
  const whole = /\S+/g;
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const el = n.parentElement;
    if (!el || !el.getClientRects().length || el.closest('script, style, svg, select, textarea')) continue;
    let seen = true;
    for (let a = el; a && a !== document.body; a = a.parentElement) {
      const box = a.getBoundingClientRect();
      if (box.width <= 1 || box.height <= 1) { seen = false; break; } }
    if (!seen) continue;
    for (const w of n.data.matchAll(whole)) {
      if (w[0].length > 24) continue;  // a long word or address: it may break
      for (const t of w[0].matchAll(tokens)) {
        const start = w.index + t.index;
        range.setStart(n, start); range.setEnd(n, start + t[0].length);
        const lines = new Set([...range.getClientRects()].filter(r => r.width).map(r => Math.round(r.top)));
        if (lines.size > 1) bad.add(`${el.tagName.toLowerCase()}.${el.className}: ${t[0]}`); } } }
  return [...bad]; }"""
# What every walk asks of a page in the browser, and how it says what it found.
PAGE_CHECKS = (
    (STARS_JS, "a required mark not beside its label"),
    (UNCUED_JS, "scrolls sideways with nothing that says so"),
    (UNREACHABLE_JS, "scrolls, but the keyboard cannot reach it"),
    (OVERFLOW_JS, "cut off without a scrolling box"),
    (SPLIT_JS, "words or figures split mid-word"),
)


def page_problems(page: Any, path: str) -> list[str]:
    """What the checks of ``PAGE_CHECKS`` find on the page as it is, a line each."""
    out = []
    for check, what in PAGE_CHECKS:
        found = page.evaluate(check)
        if found:
            out.append(f"{path}: {what}: {found}")
    return out


def settle(page: Any, path: str) -> None:
    """Wait until the page is whole: the drawings fetch their data after the page loads (their
    pages are under /network); the other pages are whole at load."""
    page.wait_for_load_state("networkidle" if path.startswith("/network") else "load")


# Pages whose every table fits a desktop screen (1280 px) without scrolling sideways.
FIT_AT_DESKTOP = (
    "/followup",
    "/followup?country=all",
    "/followup/commitments?country=all",
    "/review/needs",
    "/notices",
)


@pytest.fixture(scope="module")
def records(live_server: Any, request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """A study tour (drafted from an open need and a published capacity) with a commitment
    whose evidence is a web address, in the shared browser-test database. The need is one of
    its own, made like GTM's first open need: drafting a tour matches its need, and a journey
    that counts on a knowledge-base need being open again after it cancels its own tour found
    it held by this one when it ran after this module.

    Another module that borrows the fixture (test_tour_editor_enter) gets records of its own,
    their need's id suffixed with its name: the browser-test database is shared by every module
    a test process runs, and this module's pages name its own need, "e2e-layout-need"."""
    engine = live_server.app.extensions["sscmatch.engine"]
    borrower = request.module.__name__.rsplit(".", 1)[-1]
    need_id = "e2e-layout-need" + ("" if borrower == "test_layout" else f"-{borrower}")
    with Session(engine, expire_on_commit=False) as s:
        model = s.exec(
            select(Need).where(Need.country == "GTM", Need.status == "open").order_by(Need.id)
        ).first()
        assert model is not None
        need = Need(
            **model.model_dump(exclude={"id", "version", "created_at", "updated_at", "title"}),
            id=need_id,
            # a word longer than any screen (a pasted reference): it must wrap, not widen
            title="Inspección " + "x" * 200,
        )
        s.add(need)
        s.flush()
        capacity = s.exec(
            select(Capacity)
            .where(Capacity.country == "BRA", Capacity.status == "published")
            .where(col(Capacity.languages).is_not(None))
            .order_by(Capacity.id)
        ).first()
        assert need is not None and capacity is not None
        tour = tours_wf.create_tour(
            s,
            user=tours_wf.User(id=None, role="secretariat"),
            need_id=need.id,
            capacity_id=capacity.id,
        )
        s.add(
            Commitment(
                id=f"{tour.id}-k90",
                study_tour=tour.id,
                owner_country="GTM",
                description="Publish the inspection protocol",
                status="fulfilled",
                evidence="Published at https://example.org/protocol.pdf (page 3), "
                "https://example.org/" + "a" * 320,
            )
        )
        s.commit()
        # A need with proposals to compare, when a journey of this session ran matching.
        proposal = s.exec(select(Proposal).order_by(col(Proposal.id))).first()
        yield {
            "own_need": need_id,
            "tour": tour.id,
            "commitment": f"{tour.id}-k90",
            "capacity": capacity.id,
            "need": proposal.need if proposal else "",
            "proposal": str(proposal.id) if proposal else "",
        }


def main_pages(records: dict[str, str]) -> list[str]:
    """The secretariat's main pages, with the records of ``records``: the pages whose layout is
    looked at most closely, at a phone's width and a desktop's."""
    paths = [
        "/",
        "/needs",
        f"/capacities/{records['capacity']}",
        "/review/queue",
        "/followup",
        "/network",
        "/network/charts",
        "/countries/BRA",
        f"/tours/{records['tour']}",
        f"/tours/{records['tour']}/edit",
        f"/followup/commitments/{records['commitment']}",
        "/followup?country=all",
        "/followup/commitments?country=all",
        "/review/needs",
        "/review/awaiting",
        "/notices",
        "/needs/new",
        f"/needs/{records['own_need']}",
    ]
    if records["need"]:  # the candidates side by side, and one of them
        paths += [f"/review/needs/{records['need']}", f"/review/proposals/{records['proposal']}"]
    return paths


@pytest.mark.parametrize("width", WIDTHS)
def test_pages_fit_the_screen_and_nothing_is_cut_off(
    new_page: Any, sign_in: Any, shot: Any, records: dict[str, str], width: int
) -> None:
    page = new_page(locale="es-ES")
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "secretariat")
    paths = main_pages(records)
    problems = []
    for path in paths:
        page.goto(path)
        settle(page, path)
        shot(page, f"{width}{path.replace('/', '_')}")
        wide = page.evaluate("document.documentElement.scrollWidth")
        if wide > width + 1:
            problems.append(f"{path}: the page is {wide} px wide at {width}")
        problems += page_problems(page, path)
        if width >= 1280 and path in FIT_AT_DESKTOP:
            scrolling = page.evaluate(SCROLLING_JS)
            if scrolling:
                problems.append(f"{path}: scrolls sideways on a desktop: {scrolling}")
    assert problems == []


def test_details_of_item_9(page: Any, sign_in: Any, records: dict[str, str]) -> None:
    sign_in(page, "gtm")
    page.goto("/language")  # a 405 page: the error page is in the reader's language too
    page.goto("/")
    page.select_option("#lang-select", "es")
    with page.expect_navigation():
        page.click("form.lang-form button")
    who = page.locator("a.who").inner_text()
    assert who.lower().count("punto focal") == 1, who  # the role once, not twice

    assert page.request.get("/favicon.ico").status == 200

    page.goto(f"/capacities/{records['capacity']}")
    languages = page.locator("dt:has-text('Idiomas') + dd").inner_text()
    assert languages and all(len(part.strip()) > 3 for part in languages.split(",")), languages

    page.goto(f"/followup/commitments/{records['commitment']}")
    link = page.locator("a[href='https://example.org/protocol.pdf']")
    expect_at_least(link, 1)  # the address inside the evidence text is a link

    page.goto(f"/tours/{records['tour']}/edit")
    box = page.locator("#interpretation").bounding_box()
    label = page.locator("label[for=interpretation]").bounding_box()
    assert label["x"] - (box["x"] + box["width"]) < 16  # the checkbox sits beside its label
    assert abs((label["y"] + label["height"] / 2) - (box["y"] + box["height"] / 2)) < 10

    page.goto("/network/charts")
    overlaps = page.evaluate(
        """() => { const bad = [];
        for (const svg of document.querySelectorAll('.top-chart svg')) {
          const labels = svg.querySelectorAll('text[text-anchor=end]');
          const bars = svg.querySelectorAll('rect');
          labels.forEach((t, i) => { const b = bars[i]; if (!b) return;
            if (t.getBBox().x + t.getBBox().width > b.getBBox().x + 0.5) bad.push(t.textContent); });
        } return bad; }"""
    )
    assert overlaps == []


def test_tour_editor_adds_rows_in_place(page: Any, sign_in: Any, records: dict[str, str]) -> None:
    sign_in(page, "secretariat")
    page.goto(f"/tours/{records['tour']}/edit")
    rows = page.locator("tbody[data-rows=delegation] tr.edit-row")
    before = rows.count()
    url = page.url
    page.click("button[data-add=delegation]")
    expect(rows).to_have_count(before + 1)
    expect(page).to_have_url(url)  # no round trip with script
    focused = page.evaluate("document.activeElement.name")
    assert focused == f"delegation-{before}-side"
    page.fill(f"input[name='delegation-{before}-name']", "Rosa")
    page.select_option(f"select[name='delegation-{before}-constituency']", "workers")
    page.click("form#tour-form button.primary")
    expect(page).not_to_have_url(re.compile("/edit"))
    expect(page).to_have_url(re.compile(re.escape(f"/tours/{records['tour']}")))
    expect(page.locator("table.delegation")).to_contain_text("Rosa", use_inner_text=True)


def test_theme_picker_chooses_what_is_highlighted_now(page: Any, sign_in: Any) -> None:
    sign_in(page, "gtm")
    page.goto("/needs/new")
    search = page.locator("#themes-search")
    search.fill("inspec")
    first = page.locator("#themes-list [role=option]").first
    first.wait_for()
    picked = first.inner_text().split(" · ")[0]
    search.press("Enter")
    chips = page.locator(".theme-picker .picked .chip")
    expect(chips).to_have_count(1)
    expect(chips.first).to_contain_text(picked, use_inner_text=True)
    # right after a pick, the old list and its highlight are gone: Arrow and Enter add nothing
    page.evaluate("window.samePage = true")  # gone if that Enter sent the form
    search.press("ArrowDown")
    search.press("Enter")
    page.wait_for_timeout(500)
    assert page.evaluate("window.samePage === true")
    expect(chips).to_have_count(1)
    search.fill("trabajo infantil peligroso")
    page.wait_for_function(
        "() => { const o = document.querySelector('#themes-list [role=option]');"
        " return o && !document.querySelector('#themes-list').hidden; }"
    )
    wanted = page.locator("#themes-list [aria-selected=true]").inner_text().split(" · ")[0]
    search.press("Enter")
    expect(chips).to_have_count(2)
    expect(chips.nth(1)).to_contain_text(wanted, use_inner_text=True)


def test_assert_fits_names_what_widens_the_page_not_what_scrolls_inside_a_box(page: Any) -> None:
    """The check every phone journey leans on: a page made wider by one element fails and names
    it, an element as wide inside a box that scrolls sideways does not fail (nor is it named)."""
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/login")
    assert_fits(page)
    # Styles set through the DOM: the pages' security policy refuses style attributes.
    add = """([text, scroller]) => { const p = document.createElement('p');
      p.textContent = text; p.style.width = '700px'; let box = p;
      if (scroller) { box = document.createElement('div'); box.style.overflowX = 'auto';
        box.appendChild(p); }
      document.querySelector('main').appendChild(box); }"""
    page.evaluate(add, ["inside a scroller", True])
    assert_fits(page)
    page.evaluate(add, ["sticks out", False])
    with pytest.raises(AssertionError) as failure:
        assert_fits(page)
    assert "sticks out" in str(failure.value) and "inside a scroller" not in str(failure.value)


# Every page of the app, by the URL map: what the walk below leaves out, and why. A GET route
# that is not an API endpoint, a static file or an export (a ``fmt`` argument) is a page unless
# it is named here; a new route that is neither walked nor named here fails the walk.
NOT_PAGES = {
    "main.health": "the service's status, JSON",
    "favicon": "the icon",
    "registry.suggest_themes": "the theme picker's suggestions, JSON",
    "network.data": "the drawing's data, JSON",
    "network.download": "the network as GraphML, a download",
    "tours.ics": "the tour's agenda as a calendar file, a download",
    "admin.import_status": "an import's progress for its page's script, JSON",
    "matching.status": "a run's progress for its page's script, JSON",
    "matching.calibration_status": "a calibration's progress for its page's script, JSON",
}
# Who walks a page: a role that may see it, the one whose page it is (the secretariat otherwise).
WALKER_BY_PREFIX = {"admin.": "admin", "network.": "analyst", "auth.login": "anonymous"}
WALKER = {
    "registry.need_new": "gtm",  # a focal point's forms, of their own country's records
    "registry.need_edit": "gtm",
    "registry.capacity_new": "gtm",
    "registry.capacity_edit": "gtm",
    "review.my_proposals": "gtm",
}


def _walker(endpoint: str) -> str:
    prefix = next((p for p in WALKER_BY_PREFIX if endpoint.startswith(p)), None)
    return WALKER.get(endpoint) or (WALKER_BY_PREFIX[prefix] if prefix else "secretariat")


@pytest.fixture(scope="module")
def arguments(live_server: Any, records: dict[str, str]) -> dict[str, Any]:
    """A value of every path argument of a page, from the browser tests' records, with an audit
    event and a refused import of their own; a match run and a calibration are made when no
    journey before this module made one."""
    engine = live_server.app.extensions["sscmatch.engine"]
    with Session(engine, expire_on_commit=False) as s:
        capacity_gtm = s.exec(
            select(Capacity.id).where(Capacity.country == "GTM").order_by(Capacity.id)
        ).first()
        user = s.exec(select(User).where(User.email == DEMO["gtm"].email)).one()
        exchange = s.exec(select(Exchange.id).order_by(Exchange.id)).first()
        # a change of the need's long title, and an import refused for a long problem: the
        # widest of what their pages show
        event = AuditEvent(
            action="update",
            entity="need",
            entity_id=records["own_need"],
            before={"title": "Inspección " + "y" * 200, "status": "draft"},
            after={"title": "Inspección " + "x" * 200, "status": "open"},
        )
        refused = Job(
            kind="import",
            status="failed",
            result={
                "problems": [["needs.csv", 12, "title", "Not a date: " + "9" * 200]],
                "problem_count": 1,
            },
        )
        s.add_all([event, refused])
        s.flush()
        proposal = s.exec(select(Proposal).order_by(col(Proposal.id))).first()
        if proposal is None:
            run = MatchRun(status="done", needs_total=1, needs_done=1, proposal_count=1)
            s.add(run)
            s.flush()
            proposal = Proposal(
                run_id=run.id or 0,
                need=records["own_need"],
                capacity=records["capacity"],
                provider="BRA",
                recipient="GTM",
                rank=1,
                score=0.5,
                # every factor, as a run stores them: the score's breakdown is a table whose
                # columns must fit a phone with their words whole
                components={
                    "components": dict.fromkeys(FACTORS, 0.75),
                    "contributions": dict.fromkeys(FACTORS, 0.5 / len(FACTORS)),
                },
            )
            s.add(proposal)
        calibration = s.exec(select(Calibration.id).order_by(col(Calibration.id))).first()
        if calibration is None:
            made = Calibration(as_of="2024", weights={"themes": 1.0}, status="done")
            s.add(made)
            s.flush()
            calibration = made.id
        s.commit()
        return {
            "event_id": event.id,
            "job_id": refused.id,
            "user_id": user.id,
            "capacity_id": capacity_gtm,
            "code": "BRA",
            "exchange_id": exchange,
            "commitment_id": records["commitment"],
            "calibration_id": calibration,
            "run_id": proposal.run_id,
            "need_id": records["own_need"],
            "proposal_id": proposal.id,
            "tour_id": records["tour"],
        }


def _pages_by_walker(app: Any, arguments: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """The app's pages, (endpoint, address), by who walks them."""
    walks: dict[str, list[tuple[str, str]]] = {}
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or "fmt" in rule.arguments:
            continue
        if rule.endpoint.startswith("api.") or rule.endpoint in ("static", *NOT_PAGES):
            continue
        assert set(rule.arguments) <= set(arguments), f"{rule.rule}: give its arguments a value"
        with app.test_request_context():
            path = url_for(rule.endpoint, **{a: arguments[a] for a in rule.arguments})
        walks.setdefault(_walker(rule.endpoint), []).append((rule.endpoint, path))
    return walks


PHONE = {"width": 390, "height": 844}


def walk_every_page(
    new_page: Any,
    sign_in: Any,
    app: Any,
    arguments: dict[str, Any],
    locale: str,
    prepare: Callable[[Any], None] | None = None,
) -> Iterator[tuple[str, str, str, Any, Any]]:
    """Every page of the URL map at 390 px in ``locale``, each by a role that may see it, one
    browser page a walker (``prepare`` runs on it once signed in): yields (who, endpoint,
    address, browser page, the answer to its ``goto``) once each address is opened."""
    for who, pages in sorted(_pages_by_walker(app, arguments).items()):
        page = new_page(locale=locale)
        page.set_viewport_size(PHONE)
        if who != "anonymous":
            sign_in(page, who)
        if prepare is not None:
            prepare(page)
        for endpoint, path in pages:
            yield who, endpoint, path, page, page.goto(path)


def is_a_page(answer: Any) -> bool:
    """Whether a ``goto``'s answer is an HTML page (not a file, a redirect's end elsewhere)."""
    kind = answer.headers.get("content-type", "") if answer else ""
    return answer is not None and answer.status == 200 and kind.startswith("text/html")


# Every language of the service: its words are not the same length ("Secrétariat" and
# "Deslocamento" were cut in two at 390 px where the Spanish walk found nothing).
WALK_LOCALES = ("es-ES", "fr-FR", "pt-BR", "en-GB")


@pytest.mark.parametrize("locale", WALK_LOCALES)
def test_every_page_fits_a_phone_for_whoever_may_see_it(
    new_page: Any, sign_in: Any, live_server: Any, arguments: dict[str, Any], locale: str
) -> None:
    """Every page of the URL map (not a list written by hand, which left the admin pages out:
    the user edit page was 519 px wide on a 390 px phone), in each language at 390 px, by a role
    that may see it: an HTML page, no wider than the screen, nothing cut off outside a scrolling
    box, every box that scrolls sideways saying so and taking the keyboard's focus, required
    marks beside their labels, no ordinary word or figure cut in two."""
    app = live_server.app
    problems, walked = [], set()
    for who, endpoint, path, page, answer in walk_every_page(
        new_page, sign_in, app, arguments, locale
    ):
        settle(page, path)
        kind = answer.headers.get("content-type", "") if answer else ""
        if not is_a_page(answer):
            status = answer.status if answer else None
            problems.append(f"{who} {path}: {status} {kind} (not a page? NOT_PAGES says why)")
            continue
        walked.add(endpoint)
        try:
            assert_fits(page)
        except AssertionError as wide:
            problems.append(f"{who}: {wide}")
        problems += [f"{who} {problem}" for problem in page_problems(page, path)]
    # What is left out is not a page: no HTML for a phone to lay out (asked by the last walker).
    rules = {r.endpoint: r for r in app.url_map.iter_rules() if "GET" in (r.methods or ())}
    for endpoint in NOT_PAGES:
        assert endpoint in rules, f"NOT_PAGES names {endpoint}, which is gone"
        with app.test_request_context():
            path = url_for(endpoint, **{a: arguments[a] for a in rules[endpoint].arguments})
        kind = page.request.get(path).headers.get("content-type", "")
        if kind.startswith("text/html"):
            problems.append(f"{endpoint} is left out as not a page, but answers HTML")
    assert problems == [], "\n".join(problems)
    assert len(walked) > 40, sorted(walked)


def test_a_required_mark_does_not_wrap_alone_under_its_label(new_page: Any, sign_in: Any) -> None:
    """In Portuguese at 390 px the match form's "Ofertantes por necessidade (top K)" filled its
    line and its star wrapped alone onto the next (the walk of every page, run in pt, found it)."""
    page = new_page(locale="pt-BR")
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "secretariat")
    page.goto("/matching/runs")
    expect(page.locator("label[for=top]")).to_contain_text("Ofertantes")
    assert page.evaluate(STARS_JS) == []
