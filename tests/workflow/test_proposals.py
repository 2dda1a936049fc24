"""The review workflow: lifecycle, decisions, focal points' answers, vetoes, conflicts, audit."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from sscmatch.bundle.load import import_bundle
from sscmatch.db import StaleVersion, VersionedSession
from sscmatch.models import AuditEvent, Need, Review, User, Veto
from sscmatch.models import Proposal as StoredProposal
from sscmatch.vocab import load_vocabulary
from sscmatch.workflow import matchruns
from sscmatch.workflow import proposals as wf
from sscmatch.workflow.proposals import decisions, queue
from sscmatch.workflow.tours import DraftSettings
from sscmatch.workflow.users import create_user
from sscmatch.workflow.visibility import SYSTEM

ROOT = Path(__file__).resolve().parents[2]
NEED = "s002-n37"  # Guatemala's need; Mexico first, Brazil fifth in the knowledge base
OTHER_NEED = "s000-n01"


def load(session: Session, needs: tuple[str, ...] = (NEED, OTHER_NEED)) -> int:
    vocab = load_vocabulary()
    import_bundle(session, ROOT / "data", vocab)
    session.commit()
    result = matchruns.run_and_store(session, vocab, need_ids=needs, top_k=5)
    session.commit()
    assert result.run_id is not None
    return result.run_id


def of_need(session: Session, need: str = NEED) -> list[StoredProposal]:
    return list(
        session.exec(
            select(StoredProposal)
            .where(StoredProposal.need == need, StoredProposal.status != "superseded")
            .order_by(col(StoredProposal.rank))
        )
    )


def user(session: Session, role: str = "secretariat", country: str | None = None) -> int:
    constituency = "government" if role == "focal_point" else None
    u = create_user(
        session,
        f"{role}-{country}@t.org",
        "pw-123456789",
        role,
        country=country,
        constituency=constituency,
    )
    session.commit()
    assert u.id is not None
    return u.id


def events(session: Session, entity: str, entity_id: Any) -> list[AuditEvent]:
    return list(
        session.exec(
            select(AuditEvent)
            .where(AuditEvent.entity == entity, AuditEvent.entity_id == str(entity_id))
            .order_by(col(AuditEvent.id))
        )
    )


# ----------------------------------------------------------------------------- state machine

LEGAL = {
    ("proposed", "provider_confirmed"),
    ("proposed", "provider_declined"),
    ("proposed", "rejected"),
    ("provider_confirmed", "accepted"),
    ("provider_confirmed", "rejected"),
    ("provider_declined", "rejected"),
    ("provider_confirmed", "provider_declined"),  # the provider changes its answer
    ("provider_declined", "provider_confirmed"),
}


@pytest.mark.parametrize("current", wf.STATUSES)
@pytest.mark.parametrize("target", wf.STATUSES)
def test_every_transition_is_legal_or_refused(current: str, target: str) -> None:
    assert wf.can_transition(current, target) == ((current, target) in LEGAL)
    if (current, target) in LEGAL:
        wf.check_transition(current, target)
    else:
        with pytest.raises(wf.IllegalTransitionError) as exc:
            wf.check_transition(current, target)
        assert exc.value.status == 409
        assert current.replace("_", " ") in str(exc.value)


def test_accepting_what_the_provider_has_not_confirmed_needs_an_override() -> None:
    assert not wf.can_transition("proposed", "accepted")
    with pytest.raises(wf.OverrideRequiredError) as exc:
        wf.check_transition("proposed", "accepted")
    assert exc.value.status == 409 and "override" in str(exc.value)
    assert wf.can_transition("proposed", "accepted", override=True)
    # an override opens no other step
    assert not wf.can_transition("provider_declined", "accepted", override=True)
    assert not wf.can_transition("rejected", "accepted", override=True)


def test_only_the_service_supersedes_and_final_states_stay() -> None:
    for status in ("proposed", "provider_confirmed", "provider_declined"):
        assert not wf.can_transition(status, "superseded")
        assert wf.can_transition(status, "superseded", system=True)
    for status in wf.FINAL:
        assert not any(wf.can_transition(status, t, system=True) for t in wf.STATUSES)


# ----------------------------------------------------------------------------- decisions


def test_accept_matches_need_supersedes_others_and_audits(session: Session) -> None:
    run_id = load(session)
    sec = user(session)
    first, *rest = of_need(session)
    outcome = wf.accept(
        session, first.id or 0, user_id=sec, version=first.version, override=True, reason="urgent"
    )
    session.commit()
    assert outcome.proposal.status == "accepted"
    assert outcome.proposal.version == 2
    assert sorted(outcome.superseded) == sorted(p.id for p in rest)
    for p in rest:
        session.refresh(p)
        assert p.status == "superseded"
    need = session.get(Need, NEED)
    assert need is not None and need.status == "matched"
    review = session.exec(select(Review).where(Review.proposal_id == first.id)).one()
    assert (review.decision, review.reviewer_id) == ("accept", sec)
    actions = [e.action for e in events(session, "proposal", first.id)]
    assert actions == ["accept"]
    assert review.effects is not None and review.effects["override"] is True
    assert review.effects["superseded"] == {str(p.id): "proposed" for p in rest}
    assert review.effects["need_before"] == "open"
    event = events(session, "proposal", first.id)[0]
    # the reviewer's words as typed; what the service says is a code, not English words
    assert event.note == "urgent"
    assert event.note_code == {"code": "accepted_without_confirmation", "params": {}}
    assert event.before is not None and event.before["status"] == "proposed"
    assert event.after is not None and event.after["status"] == "accepted"
    assert [e.action for e in events(session, "need", NEED)] == ["match"]
    # the other need of the run is untouched
    assert {p.status for p in of_need(session, OTHER_NEED)} == {"proposed"}
    assert run_id


def test_reject_requires_a_reason(session: Session) -> None:
    load(session)
    sec = user(session)
    p = of_need(session)[0]
    for reason in (None, "", "   "):
        with pytest.raises(wf.ReasonRequiredError):
            wf.reject(session, p.id or 0, user_id=sec, version=p.version, reason=reason)
    session.rollback()
    session.refresh(p)
    assert p.status == "proposed" and p.version == 1
    wf.reject(session, p.id or 0, user_id=sec, version=p.version, reason="too far away")
    session.commit()
    assert p.status == "rejected"
    review = session.exec(select(Review).where(Review.proposal_id == p.id)).one()
    assert review.reason == "too far away"
    # final: a second decision is an illegal transition
    with pytest.raises(wf.IllegalTransitionError, match="rejected"):
        wf.accept(session, p.id or 0, user_id=sec, version=p.version, override=True, reason="x")


def test_accept_without_confirmation_is_refused_without_override_and_reason(
    session: Session,
) -> None:
    load(session)
    sec = user(session)
    p = of_need(session)[0]
    with pytest.raises(wf.OverrideRequiredError):
        wf.accept(session, p.id or 0, user_id=sec, version=1)
    for reason in (None, "  "):
        with pytest.raises(wf.ReasonRequiredError):
            wf.accept(session, p.id or 0, user_id=sec, version=1, override=True, reason=reason)
    session.rollback()
    assert {x.status for x in of_need(session)} == {"proposed"}
    # once the provider's focal point confirmed, no override is needed
    bra = user(session, "focal_point", p.provider)
    wf.respond(session, p.id or 0, "confirm", user_id=bra, country=p.provider, version=1)
    outcome = wf.accept(session, p.id or 0, user_id=sec, version=2)
    session.commit()
    assert outcome.review is not None and outcome.review.effects is not None
    assert outcome.review.effects["override"] is False
    assert outcome.review.effects["status_before"] == "provider_confirmed"


def test_choose_alternate(session: Session) -> None:
    load(session)
    sec = user(session)
    first, second, *others = of_need(session)
    for reason in (None, ""):
        with pytest.raises(wf.ReasonRequiredError, match="alternate"):
            wf.decide(
                session,
                first.id or 0,
                "alternate",
                user_id=sec,
                version=first.version,
                alternate_id=second.id,
                reason=reason,
                override=True,
            )
    # the alternate is accepted under the same rule: confirmed, or an override
    with pytest.raises(wf.OverrideRequiredError):
        wf.decide(
            session,
            first.id or 0,
            "alternate",
            user_id=sec,
            version=first.version,
            alternate_id=second.id,
            reason="closer language",
        )
    session.rollback()
    assert {x.status for x in of_need(session)} == {"proposed"}
    outcome = wf.decide(
        session,
        first.id or 0,
        "alternate",
        user_id=sec,
        version=first.version,
        alternate_id=second.id,
        reason="closer language",
        override=True,
    )
    session.commit()
    assert outcome.accepted is not None and outcome.accepted.id == second.id
    session.refresh(first)
    session.refresh(second)
    assert (first.status, second.status) == ("rejected", "accepted")
    reviews = {r.proposal_id: r for r in session.exec(select(Review))}
    assert reviews[first.id].decision == "alternate"
    assert reviews[first.id].reason == "closer language"
    assert reviews[first.id].alternate_id == second.id
    assert reviews[second.id].decision == "accept"
    for p in others:
        session.refresh(p)
        assert p.status == "superseded"


def test_alternate_must_be_of_the_same_need_and_run(session: Session) -> None:
    load(session)
    sec = user(session)
    p = of_need(session)[0]
    stranger = of_need(session, OTHER_NEED)[0]
    with pytest.raises(wf.ProposalError, match="not an alternate"):
        wf.choose_alternate(
            session, p.id or 0, stranger.id, user_id=sec, version=p.version, reason="r"
        )
    with pytest.raises(wf.ProposalError, match="choose which alternate"):
        wf.choose_alternate(session, p.id or 0, None, user_id=sec, version=p.version)
    session.rollback()
    assert {x.status for x in of_need(session)} == {"proposed"}


def test_veto_excludes_the_pair_from_the_next_run(session: Session) -> None:
    load(session)
    sec = user(session)
    vetoed = next(p for p in of_need(session) if p.provider == "BRA")
    with pytest.raises(wf.ReasonRequiredError):
        wf.veto(session, vetoed.id or 0, user_id=sec, version=vetoed.version, reason="")
    wf.veto(session, vetoed.id or 0, user_id=sec, version=vetoed.version, reason="political")
    session.commit()
    assert vetoed.status == "rejected"
    veto = session.exec(select(Veto)).one()
    assert (veto.provider, veto.recipient, veto.reason) == ("BRA", "GTM", "political")
    assert [e.action for e in events(session, "veto", veto.id)] == ["create"]
    result = matchruns.run_and_store(session, load_vocabulary(), need_ids=[NEED], top_k=5)
    session.commit()
    providers = [p.provider for p in result.proposals]
    assert "BRA" not in providers and len(providers) == 5


def test_stale_version_is_a_conflict_and_only_one_decision_wins(session: Session, app: Any) -> None:
    load(session)
    sec = user(session)
    p = of_need(session)[0]
    engine: Engine = app.extensions["sscmatch.engine"]
    with (
        VersionedSession(engine, expire_on_commit=False) as a,
        VersionedSession(engine, expire_on_commit=False) as b,
    ):
        pa = a.get(StoredProposal, p.id)
        pb = b.get(StoredProposal, p.id)
        assert pa is not None and pb is not None and pa.version == pb.version == 1
        wf.accept(a, p.id or 0, user_id=sec, version=1, override=True, reason="r")
        a.commit()
        # b still holds version 1 in memory: the database refuses the second decision
        with pytest.raises(StaleVersion, match="meanwhile"):
            wf.reject(b, p.id or 0, user_id=sec, version=1, reason="no")
        b.rollback()
    session.expire_all()
    fresh = session.get(StoredProposal, p.id)
    assert fresh is not None and fresh.status == "accepted" and fresh.version == 2
    assert len(session.exec(select(Review).where(Review.proposal_id == p.id)).all()) == 1
    with pytest.raises(StaleVersion, match="version 7, it is now version 2"):
        wf.accept(session, p.id or 0, user_id=sec, version=7, override=True, reason="r")


# ----------------------------------------------------------------------------- focal points


def test_provider_confirms_and_recipient_says_it_fits(session: Session) -> None:
    load(session)
    bra = user(session, "focal_point", "BRA")
    gtm = user(session, "focal_point", "GTM")
    p = next(x for x in of_need(session) if x.provider == "BRA")
    wf.respond(
        session, p.id or 0, "confirm", user_id=bra, country="BRA", version=1, note="ok in May"
    )
    session.commit()
    assert (p.status, p.version) == ("provider_confirmed", 2)
    wf.respond(session, p.id or 0, "fits", user_id=gtm, country="GTM", version=2, note="good fit")
    session.commit()
    assert (p.status, p.recipient_fit, p.version) == ("provider_confirmed", "fits", 3)
    assert wf.notes_by_side(p) == {"provider": "ok in May", "recipient": "good fit"}
    assert [e.action for e in events(session, "proposal", p.id)] == ["confirm", "fits"]
    # the same answer again is no step; the other answer is one, until the secretariat decides
    with pytest.raises(wf.IllegalTransitionError):
        wf.respond(session, p.id or 0, "confirm", user_id=bra, country="BRA", version=3)
    session.rollback()


def test_the_provider_may_change_its_answer_until_the_secretariat_decides(
    session: Session,
) -> None:
    """A "we cannot provide this" clicked by mistake is not final (as the recipient's answer is
    not): the provider's focal point changes it, each answer audited; once the secretariat has
    decided, no answer changes anything."""
    load(session)
    bra = user(session, "focal_point", "BRA")
    sec = user(session)
    p = next(x for x in of_need(session) if x.provider == "BRA")
    wf.respond(session, p.id or 0, "decline", user_id=bra, country="BRA", version=1)
    wf.respond(session, p.id or 0, "confirm", user_id=bra, country="BRA", version=2, note="yes")
    session.commit()
    assert (p.status, p.version) == ("provider_confirmed", 3)
    assert [e.action for e in events(session, "proposal", p.id)] == ["decline", "confirm"]
    wf.accept(session, p.id or 0, user_id=sec, version=3)
    session.commit()
    with pytest.raises(wf.IllegalTransitionError):
        wf.respond(session, p.id or 0, "decline", user_id=bra, country="BRA", version=4)
    session.rollback()
    session.refresh(p)
    assert p.status == "accepted"


def test_focal_points_answer_only_their_own_side(session: Session) -> None:
    load(session)
    bra = user(session, "focal_point", "BRA")
    gtm = user(session, "focal_point", "GTM")
    mex_gtm = next(x for x in of_need(session) if x.provider == "MEX")
    with pytest.raises(wf.ForbiddenError) as exc:
        wf.respond(session, mex_gtm.id or 0, "confirm", user_id=bra, country="BRA", version=1)
    assert exc.value.status == 403
    with pytest.raises(wf.ForbiddenError, match="provider"):
        wf.respond(session, mex_gtm.id or 0, "confirm", user_id=gtm, country="GTM", version=1)
    with pytest.raises(wf.ProposalError, match="unknown response"):
        wf.respond(session, mex_gtm.id or 0, "maybe", user_id=gtm, country="GTM", version=1)
    session.rollback()
    session.refresh(mex_gtm)
    assert (mex_gtm.status, mex_gtm.version) == ("proposed", 1)


def test_declined_can_only_be_rejected(session: Session) -> None:
    load(session)
    bra = user(session, "focal_point", "BRA")
    sec = user(session)
    p = next(x for x in of_need(session) if x.provider == "BRA")
    wf.respond(session, p.id or 0, "decline", user_id=bra, country="BRA", version=1)
    with pytest.raises(wf.IllegalTransitionError):
        wf.accept(session, p.id or 0, user_id=sec, version=2, override=True, reason="r")
    wf.reject(session, p.id or 0, user_id=sec, version=2, reason="provider not available")
    session.commit()
    assert p.status == "rejected"
    with pytest.raises(wf.IllegalTransitionError, match="no longer"):
        wf.respond(session, p.id or 0, "fits", user_id=None, country="GTM", version=3)


def test_accepting_drafts_a_study_tour_when_offered(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(session)
    sec = user(session)
    calls: list[Any] = []

    def draft_from_proposal(
        s: Session, proposal: StoredProposal, user_id: int | None, **drafting: Any
    ) -> str:
        calls.append((proposal.id, user_id, drafting))
        return "T-1"

    monkeypatch.setattr(decisions, "draft_from_proposal", draft_from_proposal)
    p = of_need(session)[0]
    day = date(2031, 3, 3)  # the instance's day and rates reach the draft
    outcome = wf.accept(
        session,
        p.id or 0,
        user_id=sec,
        version=1,
        override=True,
        reason="r",
        drafting=DraftSettings(today=day, rate_overrides={"per_diem": 1}),
    )
    settings = {"today": day, "rate_overrides": {"per_diem": 1}}
    assert outcome.tour == "T-1" and calls == [(p.id, sec, settings)]


def test_a_refused_tour_draft_does_not_undo_the_acceptance(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(session)
    sec = user(session)

    def draft_from_proposal(
        s: Session, proposal: StoredProposal, user_id: int | None, **drafting: Any
    ) -> None:
        raise ValueError("no tour for this one")

    monkeypatch.setattr(decisions, "draft_from_proposal", draft_from_proposal)
    p = of_need(session)[0]
    outcome = wf.accept(session, p.id or 0, user_id=sec, version=1, override=True, reason="r")
    session.commit()
    assert outcome.tour is None
    session.expire_all()
    assert session.get(StoredProposal, p.id).status == "accepted"  # type: ignore[union-attr]
    assert session.get(Need, NEED).status == "matched"  # type: ignore[union-attr]


# ----------------------------------------------------------------------------- queries


def test_list_filters_sort_and_page(session: Session) -> None:
    load(session)
    everything = wf.list_proposals(session, wf.Filters(), size=100, viewer=SYSTEM)
    assert everything.total == 10
    scores = [r.proposal.score for r in everything.items]
    assert scores == sorted(scores, reverse=True)
    page2 = wf.list_proposals(session, wf.Filters(sort="score_asc"), page=2, size=4, viewer=SYSTEM)
    assert (page2.number, page2.pages, len(page2.items)) == (2, 3, 4)
    gtm = wf.list_proposals(session, wf.Filters(country="GTM"), size=100, viewer=SYSTEM)
    assert gtm.total == 5 and {r.proposal.need for r in gtm.items} == {NEED}
    africa = wf.list_proposals(session, wf.Filters(region="Africa"), size=100, viewer=SYSTEM)
    assert {r.proposal.need for r in africa.items} == {OTHER_NEED}
    need = session.get(Need, NEED)
    assert need is not None
    themed = wf.list_proposals(session, wf.Filters(theme=need.themes[0]), size=100, viewer=SYSTEM)
    assert NEED in {r.proposal.need for r in themed.items}
    high = wf.list_proposals(session, wf.Filters(min_score=0.6), size=100, viewer=SYSTEM)
    assert all(r.proposal.score >= 0.6 for r in high.items) and high.total < 10
    assert wf.list_proposals(session, wf.Filters(statuses=("accepted",)), viewer=SYSTEM).total == 0
    for bad in (wf.Filters(statuses=("nope",)), wf.Filters(sort="x"), wf.Filters(min_score=2)):
        with pytest.raises(wf.ProposalError):
            wf.list_proposals(session, bad, viewer=SYSTEM)


def test_pages_follow_the_whole_order_with_titles(session: Session) -> None:
    load(session)
    titles = {n.id: n.title for n in session.exec(select(Need))}
    for sort in wf.SORTS:
        whole = wf.list_proposals(session, wf.Filters(sort=sort), size=100, viewer=SYSTEM).items
        paged = [
            row
            for number in (1, 2, 3)
            for row in wf.list_proposals(
                session, wf.Filters(sort=sort), page=number, size=4, viewer=SYSTEM
            ).items
        ]
        assert [r.proposal.id for r in paged] == [r.proposal.id for r in whole], sort
        assert all(r.need_title == titles[r.proposal.need] and r.capacity_title for r in paged)
    need = session.get(Need, NEED)
    assert need is not None
    themed = wf.list_proposals(
        session, wf.Filters(theme=need.themes[0]), page=1, size=3, viewer=SYSTEM
    )
    on_theme = {n.id for n in session.exec(select(Need)) if need.themes[0] in n.themes}
    assert themed.total == sum(p.need in on_theme for p in session.exec(select(StoredProposal)))
    assert len(themed.items) == min(3, themed.total)
    assert wf.list_proposals(session, wf.Filters(), page=9, size=4, viewer=SYSTEM).items == []


def test_evidence_and_breakdown(session: Session) -> None:
    load(session)
    p = next(x for x in of_need(session, OTHER_NEED) if x.provider == "BRA")
    ev = wf.evidence(session, p, load_vocabulary())
    assert ev.between, "Brazil has helped Angola before (see the reasons)"
    assert all("AGO" in (*e.recipients, *e.participants, *e.providers) for e in ev.between)
    assert ev.on_themes and all("BRA" in e.providers for e in ev.on_themes)
    parts = wf.breakdown(p)
    assert {f for f, _, _ in parts} >= {"topic", "text", "language", "region"}
    assert sum(c for _, _, c in parts) == pytest.approx(p.score, abs=1e-4)
    assert all(0 <= v <= 1 for _, v, _ in parts)
    data = wf.to_dict(p)
    assert data["need"] == OTHER_NEED and data["version"] == 1 and data["status"] == "proposed"


def test_user_helper_sanity(session: Session) -> None:
    uid = user(session, "focal_point", "BRA")
    u = session.get(User, uid)
    assert u is not None and u.country == "BRA"


def test_export_records_are_the_list_read_by_columns(session: Session) -> None:
    """proposal_records (one query of columns, for exports) gives the rows list_proposals gives,
    in its order and within the viewer's sight, a fallback proposal on the experience basis."""
    from types import SimpleNamespace

    load(session)
    *_, by_basis, no_capacity = of_need(session)  # fallbacks: told by either column
    by_basis.components = {**(by_basis.components or {}), "basis": "experience"}
    no_capacity.capacity = None
    session.add_all([by_basis, no_capacity])
    session.commit()
    gtm = SimpleNamespace(role="focal_point", country="GTM")
    for viewer, filters in [
        (SYSTEM, wf.Filters()),
        (SYSTEM, wf.Filters(sort="need", statuses=())),
        (SYSTEM, wf.Filters(country="BRA", sort="score_asc")),
        (gtm, wf.Filters(sort="date")),
    ]:
        page = wf.list_proposals(session, filters, 1, 1000, viewer=viewer)
        expected = [
            {
                **{c: getattr(r.proposal, c) for c in queue.RECORD_COLUMNS},
                "need_title": r.need_title,
                "capacity_title": r.capacity_title,
                "basis": "experience" if wf.is_fallback(r.proposal) else "capacity",
            }
            for r in page.items
        ]
        records, total = wf.proposal_records(session, filters, viewer=viewer, limit=1000)
        assert (records, total) == (expected, page.total) and records, filters
    records, total = wf.proposal_records(session, wf.Filters(statuses=()), viewer=SYSTEM, limit=3)
    assert len(records) == 3 < total
    of_basis = {r["id"]: r["basis"] for r in wf.proposal_records(
        session, wf.Filters(need=NEED), viewer=SYSTEM, limit=10)[0]}  # fmt: skip
    assert of_basis[by_basis.id] == of_basis[no_capacity.id] == "experience"
    assert list(of_basis.values()).count("capacity") == len(of_basis) - 2
