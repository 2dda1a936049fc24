"""The registry: capacities, needs and exchanges, their search, their forms and need endorsement.

The pages and the JSON API call the same functions. Each takes a ``Session`` (never commits) and,
for changes, the acting user (anything with ``id``, ``role`` and ``country``). Errors are
:class:`RegistryError` subclasses whose message a user can read:

- :class:`NotFound` (404), :class:`Forbidden` (403), :class:`Conflict` (409: an illegal
  transition or a taken id), :class:`InvalidRecord` (400/422, with one message per field),
  :class:`BadFilter` (400, a query argument that makes no sense); a stale ``version`` is
  :class:`sscmatch.db.StaleVersion` (409), as for every record.

Rules:
- A focal point creates and edits records of their own country only; the secretariat and admin
  edit any; analysts read only. Exchanges are written by the secretariat and admin.
- A focal point's need starts as ``draft``; ``submit_need`` asks for endorsement;
  the secretariat ``endorse_need`` (→ ``open``) or ``return_need`` (back to draft, with a note).
- Every change bumps ``version`` (refusing a stale one) and writes an AuditEvent with the record
  before and after.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from pydantic import ValidationError
from rapidfuzz import fuzz, process
from sqlalchemy import ColumnElement, func
from sqlmodel import Session, SQLModel, col, select

from sscmatch import relations
from sscmatch.db import BadVersion, expect_version
from sscmatch.enums import CAPACITY_STATUSES, NEED_STATUSES
from sscmatch.models import AuditEvent, Capacity, Exchange, Institution, Need, Theme, utcnow
from sscmatch.schemas import (
    MAX_DESCRIPTION,
    MAX_TEXT,
    MAX_TITLE,
    CapacityCreate,
    ExchangeCreate,
    NeedCreate,
)
from sscmatch.vocab import Vocabulary, normalise
from sscmatch.workflow import base, ids, visibility
from sscmatch.workflow.audit import record_event, snapshot
from sscmatch.workflow.base import EDITORS, Actor, DomainError, Page, can_edit
from sscmatch.workflow.visibility import Viewer

__all__ = [
    "EDITORS",
    "MAX_DESCRIPTION",
    "MAX_TITLE",
    "Actor",
    "BadFilter",
    "Conflict",
    "Forbidden",
    "InvalidRecord",
    "NotFound",
    "Page",
    "RecordFilter",
    "RegistryError",
    "can_edit",
    "create_capacity",
    "create_exchange",
    "create_need",
    "endorse_need",
    "get_capacity",
    "get_exchange",
    "get_institution",
    "get_need",
    "history",
    "next_id",
    "region_choices",
    "return_need",
    "search_capacities",
    "search_exchanges",
    "search_institutions",
    "search_needs",
    "submit_need",
    "submitted_count",
    "suggest_themes",
    "update_capacity",
    "update_exchange",
    "update_need",
]

SEARCH_CUTOFF = 70.0
"""Lowest fuzzy score (0-100) of a record's title and description for a text query."""

M = TypeVar("M", bound=SQLModel)


# --------------------------------------------------------------------------- errors


class RegistryError(DomainError):
    """A registry request that cannot be done; the message says why."""


class NotFound(RegistryError, base.NotFound):
    pass


class Forbidden(RegistryError, base.Forbidden):
    pass


class Conflict(RegistryError, base.Conflict):
    """An illegal status change or an id already taken (a stale version is StaleVersion)."""


class BadFilter(RegistryError, base.BadParameter):
    pass


class InvalidRecord(RegistryError):
    """Input that fails validation; ``errors`` maps a field name (or ``""``) to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__(
            "; ".join(f"{name}: {msg}" if name else msg for name, msg in errors.items())
        )


def _invalid(exc: ValidationError) -> InvalidRecord:
    errors: dict[str, str] = {}
    for error in exc.errors():
        loc = error["loc"]
        name = str(loc[0]) if loc else ""
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown field"
        elif error["type"] == "missing":
            message = "this field is required"
        elif error["type"] == "too_short" and name == "themes":
            message = "choose at least one theme"
        elif error["type"] == "string_too_short" and name == "title":
            message = "a title is required"
        elif error["type"] == "string_too_long":
            limit = (error.get("ctx") or {}).get("max_length")
            message = f"too long ({len(str(error['input']))} characters; at most {limit})"
        elif error["type"] == "too_long":
            message = f"too many items (at most {(error.get('ctx') or {}).get('max_length')})"
        if len(loc) > 1 and isinstance(loc[1], int):
            message = f"item {loc[1] + 1}: {message}"
        errors[name] = f"{errors[name]} {message}" if name in errors else message
    return InvalidRecord(errors)


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class RecordFilter:
    """What a list shows. Empty values mean "any"; ``submitted`` keeps needs awaiting endorsement.

    ``sort`` is one of ``relevance`` (default with a query), ``recent`` (default otherwise),
    ``title``, ``country`` or ``oldest``.
    """

    q: str = ""
    theme: str = ""
    country: str = ""
    region: str = ""
    language: str = ""
    status: str = ""
    year: str = ""
    sort: str = ""
    submitted: bool = False
    institution: str = ""
    constituency: str = ""


SORTS = ("relevance", "recent", "oldest", "title", "country")


def get_capacity(session: Session, capacity_id: str) -> Capacity:
    record = session.get(Capacity, capacity_id.strip())
    if record is None:
        raise NotFound(f"no capacity with id {capacity_id!r}")
    return record


def get_need(session: Session, need_id: str) -> Need:
    record = session.get(Need, need_id.strip())
    if record is None:
        raise NotFound(f"no need with id {need_id!r}")
    return record


def get_exchange(session: Session, exchange_id: str) -> Exchange:
    record = session.get(Exchange, exchange_id.strip())
    if record is None:
        raise NotFound(f"no exchange with id {exchange_id!r}")
    return record


def get_institution(session: Session, institution_id: str) -> Institution:
    record = session.get(Institution, institution_id.strip())
    if record is None:
        raise NotFound(f"no institution with id {institution_id!r}")
    return record


def history(session: Session, entity: str, entity_id: str) -> list[AuditEvent]:
    """The record's audit events, oldest first (its versions, who made them and when)."""
    statement = (
        select(AuditEvent)
        .where(AuditEvent.entity == entity, AuditEvent.entity_id == entity_id)
        .order_by(col(AuditEvent.at), col(AuditEvent.id))
    )
    return list(session.exec(statement))


def region_choices(vocab: Vocabulary) -> list[str]:
    """M49 regions, sub-regions and intermediate regions that have countries, sorted."""
    names: set[str] = set()
    for country in vocab.countries.values():
        names.update(
            n for n in (country.region, country.subregion, country.intermediate_region) if n
        )
    return sorted(names)


def _countries_in_region(vocab: Vocabulary, region: str) -> list[str]:
    wanted = normalise(region)
    codes = [
        c.code
        for c in vocab.countries.values()
        if wanted
        in {
            normalise(x)
            for x in (
                c.region,
                c.region_code,
                c.subregion,
                c.subregion_code,
                c.intermediate_region,
                c.intermediate_region_code,
            )
            if x
        }
    ]
    if not codes:
        raise BadFilter(f"unknown region {region!r} (expected an M49 region or sub-region name)")
    return codes


def _theme_family(session: Session, vocab: Vocabulary, theme: str) -> list[str]:
    if theme in vocab.themes:
        return [theme, *vocab.children(theme)]
    if session.get(Theme, theme) is not None:
        children = session.exec(select(Theme.id).where(Theme.parent == theme))
        return [theme, *children]
    resolved = vocab.resolve_theme(theme)
    if resolved.ok and resolved.value is not None:
        return [resolved.value, *vocab.children(resolved.value)]
    raise BadFilter(f"unknown theme {theme!r}")


def _country_code(vocab: Vocabulary, text: str) -> str:
    code = text.strip().upper()
    if code in vocab.countries:
        return code
    resolved = vocab.resolve_country(text)
    if resolved.ok and resolved.value is not None:
        return resolved.value
    raise BadFilter(f"unknown country {text!r} (expected an ISO alpha-3 code such as GTM)")


def _language_code(vocab: Vocabulary, text: str) -> str:
    code = vocab.language_code(text)
    if code is not None:
        return code
    resolved = vocab.resolve_language(text)
    if resolved.ok and resolved.value is not None:
        return resolved.value
    raise BadFilter(f"unknown language {text!r} (expected an ISO 639-1 code such as es)")


def _year(text: str) -> str:
    value = text.strip()
    if not re.fullmatch(r"\d{4}", value):
        raise BadFilter(f"year must be four digits, e.g. 2019 (got {text!r})")
    return value


def _search(
    session: Session,
    vocab: Vocabulary,
    model: type[M],
    conditions: list[ColumnElement[bool]],
    flt: RecordFilter,
    page: int,
    per_page: int,
    orders: dict[str, list[Any]],
    text_of: Callable[[M], str],
    themes_of: Callable[[M], Sequence[str]],
) -> Page[M]:
    if flt.sort and flt.sort not in SORTS:
        raise BadFilter(f"sort must be one of {', '.join(SORTS)} (got {flt.sort!r})")
    if page < 1:
        raise BadFilter("page must be 1 or more")
    query = flt.q.strip()
    sort = flt.sort or ("relevance" if query else "recent")
    base = select(model)
    for condition in conditions:
        base = base.where(condition)
    order = orders.get(sort, orders["recent"])
    if not query:
        total = session.exec(select(func.count()).select_from(base.subquery())).one()
        rows = session.exec(
            base.order_by(*order).offset((page - 1) * per_page).limit(per_page)
        ).all()
        return Page(list(rows), page, per_page, int(total))

    rows = list(session.exec(base.order_by(*order)))
    scores = _text_scores(vocab, query, rows, text_of, themes_of)
    matched = [r for r in rows if _key(r) in scores]
    if sort == "relevance":
        matched.sort(key=lambda r: -scores[_key(r)])  # stable: ties keep the recent order
    start = (page - 1) * per_page
    return Page(matched[start : start + per_page], page, per_page, len(matched), scores)


def _key(record: SQLModel) -> str:
    return str(getattr(record, "id"))  # noqa: B009 - every registry record has a text id


def _text_scores(
    vocab: Vocabulary,
    query: str,
    rows: Sequence[M],
    text_of: Callable[[M], str],
    themes_of: Callable[[M], Sequence[str]],
) -> dict[str, float]:
    """Fuzzy score of each row's title+description for ``query``; a query that names a theme
    (in any vocabulary language) also matches the rows on that theme or its children."""
    wanted = normalise(query)
    scores: dict[str, float] = {}
    if not wanted:
        return scores
    choices = {_key(r): normalise(text_of(r)) for r in rows}
    for _choice, score, key in process.extract(
        wanted,
        choices,
        scorer=fuzz.partial_token_set_ratio if len(wanted) >= 4 else fuzz.partial_ratio,
        limit=None,
        score_cutoff=SEARCH_CUTOFF if len(wanted) >= 4 else 100,
    ):
        # Whole words that appear as they are rank above partial hits.
        bonus = 10.0 if re.search(rf"\b{re.escape(wanted)}\b", choices[key]) else 0.0
        scores[key] = float(score) + bonus
    resolved = vocab.resolve_theme(query)
    if resolved.ok and resolved.value is not None:
        family = {resolved.value, *vocab.children(resolved.value)}
        for row in rows:
            if family & set(themes_of(row)):
                scores[_key(row)] = max(scores.get(_key(row), 0.0), 105.0)
    return scores


def _common_conditions(
    session: Session,
    vocab: Vocabulary,
    model: type[Capacity] | type[Need],
    flt: RecordFilter,
    viewer: Viewer,
) -> list[ColumnElement[bool]]:
    conditions = [visibility.visible(model, viewer)]
    if flt.theme:
        family = _theme_family(session, vocab, flt.theme)
        conditions.append(relations.having(model, "themes", family))
    if flt.country:
        conditions.append(col(model.country) == _country_code(vocab, flt.country))
    if flt.region:
        conditions.append(col(model.country).in_(_countries_in_region(vocab, flt.region)))
    if flt.language:
        language = _language_code(vocab, flt.language)
        conditions.append(relations.having(model, "languages", [language]))
    if flt.year:
        conditions.append(col(model.created).startswith(_year(flt.year)))
    if flt.institution:
        conditions.append(col(model.institution) == flt.institution)
    return conditions


def _record_orders(model: type[Capacity] | type[Need]) -> dict[str, list[Any]]:
    return {
        "recent": [col(model.created).desc(), col(model.updated_at).desc(), col(model.id)],
        "oldest": [col(model.created), col(model.id)],
        "title": [col(model.title), col(model.id)],
        "country": [col(model.country), col(model.title), col(model.id)],
    }


def _capacity_text(c: Capacity) -> str:
    return f"{c.title} {c.description or ''}"


def _need_text(n: Need) -> str:
    return f"{n.title} {n.description or ''}"


def _exchange_text(e: Exchange) -> str:
    return f"{e.title or ''} {e.description or ''} {e.outcomes or ''}"


def search_capacities(
    session: Session,
    vocab: Vocabulary,
    flt: RecordFilter,
    *,
    page: int = 1,
    per_page: int = 25,
    viewer: Viewer,
) -> Page[Capacity]:
    """Capacities that pass the filters and that ``viewer`` may see
    (:mod:`sscmatch.workflow.visibility`), one page of them, best first when there is a query."""
    conditions = _common_conditions(session, vocab, Capacity, flt, viewer)
    if flt.status:
        if flt.status not in CAPACITY_STATUSES:
            raise BadFilter(f"status must be draft, published or archived (got {flt.status!r})")
        conditions.append(col(Capacity.status) == flt.status)
    return _search(
        session,
        vocab,
        Capacity,
        conditions,
        flt,
        page,
        per_page,
        _record_orders(Capacity),
        _capacity_text,
        lambda c: c.themes,
    )


def search_needs(
    session: Session,
    vocab: Vocabulary,
    flt: RecordFilter,
    *,
    page: int = 1,
    per_page: int = 25,
    viewer: Viewer,
) -> Page[Need]:
    """Needs that pass the filters and that ``viewer`` may see; ``flt.submitted`` keeps the ones
    awaiting endorsement."""
    conditions = _common_conditions(session, vocab, Need, flt, viewer)
    if flt.status:
        if flt.status not in NEED_STATUSES:
            raise BadFilter(f"status must be draft, open, matched or closed (got {flt.status!r})")
        conditions.append(col(Need.status) == flt.status)
    if flt.submitted:
        conditions.append(col(Need.status) == "draft")
        conditions.append(col(Need.submitted_at).is_not(None))
    return _search(
        session,
        vocab,
        Need,
        conditions,
        flt,
        page,
        per_page,
        _record_orders(Need),
        _need_text,
        lambda n: n.themes,
    )


def submitted_count(session: Session) -> int:
    """How many needs wait for the secretariat's endorsement."""
    statement = (
        select(func.count())
        .select_from(Need)
        .where(col(Need.status) == "draft", col(Need.submitted_at).is_not(None))
    )
    return int(session.exec(statement).one())


def search_exchanges(
    session: Session,
    vocab: Vocabulary,
    flt: RecordFilter,
    *,
    page: int = 1,
    per_page: int = 25,
) -> Page[Exchange]:
    """Exchanges that pass the filters (a country in any role; ``year`` is the start year)."""
    conditions: list[ColumnElement[bool]] = []
    if flt.theme:
        family = _theme_family(session, vocab, flt.theme)
        conditions.append(relations.having(Exchange, "themes", family))
    if flt.country:
        code = _country_code(vocab, flt.country)
        conditions.append(relations.with_country(Exchange, [code]))
    if flt.region:
        codes = _countries_in_region(vocab, flt.region)
        conditions.append(relations.with_country(Exchange, codes))
    if flt.language:
        code = _language_code(vocab, flt.language)
        conditions.append(relations.having(Exchange, "languages", [code]))
    if flt.year:
        conditions.append(col(Exchange.start).startswith(_year(flt.year)))
    if flt.status:
        raise BadFilter("exchanges have no status to filter on")
    orders: dict[str, list[Any]] = {
        "recent": [col(Exchange.start).desc(), col(Exchange.id)],
        "oldest": [col(Exchange.start), col(Exchange.id)],
        "title": [col(Exchange.title), col(Exchange.id)],
        "country": [col(Exchange.start).desc(), col(Exchange.id)],
    }
    return _search(
        session,
        vocab,
        Exchange,
        conditions,
        flt,
        page,
        per_page,
        orders,
        _exchange_text,
        lambda e: e.themes,
    )


def search_institutions(
    session: Session,
    vocab: Vocabulary,
    flt: RecordFilter,
    *,
    page: int = 1,
    per_page: int = 25,
) -> Page[Institution]:
    """Institutions by country, region, constituency, language and fuzzy name."""
    conditions: list[ColumnElement[bool]] = []
    if flt.country:
        conditions.append(col(Institution.country) == _country_code(vocab, flt.country))
    if flt.region:
        conditions.append(col(Institution.country).in_(_countries_in_region(vocab, flt.region)))
    if flt.constituency:
        conditions.append(col(Institution.constituency) == flt.constituency)
    if flt.language:
        code = _language_code(vocab, flt.language)
        conditions.append(relations.having(Institution, "languages", [code]))
    orders: dict[str, list[Any]] = {
        "recent": [col(Institution.country), col(Institution.name)],
        "title": [col(Institution.name), col(Institution.id)],
    }
    return _search(
        session,
        vocab,
        Institution,
        conditions,
        flt,
        page,
        per_page,
        orders,
        lambda i: f"{i.name} {i.id}",
        lambda i: (),
    )


# --------------------------------------------------------------------------- theme picker


def suggest_themes(
    vocab: Vocabulary, query: str, lang: str = "en", limit: int = 10
) -> list[tuple[str, str]]:
    """Themes for a picker as someone types: ``[(id, label in lang)]``, best first.

    Labels in every vocabulary language and synonyms count (fuzzy), so "inspección" typed in an
    English interface still finds labour inspection; the label shown is in ``lang``.
    """
    wanted = normalise(query)
    if not wanted:
        return []
    best: dict[str, float] = {}
    resolved = vocab.resolve_theme(query)
    if resolved.ok and resolved.value is not None:
        best[resolved.value] = 200.0
    choices: dict[tuple[str, int], str] = {}
    for theme in vocab.themes.values():
        texts = [theme.label(lang), *theme.labels.values(), *theme.synonyms, theme.id]
        for i, text in enumerate(texts):
            choices[(theme.id, i)] = normalise(text)
    scorer = fuzz.partial_ratio if len(wanted) < 4 else fuzz.WRatio
    for _choice, score, (theme_id, i) in process.extract(
        wanted, choices, scorer=scorer, limit=None, score_cutoff=75 if len(wanted) >= 4 else 100
    ):
        # Prefer hits in the shown label, then other labels, then synonyms.
        weighted = (
            float(score)
            + (5.0 if i == 0 else 0.0)
            + (2.0 if wanted in choices[(theme_id, i)] else 0.0)
        )
        if weighted > best.get(theme_id, 0.0):
            best[theme_id] = weighted
    ranked = sorted(best, key=lambda t: (-best[t], vocab.themes[t].label(lang)))
    return [(t, vocab.themes[t].label(lang)) for t in ranked[:limit]]


# --------------------------------------------------------------------------- changes


def _require_edit(actor: Actor, country: str | None, what: str) -> None:
    if can_edit(actor, country):
        return
    if actor.role == "focal_point":
        raise Forbidden(
            f"You may change only {actor.country}'s records; this {what} belongs to {country}."
        )
    raise Forbidden(f"Your role ({actor.role}) may not change {what}s.")


def next_id(
    session: Session,
    model: type[Capacity] | type[Need] | type[Exchange],
    prefix: str,
    year: int | None = None,
) -> str:
    """The next free id ``PREFIX-YEAR-NNNN`` (``C-2026-0001``), safe under concurrent creation
    (:func:`sscmatch.workflow.ids.next_id`)."""
    return ids.next_id(session, model, f"{prefix}-{year or date.today().year}-")


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
        raise _invalid(exc) from None


def _claim_version(record: Any, expected: Any, *, required: bool = True) -> None:
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
            raise Forbidden(f"You may register records only for {actor.country}, not for {given}.")
        return actor.country
    if actor.role not in EDITORS:
        raise Forbidden(f"Your role ({actor.role}) may not register records.")
    return given


def create_capacity(
    session: Session, vocab: Vocabulary, actor: Actor, data: dict[str, Any]
) -> Capacity:
    """Register a capacity from raw input (form or JSON); its id is ``C-YEAR-NNNN``
    unless ``data`` names a free one."""
    data = dict(data)
    _refuse_service_fields(data)
    data["country"] = _owner_country(actor, data)
    data["created"] = date.today().isoformat()
    record = _create_record(session, vocab, actor, data, Capacity, CapacityCreate, "capacity", "C")
    assert isinstance(record, Capacity)
    return record


def _create_record(
    session: Session,
    vocab: Vocabulary,
    actor: Actor,
    data: dict[str, Any],
    model: type[Capacity] | type[Need],
    schema: type[CapacityCreate] | type[NeedCreate],
    entity: str,
    prefix: str,
) -> Capacity | Need:
    """The shared part of registering a capacity or a need: id, validation, references, audit."""
    if not data.get("id"):
        data["id"] = next_id(session, model, prefix)
    valid = _validate(schema, data)  # first: " N-1 " is N-1, for the lookup too
    if session.get(model, valid.id) is not None:
        raise Conflict(f"a {entity} with id {valid.id!r} already exists")
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
        _require_edit(actor, base.get("country"), entity)
    valid = _validate(schema, base)
    _check_references(session, vocab, valid.themes, valid.institution, valid.country)
    before = snapshot(record)
    _claim_version(record, version)
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
"""Fields the service sets: where a record came from (an imported document's citation) and the
day it was registered. A form or an API call cannot claim them."""


def _refuse_service_fields(data: dict[str, Any], record: Any = None) -> None:
    errors = {}
    for name in SERVICE_FIELDS:
        if name not in data or data[name] in (None, ""):
            continue
        if record is not None and data[name] == getattr(record, name, None):
            continue  # sent back as it was read
        errors[name] = (
            "set by the service, not by a form or the API (sources cite the documents of "
            "imported bundles; created is the day a record was registered)"
        )
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
    _require_edit(actor, record.country, "capacity")
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
    return record


def create_need(session: Session, vocab: Vocabulary, actor: Actor, data: dict[str, Any]) -> Need:
    """Register a need; a focal point's need is always a draft until endorsed."""
    data = dict(data)
    _refuse_service_fields(data)
    data["country"] = _owner_country(actor, data)
    data["created"] = date.today().isoformat()
    if actor.role == "focal_point":
        if data.get("status") not in (None, "", "draft"):
            raise Forbidden(
                "A focal point's new need is a draft; submit it for endorsement to open it."
            )
        data["status"] = "draft"
    record = _create_record(session, vocab, actor, data, Need, NeedCreate, "need", "N")
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
    _require_edit(actor, record.country, "need")
    back_to_endorsement: dict[str, Any] | None = None
    if actor.role == "focal_point":
        if record.status in ("matched", "closed"):
            raise Conflict(f"This need is {record.status}; ask the secretariat if it must change.")
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
            "A focal point cannot change a need's status; submit it for endorsement instead."
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


def _need_step(
    session: Session,
    actor: Actor,
    need_id: str,
    version: Any,
    action: str,
    change: Callable[[Need], None],
    note: str | None = None,
) -> Need:
    record = get_need(session, need_id)
    before = snapshot(record)
    _claim_version(record, version, required=False)
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
    _require_edit(actor, record.country, "need")
    if record.status != "draft":
        raise Conflict(f"Only a draft need can be submitted; this one is {record.status}.")
    if record.submitted_at is not None:
        raise Conflict("This need is already submitted and waits for endorsement.")

    def change(need: Need) -> None:
        need.submitted_at = utcnow()

    return _need_step(session, actor, need_id, version, "submit", change)


def _require_secretariat(actor: Actor) -> None:
    if actor.role not in EDITORS:
        raise Forbidden("Only the technical secretariat endorses or returns needs.")


def _require_submitted(record: Need) -> None:
    if record.status != "draft" or record.submitted_at is None:
        raise Conflict(
            f"Only a submitted draft need can be endorsed or returned; this one is "
            f"{record.status}{'' if record.submitted_at else ' and not submitted'}."
        )


def endorse_need(session: Session, actor: Actor, need_id: str, version: Any = None) -> Need:
    """The secretariat endorses a submitted need: it opens (matching will consider it)."""
    _require_secretariat(actor)
    _require_submitted(get_need(session, need_id))

    def change(need: Need) -> None:
        need.status = "open"
        need.review_note = None

    return _need_step(session, actor, need_id, version, "endorse", change)


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

    return _need_step(session, actor, need_id, version, "return", change, note=text)


def create_exchange(
    session: Session, vocab: Vocabulary, actor: Actor, data: dict[str, Any]
) -> Exchange:
    """Record an exchange that happened (secretariat, admin); id ``E-YEAR-NNNN`` by default."""
    if actor.role not in EDITORS:
        raise Forbidden("Only the technical secretariat and admins record exchanges.")
    data = dict(data)
    _refuse_service_fields(data)
    if not data.get("id"):
        data["id"] = next_id(session, Exchange, "E")
    valid = _validate(ExchangeCreate, data)  # first: " E-1 " is E-1, for the lookup too
    if session.get(Exchange, valid.id) is not None:
        raise Conflict(f"an exchange with id {valid.id!r} already exists")
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
        raise Forbidden("Only the technical secretariat and admins change exchanges.")
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
    _claim_version(record, version)
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
