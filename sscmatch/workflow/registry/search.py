"""Reading the registry: one record, its history, and the lists of capacities, needs,
exchanges and institutions with their filters, text search (fuzzy, scored) and sort."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import ColumnElement, Text, func, type_coerce
from sqlalchemy import select as sql_select
from sqlmodel import Session, SQLModel, col, select

from sscmatch import relations
from sscmatch.columns import JSONList, json_list_reader
from sscmatch.dates import text_of
from sscmatch.enums import CAPACITY_STATUSES, CONSTITUENCIES, NEED_STATUSES
from sscmatch.models import AuditEvent, Capacity, Exchange, Institution, Need, Theme, period_order
from sscmatch.vocab import Vocabulary, normalise
from sscmatch.workflow import visibility
from sscmatch.workflow.base import N_, Page, country_filter
from sscmatch.workflow.counts import kept_count
from sscmatch.workflow.registry.errors import BadFilter, NotFound
from sscmatch.workflow.visibility import Viewer

SEARCH_CUTOFF = 70.0
"""Lowest fuzzy score (0-100) of a record's title and description for a text query."""


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
        raise NotFound(N_("no capacity with id %(id)s"), id=repr(capacity_id))
    return record


def get_need(session: Session, need_id: str) -> Need:
    record = session.get(Need, need_id.strip())
    if record is None:
        raise NotFound(N_("no need with id %(id)s"), id=repr(need_id))
    return record


def get_exchange(session: Session, exchange_id: str) -> Exchange:
    record = session.get(Exchange, exchange_id.strip())
    if record is None:
        raise NotFound(N_("no exchange with id %(id)s"), id=repr(exchange_id))
    return record


def get_institution(session: Session, institution_id: str) -> Institution:
    record = session.get(Institution, institution_id.strip())
    if record is None:
        raise NotFound(N_("no institution with id %(id)s"), id=repr(institution_id))
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
        raise BadFilter(
            N_("unknown region %(value)s (expected an M49 region or sub-region name)"),
            value=repr(region),
        )
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
    raise BadFilter(N_("unknown theme %(value)s"), value=repr(theme))


def _country_code(vocab: Vocabulary, text: str) -> str:
    """The code of a country filter that names one (the callers skip a blank one), or
    :class:`BadFilter`: :func:`~sscmatch.workflow.base.country_filter`."""
    return country_filter(text, BadFilter, vocab) or ""


def _language_code(vocab: Vocabulary, text: str) -> str:
    code = vocab.language_code(text)
    if code is not None:
        return code
    resolved = vocab.resolve_language(text)
    if resolved.ok and resolved.value is not None:
        return resolved.value
    raise BadFilter(
        N_("unknown language %(value)s (expected an ISO 639-1 code such as es)"), value=repr(text)
    )


def _year(text: str) -> str:
    value = text.strip()
    if not re.fullmatch(r"\d{4}", value):
        raise BadFilter(N_("year must be four digits, e.g. 2019 (got %(value)s)"), value=repr(text))
    return value


@dataclass(frozen=True)
class _Listing:
    """What one list asks of the database: its records' model, the conditions of its filters
    (visibility included), its orders, and how a text query reads a record (its text and
    themes; ``text_columns`` are the columns that text is made of)."""

    model: Any
    conditions: list[ColumnElement[bool]]
    orders: dict[str, list[Any]]
    text_of: Callable[[Any], str]
    themes_of: Callable[[Any], Sequence[str]]
    text_columns: tuple[str, ...] = ("title", "description")


def _query_and_sort(flt: RecordFilter, page: int = 1) -> tuple[str, str]:
    if flt.sort and flt.sort not in SORTS:
        raise BadFilter(
            N_("sort must be one of %(known)s (got %(value)s)"),
            known=", ".join(SORTS),
            value=repr(flt.sort),
        )
    if page < 1:
        raise BadFilter(N_("page must be 1 or more"))
    query = flt.q.strip()
    return query, flt.sort or ("relevance" if query else "recent")


def _search(
    session: Session,
    vocab: Vocabulary,
    listing: _Listing,
    flt: RecordFilter,
    page: int,
    per_page: int,
) -> Page[Any]:
    query, sort = _query_and_sort(flt, page)
    base = select(listing.model).where(*listing.conditions)
    order = listing.orders.get(sort, listing.orders["recent"])
    if not query:
        total = kept_count(session, base)
        rows = session.exec(
            base.order_by(*order).offset((page - 1) * per_page).limit(per_page)
        ).all()
        return Page(list(rows), page, per_page, int(total))

    rows = list(session.exec(base.order_by(*order)))
    entries = [(_key(r), listing.text_of(r), listing.themes_of(r)) for r in rows]
    scores = _text_scores(vocab, query, entries)
    matched = [r for r in rows if _key(r) in scores]
    if sort == "relevance":
        matched.sort(key=lambda r: -scores[_key(r)])  # stable: ties keep the recent order
    start = (page - 1) * per_page
    return Page(matched[start : start + per_page], page, per_page, len(matched), scores)


def _records(
    session: Session,
    vocab: Vocabulary,
    listing: _Listing,
    flt: RecordFilter,
    fields: Sequence[str],
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    """What :func:`_search` lists (the first ``limit``, in its order) as plain records of
    ``fields``, and how many match: the columns read by one query, list fields decoded once per
    distinct value, no ORM object (an export of 50,000 needs)."""
    query, sort = _query_and_sort(flt)
    table = listing.model.__table__
    extra = [c for c in ("id", *listing.text_columns, "themes") if c not in fields]
    periods = [n for n in fields if n in listing.model.__periods__]  # a date and a precision
    named = [
        part
        for name in (*fields, *extra)
        for part in ((f"{name}_date", f"{name}_precision") if name in periods else (name,))
    ]
    columns = [
        type_coerce(table.c[name], Text).label(name)
        if isinstance(table.c[name].type, JSONList)
        else table.c[name]
        for name in named
    ]
    lists = [name for name in named if isinstance(table.c[name].type, JSONList)]
    order = listing.orders.get(sort, listing.orders["recent"])
    statement = sql_select(*columns).where(*listing.conditions).order_by(*order)
    parse = json_list_reader()

    def record(row: Any) -> dict[str, Any]:
        out: dict[str, Any] = row._asdict()
        for name in lists:
            out[name] = list(parse(out[name]))
        for name in periods:
            day, precision = out.pop(f"{name}_date"), out.pop(f"{name}_precision")
            out[name] = None if day is None else text_of(day, precision)
        return out

    if not query:
        total = kept_count(session, select(listing.model).where(*listing.conditions))
        found = [record(row) for row in session.execute(statement.limit(limit))]
        return [{f: r[f] for f in fields} for r in found], int(total)
    rows = session.execute(statement).all()
    found = [record(row) for row in rows]
    entries = [
        (r["id"], listing.text_of(row), r["themes"]) for r, row in zip(found, rows, strict=True)
    ]
    scores = _text_scores(vocab, query, entries)
    matched = [r for r in found if r["id"] in scores]
    if sort == "relevance":
        matched.sort(key=lambda r: -scores[r["id"]])  # stable, as the page's order
    return [{f: r[f] for f in fields} for r in matched[:limit]], len(matched)


def _key(record: SQLModel) -> str:
    return str(getattr(record, "id"))  # noqa: B009 - every registry record has a text id


def _text_scores(
    vocab: Vocabulary, query: str, entries: Sequence[tuple[str, str, Sequence[str]]]
) -> dict[str, float]:
    """Fuzzy score of each entry's text (key, title+description, themes) for ``query``; a
    query that names a theme (in any vocabulary language) also matches the entries on that
    theme or its children."""
    wanted = normalise(query)
    scores: dict[str, float] = {}
    if not wanted:
        return scores
    choices = {key: normalise(text) for key, text, _themes in entries}
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
        for key, _text, themes in entries:
            if family & set(themes):
                scores[key] = max(scores.get(key, 0.0), 105.0)
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


def _themes(record: Any) -> Sequence[str]:
    return record.themes  # type: ignore[no-any-return]


def _no_themes(record: Any) -> Sequence[str]:
    return ()


def _capacities(session: Session, vocab: Vocabulary, flt: RecordFilter, viewer: Viewer) -> _Listing:
    conditions = _common_conditions(session, vocab, Capacity, flt, viewer)
    if flt.status:
        if flt.status not in CAPACITY_STATUSES:
            raise BadFilter(
                N_("status must be draft, published or archived (got %(value)s)"),
                value=repr(flt.status),
            )
        conditions.append(col(Capacity.status) == flt.status)
    return _Listing(Capacity, conditions, _record_orders(Capacity), _capacity_text, _themes)


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
    return _search(session, vocab, _capacities(session, vocab, flt, viewer), flt, page, per_page)


def _needs(session: Session, vocab: Vocabulary, flt: RecordFilter, viewer: Viewer) -> _Listing:
    conditions = _common_conditions(session, vocab, Need, flt, viewer)
    if flt.status:
        if flt.status not in NEED_STATUSES:
            raise BadFilter(
                N_("status must be draft, open, matched or closed (got %(value)s)"),
                value=repr(flt.status),
            )
        conditions.append(col(Need.status) == flt.status)
    if flt.submitted:
        conditions.append(col(Need.status) == "draft")
        conditions.append(col(Need.submitted_at).is_not(None))
    return _Listing(Need, conditions, _record_orders(Need), _need_text, _themes)


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
    return _search(session, vocab, _needs(session, vocab, flt, viewer), flt, page, per_page)


def submitted_count(session: Session) -> int:
    """How many needs wait for the secretariat's endorsement."""
    statement = (
        select(func.count())
        .select_from(Need)
        .where(col(Need.status) == "draft", col(Need.submitted_at).is_not(None))
    )
    return int(session.exec(statement).one())


def _exchanges(session: Session, vocab: Vocabulary, flt: RecordFilter) -> _Listing:
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
        year = int(_year(flt.year))  # the start's year: a range of days
        conditions.append(col(Exchange.start_date) >= date(year, 1, 1))
        conditions.append(col(Exchange.start_date) < date(year + 1, 1, 1))
    if flt.status:
        raise BadFilter(N_("exchanges have no status to filter on"))
    start = period_order(Exchange.start_date, Exchange.start_precision)
    orders: dict[str, list[Any]] = {
        "recent": [*(o.desc() for o in start), col(Exchange.id)],
        "oldest": [*start, col(Exchange.id)],
        "title": [col(Exchange.title), col(Exchange.id)],
        "country": [*(o.desc() for o in start), col(Exchange.id)],
    }
    text = ("title", "description", "outcomes")
    return _Listing(Exchange, conditions, orders, _exchange_text, _themes, text)


def search_exchanges(
    session: Session,
    vocab: Vocabulary,
    flt: RecordFilter,
    *,
    page: int = 1,
    per_page: int = 25,
) -> Page[Exchange]:
    """Exchanges that pass the filters (a country in any role; ``year`` is the start year)."""
    return _search(session, vocab, _exchanges(session, vocab, flt), flt, page, per_page)


LISTS: dict[str, Callable[[Session, Vocabulary, RecordFilter, Viewer], _Listing]] = {
    "needs": _needs,
    "capacities": _capacities,
    "exchanges": lambda session, vocab, flt, _viewer: _exchanges(session, vocab, flt),
}


def list_records(
    session: Session,
    vocab: Vocabulary,
    kind: str,
    flt: RecordFilter,
    *,
    fields: Sequence[str],
    limit: int,
    viewer: Viewer,
) -> tuple[list[dict[str, Any]], int]:
    """What the list of ``kind`` (``needs``, ``capacities``, ``exchanges``: what
    :func:`search_needs` and the others list for ``viewer``) holds, the first ``limit`` as plain
    records of ``fields``, and how many match: an export."""
    listing = LISTS[kind](session, vocab, flt, viewer)
    return _records(session, vocab, listing, flt, fields, limit)


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
        if flt.constituency not in CONSTITUENCIES:
            raise BadFilter(
                N_("unknown constituency %(value)s; expected one of %(known)s"),
                value=repr(flt.constituency[:40]),
                known=", ".join(CONSTITUENCIES),
            )
        conditions.append(col(Institution.constituency) == flt.constituency)
    if flt.language:
        code = _language_code(vocab, flt.language)
        conditions.append(relations.having(Institution, "languages", [code]))
    orders: dict[str, list[Any]] = {
        "recent": [col(Institution.country), col(Institution.name)],
        "title": [col(Institution.name), col(Institution.id)],
    }
    listing = _Listing(Institution, conditions, orders, lambda i: f"{i.name} {i.id}", _no_themes)
    return _search(session, vocab, listing, flt, page, per_page)
