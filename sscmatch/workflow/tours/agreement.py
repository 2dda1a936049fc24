"""Both countries agree to a study tour before it is *agreed*.

A focal point's "agreed" records their own side's agreement (an audit event ``agree`` on the
tour, naming the side: no table of its own, so no migration); the tour becomes agreed when the
other side has agreed too. The secretariat and admins record it for both sides at once: their
"agreed" moves the tour at once. Agreements count from the tour's last status change, so a tour
set back to proposed (or to draft and proposed again) waits for both sides anew; that is also
how a side's agreement is undone (the secretariat sets the tour back).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from sscmatch.models import AuditEvent, StudyTour
from sscmatch.workflow.audit import record_event
from sscmatch.workflow.base import EDITORS, Actor
from sscmatch.workflow.tours.base import TourConflict

SIDES = ("host", "visiting")  # as the page names them (the host first)
AGREE = "agree"  # the audit action that stores one side's agreement


class TourAlreadyAgreed(TourConflict):
    """This side has agreed already; the other side is awaited (409, ``already_agreed``)."""

    code = "already_agreed"


@dataclass(frozen=True)
class Agreement:
    """Which sides of a proposed tour have agreed to it since it last changed status."""

    host: bool = False
    visiting: bool = False

    def has(self, side: str) -> bool:
        return bool(getattr(self, side))

    @property
    def agreed(self) -> list[str]:
        return [s for s in SIDES if self.has(s)]

    @property
    def awaited(self) -> list[str]:
        return [s for s in SIDES if not self.has(s)]


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


def agreement(session: Session, tour: StudyTour) -> Agreement:
    """The sides that agreed to ``tour`` since its last status change (both once it is agreed
    or further on; none while it is a draft)."""
    if tour.status != "proposed":
        both = tour.status not in ("draft", "cancelled")
        return Agreement(host=both, visiting=both)
    events = session.exec(
        select(AuditEvent.action, AuditEvent.after)
        .where(AuditEvent.entity == "study_tour", AuditEvent.entity_id == tour.id)
        .where(col(AuditEvent.action).startswith("status:") | (col(AuditEvent.action) == AGREE))
        .order_by(col(AuditEvent.id).desc())
    )
    found: dict[str, bool] = {}
    for action, after in events:
        if action != AGREE:
            break  # the last status change: agreements before it no longer count
        side = (after or {}).get("side")
        if side in SIDES:
            found[side] = True
    return Agreement(**found)


def record_agreement(
    session: Session, tour: StudyTour, side: str, user_id: int | None, note: str | None
) -> Agreement:
    """Record ``side``'s agreement to ``tour``; returns the agreement with it."""
    record_event(
        session,
        user_id=user_id,
        action=AGREE,
        entity="study_tour",
        entity_id=tour.id,
        after={"side": side, "country": country_of(tour, side)},
        note=note,
    )
    session.flush()
    return agreement(session, tour)
