"""Study tours: drafting from a proposal, editing, the state machine, the exchange it becomes,
the iCalendar export, and the feedback of its commitments into the matcher."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session, select

from sscmatch.db import StaleVersion
from sscmatch.models import (
    AuditEvent,
    Capacity,
    Commitment,
    Exchange,
    Institution,
    MatchRun,
    Need,
    Proposal,
    StudyTour,
)
from sscmatch.vocab import load_vocabulary
from sscmatch.workflow import commitments as kwf
from sscmatch.workflow import tours as wf
from sscmatch.workflow.matchruns import compute

SEC = wf.User(id=None, role="secretariat")
DRAFT_DAY = date(2026, 1, 5)
AFTER_TOUR = date(2026, 4, 1)


def make_world(session: Session, users: dict[str, int] | None = None) -> Proposal:
    """BRA offers labour inspection (pt); GTM needs it (es); one earlier exchange funded by ABC
    and the ILO, another by AECID; an accepted proposal BRA → GTM."""
    institutions = [
        Institution(
            id="bra-mte",
            name="Ministry of Labour of Brazil",
            country="BRA",
            constituency="government",
        ),
        Institution(
            id="bra-abc",
            name="Brazilian Cooperation Agency (ABC)",
            country="BRA",
            constituency="cooperation_agency",
        ),
        Institution(id="esp-aecid", name="AECID", country="ESP", constituency="cooperation_agency"),
        Institution(
            id="ilo",
            name="International Labour Organization (ILO)",
            country="CHE",
            constituency="un_agency",
            international=True,
        ),
        Institution(
            id="gtm-mintrab",
            name="Ministerio de Trabajo de Guatemala",
            country="GTM",
            constituency="government",
        ),
        Institution(id="gtm-cacif", name="CACIF", country="GTM", constituency="employers"),
        Institution(id="gtm-union", name="Sindicato GT", country="GTM", constituency="workers"),
    ]
    session.add_all(institutions)
    session.flush()
    session.add(
        Capacity(
            id="C-1",
            country="BRA",
            institution="bra-mte",
            title="Online labour inspection system",
            themes=["labour-inspection"],
            languages=["pt"],
            modalities=["study_tour"],
            available_from="2026-02",
            available_to="2026-12",
            status="published",
            maturity="operational",
        )
    )
    session.add(
        Need(
            id="N-1",
            country="GTM",
            institution="gtm-mintrab",
            title="Inspectors trained on child labour",
            description="Few inspectors know it.",
            themes=["labour-inspection"],
            languages=["es"],
            modalities=["study_tour"],
            desired_from="2026-03",
            desired_to="2026-06",
            status="open",
        )
    )
    session.add_all(
        [
            Exchange(
                id="E-1",
                start="2015",
                providers=["BRA"],
                recipients=["PER"],
                partners=["bra-abc", "ilo"],
                themes=["labour-inspection"],
            ),
            Exchange(
                id="E-2",
                start="2016",
                providers=["ARG"],
                recipients=["PRY"],
                partners=["esp-aecid"],
                themes=["child-labour-monitoring"],
            ),
            Exchange(
                id="E-3",
                start="2017",
                providers=["BRA"],
                recipients=["BOL"],
                partners=["bra-abc"],
                themes=["labour-inspection"],
            ),
            Exchange(
                id="E-4",
                start="2017",
                providers=["MEX"],
                recipients=["HND"],
                partners=["esp-aecid"],
                themes=["education"],
            ),
        ]
    )
    session.flush()
    session.add(
        Commitment(
            id="K-old",
            exchange="E-1",
            owner_country="BRA",
            description="earlier",
            status="fulfilled",
            evidence="report",
        )
    )
    run = MatchRun(status="done")
    session.add(run)
    session.flush()
    assert run.id is not None
    proposal = Proposal(
        run_id=run.id,
        need="N-1",
        capacity="C-1",
        provider="BRA",
        recipient="GTM",
        rank=1,
        score=0.8,
        status="accepted",
    )
    session.add(proposal)
    session.flush()
    return proposal


@pytest.fixture
def proposal(session: Session) -> Proposal:
    p = make_world(session)
    session.commit()
    return p


@pytest.fixture
def tour(session: Session, proposal: Proposal) -> StudyTour:
    t = wf.draft_from_proposal(session, proposal, None, today=DRAFT_DAY)
    session.commit()
    return t


def advance(session: Session, tour_id: str, *statuses: str, today: date = AFTER_TOUR) -> StudyTour:
    t = session.get(StudyTour, tour_id)
    assert t is not None
    for s in statuses:
        t = wf.transition(session, tour_id, s, version=t.version, user=SEC, today=today)
    session.commit()
    return t


def test_draft_from_proposal_fills_every_part(session: Session, tour: StudyTour) -> None:
    assert tour.status == "draft" and tour.proposal_id is not None
    assert tour.host_country == "BRA" and tour.visiting_country == "GTM"
    assert tour.objective.startswith("Inspectors trained on child labour")
    assert tour.need == "N-1" and tour.capacity == "C-1" and tour.modality == "study_tour"
    # dates: first Monday inside capacity (2026-02..12) and need (2026-03..06) windows
    assert (str(tour.start), str(tour.end)) == ("2026-03-02", "2026-03-04")
    # Spanish and Portuguese: partly intelligible (0.6) → interpretation
    assert tour.languages == ["pt", "es"] and tour.interpretation is True
    # labour inspection calls for a tripartite visiting delegation, found among GTM bodies
    visiting = [m for m in tour.delegation if m["side"] == "visiting"]
    assert {m["constituency"] for m in visiting} == {"government", "employers", "workers"}
    assert visiting[0]["institution"] == "Ministerio de Trabajo de Guatemala"
    hosts = [m for m in tour.delegation if m["side"] == "host"]
    assert hosts == [
        {
            "side": "host",
            "name": "",
            "role": "Host institution",
            "institution": "Ministry of Labour of Brazil",
            "constituency": "government",
        }
    ]
    assert wf.delegation_problems(tour.delegation, ["labour-inspection"], load_vocabulary()) == []
    # agenda: 3 days; presentations, field visit, beneficiaries; closing session last
    kinds = [s["kind"] for d in tour.agenda for s in d["sessions"]]
    assert [d["day"] for d in tour.agenda] == [1, 2, 3]
    assert {"presentation", "field_visit", "beneficiaries"} <= set(kinds)
    assert kinds[-1] == "closing" and "commitments" in tour.agenda[-1]["sessions"][-1]["title"]
    # cost, worked by hand: 3 people, distance GTM–BRA capitals
    km = load_vocabulary().distance_km("BRA", "GTM")
    assert km is not None
    cost = tour.cost
    assert cost is not None
    items = {i["item"]: i["amount"] for i in cost["items"]}
    assert items["travel"] == round(3 * max(300.0, 2 * km * 0.12))
    assert items["per_diem"] == 3 * 4 * 220
    assert items["local_transport"] == 3 * 150 and items["interpretation"] == 3 * 900
    assert cost["total"] == sum(items.values()) and cost["distance_km"] == round(km)
    # funders: ABC funded two labour-inspection exchanges with BRA, the ILO one, AECID a related
    assert tour.funders == ["bra-abc", "ilo", "esp-aecid"]
    events = session.exec(select(AuditEvent).where(AuditEvent.entity_id == tour.id)).all()
    assert [e.action for e in events] == ["draft"]


def test_suggested_funders_worked_by_hand(session: Session, proposal: Proposal) -> None:
    """1 per shared theme, 0.5 per theme of the same family, 0.5 when the exchange involved one
    of the tour's countries; a government funds only exchanges its country took no part in; a
    theme or partner listed twice counts once; ties by name."""
    session.add_all(
        [
            Exchange(  # AECID twice and a theme twice: once each; Brazil's ministry abroad
                id="E-5",
                start="2018",
                providers=["ESP"],
                recipients=["PER"],
                partners=["esp-aecid", "esp-aecid", "bra-mte"],
                themes=["labour-inspection", "labour-inspection"],
            ),
            Exchange(  # Brazil's ministry in an exchange of Brazil's: not a funder
                id="E-6",
                start="2019",
                providers=["BRA"],
                recipients=["PER"],
                partners=["bra-mte"],
                themes=["labour-inspection"],
            ),
        ]
    )
    session.flush()
    found = wf.suggest_funders(session, load_vocabulary(), ["labour-inspection"], ("BRA", "GTM"))
    assert [(f["id"], f["score"], f["exchanges"]) for f in found] == [
        ("bra-abc", 3.0, 2),  # E-1 and E-3: 1 + 0.5 (Brazil) each
        ("esp-aecid", 1.5, 2),  # E-2 (same family) 0.5, E-5 1
        ("ilo", 1.5, 1),  # E-1; after AECID by name
        ("bra-mte", 1.0, 1),  # E-5 only
    ]
    assert wf.suggest_funders(session, load_vocabulary(), ["no-such-theme"], ("BRA",)) == []


def test_drafting_twice_returns_the_same_tour(
    session: Session, proposal: Proposal, tour: StudyTour
) -> None:
    again = wf.draft_from_proposal(session, proposal, None, today=DRAFT_DAY)
    assert again.id == tour.id
    assert len(session.exec(select(StudyTour)).all()) == 1


def test_rates_can_be_overridden_and_are_checked() -> None:
    vocab = load_vocabulary()
    base = wf.estimate_cost(vocab, "ARG", "URY", people=2, days=3, interpretation=False)
    cheaper = wf.estimate_cost(
        vocab,
        "ARG",
        "URY",
        people=2,
        days=3,
        interpretation=False,
        rate_overrides={"per_diem": 100},
    )
    assert base["total"] - cheaper["total"] == 2 * 4 * 120
    with pytest.raises(wf.TourError, match="unknown cost rate 'hotel'"):
        wf.rates({"hotel": 3})
    with pytest.raises(wf.TourError, match="must be a number"):
        wf.rates({"per_diem": -1})
    virtual = wf.estimate_cost(
        vocab, "ARG", "URY", people=2, days=2, interpretation=True, modality="virtual_exchange"
    )
    assert [i["item"] for i in virtual["items"]] == ["interpretation"] and virtual["total"] == 1800


def test_tripartite_rule() -> None:
    vocab = load_vocabulary()
    assert wf.needs_tripartite(["labour-inspection"], vocab)
    assert wf.needs_tripartite(["trade-union-engagement"], vocab)  # social-dialogue family
    assert not wf.needs_tripartite(["conditional-cash-transfers"], vocab)
    problems = wf.delegation_problems(
        [{"side": "visiting", "constituency": "government", "role": "x"}],
        ["hazardous-work-lists"],
        vocab,
    )
    assert problems and "employers, workers" in problems[0]


def test_dates_outside_both_windows_are_left_open() -> None:
    cap = Capacity(
        id="c", country="BRA", title="t", available_from="2026-01", available_to="2026-02"
    )
    need = Need(id="n", country="GTM", title="t", desired_from="2026-06")
    start, end, why = wf.choose_dates(cap, need, date(2025, 12, 1), 3)
    assert start is None and end is None and "no 3-day window" in why


def test_state_machine_refuses_illegal_moves(session: Session, tour: StudyTour) -> None:
    with pytest.raises(wf.TourConflict, match="a draft study tour cannot become completed"):
        wf.transition(session, tour.id, "completed", version=tour.version, user=SEC)
    with pytest.raises(wf.TourError, match="unknown status 'done'"):
        wf.transition(session, tour.id, "done", version=tour.version, user=SEC)
    focal_gtm = wf.User(id=None, role="focal_point", country="GTM")
    t = wf.transition(session, tour.id, "proposed", version=tour.version, user=focal_gtm)
    t = wf.transition(session, tour.id, "agreed", version=t.version, user=focal_gtm)
    assert t.status == "proposed"  # Guatemala's agreement; Brazil's is awaited
    focal_bra = wf.User(id=None, role="focal_point", country="BRA")
    t = wf.transition(session, tour.id, "agreed", version=t.version, user=focal_bra)
    assert t.status == "agreed"
    with pytest.raises(wf.TourForbidden, match="only the secretariat"):
        wf.transition(session, tour.id, "scheduled", version=t.version, user=focal_gtm)
    with pytest.raises(wf.TourForbidden):
        wf.transition(
            session,
            tour.id,
            "cancelled",
            version=t.version,
            user=wf.User(id=None, role="focal_point", country="ARG"),
        )
    with pytest.raises(StaleVersion, match="changed by someone else"):
        wf.transition(session, tour.id, "scheduled", version=t.version - 1, user=SEC)
    t = wf.transition(session, tour.id, "scheduled", version=t.version, user=SEC)
    with pytest.raises(wf.TourConflict, match="cannot be completed before it took place"):
        wf.transition(
            session, tour.id, "completed", version=t.version, user=SEC, today=date(2026, 3, 1)
        )
    t = wf.transition(session, tour.id, "cancelled", version=t.version, user=SEC)
    with pytest.raises(wf.TourConflict, match="it is final"):
        wf.transition(session, tour.id, "draft", version=t.version, user=SEC)
    session.commit()
    actions = [
        e.action
        for e in session.exec(
            select(AuditEvent).where(AuditEvent.entity_id == tour.id).order_by(AuditEvent.id)
        )
    ]
    assert actions == [
        "draft",
        "status:proposed",
        "agree",
        "agree",
        "status:agreed",
        "status:scheduled",
        "status:cancelled",
    ]


def test_edit_checks_version_rights_and_values(session: Session, tour: StudyTour) -> None:
    focal_bra = wf.User(id=None, role="focal_point", country="BRA")
    changes = wf.TourChanges(
        start="2026-03-09",
        end="2026-03-12",
        interpretation=False,
        recalculate_cost=True,
        funders=["bra-abc"],
    )
    t = wf.update_tour(session, tour.id, changes, version=1, user=focal_bra)
    assert (t.version, str(t.start), str(t.end), t.funders) == (
        2,
        "2026-03-09",
        "2026-03-12",
        ["bra-abc"],
    )
    assert t.cost is not None and t.cost["days"] == 4
    assert "interpretation" not in [i["item"] for i in t.cost["items"]]
    with pytest.raises(StaleVersion, match="version 1, it is now version 2"):
        wf.update_tour(session, tour.id, wf.TourChanges(title="x"), version=1, user=SEC)
    with pytest.raises(wf.TourForbidden):
        wf.update_tour(
            session,
            tour.id,
            wf.TourChanges(title="x"),
            version=2,
            user=wf.User(id=None, role="focal_point", country="ARG"),
        )
    with pytest.raises(wf.TourError, match=r"ends .* before it starts"):
        wf.update_tour(
            session,
            tour.id,
            wf.TourChanges(start="2026-03-09", end="2026-03-01"),
            version=2,
            user=SEC,
        )
    with pytest.raises(wf.TourError, match="unknown session kind 'party'"):
        wf.update_tour(
            session,
            tour.id,
            wf.TourChanges(
                agenda=[
                    {
                        "day": 1,
                        "sessions": [
                            {"start": "09:00", "end": "10:00", "kind": "party", "title": "x"}
                        ],
                    }
                ]
            ),
            version=2,
            user=SEC,
        )
    with pytest.raises(wf.TourError, match="unknown language"):
        wf.update_tour(session, tour.id, wf.TourChanges(languages=["xx"]), version=2, user=SEC)
    assert session.get(StudyTour, tour.id).version == 2  # type: ignore[union-attr]


def test_completing_records_the_exchange_and_closing_needs_decided_commitments(
    session: Session, tour: StudyTour
) -> None:
    t = advance(session, tour.id, "proposed", "agreed", "scheduled")
    k = kwf.add_commitment(
        session,
        t.id,
        user=SEC,
        owner_country="GTM",
        description="Train 40 inspectors",
        due="2026-09",
    )
    t = advance(session, tour.id, "completed")
    ex = session.get(Exchange, f"X-{tour.id}")
    assert ex is not None and ex.study_tour == tour.id
    assert (ex.providers, ex.recipients, str(ex.start), str(ex.end)) == (
        ["BRA"],
        ["GTM"],
        "2026-03-02",
        "2026-03-04",
    )
    assert ex.partners == t.funders and ex.themes == ["labour-inspection"]
    assert session.get(Commitment, k.id).exchange == ex.id  # type: ignore[union-attr]
    with pytest.raises(wf.TourConflict, match=f"still open: {k.id}"):
        wf.transition(session, t.id, "closed", version=t.version, user=SEC)
    kwf.update_commitment(
        session,
        k.id,
        user=SEC,
        version=1,
        status="fulfilled",
        evidence="https://example.org/report",
    )
    t = wf.transition(session, t.id, "closed", version=t.version, user=SEC)
    assert t.status == "closed"


def test_agenda_ics_follows_rfc_5545(tour: StudyTour) -> None:
    tour.agenda[0]["sessions"][0]["title"] = "Opening; welcome, and a very long title " * 3
    text = wf.agenda_ics(tour, stamp=None, domain="example.org")
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert text.endswith("END:VCALENDAR\r\n")
    lines = text.split("\r\n")
    assert all(len(line.encode()) <= 75 for line in lines)
    assert text.count("BEGIN:VEVENT") == sum(len(d["sessions"]) for d in tour.agenda)
    assert "DTSTART:20260302T090000" in text and "DTSTART:20260304T113000" in text
    assert f"UID:{tour.id}-d1-s1@example.org" in text
    unfolded = text.replace("\r\n ", "")
    assert "SUMMARY:Opening\\; welcome\\, and a very long title" in unfolded
    tour.start = None
    with pytest.raises(wf.TourConflict, match="start date"):
        wf.agenda_ics(tour)


def _ft(session: Session) -> float:
    proposals = compute(session, load_vocabulary(), need_ids=["N-1"], top_k=5)
    mine = [p for p in proposals if p.provider == "BRA"]
    assert mine, proposals
    return float(mine[0].components["follow_through"])


def test_completed_tour_commitments_change_provider_follow_through(
    session: Session, tour: StudyTour
) -> None:
    before = _ft(session)
    assert before == pytest.approx(2 / 3)  # one earlier fulfilled: (1 + 1) / (1 + 2)
    t = advance(session, tour.id, "proposed", "agreed", "scheduled")
    a = kwf.add_commitment(
        session,
        t.id,
        user=SEC,
        owner_country="BRA",
        description="Share the inspection manual",
        due="2026-05",
    )
    b = kwf.add_commitment(
        session,
        t.id,
        user=SEC,
        owner_country="BRA",
        description="Host a second mission",
        due="2026-08",
    )
    advance(session, tour.id, "completed")
    kwf.update_commitment(
        session, a.id, user=SEC, version=1, status="fulfilled", evidence="manual sent"
    )
    kwf.update_commitment(session, b.id, user=SEC, version=1, status="dropped", note="no budget")
    session.commit()
    after = _ft(session)
    assert after == pytest.approx(3 / 5)  # (2 fulfilled + 1) / (3 decided + 2)
    assert after != before
    assert session.get(Exchange, f"X-{tour.id}") is not None


def test_list_filters(session: Session, tour: StudyTour) -> None:
    assert [t.id for t in wf.list_tours(session, country="gtm").items] == [tour.id]
    assert wf.list_tours(session, country="ARG").total == 0
    assert wf.list_tours(session, status="draft").total == 1
    with pytest.raises(wf.TourError, match="unknown status"):
        wf.list_tours(session, status="nope")


def test_create_without_proposal(session: Session, proposal: Proposal) -> None:
    t = wf.create_tour(session, user=SEC, need_id="N-1", capacity_id="C-1", today=DRAFT_DAY)
    assert t.proposal_id is None and t.host_country == "BRA"
    with pytest.raises(wf.TourForbidden):
        wf.create_tour(
            session,
            user=wf.User(id=None, role="focal_point", country="GTM"),
            need_id="N-1",
            capacity_id="C-1",
        )
    with pytest.raises(wf.TourNotFound):
        wf.create_tour(session, user=SEC, need_id="N-x", capacity_id="C-1")


def test_a_tour_drafted_from_long_titles_has_an_agenda_the_editor_accepts(
    session: Session, proposal: Proposal
) -> None:
    """A session's title holds the need's title: from a title near its 300-character limit the
    drafted agenda was one its own edit form refused (the layout walk met it)."""
    from sscmatch.models import Need
    from sscmatch.workflow.tours.programme import validate_agenda

    need = session.get(Need, proposal.need)
    assert need is not None
    need.title = "Inspección " + "x" * 285
    session.add(need)
    session.commit()
    tour = wf.draft_from_proposal(session, proposal, None, today=DRAFT_DAY)
    titles = [s["title"] for day in tour.agenda for s in day["sessions"]]
    assert any(t.endswith("…") for t in titles) and max(len(t) for t in titles) <= 300
    _clean, problems = validate_agenda(tour.agenda)
    assert problems == []
