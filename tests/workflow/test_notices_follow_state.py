"""Every notice a user reads tells the truth about its record after every step that changes it.

A notice is written when a step is taken; the record moves on. The class: a need's steps
(submit, take back, return, endorse, withdraw the endorsement, withdraw, reinstate, reopen),
a proposal's (answers, accept, reject, revert, superseded by another's acceptance or by its
need's withdrawal, put back by the undo of either) and a study tour's (drafted, proposed,
cancelled). After each step, every notice of every user is read as the pages read it
(:func:`notices.render`): a notice whose words no longer hold of its record (the oracle below,
written apart from the service's own table) must say the record's status now, and one whose
words hold must not. A proposal superseded tells its provider's focal points why, and its
undo tells them it is back in play."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from sscmatch.bundle.load import import_bundle
from sscmatch.models import Capacity, Need, Notice, StudyTour, Veto
from sscmatch.models import Proposal as StoredProposal
from sscmatch.vocab import load_vocabulary
from sscmatch.workflow import matchruns, notices
from sscmatch.workflow import proposals as wf
from sscmatch.workflow import registry as reg
from sscmatch.workflow.tours.lifecycle import transition
from sscmatch.workflow.users import create_user

ROOT = Path(__file__).resolve().parents[2]
VOCAB = load_vocabulary()
DAY = date(2025, 3, 14)
NEED = "s002-n37"  # Guatemala's need, with proposals from several providers
OPEN = ("proposed", "provider_confirmed", "provider_declined")


@dataclass(frozen=True)
class Who:
    id: int | None
    role: str
    country: str | None = None


def _need_word(need: Need) -> str:
    if need.status == "draft" and need.submitted_at is not None:
        return "submitted"
    return need.status


# What each kind of notice says of its record now (None: nothing of the present).
Oracle = Callable[[Any, dict[str, Any]], bool]
ORACLE: dict[str, Oracle | None] = {
    "need.submit": lambda n, _: _need_word(n) == "submitted",  # "waits for endorsement"
    "need.withdraw_endorsement": lambda n, _: _need_word(n) == "submitted",  # "…again"
    "need.take_back": lambda n, _: _need_word(n) != "submitted",  # "no longer waits"
    "need.return": lambda n, _: _need_word(n) == "draft",  # "returned to you"
    "need.endorse": lambda n, _: n.status == "open",  # "open for matching"
    "need.reopen": lambda n, _: n.status == "open",  # "open again"
    "need.withdraw": lambda n, _: n.status == "closed",  # "closed and no longer matched"
    "need.reinstate": lambda n, _: n.status != "closed",  # "withdrawal undone"
    "study_tour.draft": lambda t, _: t.status == "draft",
    "study_tour.status": lambda t, p: t.status == p["status"],  # "is now <status>"
    "study_tour.agree": lambda t, _: t.status == "proposed",  # "awaits the other side"
    "proposal.confirm": lambda p, _: p.status == "provider_confirmed",
    "proposal.decline": lambda p, _: p.status == "provider_declined",
    "proposal.fits": lambda p, _: p.recipient_fit == "fits" and p.status in OPEN,
    "proposal.does_not_fit": lambda p, _: p.recipient_fit == "does_not_fit" and p.status in OPEN,
    "proposal.accept": lambda p, _: p.status == "accepted",
    "proposal.reject": lambda p, _: p.status == "rejected",
    "proposal.revert": lambda p, _: p.status not in ("accepted", "rejected"),
    "proposal.need_withdrawn": lambda p, _: p.status == "superseded",  # "no longer in play"
    "proposal.other_chosen": lambda p, _: p.status == "superseded",
    "proposal.offer_withdrawn": lambda p, _: p.status == "superseded",
    "proposal.pair_vetoed": lambda p, _: p.status == "superseded",
    "proposal.back_in_play": lambda p, _: p.status in OPEN,  # "in play again"
    "proposal.comment": None,
    "proposals.for_needs": None,
    "proposals.to_answer": None,  # checked apart: some of the run's proposals still unanswered
}
MODELS = {"need": Need, "proposal": StoredProposal, "study_tour": StudyTour}
NO_LONGER = "(No longer so"


def test_every_kind_of_notice_is_judged() -> None:
    assert set(ORACLE) == set(notices.TEMPLATES)


def _record(session: Session, notice: Notice) -> Any:
    key: Any = int(notice.entity_id) if notice.entity == "proposal" else notice.entity_id
    return session.get(MODELS[notice.entity], key)


def _to_answer_left(session: Session, notice: Notice) -> bool:
    params = notice.params or {}
    return any(
        p.status == "proposed"
        for p in session.exec(
            select(StoredProposal).where(
                StoredProposal.run_id == int(notice.entity_id),
                StoredProposal.provider == params["country"],
            )
        )
    )


def _check_every_notice(session: Session, step: str) -> int:
    """Every notice read now: it says 'no longer so' (and the status now) exactly when its words
    no longer hold. Returns how many said it."""
    session.flush()
    session.expire_all()
    moved = 0
    for notice in session.exec(select(Notice).order_by(col(Notice.id))):
        text = notices.render(
            notice, lambda s: s, lambda a, b, n: a if n == 1 else b, notices.PlainNames()
        )
        if notice.kind == "proposals.to_answer":
            holds = _to_answer_left(session, notice)
        else:
            oracle = ORACLE[notice.kind]
            record = _record(session, notice) if oracle else None
            holds = oracle is None or record is None or oracle(record, notice.params or {})
        assert (NO_LONGER not in text) == holds, (step, notice.kind, notice.entity_id, text)
        if not holds:
            moved += 1
            if notice.kind != "proposals.to_answer":
                record = _record(session, notice)
                now = _need_word(record) if isinstance(record, Need) else record.status
                assert f"status now: {now.replace('_', ' ')}" in text, (step, text)
    return moved


def _users(session: Session, countries: set[str]) -> dict[str, int]:
    ids = {}
    for key, role, country in [
        ("sec", "secretariat", None),
        ("admin", "admin", None),
        *((f"focal_{c}", "focal_point", c) for c in sorted(countries)),
    ]:
        constituency = "government" if role == "focal_point" else None
        user = create_user(
            session,
            f"{key}@t.org",
            "pw-123456789",
            role,
            country=country,
            constituency=constituency,
        )
        ids[key] = user.id or 0
    session.commit()
    return ids


def _proposals(session: Session, need: str = NEED) -> list[StoredProposal]:
    return list(
        session.exec(
            select(StoredProposal)
            .where(StoredProposal.need == need)
            .order_by(col(StoredProposal.rank), col(StoredProposal.id))
        )
    )


def _told(session: Session, user_id: int, kind: str, proposal: StoredProposal) -> list[Notice]:
    return list(
        session.exec(
            select(Notice).where(
                Notice.user_id == user_id,
                Notice.kind == kind,
                Notice.entity == "proposal",
                Notice.entity_id == str(proposal.id),
            )
        )
    )


def test_every_notice_follows_every_step(session: Session) -> None:
    import_bundle(session, ROOT / "data", VOCAB)
    session.commit()
    run = matchruns.run_and_store(session, VOCAB, need_ids=(NEED,), top_k=5)
    session.commit()
    assert run.run_id is not None
    props = _proposals(session)
    assert len({p.provider for p in props}) >= 2, "the walk needs several providers"
    ids = _users(session, {"GTM", *(p.provider for p in props)})
    # the run's own notice was made before the focal points existed: made again now
    notices.proposals_arrived(session, run.run_id)
    sec, admin = Who(ids["sec"], "secretariat"), Who(ids["admin"], "admin")
    gtm = Who(ids["focal_GTM"], "focal_point", "GTM")
    moved: dict[str, int] = {}

    def step(name: str, act: Callable[[], Any]) -> None:
        act()
        moved[name] = _check_every_notice(session, name)

    # a need of its own, walked through every endorsement step
    need = reg.create_need(
        session,
        VOCAB,
        gtm,
        {"title": "Labour inspection in coffee farms", "themes": ["labour-inspection"]},
        today=DAY,
    )
    nid = need.id
    step("submit", lambda: reg.submit_need(session, gtm, nid))
    step("take_back", lambda: reg.take_back_submission(session, gtm, nid))
    step("submit again", lambda: reg.submit_need(session, gtm, nid))
    step("return", lambda: reg.return_need(session, sec, nid, "Name the region."))
    step("submit a third time", lambda: reg.submit_need(session, gtm, nid))
    step("endorse", lambda: reg.endorse_need(session, sec, nid))
    step("withdraw_endorsement", lambda: reg.withdraw_endorsement(session, sec, nid))
    step("endorse again", lambda: reg.endorse_need(session, sec, nid))
    step("withdraw", lambda: reg.withdraw_need(session, gtm, nid, "Done with national funds."))
    step("reinstate", lambda: reg.reinstate_need(session, gtm, nid))
    step("withdraw again", lambda: reg.withdraw_need(session, gtm, nid))
    step("reopen", lambda: wf.reopen_need(session, nid, user_id=sec.id, version=None, reason="x"))

    # the proposals of an open need: answers, decisions, undo, supersession both ways
    first, second = props[0], next(p for p in props if p.provider != props[0].provider)
    first_focal, second_focal = ids[f"focal_{first.provider}"], ids[f"focal_{second.provider}"]

    def respond(p: StoredProposal, answer: str, user: int, country: str) -> None:
        wf.respond(session, p.id or 0, answer, user_id=user, country=country, version=p.version)

    step("confirm", lambda: respond(first, "confirm", first_focal, first.provider))
    step("decline", lambda: respond(second, "decline", second_focal, second.provider))
    step("fits", lambda: respond(first, "fits", gtm.id or 0, "GTM"))
    step("does_not_fit", lambda: respond(first, "does_not_fit", gtm.id or 0, "GTM"))
    step("confirm the other", lambda: respond(second, "confirm", second_focal, second.provider))
    step("accept", lambda: wf.accept(session, first.id or 0, user_id=sec.id, version=None))
    # another provider chosen: the second's focal points are told, the first's are not
    assert _told(session, second_focal, "proposal.other_chosen", second)
    assert not _told(session, first_focal, "proposal.other_chosen", first)
    tour = session.exec(select(StudyTour).where(StudyTour.need == NEED)).first()
    assert tour is not None
    tid = tour.id

    def move_tour(to: str) -> None:
        at = session.get(StudyTour, tid)
        transition(session, tid, to, version=at.version if at else None, user=sec, note="n")

    step("tour proposed", lambda: move_tour("proposed"))
    step("tour cancelled", lambda: move_tour("cancelled"))
    step(
        "revert",
        lambda: wf.revert(session, first.id or 0, user_id=sec.id, version=None, reason="r"),
    )
    assert _told(session, second_focal, "proposal.back_in_play", second)
    step(
        "reject",
        lambda: wf.reject(session, second.id or 0, user_id=sec.id, version=None, reason="r"),
    )
    step(
        "revert the rejection",
        lambda: wf.revert(session, second.id or 0, user_id=sec.id, version=None, reason="r"),
    )
    step(
        "withdraw the matched need's", lambda: reg.withdraw_need(session, admin, NEED, "No longer.")
    )
    for p in (first, second):
        assert _told(session, ids[f"focal_{p.provider}"], "proposal.need_withdrawn", p)
    step("reinstate the need", lambda: reg.reinstate_need(session, admin, NEED))
    assert len(_told(session, second_focal, "proposal.back_in_play", second)) == 2
    # the offer of one of them archived by the secretariat: out of play, both countries told
    offered = next(p for p in (first, second) if p.capacity is not None)

    def set_offer(status: str) -> None:
        offer = session.get(Capacity, offered.capacity)
        assert offer is not None
        reg.update_capacity(session, VOCAB, sec, offer.id, {"status": status}, offer.version)

    step("archive the offer", lambda: set_offer("archived"))
    assert _told(session, ids[f"focal_{offered.provider}"], "proposal.offer_withdrawn", offered)
    assert _told(session, gtm.id or 0, "proposal.offer_withdrawn", offered)
    step("publish the offer again", lambda: set_offer("published"))
    assert _told(session, gtm.id or 0, "proposal.back_in_play", offered)
    # a pair vetoed on one need: its proposal for the other need leaves play, both told; the
    # veto lifted: back in play
    step("match the own need", lambda: matchruns.run_and_store(session, VOCAB, need_ids=(nid,)))
    session.expire_all()
    of_own = {p.provider: p for p in _proposals(session, nid) if p.status in OPEN}
    vetoed_on = next(p for p in _proposals(session) if p.status in OPEN and p.provider in of_own)
    other = of_own[vetoed_on.provider]
    step(
        "veto the pair",
        lambda: wf.veto(session, vetoed_on.id or 0, user_id=sec.id, version=None, reason="v"),
    )
    assert _told(session, ids[f"focal_{other.provider}"], "proposal.pair_vetoed", other)
    assert _told(session, gtm.id or 0, "proposal.pair_vetoed", other)
    pair = session.exec(select(Veto)).one()
    step("lift the veto", lambda: wf.lift_veto(session, pair.id or 0, user_id=sec.id, reason="l"))
    assert _told(session, ids[f"focal_{other.provider}"], "proposal.back_in_play", other)
    assert _told(session, gtm.id or 0, "proposal.back_in_play", other)
    # each kind of step left some notice behind that no longer holds, and said so
    assert moved["take_back"] and moved["reinstate"] and moved["revert"], moved
    assert moved["tour cancelled"] and moved["reinstate the need"], moved
    assert moved["archive the offer"] and moved["publish the offer again"], moved
    assert moved["lift the veto"], moved


def test_the_reasons_of_supersession_are_the_proposals_codes() -> None:
    from sscmatch.workflow.proposals import notes

    assert set(notices.SUPERSEDED_KINDS) == {
        notes.NEED_WITHDRAWN,
        notes.SUPERSEDED_BY,
        notes.OFFER_WITHDRAWN,
        notes.PAIR_VETOED,
    }
    assert notices.BACK_TO_RECIPIENT == (notes.OFFER_PUBLISHED, notes.VETO_LIFTED)


def test_the_digest_says_it_too_in_the_readers_language(session: Session) -> None:
    """The daily digest reads the notices as the pages do: a submission taken back before the
    digest went out is said waiting no more, in the secretariat's language."""
    from sscmatch.workflow import reminders

    sec = create_user(session, "sec@t.org", "pw-123456789", "secretariat", language="es")
    gtm_user = create_user(
        session, "gtm@t.org", "pw-123456789", "focal_point", country="GTM", constituency="workers"
    )
    session.commit()
    gtm = Who(gtm_user.id, "focal_point", "GTM")
    need = reg.create_need(
        session, VOCAB, gtm, {"title": "Inspection", "themes": ["labour-inspection"]}, today=DAY
    )
    reg.submit_need(session, gtm, need.id)
    reg.take_back_submission(session, gtm, need.id)
    session.commit()
    found, _ = reminders.digests(session, DAY, 7, None)
    mine = [d for d in found if d.recipient == sec.email]
    assert len(mine) == 1
    _subject, body = reminders.render(mine[0], DAY)
    waits = [line for line in body.splitlines() if "espera aval:" in line]
    assert waits and all("(Ya no es así; estado actual: borrador.)" in w for w in waits), body
