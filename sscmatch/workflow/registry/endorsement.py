"""A need's endorsement: a focal point submits it, the secretariat endorses it (open) or
returns it (draft, with a note).

A submission is taken back by :func:`take_back_submission` while it waits for endorsement (a
draft with ``submitted_at`` set): by the country's focal points, the secretariat or an admin; the
need is a draft again, to change or submit later. Once endorsed or returned there is nothing to
take back (the page and the API say so).

An endorsement is undone by :func:`withdraw_endorsement` (the need waits for endorsement again)
as long as nothing has been built on it: no match run has proposed a provider for it and no
study tour names it. After that the need's proposals are its history, and the secretariat works
with them (decide, reopen) instead."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from sscmatch.models import Need, Proposal, StudyTour, utcnow
from sscmatch.schemas import (
    MAX_TEXT,
)
from sscmatch.workflow.audit import record_event, snapshot
from sscmatch.workflow.base import EDITORS, N_, Actor
from sscmatch.workflow.registry.errors import Conflict, Forbidden, InvalidRecord
from sscmatch.workflow.registry.records import claim_version, require_edit
from sscmatch.workflow.registry.search import get_need


def need_step(
    session: Session,
    actor: Actor,
    need_id: str,
    version: Any,
    action: str,
    change: Callable[[Need], None],
    note: str | None = None,
) -> Need:
    """Every step of a need, written one way: on the version the caller read (a stale one is
    :class:`~sscmatch.db.StaleVersion`), ``change`` applied, audited as ``action``."""
    record = get_need(session, need_id)
    before = snapshot(record)
    claim_version(record, version, required=False)
    change(record)
    record.updated_at = utcnow()
    record.updated_by = actor.id
    session.flush()
    record_event(
        session,
        user_id=actor.id,
        action=action,
        entity="need",
        entity_id=record.id,
        before=before,
        after=snapshot(record),
        note=note,
    )
    return record


def submit_need(session: Session, actor: Actor, need_id: str, version: Any = None) -> Need:
    """A focal point (or the secretariat for them) asks for endorsement of a draft need."""
    record = get_need(session, need_id)
    require_edit(actor, record.country, "need")
    if record.status != "draft":
        raise Conflict(
            N_("Only a draft need can be submitted; this one is %(status)s."), status=record.status
        )
    if record.submitted_at is not None:
        raise Conflict(N_("This need is already submitted and waits for endorsement."))

    def change(need: Need) -> None:
        need.submitted_at = utcnow()

    return need_step(session, actor, need_id, version, "submit", change)


def take_back_submission(session: Session, actor: Actor, need_id: str, version: Any = None) -> Need:
    """A focal point (or the secretariat) takes back a submission that waits for endorsement:
    the need is a draft again, no longer waiting for the secretariat."""
    record = get_need(session, need_id)
    require_edit(actor, record.country, "need")
    if record.status != "draft" or record.submitted_at is None:
        raise Conflict(
            N_(
                "Only a submission that waits for endorsement can be taken back; this need is "
                "%(status)s and not waiting (already endorsed, returned or never submitted)."
            ),
            status=record.status,
        )

    def change(need: Need) -> None:
        need.submitted_at = None

    return need_step(session, actor, need_id, version, action="take_back", change=change)


def _require_secretariat(actor: Actor) -> None:
    if actor.role not in EDITORS:
        raise Forbidden(N_("Only the technical secretariat endorses or returns needs."))


def _require_submitted(record: Need) -> None:
    if record.status != "draft" or record.submitted_at is None:
        raise Conflict(
            N_("Only a submitted draft need can be endorsed or returned; this one is %(status)s.")
            if record.submitted_at
            else N_(
                "Only a submitted draft need can be endorsed or returned; this one is "
                "%(status)s and not submitted."
            ),
            status=record.status,
        )


def endorse_need(session: Session, actor: Actor, need_id: str, version: Any = None) -> Need:
    """The secretariat endorses a submitted need: it opens (matching will consider it)."""
    _require_secretariat(actor)
    _require_submitted(get_need(session, need_id))

    def change(need: Need) -> None:
        need.status = "open"
        need.review_note = None

    return need_step(session, actor, need_id, version, "endorse", change)


def return_need(
    session: Session, actor: Actor, need_id: str, note: str, version: Any = None
) -> Need:
    """The secretariat returns a submitted need to its focal point with a note to act on."""
    _require_secretariat(actor)
    text = note.strip() if isinstance(note, str) else ""
    if not text:
        raise InvalidRecord({"note": "say what the focal point should change (a note is required)"})
    if len(text) > MAX_TEXT:
        raise InvalidRecord({"note": f"too long (at most {MAX_TEXT} characters)"})
    _require_submitted(get_need(session, need_id))

    def change(need: Need) -> None:
        need.status = "draft"
        need.submitted_at = None
        need.review_note = text

    return need_step(session, actor, need_id, version, "return", change, note=text)


def withdraw_endorsement(session: Session, actor: Actor, need_id: str, version: Any = None) -> Need:
    """Undo an endorsement: the open need waits for endorsement again (a submitted draft), while
    no match run has proposed for it and no study tour names it."""
    _require_secretariat(actor)
    record = get_need(session, need_id)
    if record.status != "open":
        raise Conflict(
            N_("Only an open need's endorsement can be withdrawn; this one is %(status)s."),
            status=record.status,
        )
    built_on = (
        session.exec(
            select(func.count()).select_from(Proposal).where(Proposal.need == need_id)
        ).one()
        + session.exec(
            select(func.count()).select_from(StudyTour).where(StudyTour.need == need_id)
        ).one()
    )
    if built_on:
        raise Conflict(
            N_(
                "This need's endorsement can no longer be withdrawn: a match run has proposed "
                "providers for it, or a study tour names it. Decide its proposals instead."
            )
        )

    def change(need: Need) -> None:
        need.status = "draft"
        need.submitted_at = need.submitted_at or utcnow()

    return need_step(session, actor, need_id, version, "withdraw_endorsement", change)
