"""The analytics' cache keyed by a data version, and every exchange read into Python (the
reference path the database's counts are tested against, and the benchmark's).

The version (:func:`data_version`) moves with any import, edit or deletion of the records the
analytics read (countries' own records: :data:`sscmatch.db.RECORD_TABLES`), so nothing cached is
ever served for data that changed, and a proposal decided or a tour edited does not recount
the network or the charts. The cache is per process and per database URL; a page for filters
already seen is served from it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import Text, type_coerce
from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from sscmatch.analytics.graph import ExchangeRow
from sscmatch.caches import Cache
from sscmatch.columns import json_list_reader
from sscmatch.dates import text_of
from sscmatch.db import database_key, records_version
from sscmatch.models import Exchange, Institution

T = TypeVar("T")
VIEW_CACHE_SIZE = 24
"""Entries kept: views, drawings and gap lists (a view of 200,000 exchanges holds ~50,000
links, about 20 MB)."""
_VIEWS: Cache[Any] = Cache("analytics views", size=VIEW_CACHE_SIZE)


def data_version(session: Session) -> tuple[int, str] | None:
    """What the cached analytics depend on (:func:`sscmatch.db.records_version`: any committed
    change to countries' own records); ``None`` while ``session`` has uncommitted writes (then
    nothing is cached or served from the cache). What reads other tables (the countries'
    commitments) is kept elsewhere, under :func:`sscmatch.db.data_key`."""
    return records_version(session)


def load_rows(session: Session) -> list[ExchangeRow]:
    """Every exchange as an :class:`ExchangeRow`, read column-wise (no ORM objects)."""
    constituency = dict(session.exec(select(Institution.id, Institution.constituency)).all())
    lst = json_list_reader()
    cols = (
        Exchange.id,
        Exchange.title,
        Exchange.start_date,
        Exchange.start_precision,
        type_coerce(Exchange.providers, Text),
        type_coerce(Exchange.recipients, Text),
        type_coerce(Exchange.participants, Text),
        type_coerce(Exchange.partners, Text),
        type_coerce(Exchange.themes, Text),
        Exchange.modality,
        Exchange.direction,
    )
    rows: list[ExchangeRow] = []
    make = ExchangeRow._make
    kinds: dict[tuple[str, ...], frozenset[str]] = {}
    # Core (not ORM) execution: plain tuples, the fastest way through 200,000 rows.
    result = session.connection().execute(sa_select(*cols))  # type: ignore[call-overload]
    for row in result:
        eid, title, day, precision, prov, rec, part, partners, themes, modality, direction = row
        partner_ids = lst(partners)
        kind = kinds.get(partner_ids)
        if kind is None:
            kind = kinds[partner_ids] = frozenset(
                constituency[p] for p in partner_ids if p in constituency
            )
        rows.append(
            make(
                (
                    eid,
                    title or "",
                    day.year,
                    text_of(day, precision),
                    lst(prov),
                    lst(rec),
                    lst(part),
                    partner_ids,
                    lst(themes),
                    modality,
                    direction,
                    kind,
                )
            )
        )
    rows.sort(key=lambda r: (r.start, r.id))
    return rows


def cached(session: Session, version: Hashable | None, key: Hashable, make: Callable[[], T]) -> T:
    """``make()`` once per (database, data version, key); least recently used dropped.
    ``version`` None means: ask the database for it. Threads asking for the same entry while
    it is made wait for it rather than make it again (the warm-up thread and the first
    visitors of a worker ask for the same network at once)."""
    if version is None:
        version = data_version(session)
    if version is None:  # uncommitted writes in this session
        return make()
    return _VIEWS.get_or_make((database_key(session), version, key), make)  # type: ignore[no-any-return]


def clear_views() -> None:
    """Drop the built views (for benchmarks)."""
    _VIEWS.clear()


def warm_cache(engine: Any) -> None:
    """Count the unfiltered network, the charts and the gaps ahead of the first visitor (for
    the app factory to run in a background thread at start; safe to call any time). The
    database does the counting (:mod:`sscmatch.analytics.aggregate`): at 200,000 exchanges
    about two seconds of work, most of it in SQLite or PostgreSQL rather than under the GIL."""
    from sscmatch.analytics.filters import Filters
    from sscmatch.analytics.insights import chart_counts, gaps
    from sscmatch.analytics.payload import network_view
    from sscmatch.vocab import load_vocabulary

    vocab = load_vocabulary()
    with Session(engine) as session:
        network_view(session, vocab, Filters())
        gaps(session, vocab)
        chart_counts(session, vocab, Filters())
