"""A proposal built on an offer that is no longer published leaves play, whichever way the offer
went (sscmatch.workflow.proposals.offers).

Before: a capacity archived or put back to draft kept its open proposals in the secretariat's
queue and in the focal points' lists of answers to give; one could be accepted, and a study
tour drafted from an offer its country no longer made.

The class walked: every way a capacity's status is written (its edit to archived, its edit back
to draft, a bundle import that archives it, and a state left from before, which the next match
run puts right) × every open status of the proposal (unanswered, confirmed, declined by the
provider). The proposal is superseded with the code ``offer_withdrawn``, both countries' focal
points are told, the need's other proposals stay, a decided proposal stays as decided, and
publishing the offer again lets the next run propose it afresh.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import text
from sqlmodel import Session, col, select

from sscmatch.bundle.load import import_bundle
from sscmatch.models import AuditEvent, Capacity, Notice
from sscmatch.models import Proposal as StoredProposal
from sscmatch.vocab import load_vocabulary
from sscmatch.workflow import matchruns
from sscmatch.workflow import proposals as wf
from sscmatch.workflow.registry import records
from tests.workflow.test_proposals import NEED, ROOT, load, of_need, user

OFFER = "s003-c02"  # Brazil's capacity, first for Guatemala's need NEED


def _edit(status: str) -> Callable[[Session, Path, int], None]:
    def edit(session: Session, _tmp: Path, bra: int) -> None:
        capacity = session.get(Capacity, OFFER)
        assert capacity is not None
        actor = SimpleNamespace(id=bra, role="focal_point", country="BRA")
        records.update_capacity(
            session, load_vocabulary(), actor, OFFER, {"status": status}, capacity.version
        )

    return edit


def _import(status: str) -> Callable[[Session, Path, int], None]:
    def import_it(session: Session, tmp: Path, _bra: int) -> None:
        with (ROOT / "data" / "capacities.csv").open(encoding="utf-8", newline="") as handle:
            rows = [r for r in csv.DictReader(handle) if r["id"] == OFFER]
        rows[0]["status"] = status
        folder = tmp / f"bundle-{status}"
        folder.mkdir()
        with (folder / "capacities.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        import_bundle(session, folder, load_vocabulary())

    return import_it


def _left_from_before_then_a_run(session: Session, _tmp: Path, _bra: int) -> None:
    # archived by a version of the service that left its proposals open
    session.execute(text("UPDATE capacity SET status = 'archived' WHERE id = :id"), {"id": OFFER})
    matchruns.run_and_store(session, load_vocabulary(), need_ids=[NEED], top_k=5)


WAYS = {
    "edited to archived": _edit("archived"),
    "edited back to draft": _edit("draft"),
    "archived by an import": _import("archived"),
    "left so, then a match run": _left_from_before_then_a_run,
}
ANSWERS = {"unanswered": None, "confirmed": "confirm", "declined": "decline"}


def _answer(session: Session, proposal: StoredProposal, answer: str, bra: int) -> None:
    """Brazil's focal point gives ``answer`` (of :data:`ANSWERS`) on ``proposal``."""
    if ANSWERS[answer]:
        wf.respond(
            session,
            proposal.id or 0,
            str(ANSWERS[answer]),
            user_id=bra,
            country="BRA",
            version=proposal.version,
        )
    session.commit()


def _matched(session: Session) -> tuple[int, int, StoredProposal]:
    """The need matched; Brazil's focal point, the secretariat, the proposal of the offer."""
    load(session, needs=(NEED,))
    bra = user(session, "focal_point", "BRA")
    sec = user(session, "secretariat")
    return bra, sec, next(p for p in of_need(session) if p.capacity == OFFER)


def last_event(session: Session, proposal_id: int | None) -> AuditEvent:
    """The latest audit event of the proposal."""
    found = session.exec(
        select(AuditEvent)
        .where(AuditEvent.entity == "proposal", AuditEvent.entity_id == str(proposal_id))
        .order_by(col(AuditEvent.id).desc())
    ).first()
    assert found is not None
    return found


def told_of(session: Session, kind: str, proposal_id: int | None) -> set[int]:
    """Who was sent a notice of ``kind`` about the proposal."""
    return {
        n.user_id
        for n in session.exec(
            select(Notice).where(Notice.kind == kind, Notice.entity_id == str(proposal_id))
        )
    }


@pytest.mark.parametrize("answer", sorted(ANSWERS))
@pytest.mark.parametrize("way", sorted(WAYS))
def test_an_offer_no_longer_published_takes_its_open_proposals_out_of_play(
    session: Session, tmp_path: Path, way: str, answer: str
) -> None:
    load(session, needs=(NEED,))
    bra = user(session, "focal_point", "BRA")
    gtm = user(session, "focal_point", "GTM")
    proposals = of_need(session)
    built_on_it = next(p for p in proposals if p.capacity == OFFER)
    _answer(session, built_on_it, answer, bra)

    WAYS[way](session, tmp_path, bra)
    session.commit()
    session.expire_all()

    assert session.get(StoredProposal, built_on_it.id).status == "superseded"
    event = last_event(session, built_on_it.id)
    assert event.action == "supersede"
    assert (event.note_code or {}).get("code") == "offer_withdrawn"
    told = told_of(session, "proposal.offer_withdrawn", built_on_it.id)
    assert gtm in told, "the recipient's focal point is not told"
    if way == "archived by an import" or way.startswith("left so"):
        assert bra in told, "the provider's focal point is not told"
    others = [p for p in proposals if p.id != built_on_it.id]
    still = {p.id: session.get(StoredProposal, p.id) for p in others}
    if way.startswith("left so"):  # the run superseded them for its own proposals
        assert all(p is not None and p.run_id != built_on_it.run_id for p in of_need(session))
    else:
        assert all(p is not None and p.status == "proposed" for p in still.values())


def test_a_decided_proposal_stays_decided_and_a_republished_offer_is_proposed_again(
    session: Session, tmp_path: Path
) -> None:
    bra, sec, built_on_it = _matched(session)
    wf.reject(session, built_on_it.id or 0, user_id=sec, version=1, reason="not now")
    session.commit()
    _edit("archived")(session, tmp_path, bra)
    session.commit()
    assert session.get(StoredProposal, built_on_it.id).status == "rejected"

    _edit("published")(session, tmp_path, bra)
    session.commit()
    run = matchruns.run_and_store(session, load_vocabulary(), need_ids=[NEED], top_k=5)
    session.commit()
    again = [p for p in of_need(session) if p.capacity == OFFER and p.run_id == run.run_id]
    assert [p.status for p in again] == ["proposed"]


REPUBLISHED = {
    "edited back to published": _edit("published"),
    "published by an import": _import("published"),
}
STATUS = {
    "unanswered": "proposed",
    "confirmed": "provider_confirmed",
    "declined": "provider_declined",
}


@pytest.mark.parametrize("answer", sorted(ANSWERS))
@pytest.mark.parametrize("way", sorted(REPUBLISHED))
def test_an_offer_published_again_puts_its_proposals_back(
    session: Session, tmp_path: Path, way: str, answer: str
) -> None:
    """The undo of the withdrawal (the capacity's form is typed, and another edit changes it
    back): each proposal as it was, its answer kept, both countries' focal points told."""
    load(session, needs=(NEED,))
    bra = user(session, "focal_point", "BRA")
    gtm = user(session, "focal_point", "GTM")
    built_on_it = next(p for p in of_need(session) if p.capacity == OFFER)
    _answer(session, built_on_it, answer, bra)
    _edit("archived")(session, tmp_path, bra)
    session.commit()
    assert session.get(StoredProposal, built_on_it.id).status == "superseded"

    REPUBLISHED[way](session, tmp_path, bra)
    session.commit()
    session.expire_all()
    assert session.get(StoredProposal, built_on_it.id).status == STATUS[answer]
    event = last_event(session, built_on_it.id)
    assert event.action == "reinstate"
    assert (event.note_code or {}).get("code") == "offer_published"
    told = told_of(session, "proposal.back_in_play", built_on_it.id)
    assert gtm in told, "the recipient's focal point is not told"
    if way == "published by an import":  # the focal point's own edit tells them nothing
        assert bra in told, "the provider's focal point is not told"


def test_published_again_after_its_need_was_matched_it_stays_out(
    session: Session, tmp_path: Path
) -> None:
    bra, sec, built_on_it = _matched(session)
    _edit("archived")(session, tmp_path, bra)
    session.commit()
    chosen = next(p for p in of_need(session) if p.capacity != OFFER)
    wf.accept(session, chosen.id or 0, user_id=sec, version=chosen.version, override=True,
              reason="the ministry asked")  # fmt: skip
    session.commit()
    _edit("published")(session, tmp_path, bra)
    session.commit()
    assert session.get(StoredProposal, built_on_it.id).status == "superseded"
