"""Every page of one record on a phone, with long words in what people wrote: a proposal's
review page was 777 px wide on a 390 px phone with a 90-letter word without spaces in its
records, where the list pages (``test_long_text_lists``) no longer widened. The walk below found
the word in the message saying the pair is vetoed (a veto's reason, in a ``div``: app.css broke
long words in a list of text elements, which had no ``div``); every other page of one record
held its long words already.

The pages walked are every page of the URL map with a path argument (one record: a need, a
capacity, an exchange, a proposal, a need's candidates, a match run, a calibration, a study tour
and its brief and form, a commitment, a country, a user, an audit event, an import), but for
what is not a page (``test_layout.NOT_PAGES``), each read by a role that may see it, after the
records of ``test_long_text_lists`` with more of their texts long (an institution's name, a
need's review note, a decision's reason, a comment, a commitment's updates, a tour's expected
change, an exchange's outcomes, an audit event's values, an import's problem). At 1,280 px and
at 390 px each page is as wide as the screen (``document.documentElement.scrollWidth``), no line
of a long word or address is wider than the screen, no ordinary word or figure is cut in two
at 390 px, and each shows the long word (a page that
shows none of what people wrote is declared in :data:`NO_WRITTEN_TEXT`, with its reason; a
declared page that shows it fails too).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlmodel import Session, col, select

from sscmatch.models import (
    AuditEvent,
    Calibration,
    Capacity,
    CommitmentUpdate,
    Exchange,
    Institution,
    Job,
    Need,
    Proposal,
    ProposalComment,
    Review,
    StudyTour,
    User,
)
from tests.e2e.conftest import DEMO, assert_fits
from tests.e2e.test_layout import _pages_by_walker
from tests.e2e.test_long_text_lists import (
    DESKTOP,
    ID,
    URL,
    WIDTH,
    WORD,
    Made,
    long_texts,
    take_out,
    written_text_problems,
)

# What the browser makes of the pages: the same on any database (tests/conftest.py).
pytestmark = pytest.mark.same_on_every_database

__all__ = ["long_texts"]  # the fixture, shared

NO_WRITTEN_TEXT = {
    "tours.edit": "a form: the long texts are in its fields, not the page's text",
    "matching.calibration": "dates, figures and weights",
}
# Who reads a page other than test_layout's walker (a focal point's form of their own record).
READER = {"registry.need_edit": "gtm", "registry.capacity_edit": "bra"}


@pytest.fixture(scope="module")
def long_details(live_server: Any, long_texts: int) -> Iterator[dict[str, Any]]:
    """More long texts on ``long_texts``' records, and the value of every path argument."""
    engine = live_server.app.extensions["sscmatch.engine"]
    with Session(engine) as s:
        made = Made(s)
        add = made.add
        secretariat = s.exec(select(User).where(User.email == DEMO["secretariat"].email)).one()
        add(Institution(id=f"{ID}-I", name=WORD, country="GTM", website=URL))
        s.flush()
        need = s.get(Need, f"{ID}-N")
        capacity = s.get(Capacity, f"{ID}-C")
        tour = s.get(StudyTour, f"{ID}-T")
        exchange = s.get(Exchange, f"{ID}-X")
        assert need and capacity and tour and exchange
        need.institution = capacity.institution = f"{ID}-I"
        need.review_note = WORD
        tour.expected_change = WORD
        exchange.outcomes = WORD
        exchange.date_note = WORD
        proposal = s.exec(select(Proposal).where(Proposal.need == f"{ID}-N")).one()
        add(
            Review(
                proposal_id=proposal.id or 0,
                decision="reject",
                reason=WORD,
                reviewer_id=secretariat.id,
            )
        )
        add(ProposalComment(proposal_id=proposal.id or 0, author_id=secretariat.id, body=WORD))
        add(
            CommitmentUpdate(
                commitment=f"{ID}-K",
                status="pending",
                evidence=URL,
                note=WORD,
                user_id=secretariat.id,
            )
        )
        event = add(
            AuditEvent(
                action="update",
                entity="need",
                entity_id=f"{ID}-N",
                before={"title": "x"},
                after={"title": WORD},
                note=WORD,
            )
        )
        job = add(
            Job(
                kind="import",
                status="failed",
                params={"name": WORD + ".json"},
                result={"problems": [["needs.csv", 3, "title", WORD]], "problem_count": 1},
            )
        )
        user = s.exec(select(User).where(User.email == "long@example.org")).one()
        calibration = s.exec(
            select(Calibration)
            .where(Calibration.as_of == "2024")
            .order_by(col(Calibration.id).desc())
        ).first()
        s.commit()
        arguments = {
            "event_id": event.id,
            "job_id": job.id,
            "user_id": user.id,
            "capacity_id": f"{ID}-C",
            "code": "GTM",
            "exchange_id": f"{ID}-X",
            "commitment_id": f"{ID}-K",
            "calibration_id": calibration.id if calibration else 0,
            "run_id": long_texts,
            "need_id": f"{ID}-N",
            "proposal_id": proposal.id,
            "tour_id": f"{ID}-T",
        }
        keys = made.keys()
    yield arguments

    def without_institution(s: Session) -> None:  # the need and capacity refer to it
        for record in (s.get(Need, f"{ID}-N"), s.get(Capacity, f"{ID}-C")):
            if record is not None:
                record.institution = None

    take_out(engine, keys, without_institution)


def _detail_pages(app: Any, arguments: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """(endpoint, address) of every page with a path argument, by who reads it."""
    with_arguments = {r.endpoint for r in app.url_map.iter_rules() if r.arguments}
    pages: dict[str, list[tuple[str, str]]] = {}
    for who, walk in _pages_by_walker(app, arguments).items():
        for endpoint, path in walk:
            if endpoint in with_arguments:
                pages.setdefault(READER.get(endpoint, who), []).append((endpoint, path))
    return pages


def test_every_detail_page_fits_a_phone_and_a_desktop_with_long_words(
    new_page: Any, sign_in: Any, live_server: Any, long_details: dict[str, Any]
) -> None:
    problems: list[str] = []
    by_reader = _detail_pages(live_server.app, long_details)
    for who, walk in sorted(by_reader.items()):
        page = new_page()
        sign_in(page, who)
        for endpoint, path in walk:
            statuses = []
            for width in (DESKTOP, WIDTH):  # the long words' lines judged at the last
                page.set_viewport_size({"width": width, "height": 900})
                answer = page.goto(path)
                statuses.append(answer.status if answer else None)
                try:
                    assert_fits(page, width)
                except AssertionError as wide:
                    problems.append(f"{who} at {width}: {wide}")
            if statuses != [200, 200]:
                problems.append(f"{who} {path}: {statuses}")
                continue
            problems += written_text_problems(page, f"{who} {path}", endpoint in NO_WRITTEN_TEXT)
    walked = sum(len(walk) for walk in by_reader.values())
    assert problems == [], "\n".join(problems)
    assert walked >= 15, by_reader
