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


def _import_archived(session: Session, tmp: Path, _bra: int) -> None:
    with (ROOT / "data" / "capacities.csv").open(encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["id"] == OFFER]
    rows[0]["status"] = "archived"
    folder = tmp / "bundle"
    folder.mkdir()
    with (folder / "capacities.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    import_bundle(session, folder, load_vocabulary())


def _left_from_before_then_a_run(session: Session, _tmp: Path, _bra: int) -> None:
    # archived by a version of the service that left its proposals open
    session.execute(text("UPDATE capacity SET status = 'archived' WHERE id = :id"), {"id": OFFER})
    matchruns.run_and_store(session, load_vocabulary(), need_ids=[NEED], top_k=5)


WAYS = {
    "edited to archived": _edit("archived"),
    "edited back to draft": _edit("draft"),
    "archived by an import": _import_archived,
    "left so, then a match run": _left_from_before_then_a_run,
}
ANSWERS = {"unanswered": None, "confirmed": "confirm", "declined": "decline"}


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
    if ANSWERS[answer]:
        wf.respond(
            session,
            built_on_it.id or 0,
            str(ANSWERS[answer]),
            user_id=bra,
            country="BRA",
            version=built_on_it.version,
        )
    session.commit()

    WAYS[way](session, tmp_path, bra)
    session.commit()
    session.expire_all()

    assert session.get(StoredProposal, built_on_it.id).status == "superseded"
    event = session.exec(
        select(AuditEvent)
        .where(AuditEvent.entity == "proposal", AuditEvent.entity_id == str(built_on_it.id))
        .order_by(col(AuditEvent.id).desc())
    ).first()
    assert event is not None and event.action == "supersede"
    assert (event.note_code or {}).get("code") == "offer_withdrawn"
    told = {
        n.user_id
        for n in session.exec(
            select(Notice).where(
                Notice.kind == "proposal.offer_withdrawn", Notice.entity_id == str(built_on_it.id)
            )
        )
    }
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
    load(session, needs=(NEED,))
    bra = user(session, "focal_point", "BRA")
    sec = user(session, "secretariat")
    built_on_it = next(p for p in of_need(session) if p.capacity == OFFER)
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
