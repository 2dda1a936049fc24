"""Audit trail: every change records who, when, what, and the record before and after.

Every change passes here, so this is also where the people a change concerns are told of it
(:func:`sscmatch.workflow.notices.announce`)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, SQLModel, col, select

from sscmatch.models import AuditEvent, utcnow
from sscmatch.schemas import json_value
from sscmatch.workflow import notices

# Secrets, and the counter that ends sessions (an event's note says when that happened).
_SKIP = {"password_hash", "api_token_hash", "auth_version"}


def snapshot(record: SQLModel | None) -> dict[str, Any] | None:
    """The record's fields as plain JSON values (secrets left out), or None."""
    if record is None:
        return None
    values: dict[str, Any] = {}
    periods: tuple[str, ...] = getattr(record, "__periods__", ())
    # A partial date as its text (``2014-03``), as before it had a date and a precision column.
    columns = {f"{name}_{part}" for name in periods for part in ("date", "precision")}
    for name in type(record).model_fields:
        if name in _SKIP or name in columns:
            continue
        value = getattr(record, name)
        values[name] = json_value(value)
    for name in periods:
        period = getattr(record, name)
        values[name] = None if period is None else str(period)
    return values


def record_event(
    session: Session,
    *,
    user_id: int | None,
    action: str,
    entity: str,
    entity_id: str | int,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str | None = None,
    note_code: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to the session (the caller's transaction commits it with the change).

    ``note`` is a person's own words; what the service says is ``note_code`` (a message code
    and its parameters, shown in the reader's language)."""
    event = AuditEvent(
        user_id=user_id,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        before=before,
        after=after,
        note=note,
        note_code=note_code,
    )
    session.add(event)
    notices.announce(session, event)
    return event


def change_status(
    session: Session,
    record: Any,
    status: str,
    *,
    entity: str,
    user_id: int | None,
    action: str,
    note: str | None,
    note_code: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """Set a record's status (and who changed it, when) and audit the change with the record
    before and after; returns the snapshot before."""
    before = snapshot(record)
    record.status = status
    record.updated_at = utcnow()
    record.updated_by = user_id
    session.add(record)
    record_event(
        session,
        user_id=user_id,
        action=action,
        entity=entity,
        entity_id=record.id,
        before=before,
        after=snapshot(record),
        note=note,
        note_code=note_code,
    )
    return before


def snapshot_at(
    session: Session, entity: str, entity_id: str | int, version: int
) -> dict[str, Any] | None:
    """The record ``entity_id`` as it was at ``version``, from the audit trail, or None when the
    trail does not hold it.

    Each change records the record *before* it (taken before anything of the change is set, so
    it holds the version that was changed); the first event whose ``before`` is at ``version``
    is the record at that version. ``after`` is not used: some changes take it before the write
    that moves the version, so its ``version`` may still be the old one."""
    events = session.exec(
        select(AuditEvent)
        .where(AuditEvent.entity == entity, AuditEvent.entity_id == str(entity_id))
        .order_by(col(AuditEvent.id))
    )
    for event in events:
        before = event.before or {}
        if before.get("version") == version:
            return before
    return None


def changed_by_them_alone(
    session: Session, entity: str, entity_id: str | int, version: int, user_id: int | None
) -> bool:
    """Whether every change made to the record since ``version`` (there is one at least) was
    made by ``user_id``: a request refused as stale that only meets its sender's own change (a
    second click, the same form sent again, another tab of theirs), which is then told so,
    rather than that someone else changed the record. The trail's ``before`` holds the version
    each change changed (see :func:`snapshot_at`)."""
    if user_id is None:
        return False
    found = False
    events = session.exec(
        select(AuditEvent).where(
            AuditEvent.entity == entity, AuditEvent.entity_id == str(entity_id)
        )
    )
    for event in events:
        changed = (event.before or {}).get("version")
        if isinstance(changed, int) and changed >= version:
            if event.user_id != user_id:
                return False
            found = True
    return found
