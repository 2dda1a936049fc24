"""The review of proposals: their lifecycle, the secretariat's decisions, focal points' answers.

Lifecycle (``TRANSITIONS``)::

    proposed ──► provider_confirmed ──► accepted
       │    └──► provider_declined        ▲
       │              │                   │
       ├──────────────┴──► rejected ◄── provider_confirmed
       └──► accepted

``accepted``, ``rejected`` and ``superseded`` are final. ``superseded`` is set by the service
(a newer run, or another proposal of the same need accepted), never by a person.

Every decision carries the ``version`` of the proposal it was made on
(:func:`sscmatch.db.expect_version`: the row is written ``WHERE version = :seen``), so that of two
people deciding at once exactly one wins and the other gets :class:`sscmatch.db.StaleVersion`.
Every change records a :class:`~sscmatch.models.Review` (secretariat decisions) and an
:class:`~sscmatch.models.AuditEvent`. Functions never commit.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Text, func, or_, type_coerce
from sqlmodel import Session, col, select

from sscmatch.db import BadVersion, expect_version
from sscmatch.models import (
    Capacity,
    Country,
    Exchange,
    MatchRun,
    Need,
    Review,
    Theme,
    Veto,
    utcnow,
)
from sscmatch.models import Proposal as StoredProposal
from sscmatch.schemas import MAX_TEXT
from sscmatch.vocab import Vocabulary
from sscmatch.workflow import visibility
from sscmatch.workflow.audit import record_event, snapshot
from sscmatch.workflow.visibility import Viewer

# ----------------------------------------------------------------------------- lifecycle

STATUSES = (
    "proposed",
    "provider_confirmed",
    "provider_declined",
    "accepted",
    "rejected",
    "superseded",
)
FINAL = frozenset({"accepted", "rejected", "superseded"})
OPEN_STATUSES = ("proposed", "provider_confirmed", "provider_declined")
QUEUE_DEFAULT = ("proposed", "provider_confirmed")

TRANSITIONS: dict[str, frozenset[str]] = {
    "proposed": frozenset({"provider_confirmed", "provider_declined", "accepted", "rejected"}),
    "provider_confirmed": frozenset({"accepted", "rejected"}),
    "provider_declined": frozenset({"rejected"}),
    "accepted": frozenset(),
    "rejected": frozenset(),
    "superseded": frozenset(),
}
# Set by the service only: a newer run, or another proposal of the same need accepted.
SYSTEM_TRANSITIONS: dict[str, frozenset[str]] = {
    status: frozenset({"superseded"}) for status in OPEN_STATUSES
}

DECISIONS = ("accept", "reject", "alternate", "veto")
RESPONSES = ("confirm", "decline", "fits", "does_not_fit")
PROVIDER_RESPONSES = {"confirm": "provider_confirmed", "decline": "provider_declined"}
RECIPIENT_RESPONSES = {"fits": "fits", "does_not_fit": "does_not_fit"}
ALTERNATE_CHOSEN = "alternate chosen"


class ProposalError(ValueError):
    """A decision or answer that cannot be made; the message says why (HTTP ``status``)."""

    status = 400
    code = "invalid"


class NotFoundError(ProposalError):
    status = 404
    code = "not_found"


class ForbiddenError(ProposalError):
    status = 403
    code = "forbidden"


class IllegalTransitionError(ProposalError):
    """The proposal's status does not allow this step."""

    status = 409
    code = "illegal_transition"

    def __init__(self, current: str, target: str, message: str | None = None) -> None:
        self.current, self.target = current, target
        super().__init__(
            message
            or f"this proposal is {current.replace('_', ' ')}: it cannot become "
            f"{target.replace('_', ' ')}"
            + (" (that status is final)" if current in FINAL else "")
        )


class ReasonRequiredError(ProposalError):
    status = 422
    code = "reason_required"


def can_transition(current: str, target: str, *, system: bool = False) -> bool:
    """Whether ``current → target`` is a legal step (``system``: also the service's own steps)."""
    if target in TRANSITIONS.get(current, frozenset()):
        return True
    return system and target in SYSTEM_TRANSITIONS.get(current, frozenset())


def check_transition(current: str, target: str, *, system: bool = False) -> None:
    if not can_transition(current, target, system=system):
        raise IllegalTransitionError(current, target)


# ----------------------------------------------------------------------------- helpers


def get_proposal(session: Session, proposal_id: int) -> StoredProposal:
    proposal = session.get(StoredProposal, proposal_id)
    if proposal is None:
        raise NotFoundError(f"no proposal {proposal_id}")
    return proposal


def _clean(text: str | None) -> str | None:
    text = (text or "").strip()
    if len(text) > MAX_TEXT:
        raise ProposalError(f"the text is too long (at most {MAX_TEXT} characters)")
    return text or None


def _check_version(proposal: StoredProposal, version: int | None) -> None:
    """A stale version is a conflict, whatever the proposal's status now is: ties the change to
    the version the caller saw (None: the one just read; the flush still catches a race)."""
    try:
        expect_version(proposal, version, required=False)
    except BadVersion as exc:
        raise ProposalError(str(exc)) from None


def _set_status(
    session: Session,
    proposal: StoredProposal,
    target: str,
    *,
    user_id: int | None,
    version: int | None,
    action: str,
    note: str | None = None,
    system: bool = False,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """Move ``proposal`` to ``target`` (checked, claimed, audited); returns the snapshot before.

    ``extra`` are further fields to set in the same change."""
    _check_version(proposal, version)
    check_transition(proposal.status, target, system=system)
    before = snapshot(proposal)
    proposal.status = target
    for name, value in (extra or {}).items():
        setattr(proposal, name, value)
    proposal.updated_at = utcnow()
    proposal.updated_by = user_id
    session.add(proposal)
    record_event(
        session,
        user_id=user_id,
        action=action,
        entity="proposal",
        entity_id=proposal.id or 0,
        before=before,
        after=snapshot(proposal),
        note=note,
    )
    return before


def _review(
    session: Session,
    proposal: StoredProposal,
    decision: str,
    user_id: int | None,
    reason: str | None = None,
    alternate_id: int | None = None,
) -> Review:
    assert proposal.id is not None
    review = Review(
        proposal_id=proposal.id,
        decision=decision,
        reason=reason,
        alternate_id=alternate_id,
        reviewer_id=user_id,
    )
    session.add(review)
    return review


def _draft_tour(session: Session, proposal: StoredProposal, user_id: int | None) -> Any:
    """Draft a study tour from an accepted proposal when the tours module offers it.

    The study-tour module is optional here; a refusal from it (a ``ValueError``) does not undo the
    acceptance: its savepoint is rolled back and ``None`` is returned.
    """
    try:
        tours = importlib.import_module("sscmatch.workflow.tours")
    except ImportError:
        return None
    draft = getattr(tours, "draft_from_proposal", None)
    if draft is None:
        return None
    savepoint = session.begin_nested()
    try:
        tour = draft(session, proposal, user_id)
        session.flush()
    except ValueError:
        savepoint.rollback()
        return None
    savepoint.commit()
    return tour


# ----------------------------------------------------------------------------- decisions


@dataclass
class Outcome:
    """What a decision changed: the proposal, its review, and the side effects."""

    proposal: StoredProposal
    review: Review | None = None
    accepted: StoredProposal | None = None
    superseded: list[int] = field(default_factory=list)
    veto: Veto | None = None
    tour: Any = None


def _accept(
    session: Session,
    proposal: StoredProposal,
    *,
    user_id: int | None,
    version: int | None,
    reason: str | None,
    alternate_of: int | None = None,
) -> Outcome:
    _set_status(
        session,
        proposal,
        "accepted",
        user_id=user_id,
        version=version,
        action="accept",
        note=reason,
    )
    review = _review(session, proposal, "accept", user_id, reason, alternate_id=alternate_of)
    outcome = Outcome(proposal=proposal, review=review, accepted=proposal)
    others = session.exec(
        select(StoredProposal)
        .where(
            StoredProposal.need == proposal.need,
            StoredProposal.id != proposal.id,
            col(StoredProposal.status).in_(OPEN_STATUSES),
        )
        .order_by(col(StoredProposal.id))
    ).all()
    for other in others:
        _set_status(
            session,
            other,
            "superseded",
            user_id=user_id,
            version=None,
            action="supersede",
            note=f"proposal {proposal.id} was accepted for need {proposal.need}",
            system=True,
        )
        outcome.superseded.append(other.id or 0)
    need = session.get(Need, proposal.need)
    if need is not None and need.status != "matched":
        before = snapshot(need)
        need.status = "matched"
        need.updated_at = utcnow()
        need.updated_by = user_id
        session.add(need)
        record_event(
            session,
            user_id=user_id,
            action="match",
            entity="need",
            entity_id=need.id,
            before=before,
            after=snapshot(need),
            note=f"proposal {proposal.id} accepted",
        )
    session.flush()
    outcome.tour = _draft_tour(session, proposal, user_id)
    return outcome


def accept(
    session: Session,
    proposal_id: int,
    *,
    user_id: int | None,
    version: int | None,
    reason: str | None = None,
) -> Outcome:
    """Accept the proposal: the need becomes matched, its other open proposals superseded, and a
    draft study tour is made when the study-tour module offers one."""
    proposal = get_proposal(session, proposal_id)
    return _accept(session, proposal, user_id=user_id, version=version, reason=_clean(reason))


def reject(
    session: Session,
    proposal_id: int,
    *,
    user_id: int | None,
    version: int | None,
    reason: str | None,
) -> Outcome:
    """Reject the proposal; a reason is required."""
    proposal, review, _ = _refuse(
        session, proposal_id, user_id=user_id, version=version, reason=reason, kind="reject"
    )
    session.flush()
    return Outcome(proposal=proposal, review=review)


def _refuse(
    session: Session,
    proposal_id: int,
    *,
    user_id: int | None,
    version: int | None,
    reason: str | None,
    kind: str,
) -> tuple[StoredProposal, Review, str]:
    """What a rejection and a veto share: a reason is required, the proposal becomes rejected
    (a veto's note says so) and the decision is kept as a review of ``kind``."""
    proposal = get_proposal(session, proposal_id)
    text = _clean(reason)
    if not text:
        what = "to veto a pair" if kind == "veto" else "to reject a proposal"
        raise ReasonRequiredError(f"a reason is required {what}")
    _set_status(
        session,
        proposal,
        "rejected",
        user_id=user_id,
        version=version,
        action="reject",
        note=f"pair vetoed: {text}" if kind == "veto" else text,
    )
    return proposal, _review(session, proposal, kind, user_id, text), text


def alternates(
    session: Session, proposal: StoredProposal, *, viewer: Viewer
) -> list[StoredProposal]:
    """The other proposals of the same need in the same run that ``viewer`` may see, best first
    (a provider's focal point does not see the other providers' proposals)."""
    return list(
        session.exec(
            select(StoredProposal)
            .where(
                StoredProposal.run_id == proposal.run_id,
                StoredProposal.need == proposal.need,
                StoredProposal.id != proposal.id,
                visibility.visible(StoredProposal, viewer),
            )
            .order_by(col(StoredProposal.rank), col(StoredProposal.id))
        ).all()
    )


def choose_alternate(
    session: Session,
    proposal_id: int,
    alternate_id: int | None,
    *,
    user_id: int | None,
    version: int | None,
    alternate_version: int | None = None,
    reason: str | None = None,
) -> Outcome:
    """Accept ``alternate_id`` (same need, same run) instead of this proposal, which is rejected
    with the reason "alternate chosen"."""
    proposal = get_proposal(session, proposal_id)
    if alternate_id is None:
        raise ProposalError("choose which alternate to accept")
    alternate = session.get(StoredProposal, alternate_id)
    if (
        alternate is None
        or alternate.id == proposal.id
        or alternate.need != proposal.need
        or alternate.run_id != proposal.run_id
    ):
        raise ProposalError(
            f"proposal {alternate_id} is not an alternate of proposal {proposal_id} "
            "(it must be another proposal of the same need in the same run)"
        )
    # Check both steps before changing anything, so a refusal leaves both untouched.
    _check_version(proposal, version)
    _check_version(alternate, alternate_version)
    check_transition(proposal.status, "rejected")
    check_transition(alternate.status, "accepted")
    text = _clean(reason)
    _set_status(
        session,
        proposal,
        "rejected",
        user_id=user_id,
        version=version,
        action="reject",
        note=ALTERNATE_CHOSEN,
    )
    review = _review(
        session, proposal, "alternate", user_id, text or ALTERNATE_CHOSEN, alternate.id
    )
    outcome = _accept(
        session,
        alternate,
        user_id=user_id,
        version=alternate_version,
        reason=text,
        alternate_of=proposal.id,
    )
    outcome.proposal, outcome.review = proposal, review
    return outcome


def veto(
    session: Session,
    proposal_id: int,
    *,
    user_id: int | None,
    version: int | None,
    reason: str | None,
) -> Outcome:
    """Exclude the provider → recipient pair from future runs and reject this proposal."""
    proposal, review, text = _refuse(
        session, proposal_id, user_id=user_id, version=version, reason=reason, kind="veto"
    )
    existing = session.exec(
        select(Veto).where(Veto.provider == proposal.provider, Veto.recipient == proposal.recipient)
    ).first()
    pair_veto = existing
    if existing is None:
        pair_veto = Veto(
            provider=proposal.provider,
            recipient=proposal.recipient,
            reason=text,
            created_by=user_id,
        )
        session.add(pair_veto)
        session.flush()
        record_event(
            session,
            user_id=user_id,
            action="create",
            entity="veto",
            entity_id=pair_veto.id or 0,
            after=snapshot(pair_veto),
            note=f"from proposal {proposal.id}",
        )
    session.flush()
    return Outcome(proposal=proposal, review=review, veto=pair_veto)


def decide(
    session: Session,
    proposal_id: int,
    decision: str,
    *,
    user_id: int | None,
    version: int | None,
    reason: str | None = None,
    alternate_id: int | None = None,
) -> Outcome:
    """One secretariat decision: ``accept``, ``reject``, ``alternate`` or ``veto``."""
    if decision == "accept":
        return accept(session, proposal_id, user_id=user_id, version=version, reason=reason)
    if decision == "reject":
        return reject(session, proposal_id, user_id=user_id, version=version, reason=reason)
    if decision == "alternate":
        return choose_alternate(
            session, proposal_id, alternate_id, user_id=user_id, version=version, reason=reason
        )
    if decision == "veto":
        return veto(session, proposal_id, user_id=user_id, version=version, reason=reason)
    raise ProposalError(f"unknown decision {decision!r} (expected one of {', '.join(DECISIONS)})")


# ----------------------------------------------------------------------------- focal points


def side_of(proposal: StoredProposal, country: str | None) -> str | None:
    """``provider``, ``recipient`` or None: which side of the proposal ``country`` is on."""
    if country and country == proposal.provider:
        return "provider"
    if country and country == proposal.recipient:
        return "recipient"
    return None


def _with_note(current: str | None, side: str, note: str | None) -> str | None:
    """Keep one line per side (``provider: …`` / ``recipient: …``) in ``Proposal.note``."""
    lines = [line for line in (current or "").splitlines() if not line.startswith(f"{side}: ")]
    if note:
        lines.append(f"{side}: {' '.join(note.split())}")
    return "\n".join(lines) or None


def notes_by_side(proposal: StoredProposal) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in (proposal.note or "").splitlines():
        side, sep, text = line.partition(": ")
        if sep and side in ("provider", "recipient"):
            out[side] = text
    return out


def respond(
    session: Session,
    proposal_id: int,
    response: str,
    *,
    user_id: int | None,
    country: str | None,
    version: int | None,
    note: str | None = None,
) -> StoredProposal:
    """A focal point's answer for their country's side of the proposal.

    Provider side: ``confirm`` / ``decline`` availability (status provider_confirmed/declined).
    Recipient side: ``fits`` / ``does_not_fit`` (``recipient_fit``; may be changed while the
    proposal is open). Another country's focal point gets :class:`ForbiddenError`.
    """
    proposal = get_proposal(session, proposal_id)
    if response not in RESPONSES:
        raise ProposalError(
            f"unknown response {response!r} (expected one of {', '.join(RESPONSES)})"
        )
    side = side_of(proposal, country)
    wanted = "provider" if response in PROVIDER_RESPONSES else "recipient"
    if side is None:
        raise ForbiddenError("this proposal does not involve your country")
    if side != wanted:
        raise ForbiddenError(
            "only the provider country's focal point confirms or declines availability"
            if wanted == "provider"
            else "only the recipient country's focal point says whether a proposal fits"
        )
    text = _clean(note)
    _check_version(proposal, version)
    if wanted == "provider":
        _set_status(
            session,
            proposal,
            PROVIDER_RESPONSES[response],
            user_id=user_id,
            version=version,
            action=response,
            note=text,
            extra={"note": _with_note(proposal.note, "provider", text)},
        )
        session.flush()
        return proposal
    if proposal.status in FINAL:
        raise IllegalTransitionError(
            proposal.status,
            proposal.status,
            f"this proposal is {proposal.status}: it can no longer be answered",
        )
    before = snapshot(proposal)
    proposal.recipient_fit = RECIPIENT_RESPONSES[response]
    proposal.note = _with_note(proposal.note, "recipient", text)
    proposal.updated_at = utcnow()
    proposal.updated_by = user_id
    session.add(proposal)
    record_event(
        session,
        user_id=user_id,
        action=response,
        entity="proposal",
        entity_id=proposal.id or 0,
        before=before,
        after=snapshot(proposal),
        note=text,
    )
    session.flush()
    return proposal


# ----------------------------------------------------------------------------- queries


def _contains(column: Any, value: str) -> Any:
    """``column`` (a JSON list kept as text) holds ``value``.

    The column's type would JSON-encode the LIKE pattern itself, so compare it as plain text."""
    return type_coerce(col(column), Text).contains(f'"{value}"')


@dataclass(frozen=True)
class Filters:
    """What a list of proposals is narrowed to (every field optional)."""

    statuses: tuple[str, ...] = QUEUE_DEFAULT
    theme: str | None = None
    region: str | None = None
    country: str | None = None
    min_score: float | None = None
    max_score: float | None = None
    run_id: int | None = None
    need: str | None = None
    involving: str | None = None  # a focal point's country: provider or recipient
    sort: str = "score"


SORTS = ("score", "score_asc", "date", "date_asc", "need")


@dataclass(frozen=True)
class Row:
    proposal: StoredProposal
    need_title: str
    capacity_title: str


@dataclass(frozen=True)
class Page:
    items: list[Row]
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size)) if self.size else 1


def check_filters(filters: Filters) -> None:
    """Refuse filters that cannot mean anything, with a message saying what is expected."""
    unknown = [s for s in filters.statuses if s not in STATUSES]
    if unknown:
        raise ProposalError(
            f"unknown status {unknown[0]!r} (expected one of {', '.join(STATUSES)})"
        )
    if filters.sort not in SORTS:
        raise ProposalError(f"unknown sort {filters.sort!r} (expected one of {', '.join(SORTS)})")
    for name, value in (("min_score", filters.min_score), ("max_score", filters.max_score)):
        if value is not None and not (0.0 <= value <= 1.0):
            raise ProposalError(f"{name} must lie between 0 and 1")
    if (
        filters.min_score is not None
        and filters.max_score is not None
        and filters.min_score > filters.max_score
    ):
        raise ProposalError("min_score must not be above max_score")


def list_proposals(
    session: Session, filters: Filters, page: int = 1, size: int = 25, *, viewer: Viewer
) -> Page:
    """Proposals matching ``filters`` that ``viewer`` may see
    (:mod:`~sscmatch.workflow.visibility`), sorted and paged (``page`` counts from 1).

    Counted and ordered on the proposal table alone (every proposal has its need and capacity:
    foreign keys), joined to the need only for a theme filter; the page's rows are then read
    with their titles by id. Sorting whole rows (with their JSON explanations) was most of the
    queue's time."""
    check_filters(filters)
    conditions: list[Any] = [visibility.visible(StoredProposal, viewer)]
    if filters.statuses:
        conditions.append(col(StoredProposal.status).in_(filters.statuses))
    if filters.theme:
        themed = select(Need.id).where(_contains(Need.themes, filters.theme))
        conditions.append(col(StoredProposal.need).in_(themed))
    if filters.region:
        in_region = select(Country.code).where(Country.region == filters.region)
        conditions.append(
            or_(
                col(StoredProposal.recipient).in_(in_region),
                col(StoredProposal.provider).in_(in_region),
            )
        )
    for country in (filters.country, filters.involving):
        if country:
            conditions.append(
                or_(
                    col(StoredProposal.provider) == country,
                    col(StoredProposal.recipient) == country,
                )
            )
    if filters.min_score is not None:
        conditions.append(col(StoredProposal.score) >= filters.min_score)
    if filters.max_score is not None:
        conditions.append(col(StoredProposal.score) <= filters.max_score)
    if filters.run_id is not None:
        conditions.append(StoredProposal.run_id == filters.run_id)
    if filters.need:
        conditions.append(StoredProposal.need == filters.need)
    total = session.exec(select(func.count(col(StoredProposal.id))).where(*conditions)).one()
    orders: dict[str, list[Any]] = {
        "score": [col(StoredProposal.score).desc()],
        "score_asc": [col(StoredProposal.score).asc()],
        "date": [col(StoredProposal.created_at).desc()],
        "date_asc": [col(StoredProposal.created_at).asc()],
        "need": [col(StoredProposal.need), col(StoredProposal.rank)],
    }
    order = orders[filters.sort]
    page = max(1, page)
    ids = list(
        session.exec(
            select(StoredProposal.id)
            .where(*conditions)
            .order_by(*order, col(StoredProposal.id).desc())
            .offset((page - 1) * size)
            .limit(size)
        ).all()
    )
    found = (
        {
            p.id: (p, need_title, cap_title)
            for p, need_title, cap_title in session.exec(
                select(StoredProposal, Need.title, Capacity.title)
                .join(Need, col(Need.id) == col(StoredProposal.need))
                .join(Capacity, col(Capacity.id) == col(StoredProposal.capacity))
                .where(col(StoredProposal.id).in_(ids))
            ).all()
        }
        if ids
        else {}
    )
    return Page(
        items=[Row(*found[i]) for i in ids if i in found],
        number=page,
        size=size,
        total=int(total),
    )


def regions(session: Session) -> list[str]:
    """The M49 regions of the countries (for a filter)."""
    found = session.exec(select(Country.region).where(Country.region != "").distinct()).all()
    return sorted(found)


def _families(session: Session, vocab: Vocabulary) -> dict[str, str]:
    """Theme id → its top-level theme (two-level tree; bundle themes included)."""
    parents = {t.id: t.parent for t in vocab.themes.values()}
    for extra in session.exec(select(Theme)):
        parents.setdefault(extra.id, extra.parent)

    def root(theme: str) -> str:
        seen = set()
        while parents.get(theme) and theme not in seen:
            seen.add(theme)
            theme = parents[theme] or theme
        return theme

    return {t: root(t) for t in parents}


@dataclass(frozen=True)
class Evidence:
    """The past exchanges behind a proposal's reasons."""

    between: list[Exchange]
    on_themes: list[Exchange]


def evidence(
    session: Session, proposal: StoredProposal, vocab: Vocabulary, limit: int = 20
) -> Evidence:
    """Exchanges between provider and recipient, and the provider's exchanges on the need's
    themes (the same theme or the same theme family), newest first."""
    need = session.get(Need, proposal.need)
    involving = session.exec(
        select(Exchange).where(
            or_(
                _contains(Exchange.providers, proposal.provider),
                _contains(Exchange.participants, proposal.provider),
            )
        )
    ).all()
    involving = sorted(involving, key=lambda e: (e.start, e.id), reverse=True)
    between = [
        e for e in involving if proposal.recipient in (*e.recipients, *e.participants, *e.providers)
    ]
    families = _families(session, vocab)
    need_themes = set(need.themes if need else ())
    need_families = {families.get(t, t) for t in need_themes}
    on_themes = [
        e
        for e in involving
        if proposal.provider in e.providers
        and any(t in need_themes or families.get(t, t) in need_families for t in e.themes)
    ]
    return Evidence(between=between[:limit], on_themes=on_themes[:limit])


def history(session: Session, proposal_id: int) -> list[Review]:
    return list(
        session.exec(
            select(Review)
            .where(Review.proposal_id == proposal_id)
            .order_by(col(Review.created_at), col(Review.id))
        ).all()
    )


def breakdown(proposal: StoredProposal) -> list[tuple[str, float, float]]:
    """(factor, component in [0, 1], weighted contribution to the score), largest first."""
    stored = proposal.components or {}
    components: dict[str, float] = stored.get("components", {})
    contributions: dict[str, float] = stored.get("contributions", {})
    factors = sorted(components, key=lambda f: -float(contributions.get(f, 0.0)))
    return [(f, float(components[f]), float(contributions.get(f, 0.0))) for f in factors]


def to_dict(proposal: StoredProposal) -> dict[str, Any]:
    """The public JSON shape of a stored proposal (``sscmatch match --json`` plus review state)."""
    stored = proposal.components or {}
    return {
        "id": proposal.id,
        "run": proposal.run_id,
        "need": proposal.need,
        "recipient": proposal.recipient,
        "rank": proposal.rank,
        "provider": proposal.provider,
        "capacity": proposal.capacity,
        "score": round(proposal.score, 6),
        "components": stored.get("components", {}),
        "contributions": stored.get("contributions", {}),
        "damping": stored.get("damping", 1.0),
        "reasons": list(proposal.reasons),
        "status": proposal.status,
        "recipient_fit": proposal.recipient_fit,
        "notes": notes_by_side(proposal),
        "version": proposal.version,
        "created_at": proposal.created_at.isoformat(),
        "updated_at": proposal.updated_at.isoformat(),
    }


def review_to_dict(review: Review) -> dict[str, Any]:
    return {
        "id": review.id,
        "decision": review.decision,
        "reason": review.reason,
        "alternate": review.alternate_id,
        "reviewer": review.reviewer_id,
        "at": review.created_at.isoformat(),
    }


def run_to_dict(run: MatchRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "status": run.status,
        "created_at": run.created_at.isoformat(),
        "created_by": run.created_by,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "as_of": run.as_of,
        "top": run.top_k,
        "needs": (run.params or {}).get("needs", []),
        "needs_total": run.needs_total,
        "needs_done": run.needs_done,
        "proposals": run.proposal_count,
        "error": run.error,
    }


def open_need_ids(session: Session, ids: Sequence[str] = ()) -> list[str]:
    query = select(Need.id).where(Need.status == "open").order_by(col(Need.id))
    if ids:
        query = query.where(col(Need.id).in_(ids))
    return list(session.exec(query).all())
