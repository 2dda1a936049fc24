"""A new match run keeps what the focal points answered, for every answer there is.

Before: a run superseded a proposal whose recipient had said it fits (or does not), losing the
answer and asking the recipient again with a fresh proposal of the same offer; and it stored a
second proposal of an offer its provider had confirmed or declined, so the provider was asked
again and the secretariat's queue showed the offer twice.

The class walked: every answer of :data:`RESPONSES` (the provider's two, the recipient's two),
and a comment by each who may comment, given on an earlier run's proposal, then the need
matched again. The answered proposal stays
open with its answer and version, the new run proposes no second proposal of that offer (need,
provider, capacity), and the earlier proposals nobody answered are superseded by the new run's.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import pytest
from sqlmodel import Session, col, select

from sscmatch.enums import OPEN_PROPOSAL_STATUSES
from sscmatch.models import Proposal as StoredProposal
from sscmatch.vocab import load_vocabulary
from sscmatch.workflow import matchruns
from sscmatch.workflow import proposals as wf
from sscmatch.workflow.proposals.lifecycle import PROVIDER_RESPONSES, RESPONSES
from tests.workflow.test_proposals import NEED, load, of_need, user

ANSWERED_BY = {"confirm": "BRA", "decline": "BRA", "fits": "GTM", "does_not_fit": "GTM"}
"""Who gives each answer in the walk: Brazil provides one of Guatemala's proposals."""


def test_the_walk_covers_every_answer() -> None:
    assert set(ANSWERED_BY) == set(RESPONSES)


def _open_of_need(session: Session) -> list[StoredProposal]:
    session.expire_all()
    return list(
        session.exec(
            select(StoredProposal).where(
                StoredProposal.need == NEED, col(StoredProposal.status).in_(OPEN_PROPOSAL_STATUSES)
            )
        )
    )


@pytest.mark.parametrize("response", RESPONSES)
def test_a_new_run_keeps_the_answer_and_does_not_propose_the_offer_again(
    session: Session, response: str
) -> None:
    def answer(session: Session, answered: StoredProposal) -> None:
        wf.respond(
            session,
            answered.id or 0,
            response,
            user_id=user(session, "focal_point", ANSWERED_BY[response]),
            country=ANSWERED_BY[response],
            version=answered.version,
            note="said before the new run",
        )

    answered = _rerun_keeps(session, answer)
    if response in PROVIDER_RESPONSES:
        assert answered.status == PROVIDER_RESPONSES[response]
    else:
        assert answered.recipient_fit == response


COMMENTERS = {"the secretariat": None, "the provider": "BRA", "the recipient": "GTM"}


@pytest.mark.parametrize("commenter", sorted(COMMENTERS))
def test_a_new_run_keeps_a_proposal_someone_commented_on(session: Session, commenter: str) -> None:
    """A comment is a word on the proposal too: before, the new run superseded it and its
    comments stayed on a page nobody opens any more, the same offer proposed afresh without
    them."""
    country = COMMENTERS[commenter]

    def comment(session: Session, answered: StoredProposal) -> None:
        role = "focal_point" if country else "secretariat"
        author = user(session, role, country)
        viewer = SimpleNamespace(id=author, role=role, country=country)
        wf.add_comment(
            session, answered.id or 0, viewer=viewer, user_id=author, body="asking the ministry"
        )

    answered = _rerun_keeps(session, comment)
    assert (answered.status, answered.recipient_fit) == ("proposed", None)


def _rerun_keeps(
    session: Session, act: Callable[[Session, StoredProposal], None]
) -> StoredProposal:
    """Match the need, let ``act`` answer Brazil's proposal, match it again: the answered
    proposal stays as it was, its offer is not proposed again, the others are."""
    first_run = load(session, needs=(NEED,))
    first = of_need(session)
    answered = next(p for p in first if p.provider == "BRA")
    act(session, answered)
    session.commit()
    status, fit, version = answered.status, answered.recipient_fit, answered.version

    second = matchruns.run_and_store(session, load_vocabulary(), need_ids=[NEED], top_k=5)
    session.commit()

    open_now = _open_of_need(session)
    kept = next(p for p in open_now if p.id == answered.id)
    assert (kept.status, kept.recipient_fit, kept.version) == (status, fit, version)
    offers = [(p.provider, p.capacity) for p in open_now]
    assert len(offers) == len(set(offers)), f"an offer proposed twice: {sorted(offers)}"
    others = {p.id for p in first} - {answered.id}
    assert not others & {p.id for p in open_now}, "an unanswered proposal was not superseded"
    new = [p for p in open_now if p.run_id == second.run_id]
    assert (answered.provider, answered.capacity) not in {(p.provider, p.capacity) for p in new}
    assert len(new) == len(first) - 1, "the run proposes the other offers again"
    assert second.run_id != first_run
    # the run's page names it among the need's offers kept from an earlier run
    shown = matchruns.run_needs(session, second.run_id or 0, None, 1, 50).items
    assert [[p.id for p in n.kept] for n in shown if n.id == NEED] == [[answered.id]]
    return kept


def test_unanswered_offers_are_proposed_again_by_the_new_run(session: Session) -> None:
    load(session, needs=(NEED,))
    first = {(p.provider, p.capacity): p.id for p in of_need(session)}
    second = matchruns.run_and_store(session, load_vocabulary(), need_ids=[NEED], top_k=5)
    session.commit()
    open_now = _open_of_need(session)
    assert {p.run_id for p in open_now} == {second.run_id}
    assert {(p.provider, p.capacity) for p in open_now} == set(first)
