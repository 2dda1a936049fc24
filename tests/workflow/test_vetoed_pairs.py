"""A veto takes its pair's other open proposals out of play, and lifting it puts them back
(sscmatch.workflow.proposals.offers.withdraw_vetoed, restore_unvetoed).

Before: vetoing Brazil → Mexico on one of Mexico's needs left Brazil's open proposals for
Mexico's other needs in the secretariat's queue and in both focal points' lists; one could be
accepted for the pair just vetoed.

The class walked: every way a pair comes to be vetoed (the veto of an open proposal, the veto
of a rejected one, and a veto left from before, which the next match run puts right) × every
open status of the pair's other proposal (unanswered, confirmed, declined by the provider).
It is superseded with the code ``pair_vetoed`` and both countries' focal points are told; the
ways that undo a veto (lifting it, reverting the decision that made it) each put it back to
its status before; and no proposal of a vetoed pair can be accepted, however it came back.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlmodel import Session, select

from sscmatch.models import Need, Veto
from sscmatch.models import Proposal as StoredProposal
from sscmatch.vocab import load_vocabulary
from sscmatch.workflow import matchruns
from sscmatch.workflow import proposals as wf
from sscmatch.workflow.proposals.decisions import PairVetoedError
from tests.workflow.test_proposals import load, user
from tests.workflow.test_unpublished_offers import last_event, told_of

VETOED_ON, OTHER = "s002-n21", "s002-n22"  # two of Mexico's needs; Brazil proposed for both
PROVIDER, RECIPIENT = "BRA", "MEX"


def _of_pair(session: Session, need: str) -> StoredProposal:
    return session.exec(
        select(StoredProposal).where(
            StoredProposal.need == need,
            StoredProposal.provider == PROVIDER,
            StoredProposal.recipient == RECIPIENT,
        )
    ).one()


def _veto_open(session: Session, sec: int) -> wf.Outcome:
    first = _of_pair(session, VETOED_ON)
    return wf.veto(session, first.id or 0, user_id=sec, version=first.version, reason="no")


def _veto_rejected(session: Session, sec: int) -> wf.Outcome:
    first = _of_pair(session, VETOED_ON)
    wf.reject(session, first.id or 0, user_id=sec, version=first.version, reason="not now")
    session.flush()
    return wf.veto(session, first.id or 0, user_id=sec, version=first.version, reason="no")


def _left_from_before_then_a_run(session: Session, sec: int) -> None:
    # vetoed by a version of the service that left the pair's other proposals open
    session.add(Veto(provider=PROVIDER, recipient=RECIPIENT, reason="old", created_by=sec))
    session.commit()
    matchruns.run_and_store(session, load_vocabulary(), need_ids=[VETOED_ON], top_k=5)


WAYS: dict[str, Callable[[Session, int], wf.Outcome | None]] = {
    "veto of an open proposal": _veto_open,
    "veto of a rejected proposal": _veto_rejected,
    "left so, then a match run": _left_from_before_then_a_run,
}
ANSWERS = {"unanswered": None, "confirmed": "confirm", "declined": "decline"}
STATUS = {
    "unanswered": "proposed",
    "confirmed": "provider_confirmed",
    "declined": "provider_declined",
}


def _answered(session: Session, answer: str) -> tuple[StoredProposal, int, int, int]:
    load(session, needs=(VETOED_ON, OTHER))
    bra = user(session, "focal_point", PROVIDER)
    mex = user(session, "focal_point", RECIPIENT)
    sec = user(session, "secretariat")
    other = _of_pair(session, OTHER)
    if ANSWERS[answer]:
        wf.respond(
            session,
            other.id or 0,
            str(ANSWERS[answer]),
            user_id=bra,
            country=PROVIDER,
            version=other.version,
        )
    session.commit()
    return other, bra, mex, sec


@pytest.mark.parametrize("answer", sorted(ANSWERS))
@pytest.mark.parametrize("way", sorted(WAYS))
def test_a_veto_takes_the_pairs_other_open_proposals_out_of_play(
    session: Session, way: str, answer: str
) -> None:
    other, bra, mex, sec = _answered(session, answer)
    others_of_need = {
        p.id for p in session.exec(select(StoredProposal).where(StoredProposal.need == OTHER))
    } - {other.id}

    outcome = WAYS[way](session, sec)
    session.commit()
    session.expire_all()

    assert session.get(StoredProposal, other.id).status == "superseded"
    event = last_event(session, other.id)
    pair_veto = session.exec(select(Veto)).one()
    assert event.action == "supersede"
    assert event.note_code == {"code": "pair_vetoed", "params": {"veto": pair_veto.id}}
    assert {bra, mex} <= told_of(session, "proposal.pair_vetoed", other.id)
    if outcome is not None:  # what the confirmation lists
        assert outcome.superseded == [other.id]
    if not way.startswith("left so"):  # the need's other providers are not touched
        statuses = {session.get(StoredProposal, i).status for i in others_of_need}
        assert statuses == {"proposed"}

    wf.lift_veto(session, pair_veto.id or 0, user_id=sec, reason="we were wrong")
    session.commit()
    session.expire_all()
    assert session.get(StoredProposal, other.id).status == STATUS[answer]
    back = last_event(session, other.id)
    assert back.action == "reinstate"
    assert (back.note_code or {}).get("code") == "veto_lifted"
    assert bra in told_of(session, "proposal.back_in_play", other.id)


@pytest.mark.parametrize("answer", sorted(ANSWERS))
def test_reverting_the_veto_decision_puts_them_back(session: Session, answer: str) -> None:
    other, _bra, _mex, sec = _answered(session, answer)
    outcome = _veto_open(session, sec)
    session.commit()
    vetoed = outcome.proposal
    wf.revert(session, vetoed.id or 0, user_id=sec, version=vetoed.version, reason="undo")
    session.commit()
    session.expire_all()
    assert session.exec(select(Veto)).first() is None
    assert session.get(StoredProposal, vetoed.id).status == "proposed"
    assert session.get(StoredProposal, other.id).status == STATUS[answer]


def test_lifting_leaves_out_what_is_no_longer_in_play(session: Session) -> None:
    other, _bra, _mex, sec = _answered(session, "unanswered")
    _veto_open(session, sec)
    session.commit()
    need = session.get(Need, OTHER)
    assert need is not None
    need.status = "closed"  # withdrawn by its country meanwhile
    session.add(need)
    session.commit()
    pair_veto = session.exec(select(Veto)).one()
    assert wf.restorable(session, pair_veto) == []
    wf.lift_veto(session, pair_veto.id or 0, user_id=sec, reason="we were wrong")
    session.commit()
    assert session.get(StoredProposal, other.id).status == "superseded"


def test_no_proposal_of_a_vetoed_pair_is_accepted(session: Session) -> None:
    other, _bra, _mex, sec = _answered(session, "confirmed")
    wf.reject(session, other.id or 0, user_id=sec, version=other.version, reason="not now")
    session.commit()
    _veto_open(session, sec)  # the pair is vetoed; the rejected proposal stays rejected
    session.commit()
    # the earlier rejection reverted: the proposal is open again, of a vetoed pair
    wf.revert(session, other.id or 0, user_id=sec, version=other.version, reason="undo")
    session.commit()
    assert session.get(StoredProposal, other.id).status == "provider_confirmed"
    with pytest.raises(PairVetoedError) as refused:
        wf.accept(session, other.id or 0, user_id=sec, version=other.version, reason=None)
    assert refused.value.code == "pair_vetoed"
    session.rollback()
    assert session.get(StoredProposal, other.id).status == "provider_confirmed"
