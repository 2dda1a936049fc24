"""Both countries agree to a study tour before it is *agreed*.

A focal point's "agreed" records their own side's agreement (an audit event ``agree`` on the
tour, naming the side: no table of its own, so no migration); the tour becomes agreed when the
other side has agreed too. The secretariat and admins record it for both sides at once: their
"agreed" moves the tour at once.

**What an agreement is given to.** Agreements count from the tour's last status change *and* its
last edit of content (the tour editor's audit action ``update`` that changed a field other than
bookkeeping: the title, modality, objective, expected change, dates, languages, interpretation,
agenda, delegation, funders or cost). A tour set back to proposed (or to draft and proposed
again) waits for both sides anew, which is also how a side's agreement is undone (the secretariat
sets the tour back); and a side never agrees to terms it did not see: an edit after its agreement
clears it, and :attr:`Agreement.cleared` says which fields changed after which side agreed, for
the page and the API to say that side's agreement is asked again.

**Races.** Recording an agreement is a versioned change of the tour (:func:`record_agreement`
sets ``updated_at``/``updated_by``, so the shared optimistic lock of :mod:`sscmatch.db` moves its
version): of two sides agreeing at the same moment from the same version, the second writer's
flush finds the row changed and gets the stale-version answer (409, nothing recorded); on retry
it sees the first side's agreement and its own moves the tour. And should both sides ever be
found agreed while the tour is still proposed (a trail written before this rule), either side's
"agreed" moves it instead of being refused as already given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from sscmatch.models import AuditEvent, StudyTour, utcnow
from sscmatch.workflow.audit import record_event, snapshot
from sscmatch.workflow.base import EDITORS, Actor
from sscmatch.workflow.tours.base import TourConflict

SIDES = ("host", "visiting")  # as the page names them (the host first)
AGREE = "agree"  # the audit action that stores one side's agreement
EDIT = "update"  # the audit action of the tour editor (lifecycle.update_tour)
# Fields of a snapshot that an edit may move without changing what the sides agree to.
BOOKKEEPING = frozenset({"version", "updated_at", "updated_by", "created_at", "created_by"})


class TourAlreadyAgreed(TourConflict):
    """This side has agreed already; the other side is awaited (409, ``already_agreed``)."""

    code = "already_agreed"


@dataclass(frozen=True)
class Agreement:
    """Which sides of a proposed tour have agreed to it since it last changed status."""

    host: bool = False
    visiting: bool = False
    # (side, fields changed after it agreed): agreements an edit cleared, newest first, for the
    # sides that have not agreed again since
    cleared: tuple[tuple[str, tuple[str, ...]], ...] = field(default=())

    def has(self, side: str) -> bool:
        return bool(getattr(self, side))

    @property
    def agreed(self) -> list[str]:
        return [s for s in SIDES if self.has(s)]

    @property
    def awaited(self) -> list[str]:
        return [s for s in SIDES if not self.has(s)]

    @property
    def complete(self) -> bool:
        return not self.awaited


def side_of(tour: StudyTour, user: Actor) -> str | None:
    """The side a focal point speaks for on ``tour`` (None for the secretariat and admins, who
    speak for both, and for anyone else)."""
    if user.role in EDITORS or user.role != "focal_point":
        return None
    if user.country == tour.host_country:
        return "host"
    if user.country == tour.visiting_country:
        return "visiting"
    return None


def country_of(tour: StudyTour, side: str) -> str:
    return tour.host_country if side == "host" else tour.visiting_country


def edited_fields(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[str]:
    """The fields of the tour an edit changed (bookkeeping left out), in the snapshot's order."""
    before, after = before or {}, after or {}
    keys = list(dict.fromkeys([*after, *before]))
    return [k for k in keys if k not in BOOKKEEPING and before.get(k) != after.get(k)]


def agreement(session: Session, tour: StudyTour) -> Agreement:
    """The sides that agreed to ``tour`` since its last status change and its last edit of
    content (both once it is agreed or further on; none while it is a draft), and the
    agreements an edit cleared since the last status change."""
    if tour.status != "proposed":
        both = tour.status not in ("draft", "cancelled")
        return Agreement(host=both, visiting=both)
    events = session.exec(
        select(AuditEvent.action, AuditEvent.before, AuditEvent.after)
        .where(AuditEvent.entity == "study_tour", AuditEvent.entity_id == tour.id)
        .where(
            col(AuditEvent.action).startswith("status:") | col(AuditEvent.action).in_((AGREE, EDIT))
        )
        .order_by(col(AuditEvent.id).desc())
    )
    found: dict[str, bool] = {}
    changed: list[str] = []  # the fields edited since, newest edit first
    cleared: dict[str, tuple[str, ...]] = {}
    for action, before, after in events:
        if action.startswith("status:"):
            break  # the last status change: agreements before it no longer count
        if action == EDIT:
            changed += [f for f in edited_fields(before, after) if f not in changed]
            continue
        side = (after or {}).get("side")
        if side not in SIDES:
            continue
        if not changed:
            found[side] = True
        elif side not in found and side not in cleared:
            cleared[side] = tuple(changed)
    return Agreement(**found, cleared=tuple(cleared.items()))


def record_agreement(
    session: Session, tour: StudyTour, side: str, user_id: int | None, note: str | None
) -> Agreement:
    """Record ``side``'s agreement to ``tour``, a change of the tour (its version moves: of two
    sides agreeing from the same version, the second gets the stale-version answer); returns
    the agreement with it."""
    before = snapshot(tour)
    tour.updated_at = utcnow()
    tour.updated_by = user_id
    session.add(tour)
    record_event(
        session,
        user_id=user_id,
        action=AGREE,
        entity="study_tour",
        entity_id=tour.id,
        before=before,
        after={"side": side, "country": country_of(tour, side)},
        note=note,
    )
    session.flush()
    return agreement(session, tour)
