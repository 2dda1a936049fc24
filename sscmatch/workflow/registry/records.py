"""Writing the registry: create and update capacities, needs and exchanges (the editors' rule,
references to known records, validation by the schemas, versions, audit)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, SQLModel

from sscmatch.db import BadVersion, expect_version
from sscmatch.models import Capacity, Exchange, Institution, Need, Theme, utcnow
from sscmatch.schemas import (
    CapacityCreate,
    ExchangeCreate,
    NeedCreate,
)
from sscmatch.vocab import Vocabulary
from sscmatch.workflow import ids
from sscmatch.workflow.audit import record_event, snapshot
from sscmatch.workflow.base import EDITORS, N_, Actor, can_edit
from sscmatch.workflow.proposals.offers import restore_republished, withdraw_unpublished
from sscmatch.workflow.registry.errors import Conflict, Forbidden, InvalidRecord, invalid
from sscmatch.workflow.registry.search import get_capacity, get_exchange, get_need

NOUNS = {
    "capacity": (N_("capacity"), N_("capacities")),
    "need": (N_("need"), N_("needs")),
    "exchange": (N_("exchange"), N_("exchanges")),
}
"""A record's kind named in a message, singular and plural (each a message of the catalogue,
said in the reader's language with the message)."""


def require_edit(actor: Actor, country: str | None, what: str) -> None:
    if can_edit(actor, country):
        return
    one, many = NOUNS.get(what, (what, what + "s"))
    if actor.role == "focal_point":
        raise Forbidden(
            N_("You may change only %(own)s's records; this %(what)s belongs to %(country)s."),
            own=actor.country,
            what=one,
            country=country,
        )
    raise Forbidden(N_("Your role (%(role)s) may not change %(what)s."), role=actor.role, what=many)


def next_id(
    session: Session,
    model: type[Capacity] | type[Need] | type[Exchange],
    prefix: str,
    year: int,
) -> str:
    """The next free id ``PREFIX-YEAR-NNNN`` (``C-2026-0001``), safe under concurrent creation
    (:func:`sscmatch.workflow.ids.next_id`)."""
    return ids.next_id(session, model, f"{prefix}-{year}-")


def _check_references(
    session: Session,
    vocab: Vocabulary,
    themes: Sequence[str],
    institution: str | None,
    country: str | None,
) -> None:
    errors: dict[str, str] = {}
    unknown = [t for t in themes if t not in vocab.themes and session.get(Theme, t) is None]
    if unknown:
        hints = []
        for theme in unknown:
            resolved = vocab.resolve_theme(theme)
            hints.append(
                f"{theme!r} (did you mean {resolved.value}?)" if resolved.ok else repr(theme)
            )
        errors["themes"] = "unknown theme " + ", ".join(hints)
    if institution:
        found = session.get(Institution, institution)
        if found is None:
            errors["institution"] = f"unknown institution {institution!r}"
        elif country and found.country != country and not found.international:
            errors["institution"] = (
                f"institution {institution!r} belongs to {found.country}, not {country}"
            )
        elif not country and not found.international:
            errors["country"] = (
                "country is required (only a record held by an international or regional body "
                f"has none, and {found.name} is not one)"
            )
    if errors:
        raise InvalidRecord(errors)


def _validate(schema: type[Any], data: dict[str, Any]) -> Any:
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        raise invalid(exc) from None


def claim_version(record: Any, expected: Any, *, required: bool = True) -> None:
    """Tie this change to the version the editor read (:func:`sscmatch.db.expect_version`: a
    stale one is :class:`~sscmatch.db.StaleVersion`, 409); a missing or malformed one is a
    field error."""
    try:
        expect_version(record, expected, required=required)
    except BadVersion as exc:
        raise InvalidRecord({"version": str(exc)}) from None


_CAPACITY_FIELDS = tuple(CapacityCreate.model_fields)
_NEED_FIELDS = tuple(NeedCreate.model_fields)
_EXCHANGE_FIELDS = tuple(ExchangeCreate.model_fields)


def _merge(record: SQLModel, fields: Sequence[str], data: dict[str, Any]) -> dict[str, Any]:
    current = {name: getattr(record, name) for name in fields}
    return {**current, **data}


def _apply(record: SQLModel, values: dict[str, Any], actor: Actor) -> None:
    for name, value in values.items():
        setattr(record, name, value)
    setattr(record, "updated_at", utcnow())  # noqa: B010 - every editable record is Tracked
    setattr(record, "updated_by", actor.id)  # noqa: B010


def _owner_country(actor: Actor, data: dict[str, Any]) -> Any:
    """A focal point's record is their country's; others name the country in the data."""
    given = data.get("country")
    if actor.role == "focal_point":
        if given not in (None, "") and str(given).strip().upper() != actor.country:
            raise Forbidden(
                N_("You may register records only for %(own)s, not for %(given)s."),
                own=actor.country,
                given=given,
            )
        return actor.country
    if actor.role not in EDITORS:
        raise Forbidden(N_("Your role (%(role)s) may not register records."), role=actor.role)
    return given


def create_capacity(
    session: Session, vocab: Vocabulary, actor: Actor, data: dict[str, Any], *, today: date
) -> Capacity:
    """Register a capacity from raw input (form or JSON); its id is ``C-YEAR-NNNN``
    unless ``data`` names a free one. ``today``: the day the service works on (the caller's:
    ``config.today``, a pinned TODAY in demos and tests), its ``created`` day."""
    data = dict(data)
    _refuse_service_fields(data)
    data["country"] = _owner_country(actor, data)
    data["created"] = today.isoformat()
    record = _create_record(
        session, vocab, actor, data, Capacity, CapacityCreate, ("capacity", "C", today.year)
    )
    assert isinstance(record, Capacity)
    return record


def _create_record(
    session: Session,
    vocab: Vocabulary,
    actor: Actor,
    data: dict[str, Any],
    model: type[Capacity] | type[Need],
    schema: type[CapacityCreate] | type[NeedCreate],
    named: tuple[str, str, int],
) -> Capacity | Need:
    """The shared part of registering a capacity or a need: id, validation, references, audit.
    ``named``: the entity's name, its ids' prefix and the year of a new id."""
    entity, prefix, year = named
    if not data.get("id"):
        data["id"] = next_id(session, model, prefix, year)
    valid = _validate(schema, data)  # first: " N-1 " is N-1, for the lookup too
    if session.get(model, valid.id) is not None:
        raise Conflict(
            N_("a %(entity)s with id %(id)s already exists"), entity=entity, id=repr(valid.id)
        )
    _check_references(session, vocab, valid.themes, valid.institution, valid.country)
    record = model(**valid.model_dump(), created_by=actor.id, updated_by=actor.id)
    session.add(record)
    session.flush()
    record_event(
        session,
        user_id=actor.id,
        action="create",
        entity=entity,
        entity_id=record.id,
        after=snapshot(record),
    )
    return record


def _update_record(
    session: Session,
    vocab: Vocabulary,
    actor: Actor,
    record: Capacity | Need,
    data: dict[str, Any],
    version: Any,
    *,
    partial: bool,
    fields: Any,
    kept: tuple[str, ...],
    schema: type[CapacityCreate] | type[NeedCreate],
    entity: str,
    on_change: dict[str, Any] | None = None,
    note: str | None = None,
) -> None:
    """The shared part of editing a capacity or a need: merge, validate, check references,
    claim the version, apply and audit. ``partial`` keeps the fields ``data`` leaves out;
    otherwise only ``kept`` survive and the rest take their defaults. ``on_change`` are further
    values set when the edit changes anything (``note`` then explains them in the audit)."""
    _refuse_service_fields(data, record)
    base = (
        _merge(record, fields, data)
        if partial
        else {**{name: getattr(record, name) for name in kept}, **data}
    )
    if base.get("country") != record.country:
        require_edit(actor, base.get("country"), entity)
    valid = _validate(schema, base)
    _check_references(session, vocab, valid.themes, valid.institution, valid.country)
    before = snapshot(record)
    claim_version(record, version)
    values = valid.model_dump()
    changed = any(getattr(record, name) != value for name, value in values.items())
    if changed and on_change:
        values.update(on_change)
    _apply(record, values, actor)
    session.flush()
    record_event(
        session,
        user_id=actor.id,
        action="update",
        entity=entity,
        entity_id=record.id,
        before=before,
        after=snapshot(record),
        note=note if changed and on_change else None,
    )


SERVICE_FIELDS = ("source", "created")
SET_BY_THE_SERVICE = N_(
    "set by the service, not by a form or the API (sources cite the documents of imported "
    "bundles; created is the day a record was registered)"
)
"""Fields the service sets: where a record came from (an imported document's citation) and the
day it was registered. A form or an API call cannot claim them."""


def _refuse_service_fields(data: dict[str, Any], record: Any = None) -> None:
    errors = {}
    for name in SERVICE_FIELDS:
        if name not in data or data[name] in (None, ""):
            continue
        if record is not None and data[name] == getattr(record, name, None):
            continue  # sent back as it was read
        errors[name] = SET_BY_THE_SERVICE
    if errors:
        raise InvalidRecord(errors)


def update_capacity(
    session: Session,
    vocab: Vocabulary,
    actor: Actor,
    capacity_id: str,
    data: dict[str, Any],
    version: Any,
    *,
    partial: bool = True,
) -> Capacity:
    """Change a capacity. ``version`` is the one the editor started from (stale → Conflict).
    ``partial`` keeps the fields ``data`` leaves out; otherwise they take their defaults."""
    record = get_capacity(session, capacity_id)
    require_edit(actor, record.country, "capacity")
    if "id" in data and str(data["id"]).strip() != record.id:
        raise InvalidRecord({"id": "the id of a record cannot change"})
    _update_record(
        session,
        vocab,
        actor,
        record,
        data,
        version,
        partial=partial,
        fields=_CAPACITY_FIELDS,
        kept=("id", "country", "created", "source"),
        schema=CapacityCreate,
        entity="capacity",
    )
    # no longer published: the proposals built on it leave play; published again: those its
    # withdrawal took out come back (proposals.offers)
    withdraw_unpublished(session, actor.id, [record.id])
    if record.status == "published":
        restore_republished(session, actor.id, [record.id])
    return record


def create_need(
    session: Session, vocab: Vocabulary, actor: Actor, data: dict[str, Any], *, today: date
) -> Need:
    """Register a need; a focal point's need is always a draft until endorsed. ``today`` as for
    :func:`create_capacity`."""
    data = dict(data)
    _refuse_service_fields(data)
    data["country"] = _owner_country(actor, data)
    data["created"] = today.isoformat()
    if actor.role == "focal_point":
        if data.get("status") not in (None, "", "draft"):
            raise Forbidden(
                N_("A focal point's new need is a draft; submit it for endorsement to open it.")
            )
        data["status"] = "draft"
    record = _create_record(
        session, vocab, actor, data, Need, NeedCreate, ("need", "N", today.year)
    )
    assert isinstance(record, Need)
    return record


def update_need(
    session: Session,
    vocab: Vocabulary,
    actor: Actor,
    need_id: str,
    data: dict[str, Any],
    version: Any,
    *,
    partial: bool = True,
) -> Need:
    """Change a need. A focal point cannot change its status (that is what endorsement does),
    and a change of theirs to an endorsed (open) need sends it back to the secretariat for
    endorsement: it is not matched again until endorsed. A matched or closed need is the
    secretariat's to change."""
    record = get_need(session, need_id)
    require_edit(actor, record.country, "need")
    back_to_endorsement: dict[str, Any] | None = None
    if actor.role == "focal_point":
        if record.status in ("matched", "closed"):
            raise Conflict(
                N_("This need is %(status)s; ask the secretariat if it must change."),
                status=record.status,
            )
        if record.status == "open":
            back_to_endorsement = {
                "status": "draft",
                "submitted_at": utcnow(),
                "review_note": None,
            }
    if "id" in data and str(data["id"]).strip() != record.id:
        raise InvalidRecord({"id": "the id of a record cannot change"})
    if (
        actor.role == "focal_point"
        and data.get("status") not in (None, "")
        and data.get("status") != record.status
    ):
        raise Forbidden(
            N_("A focal point cannot change a need's status; submit it for endorsement instead.")
        )
    _update_record(
        session,
        vocab,
        actor,
        record,
        data,
        version,
        partial=partial,
        fields=_NEED_FIELDS,
        kept=("id", "country", "created", "source", "status"),
        schema=NeedCreate,
        entity="need",
        on_change=back_to_endorsement,
        note="changed by its focal point after endorsement: submitted for endorsement again",
    )
    return record


def create_exchange(
    session: Session, vocab: Vocabulary, actor: Actor, data: dict[str, Any], *, today: date
) -> Exchange:
    """Record an exchange that happened (secretariat, admin); id ``E-YEAR-NNNN`` by default,
    the year of ``today`` (the caller's day, as for :func:`create_capacity`)."""
    if actor.role not in EDITORS:
        raise Forbidden(N_("Only the technical secretariat and admins record exchanges."))
    data = dict(data)
    _refuse_service_fields(data)
    if not data.get("id"):
        data["id"] = next_id(session, Exchange, "E", today.year)
    valid = _validate(ExchangeCreate, data)  # first: " E-1 " is E-1, for the lookup too
    if session.get(Exchange, valid.id) is not None:
        raise Conflict(N_("an exchange with id %(id)s already exists"), id=repr(valid.id))
    _check_references(session, vocab, valid.themes, None, None)
    record = Exchange(**valid.model_dump(), created_by=actor.id, updated_by=actor.id)
    session.add(record)
    session.flush()
    record_event(
        session,
        user_id=actor.id,
        action="create",
        entity="exchange",
        entity_id=record.id,
        after=snapshot(record),
    )
    return record


def update_exchange(
    session: Session,
    vocab: Vocabulary,
    actor: Actor,
    exchange_id: str,
    data: dict[str, Any],
    version: Any,
    *,
    partial: bool = True,
) -> Exchange:
    """Change an exchange (secretariat, admin), refusing a stale ``version``."""
    if actor.role not in EDITORS:
        raise Forbidden(N_("Only the technical secretariat and admins change exchanges."))
    record = get_exchange(session, exchange_id)
    if "id" in data and str(data["id"]).strip() != record.id:
        raise InvalidRecord({"id": "the id of a record cannot change"})
    _refuse_service_fields(data, record)
    base = (
        _merge(record, _EXCHANGE_FIELDS, data)
        if partial
        else {"id": record.id, "source": record.source, **data}
    )
    valid = _validate(ExchangeCreate, base)
    _check_references(session, vocab, valid.themes, None, None)
    before = snapshot(record)
    claim_version(record, version)
    _apply(record, valid.model_dump(), actor)
    session.flush()
    record_event(
        session,
        user_id=actor.id,
        action="update",
        entity="exchange",
        entity_id=record.id,
        before=before,
        after=snapshot(record),
    )
    return record
