"""Decisions walked back (issue 14): revert each kind of decision exactly, lift a veto, reopen a
need, and a cancelled study tour reopens its need so that the next run matches it again."""

from __future__ import annotations

import pytest
from sqlmodel import Session, col, select

from sscmatch.models import AuditEvent, Need, Review, StudyTour, Veto
from sscmatch.models import Proposal as StoredProposal
from sscmatch.vocab import load_vocabulary
from sscmatch.workflow import matchruns, tours
from sscmatch.workflow import proposals as wf
from tests.workflow.test_proposals import NEED, events, load, of_need, user

SEC = tours.User(id=None, role="secretariat")


def _confirmed(session: Session, p: StoredProposal) -> int:
    fp = user(session, "focal_point", p.provider)
    wf.respond(session, p.id or 0, "confirm", user_id=fp, country=p.provider, version=p.version)
    session.commit()
    return p.version


def _statuses(session: Session) -> dict[int, str]:
    session.expire_all()
    return {p.id or 0: p.status for p in session.exec(select(StoredProposal))}


def test_revert_an_acceptance_puts_everything_back(session: Session) -> None:
    load(session)
    sec = user(session)
    first = of_need(session)[0]
    version = _confirmed(session, first)
    before = _statuses(session)
    outcome = wf.accept(session, first.id or 0, user_id=sec, version=version)
    session.commit()
    tour = session.get(StudyTour, outcome.tour.id)
    assert tour is not None and tour.status == "draft"
    assert wf.why_not_revertible(session, first) is None
    with pytest.raises(wf.ReasonRequiredError):
        wf.revert(session, first.id or 0, user_id=sec, version=first.version, reason=" ")
    session.rollback()
    done = wf.revert(session, first.id or 0, user_id=sec, version=first.version, reason="too fast")
    session.commit()
    assert _statuses(session) == before  # the others are no longer superseded
    need = session.get(Need, NEED)
    assert need is not None and need.status == "open"
    session.refresh(tour)
    assert tour.status == "cancelled"
    assert done.decision == "revert" and done.reason == "too fast"
    accepted = session.exec(select(Review).where(Review.decision == "accept")).one()
    assert accepted.reverted_at is not None
    assert [e.action for e in events(session, "proposal", first.id)][-1] == "revert"
    assert [e.action for e in events(session, "need", NEED)] == ["match", "reopen"]
    # nothing left to revert
    with pytest.raises(wf.UndoRefused, match="no decision"):
        wf.revert(session, first.id or 0, user_id=sec, version=first.version, reason="again")
    # and it can be decided again
    wf.accept(session, first.id or 0, user_id=sec, version=first.version)
    session.commit()


def test_revert_refused_once_the_tour_is_under_way(session: Session) -> None:
    load(session)
    sec = user(session)
    first = of_need(session)[0]
    outcome = wf.accept(
        session, first.id or 0, user_id=sec, version=first.version, override=True, reason="r"
    )
    session.commit()
    tour = outcome.tour
    tours.transition(session, tour.id, "proposed", version=tour.version, user=SEC)
    session.commit()
    with pytest.raises(wf.UndoRefused, match="cancel the tour first"):
        wf.revert(session, first.id or 0, user_id=sec, version=first.version, reason="no")
    session.rollback()
    # cancelling the tour reopens the need: the next run matches it again
    tours.transition(session, tour.id, "cancelled", version=tour.version, user=SEC)
    session.commit()
    need = session.get(Need, NEED)
    assert need is not None and need.status == "open"
    said = [(e.note, e.note_code) for e in events(session, "need", NEED) if e.action == "reopen"]
    assert said == [(None, {"code": "tour_cancelled", "params": {"tour": tour.id}})]
    result = matchruns.run_and_store(session, load_vocabulary(), need_ids=[NEED], top_k=5)
    session.commit()
    assert result.proposals and {p.need_id for p in result.proposals} == {NEED}


def test_revert_a_rejection_and_a_veto(session: Session) -> None:
    load(session)
    sec = user(session)
    a, b, *_ = of_need(session)
    wf.reject(session, a.id or 0, user_id=sec, version=a.version, reason="far")
    wf.veto(session, b.id or 0, user_id=sec, version=b.version, reason="politics")
    session.commit()
    assert session.exec(select(Veto)).one().provider == b.provider
    wf.revert(session, a.id or 0, user_id=sec, version=a.version, reason="mistake")
    wf.revert(session, b.id or 0, user_id=sec, version=b.version, reason="mistake")
    session.commit()
    assert (a.status, b.status) == ("proposed", "proposed")
    assert session.exec(select(Veto)).all() == []  # the veto the decision made is lifted
    assert [e.action for e in events(session, "veto", 1)] == ["create", "lift"]


def _accept_as(session: Session, how: str, sec: int) -> wf.Outcome:
    """Accept the need's first proposal (``accept``), or its second as an alternate to the
    first (``alternate``): the two decisions that draft a study tour."""
    first, second, *_ = of_need(session)
    if how == "accept":
        return wf.accept(
            session, first.id or 0, user_id=sec, version=first.version, override=True, reason="ok"
        )
    return wf.choose_alternate(
        session,
        first.id or 0,
        second.id,
        user_id=sec,
        version=first.version,
        reason="closer",
        override=True,
    )


def test_revert_an_alternate_choice_from_either_side(session: Session) -> None:
    load(session)
    sec = user(session)
    for side in ("rejected", "accepted"):
        first, second, *_ = of_need(session)
        before = _statuses(session)
        _accept_as(session, "alternate", sec)
        session.commit()
        target = first if side == "rejected" else second
        wf.revert(session, target.id or 0, user_id=sec, version=target.version, reason="undo")
        session.commit()
        assert _statuses(session) == before, side
        need = session.get(Need, NEED)
        assert need is not None and need.status == "open"
    open_reviews = session.exec(
        select(Review).where(col(Review.reverted_at).is_(None), Review.decision != "revert")
    ).all()
    assert open_reviews == []


def test_revert_checks_the_version_and_legacy_decisions_say_why_not(session: Session) -> None:
    load(session)
    sec = user(session)
    p = of_need(session)[0]
    wf.reject(session, p.id or 0, user_id=sec, version=1, reason="far")
    session.commit()
    from sscmatch.db import StaleVersion

    with pytest.raises(StaleVersion):
        wf.revert(session, p.id or 0, user_id=sec, version=1, reason="x")
    session.rollback()
    review = session.exec(select(Review)).one()
    review.effects = None  # as recorded before reverts existed
    session.add(review)
    session.commit()
    assert "before decisions could be reverted" in (wf.why_not_revertible(session, p) or "")


def test_lift_a_veto_and_reopen_a_need(session: Session) -> None:
    load(session)
    sec = user(session)
    p = next(x for x in of_need(session) if x.provider == "BRA")
    wf.veto(session, p.id or 0, user_id=sec, version=1, reason="politics")
    session.commit()
    pair = session.exec(select(Veto)).one()
    with pytest.raises(wf.ReasonRequiredError):
        wf.lift_veto(session, pair.id or 0, user_id=sec, reason="")
    wf.lift_veto(session, pair.id or 0, user_id=sec, reason="new government")
    session.commit()
    assert session.exec(select(Veto)).all() == []
    lifted = session.exec(select(AuditEvent).where(AuditEvent.action == "lift")).one()
    assert lifted.before is not None and lifted.before["provider"] == "BRA"
    assert lifted.note == "new government"
    with pytest.raises(wf.NotFoundError):
        wf.lift_veto(session, pair.id or 0, user_id=sec, reason="again")
    # the pair is proposed again by the next run
    result = matchruns.run_and_store(session, load_vocabulary(), need_ids=[NEED], top_k=6)
    session.commit()
    assert "BRA" in {x.provider for x in result.proposals}

    need = session.get(Need, NEED)
    assert need is not None
    with pytest.raises(wf.UndoRefused, match="only a matched or closed need"):
        wf.reopen_need(session, NEED, user_id=sec, version=need.version, reason="r")
    need.status = "closed"
    session.add(need)
    session.commit()
    with pytest.raises(wf.ReasonRequiredError):
        wf.reopen_need(session, NEED, user_id=sec, version=need.version, reason=None)
    wf.reopen_need(session, NEED, user_id=sec, version=need.version, reason="still needed")
    session.commit()
    assert need.status == "open"
    assert [e.note for e in events(session, "need", NEED)][-1] == "still needed"


@pytest.mark.parametrize("how", ["accept", "alternate"])
def test_a_decision_taken_again_after_its_revert_drafts_a_live_tour(
    session: Session, how: str
) -> None:
    """Decide, revert (the draft tour is cancelled), decide again, three times over: each
    decision has a draft tour of its own, never the cancelled one of the decision reverted (an
    accepted match left with no tour to work on, the page saying "a draft study tour was made:
    T-…" of a cancelled one)."""
    load(session)
    sec = user(session)
    drafted: list[str] = []
    for _round in range(3):
        outcome = _accept_as(session, how, sec)
        session.commit()
        tour = outcome.tour
        assert tour is not None and tour.status == "draft", (how, _round)
        accepted = outcome.accepted
        assert accepted is not None and tour.proposal_id == accepted.id
        drafted.append(tour.id)
        wf.revert(session, accepted.id or 0, user_id=sec, version=accepted.version, reason="x")
        session.commit()
        session.refresh(tour)
        assert tour.status == "cancelled"
    assert len(set(drafted)) == 3, drafted
    live = session.exec(select(StudyTour).where(StudyTour.status != "cancelled")).all()
    assert live == []
