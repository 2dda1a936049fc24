"""Every list on a phone, with long words in what people wrote: an outside tester found a 90-letter
title without spaces widening the study tours list on a 390 px phone (a table cell's
``overflow-wrap: break-word`` does not shrink the table's narrowest width: the word stayed whole,
730 px on one line, and made the table 1,030 px wide, scrolling inside its box), and the review
queue's nine columns scrolling sideways there.

The pages walked are every list page of the URL map (``tests/web/test_every_list_page``'s walk)
and the home page (:data:`TABLE_PAGES`: its worklists), in a real browser, as a role that may read
it, after records whose every text a list shows (titles, descriptions, evidence, a veto's reason,
a notice's title, a user's name, an import's file name) is a word of :data:`WORD`'s length
without spaces or a web address, the first of their list so that its first page shows them,
beside the knowledge base's records. At 1,280 px each page is as wide as the screen and no box
of it scrolls sideways. At 390 px each page:

- does not scroll sideways (its width is the screen's);
- shows the long word (else the walk proves nothing: a page that shows no text anyone wrote is
  declared in :data:`NO_WRITTEN_TEXT` with its reason), and no line of it is wider than the
  screen (it breaks, whatever holds it), and no ordinary word or figure beside it is cut in two
  (``test_layout.SPLIT_JS``: a long word must not squeeze the columns of the others);
- has no box of its list that scrolls sideways, but for the pages of :data:`SCROLLS_INSIDE`,
  each with its reason (a wide table still scrolls inside itself, the line above it saying so);
  a declared page that no longer scrolls fails too, so the declaration follows the pages. The
  admin's audit, users and imports, the match runs, the calibrations, the countries and the
  follow-up dashboard's tables of figures scrolled so until they became cards: none does now;
- shows every table of it as cards (``table.stack``, each cell with its ``data-label``), but
  for the tables of :data:`NOT_STACKED`, each with its reason (declared tables only: one more
  or one fewer fails).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from flask import url_for
from sqlalchemy import inspect
from sqlmodel import Session, select

from sscmatch.dates import PartialDate
from sscmatch.models import (
    AuditEvent,
    Calibration,
    Capacity,
    Commitment,
    Exchange,
    Job,
    MatchRun,
    Need,
    Notice,
    Proposal,
    StudyTour,
    User,
    Veto,
)
from tests.e2e.conftest import DEMO, assert_fits
from tests.e2e.test_layout import SPLIT_JS, _walker
from tests.web.test_every_list_page import _lists

# What the browser makes of the pages: the same on any database (tests/conftest.py).
pytestmark = pytest.mark.same_on_every_database

WIDTH = 390
DESKTOP = 1280
# A title pasted without spaces, 90 letters, and a web address: words no phone line holds.
WORD = "Fortalecimientodelainspecciondeltrabajoinfantilpeligrosoenlasplantacionesdecanadeazucar"
URL = "https://example.org/documentos/" + "protocolo-de-inspeccion-" * 4 + "anexo.pdf"
MARK = WORD[:24]  # what a page shows of the word (a list may shorten it)
MARKS = (MARK, URL[20:50])
ID = "E2E-LONG"
# Pages that show records beside their figures, not list pages of their own (the home page's
# worklists; the follow-up dashboard is a list page: its table by study tour pages).
TABLE_PAGES = ("main.index",)
NO_WRITTEN_TEXT = {
    "matching.runs": "match runs: dates, counts and who started them (a demo account's name)",
    "matching.calibrations": "calibrations: dates, figures and who started them",
    "network.countries": "countries by name, with counts",
}
# Lists whose table still scrolls sideways inside its box on a phone (the line above it says
# so), their rows not yet cards (table.stack with each cell's data-label): none now.
SCROLLS_INSIDE: dict[str, str] = {}
# Tables of a list page that are not cards on a phone (not table.stack), by page, with the reason:
# every other table of every list page is one (a table that fits a phone today, its texts short,
# scrolls tomorrow with a longer one).
NOT_STACKED: dict[str, tuple[str, str]] = {
    "matching.runs": (
        "weights",
        "the calibration's weights: a factor's name (the service's words) and two figures, "
        "learnt against default, read across; three narrow columns fit a phone",
    ),
}
NOT_STACKED_JS = """() => [...document.querySelectorAll('main table:not(.stack)')]
  .map(t => t.className || 'table')"""
# The lines of a long word or address wider than the screen (a text's box is as wide as its
# widest line): the word did not break, and made what holds it (a table) as wide.
UNBROKEN_JS = """marks => { const out = [];
  const walk = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    if (!marks.some(m => n.data.includes(m))) continue;
    const range = document.createRange(); range.selectNodeContents(n);
    const width = range.getBoundingClientRect().width;
    if (width > innerWidth) out.push(n.parentElement.tagName.toLowerCase() + ' '
      + Math.round(width) + ' px: ' + n.data.trim().slice(0, 30));
  } return out; }"""
# A box of the page's list that scrolls sideways: its content wider than the box.
SCROLLING_JS = """() => [...document.querySelectorAll('main *')].filter(el =>
    ['auto', 'scroll'].includes(getComputedStyle(el).overflowX)
    && el.scrollWidth > el.clientWidth + 1
  ).map(el => el.tagName.toLowerCase() + '.' + el.className + ' ' + el.scrollWidth + '>'
    + el.clientWidth)"""


class Made:
    """The records a fixture adds in ``session``, to be taken out again (:func:`take_out`)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.records: list[Any] = []

    def add(self, record: Any) -> Any:
        self.session.add(record)
        self.records.append(record)
        return record

    def keys(self) -> list[tuple[type, Any]]:
        """Each record's kind and primary key (once written)."""
        return [(type(record), inspect(record).identity) for record in self.records]


def take_out(engine: Any, keys: list[tuple[type, Any]], first: Any = None) -> None:
    """Deletes the records of ``keys``, the last added first (what refers to a record goes
    before it), after ``first(session)`` if given (a change that must come first)."""
    with Session(engine) as s:
        if first is not None:
            first(s)
            s.flush()
        for kind, key in reversed(keys):
            s.delete(s.get(kind, key))
            s.flush()
        s.commit()


@pytest.fixture(scope="module")
def long_texts(live_server: Any) -> Iterator[int]:
    """Records of every kind a list shows, their texts :data:`WORD` or :data:`URL`: a need of
    Guatemala and a capacity of Brazil proposed for it in a match run of their own (score 1,
    first in the queue), a study tour between them with a commitment, an exchange, a veto,
    notices for the secretariat and Guatemala's focal point, a user, an import, an audit
    event, and a calibration (whose table scrolls on a phone whether a journey made one or not).
    Yields the match run's id; then takes them out again: the modules after this one take "the
    first" proposal or capacity of the shared database for theirs."""
    engine = live_server.app.extensions["sscmatch.engine"]
    with Session(engine) as s:
        made = Made(s)
        add = made.add
        secretariat = s.exec(select(User).where(User.email == DEMO["secretariat"].email)).one()
        gtm = s.exec(select(User).where(User.email == DEMO["gtm"].email)).one()
        today = date.today().isoformat()  # the newest: first in their lists
        add(
            Need(
                id=f"{ID}-N",
                country="GTM",
                title=WORD,
                description=URL,
                status="open",
                created=today,
            )
        )
        add(
            Capacity(
                id=f"{ID}-C",
                country="BRA",
                title=WORD,
                description=URL,
                status="published",
                created=today,
            )
        )
        run = MatchRun(status="done", needs_total=1, needs_done=1, proposal_count=1)
        add(run)
        s.flush()
        add(
            Proposal(
                run_id=run.id or 0,
                need=f"{ID}-N",
                capacity=f"{ID}-C",
                provider="BRA",
                recipient="GTM",
                rank=1,
                score=1.0,
                note=WORD,
            )
        )
        add(
            StudyTour(
                id=f"{ID}-T",
                need=f"{ID}-N",
                capacity=f"{ID}-C",
                title=WORD,
                objective=URL,
                host_country="BRA",
                visiting_country="GTM",
                status="draft",
            )
        )
        s.flush()
        add(
            Commitment(
                id=f"{ID}-K",
                study_tour=f"{ID}-T",
                owner_country="GTM",
                description=WORD,
                evidence=URL,
                status="pending",
                due=PartialDate.parse("2000-01-15"),  # the longest overdue: first in its list
            )
        )
        add(
            Exchange(
                id=f"{ID}-X",
                title=WORD,
                description=URL,
                start=PartialDate.parse("2026-11"),
                providers=["BRA"],
                recipients=["GTM"],
            )
        )
        add(Veto(provider="BRA", recipient="GTM", reason=WORD, created_by=secretariat.id))
        for user in (secretariat, gtm):
            add(
                Notice(
                    user_id=user.id or 0,
                    kind="need.submit",
                    params={"id": f"{ID}-N", "title": WORD},
                    entity="need",
                    entity_id=f"{ID}-N",
                )
            )
        add(User(email="long@example.org", name=WORD, password_hash="x", role="analyst"))
        add(Job(kind="import", status="done", params={"name": WORD + ".json"}))
        add(Calibration(as_of="2024", weights={"themes": 1.0}, status="done"))
        add(AuditEvent(action="update", entity="need", entity_id=f"{ID}-N", note=WORD))
        s.commit()
        run_id = run.id or 0
        keys = made.keys()
    yield run_id
    take_out(engine, keys)


def _pages(app: Any, run_id: int) -> list[tuple[str, str]]:
    """(endpoint, address) of every list page and of :data:`TABLE_PAGES`."""
    with app.test_request_context():
        more = [(e, url_for(e)) for e in TABLE_PAGES]
    return sorted({*_lists(app, {"run_id": run_id}), *more})


def written_text_problems(page: Any, where: str, declared: bool) -> list[str]:
    """What is wrong with the long words on the page: not shown (or shown on a page ``declared``
    to show none of what people wrote), or a line of them wider than the screen."""
    problems = []
    shown = MARK in page.inner_text("main")
    if shown == declared:
        problems.append(
            f"{where}: the long word {'is' if shown else 'is not'} shown"
            + (": take it out of NO_WRITTEN_TEXT" if shown else "")
        )
    unbroken = page.evaluate(UNBROKEN_JS, list(MARKS))
    if unbroken:
        problems.append(f"{where}: wider than the screen: {unbroken}")
    split = page.evaluate(SPLIT_JS)
    if split:
        problems.append(f"{where}: words or figures split mid-word: {split}")
    return problems


def test_every_list_fits_a_phone_and_a_desktop_with_long_words(
    new_page: Any, sign_in: Any, live_server: Any, long_texts: int
) -> None:
    problems: list[str] = []
    scrolled: set[str] = set()
    by_walker: dict[str, list[tuple[str, str]]] = {}
    for endpoint, path in _pages(live_server.app, long_texts):
        by_walker.setdefault(_walker(endpoint), []).append((endpoint, path))
    for who, pages in sorted(by_walker.items()):
        page = new_page()
        sign_in(page, who)
        for endpoint, path in pages:
            # on a desktop: the page as wide as the screen, no list scrolling sideways (a long
            # import's file name made the imports page 1,307 px wide on a 1,280 px screen)
            page.set_viewport_size({"width": DESKTOP, "height": 900})
            page.goto(path)
            try:
                assert_fits(page, DESKTOP)
            except AssertionError as wide:
                problems.append(f"{who}: {wide}")
            scrolling = page.evaluate(SCROLLING_JS)
            if scrolling:
                problems.append(f"{who} {path}: scrolls sideways on a desktop: {scrolling}")
            page.set_viewport_size({"width": WIDTH, "height": 844})
            answer = page.goto(path)
            if answer is None or answer.status != 200:
                problems.append(f"{who} {path}: {answer.status if answer else None}")
                continue
            try:
                assert_fits(page, WIDTH)
            except AssertionError as wide:
                problems.append(f"{who}: {wide}")
            problems += written_text_problems(page, f"{who} {path}", endpoint in NO_WRITTEN_TEXT)
            not_stacked = page.evaluate(NOT_STACKED_JS)
            declared = [NOT_STACKED[endpoint][0]] if endpoint in NOT_STACKED else []
            if not_stacked != declared:
                problems.append(
                    f"{who} {path}: tables that are not cards: {not_stacked} (NOT_STACKED "
                    f"declares {declared})"
                )
            scrolling = page.evaluate(SCROLLING_JS)
            if scrolling:
                scrolled.add(endpoint)
                if endpoint not in SCROLLS_INSIDE:
                    problems.append(f"{who} {path}: scrolls sideways inside: {scrolling}")
    for endpoint in sorted(set(SCROLLS_INSIDE) - scrolled):
        problems.append(f"{endpoint} no longer scrolls inside: take it out of SCROLLS_INSIDE")
    assert problems == [], "\n".join(problems)
