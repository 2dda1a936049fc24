"""Commitments: who records and updates them, their history, overdue, dashboard and ladder."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session

from sscmatch.dates import as_text
from sscmatch.db import StaleVersion
from sscmatch.models import AuditEvent, Commitment, StudyTour
from sscmatch.workflow import commitments as kwf
from sscmatch.workflow import outcomes
from sscmatch.workflow import tours as wf
from tests.conftest import audit_trail
from tests.workflow.test_tours import SEC, advance, make_world

TODAY = date(2026, 7, 15)
FOCAL_GTM = wf.User(id=None, role="focal_point", country="GTM")
FOCAL_BRA = wf.User(id=None, role="focal_point", country="BRA")


@pytest.fixture
def scheduled(session: Session) -> StudyTour:
    proposal = make_world(session)
    tour = wf.draft_from_proposal(session, proposal, None, today=date(2026, 1, 5))
    session.commit()
    return advance(session, tour.id, "proposed", "agreed", "scheduled")


def test_commitments_wait_for_the_closing_session(session: Session) -> None:
    proposal = make_world(session)
    tour = wf.draft_from_proposal(session, proposal, None, today=date(2026, 1, 5))
    with pytest.raises(wf.TourConflict, match="closing session"):
        kwf.add_commitment(session, tour.id, user=SEC, owner_country="GTM", description="x")


def test_recording_rules(session: Session, scheduled: StudyTour) -> None:
    with pytest.raises(wf.TourForbidden, match="own country"):
        kwf.add_commitment(
            session, scheduled.id, user=FOCAL_GTM, owner_country="BRA", description="x"
        )
    with pytest.raises(kwf.CommitmentError, match="owner must be one of"):
        kwf.add_commitment(session, scheduled.id, user=SEC, owner_country="ARG", description="x")
    with pytest.raises(kwf.CommitmentError, match="needs evidence"):
        kwf.add_commitment(
            session,
            scheduled.id,
            user=SEC,
            owner_country="GTM",
            description="x",
            status="fulfilled",
        )
    with pytest.raises(kwf.CommitmentError, match="not of GTM"):
        kwf.add_commitment(
            session,
            scheduled.id,
            user=SEC,
            owner_country="GTM",
            description="x",
            owner_institution="bra-mte",
        )
    with pytest.raises(kwf.CommitmentError, match="not a date"):
        kwf.add_commitment(
            session, scheduled.id, user=SEC, owner_country="GTM", description="x", due="soon"
        )
    k = kwf.add_commitment(
        session,
        scheduled.id,
        user=FOCAL_GTM,
        owner_country="gtm",
        description=" Train 40 inspectors ",
        due="2026-09",
        owner_institution="gtm-mintrab",
    )
    assert (k.id, k.owner_country, k.description, k.status) == (
        f"{scheduled.id}-k01",
        "GTM",
        "Train 40 inspectors",
        "pending",
    )
    assert [h.note for h in kwf.history(session, k.id)] == ["recorded"]


def test_update_history_permissions_and_version(session: Session, scheduled: StudyTour) -> None:
    k = kwf.add_commitment(
        session,
        scheduled.id,
        user=SEC,
        owner_country="GTM",
        description="Adopt a hazardous-work list",
        due="2026-06",
    )
    with pytest.raises(wf.TourForbidden, match="own country"):
        kwf.update_commitment(session, k.id, user=FOCAL_BRA, version=1, status="in_progress")
    k = kwf.update_commitment(
        session, k.id, user=FOCAL_GTM, version=1, status="in_progress", note="draft list circulated"
    )
    with pytest.raises(StaleVersion, match="changed by someone else"):
        kwf.update_commitment(
            session, k.id, user=FOCAL_GTM, version=1, status="fulfilled", evidence="x"
        )
    with pytest.raises(kwf.CommitmentError, match="needs evidence"):
        kwf.update_commitment(session, k.id, user=FOCAL_GTM, version=2, status="fulfilled")
    with pytest.raises(kwf.CommitmentError, match="say why"):
        kwf.update_commitment(session, k.id, user=FOCAL_GTM, version=2, status="dropped")
    with pytest.raises(kwf.CommitmentError, match="nothing to change"):
        kwf.update_commitment(session, k.id, user=FOCAL_GTM, version=2)
    k = kwf.update_commitment(
        session,
        k.id,
        user=FOCAL_GTM,
        version=2,
        status="fulfilled",
        evidence="https://example.org/decree",
    )
    with pytest.raises(wf.TourForbidden, match="only the secretariat may reopen"):
        kwf.update_commitment(session, k.id, user=FOCAL_GTM, version=3, status="in_progress")
    k = kwf.update_commitment(
        session, k.id, user=SEC, version=3, status="in_progress", note="decree withdrawn"
    )
    session.commit()
    assert [(h.status, h.note) for h in kwf.history(session, k.id)] == [
        ("pending", "recorded"),
        ("in_progress", "draft list circulated"),
        ("fulfilled", None),
        ("in_progress", "decree withdrawn"),
    ]
    audits = audit_trail(session, AuditEvent.entity == "commitment")
    assert [a.action for a in audits] == ["create", "update", "update", "update"]
    assert audits[2].before["status"] == "in_progress"  # type: ignore[index]
    assert audits[2].after["status"] == "fulfilled"  # type: ignore[index]


def test_overdue_is_derived_from_the_due_period() -> None:
    k = Commitment(id="k", owner_country="GTM", description="x", due="2026-06")
    assert not kwf.is_overdue(k, date(2026, 6, 30))
    assert kwf.is_overdue(k, date(2026, 7, 1))
    assert kwf.days_left(k, date(2026, 7, 1)) == -1
    k.status = "fulfilled"
    assert not kwf.is_overdue(k, date(2027, 1, 1))
    assert not kwf.is_overdue(Commitment(id="n", owner_country="GTM", description="x"), TODAY)


def test_dashboard_puts_overdue_first(session: Session, scheduled: StudyTour) -> None:
    a = kwf.add_commitment(
        session, scheduled.id, user=SEC, owner_country="GTM", description="late", due="2026-05-31"
    )
    b = kwf.add_commitment(
        session, scheduled.id, user=SEC, owner_country="BRA", description="soon", due="2026-07-30"
    )
    c = kwf.add_commitment(
        session,
        scheduled.id,
        user=SEC,
        owner_country="BRA",
        description="done",
        due="2026-04",
        status="fulfilled",
        evidence="report",
    )
    session.commit()
    board = outcomes.dashboard(session, today=TODAY)
    assert [k.id for k in board.overdue] == [a.id]
    assert [k.id for k in board.due_soon] == [b.id]
    assert list(board.by_country) == ["GTM", "BRA"]  # the one with overdue items first
    assert board.by_country["GTM"].overdue == 1
    # K-old (an earlier exchange) and c are BRA's fulfilled ones
    assert board.by_country["BRA"].fulfilled == 2 and board.by_country["BRA"].rate == 1.0
    assert board.by_tour[scheduled.id].total == 3
    year = str(date.today().year)  # decided when recorded (history row of today)
    assert board.over_time[year].fulfilled == 1
    assert board.over_time["2015"].fulfilled == 1  # K-old: no history, its exchange's year
    assert [k.id for k in kwf.list_commitments(session, today=TODAY, overdue=True)] == [a.id]
    assert c.id in [k.id for k in kwf.list_commitments(session, today=TODAY, country="bra")]
    # Recorded from a document (no study tour), years past due: kept apart, and not counted
    # overdue in its country's row either.
    session.add(Commitment(id="K-doc", owner_country="BRA", description="roadmap", due="2015"))
    session.commit()
    board = outcomes.dashboard(session, today=TODAY)
    assert [k.id for k in board.historical_overdue] == ["K-doc"]
    assert board.by_country["BRA"].overdue == 0 and board.by_country["BRA"].pending == 2


def test_outcome_ladder_counts_steps_per_country_and_theme(
    session: Session, scheduled: StudyTour
) -> None:
    ladder = outcomes.outcome_ladder(session)
    # the scheduled tour reached "agreement"; four imported exchanges without tours are
    # "exchange"; E-1 has its only commitment fulfilled → "fulfilled"
    assert ladder.total == [5, 5, 5, 4, 1]
    assert ladder.by_country["GTM"] == [1, 1, 1, 0, 0]
    assert ladder.by_country["BRA"] == [3, 3, 3, 2, 1]
    assert ladder.by_theme["labour-inspection"] == [3, 3, 3, 2, 1]
    k = kwf.add_commitment(
        session, scheduled.id, user=SEC, owner_country="GTM", description="x", due="2026-09"
    )
    advance(session, scheduled.id, "completed")
    kwf.update_commitment(session, k.id, user=SEC, version=1, status="fulfilled", evidence="y")
    session.commit()
    assert outcomes.outcome_ladder(session).by_country["GTM"] == [1, 1, 1, 1, 1]


def test_ladder_tells_planned_from_documented_and_fulfilment_discriminates(
    session: Session, scheduled: StudyTour
) -> None:
    """The ladder keeps the cooperations planned here apart from the exchanges recorded from
    the documents (which enter at "exchange"); the share fulfilled differs between countries
    where "fulfilled among decided" is 100% for all."""
    ladder = outcomes.outcome_ladder(session)
    assert ladder.by_origin["service"] == [1, 1, 1, 0, 0]
    assert ladder.by_origin["documents"] == [4, 4, 4, 4, 1]
    assert [ladder.total[i] for i in range(5)] == [
        a + b
        for a, b in zip(ladder.by_origin["service"], ladder.by_origin["documents"], strict=True)
    ]
    assert outcomes.Ladder.conversion([4, 4, 4, 4, 1]) == [None, 1.0, 1.0, 1.0, 0.25]
    assert outcomes.Ladder.stopped([5, 5, 5, 4, 1]) == [0, 0, 1, 3, 1]
    tally = outcomes.Tally(pending=3, fulfilled=1)
    assert tally.rate == 1.0 and tally.share_fulfilled == 0.25 and tally.decided == 1


def test_outcome_ladder_is_recomputed_after_a_change(session: Session) -> None:
    """The ladder is cached per data version: a new exchange must show up at once."""
    from sscmatch.models import Exchange

    before = outcomes.outcome_ladder(session)
    assert outcomes.outcome_ladder(session) is before  # nothing changed: the cached ladder
    session.add(
        Exchange(
            id="X-cache",
            start="2020",
            providers=["BRA"],
            recipients=["MOZ"],
            themes=["labour-inspection"],
        )
    )
    session.flush()
    after = outcomes.outcome_ladder(session)
    assert after is not before
    assert after.total[3] == before.total[3] + 1
    assert after.by_country["MOZ"][3] == before.by_country.get("MOZ", [0] * 5)[3] + 1


def test_export_records_are_the_list_read_by_columns(
    session: Session, scheduled: StudyTour
) -> None:
    """commitment_records (one query of columns, for exports) gives what list_commitments gives,
    in its order, with overdue and days left, under every filter."""
    for owner, due, status in [
        ("GTM", "2026-05-31", "pending"),
        ("BRA", "2026-07-30", "in_progress"),
        ("BRA", "2026-04", "dropped"),
        ("GTM", None, "pending"),
        ("GTM", "2026-05", "pending"),
    ]:
        kwf.add_commitment(
            session, scheduled.id, user=SEC, owner_country=owner, description=f"{owner} {due}",
            due=due, status=status,
        )  # fmt: skip
    session.add(Commitment(id="K-doc", owner_country="BRA", description="roadmap", due="2015"))
    session.commit()
    for filters in [{}, {"overdue": True}, {"country": "gtm"}, {"status": "pending"}]:
        listed = kwf.list_commitments(session, today=TODAY, **filters)  # type: ignore[arg-type]
        expected = [
            {
                **{c: getattr(k, c) for c in kwf.RECORD_COLUMNS},
                "due": as_text(k.due),  # the text of the due period, as the export writes it
                "overdue": kwf.is_overdue(k, TODAY),
                "days_left": kwf.days_left(k, TODAY),
            }
            for k in listed
        ]
        records = kwf.commitment_records(session, today=TODAY, **filters)  # type: ignore[arg-type]
        assert records == expected and len(records) >= 1, filters
    with pytest.raises(kwf.CommitmentBadFilter):
        kwf.commitment_records(session, today=TODAY, status="nonsense")


def test_dashboard_counts_columns_not_records(session: Session, scheduled: StudyTour) -> None:
    """The dashboard and the ladder read commitments as columns (:func:`commitment_items`), no
    ORM record (their first render at full scale built 40,188): the same commitments, values
    and order as :func:`list_commitments`, for every country and one."""
    from sqlalchemy import event

    for n, (owner, due) in enumerate([("GTM", "2026-03"), ("BRA", "2026-05"), ("BRA", None)]):
        kwf.add_commitment(
            session, scheduled.id, user=SEC, owner_country=owner, description=f"k{n}", due=due
        )
    session.add(Commitment(id="K-doc", owner_country="BRA", description="roadmap", due="2015"))
    session.commit()
    names = ("id", "status", "owner_country", "owner_institution", "description", "study_tour")
    for country in (None, "BRA", "gtm"):
        records = kwf.list_commitments(session, today=TODAY, country=country)
        items = kwf.commitment_items(session, today=TODAY, country=country)
        assert [[getattr(k, n) for n in (*names, "exchange", "due")] for k in records] == [
            [getattr(k, n) for n in (*names, "exchange", "due")] for k in items
        ]
        assert len(items) >= 1
    loaded: list[object] = []

    def keep(target: object, _context: object) -> None:
        loaded.append(target)

    event.listen(Commitment, "load", keep)
    try:
        session.expunge_all()
        board = outcomes.dashboard(session, today=TODAY)
        outcomes.outcome_ladder(session)
    finally:
        event.remove(Commitment, "load", keep)
    assert loaded == [] and board.historical[0].id == "K-doc"


def test_the_citation_of_a_recorded_commitment_is_not_the_proof_it_was_kept(
    session: Session, scheduled: StudyTour
) -> None:
    """A commitment recorded from the documents holds, as evidence, where it was found
    ("000_x.txt:777-779"): marking it fulfilled with that was accepted (the audit). It takes
    evidence given here: with the change, or in an earlier update of this commitment."""
    k = Commitment(
        id="doc-k1",
        owner_country="GTM",
        description="Implement the national roadmap",
        status="in_progress",
        evidence="000_9148a8ca8a7c6ecc.txt:777-779",
        source="000_9148a8ca8a7c6ecc.txt:771",
    )
    session.add(k)
    session.commit()
    with pytest.raises(kwf.CommitmentError) as refused:
        kwf.update_commitment(session, k.id, user=FOCAL_GTM, version=1, status="fulfilled")
    assert [p.field for p in refused.value.problems] == ["evidence"]
    assert "kept" in str(refused.value)
    k = kwf.update_commitment(
        session, k.id, user=FOCAL_GTM, version=1, evidence="https://example.org/roadmap-report"
    )  # given here first, without the status
    k = kwf.update_commitment(session, k.id, user=FOCAL_GTM, version=2, status="fulfilled")
    assert k.status == "fulfilled"
    with pytest.raises(kwf.CommitmentError, match="needs evidence"):
        kwf.update_commitment(session, k.id, user=SEC, version=3, evidence="")
