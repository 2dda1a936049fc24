"""Lists of proposals: the review queue's filters, sorting and paging (what the queue, a focal
point's list, the API and bulk actions read), always narrowed to what the viewer may see."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Integer, Text, case, func, or_, type_coerce
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from sscmatch import relations
from sscmatch.caches import Cache
from sscmatch.db import data_key
from sscmatch.models import Capacity, Country, Need
from sscmatch.models import Proposal as StoredProposal
from sscmatch.vocab import load_vocabulary
from sscmatch.workflow import visibility
from sscmatch.workflow.base import N_, Page
from sscmatch.workflow.counts import kept_count
from sscmatch.workflow.proposals.evidence import on_experience
from sscmatch.workflow.proposals.lifecycle import (
    OPEN_STATUSES,
    QUEUE_DEFAULT,
    STATUSES,
    BadFilterError,
)
from sscmatch.workflow.visibility import Viewer


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
    q: str | None = None  # words of the need's or the capacity's title (or their ids)


SORTS = ("score", "score_asc", "date", "date_asc", "need")
T = TypeVar("T")


@dataclass(frozen=True)
class Row:
    proposal: StoredProposal
    need_title: str
    capacity_title: str  # "" for a fallback proposal (no capacity)


def check_filters(filters: Filters) -> None:
    """Refuse filters that cannot mean anything, with a message saying what is expected."""
    unknown = [s for s in filters.statuses if s not in STATUSES]
    if unknown:
        raise BadFilterError(
            N_("unknown status %(value)s (expected one of %(known)s)"),
            value=repr(unknown[0]),
            known=", ".join(STATUSES),
        )
    if filters.sort not in SORTS:
        raise BadFilterError(
            N_("unknown sort %(value)s (expected one of %(known)s)"),
            value=repr(filters.sort),
            known=", ".join(SORTS),
        )
    vocab = load_vocabulary()
    if filters.theme and filters.theme not in vocab.themes:
        raise BadFilterError(N_("unknown theme %(value)s"), value=repr(filters.theme[:40]))
    known = sorted({c.region for c in vocab.countries.values() if c.region})
    if filters.region and filters.region not in known:
        raise BadFilterError(
            N_("unknown region %(value)s; expected one of %(known)s"),
            value=repr(filters.region[:40]),
            known=", ".join(known),
        )
    for name, value in (("min_score", filters.min_score), ("max_score", filters.max_score)):
        if value is not None and not (0.0 <= value <= 1.0):
            raise BadFilterError(N_("%(name)s must lie between 0 and 1"), name=name)
    if (
        filters.min_score is not None
        and filters.max_score is not None
        and filters.min_score > filters.max_score
    ):
        raise BadFilterError(N_("min_score must not be above max_score"))


def conditions_of(filters: Filters, viewer: Viewer) -> list[Any]:
    """The SQL conditions on the proposal table that ``filters`` and ``viewer`` make."""
    check_filters(filters)
    conditions: list[Any] = [visibility.visible(StoredProposal, viewer)]
    if filters.statuses:
        conditions.append(col(StoredProposal.status).in_(filters.statuses))
    if filters.theme:
        themed = select(Need.id).where(relations.having(Need, "themes", [filters.theme]))
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
    if filters.q and filters.q.strip():
        conditions.append(_mentions(filters.q.strip()))
    return conditions


def _mentions(text: str) -> Any:
    """Proposals whose need or capacity has ``text`` in its title or id (any case)."""
    words = text.lower()

    def having(model: Any) -> Any:
        return select(model.id).where(
            or_(
                func.lower(model.title).contains(words, autoescape=True),
                func.lower(model.id).contains(words, autoescape=True),
            )
        )

    return or_(
        col(StoredProposal.need).in_(having(Need)),
        col(StoredProposal.capacity).in_(having(Capacity)),
    )


ORDERS: dict[str, list[Any]] = {
    "score": [col(StoredProposal.score).desc()],
    "score_asc": [col(StoredProposal.score).asc()],
    "date": [col(StoredProposal.created_at).desc()],
    "date_asc": [col(StoredProposal.created_at).asc()],
    "need": [col(StoredProposal.need)],  # then by rank where the viewer sees it: order_of
}


def order_of(sort: str, viewer: Viewer) -> list[Any]:
    """The ORDER BY of a list sorted by ``sort`` for ``viewer``: by need, a need's proposals
    are in rank order where ``viewer`` may learn the ranks
    (:func:`~sscmatch.workflow.visibility.sees_rank`), else by score (the order of a
    provider's own proposals would tell their ranks apart)."""
    if sort != "need":
        return ORDERS[sort]
    # (no NULL constant to order by for one who sees no proposal: PostgreSQL refuses it)
    ranked = [visibility.rank_seen(viewer)] if visibility.scope(viewer)[0] != "public" else []
    return [*ORDERS[sort], *ranked, col(StoredProposal.score).desc()]


def rows_by_id(session: Session, ids: Sequence[int]) -> list[Row]:
    """The proposals ``ids`` with their need's and capacity's titles, in the order given."""
    if not ids:
        return []
    found = {
        p.id: (p, need_title, cap_title or "")
        for p, need_title, cap_title in session.exec(
            select(StoredProposal, Need.title, Capacity.title)
            .join(Need, col(Need.id) == col(StoredProposal.need))
            .join(Capacity, col(Capacity.id) == col(StoredProposal.capacity), isouter=True)
            .where(col(StoredProposal.id).in_(ids))
        ).all()
    }
    return [Row(*found[i]) for i in ids if i in found]


def list_proposals(
    session: Session, filters: Filters, page: int = 1, size: int = 25, *, viewer: Viewer
) -> Page[Row]:
    """Proposals matching ``filters`` that ``viewer`` may see
    (:mod:`~sscmatch.workflow.visibility`), sorted and paged (``page`` counts from 1).

    Counted and ordered on the proposal table alone (every proposal has its need: a foreign
    key), joined to the need only for a theme filter; the page's rows are then read with their
    titles by id (a fallback proposal has no capacity, hence the outer join). Sorting whole rows
    (with their JSON explanations) was most of the queue's time."""
    conditions = conditions_of(filters, viewer)
    total = kept_count(session, select(StoredProposal.id).where(*conditions))
    page = max(1, page)
    ids = list(
        session.exec(
            select(StoredProposal.id)
            .where(*conditions)
            .order_by(*order_of(filters.sort, viewer), col(StoredProposal.id).desc())
            .offset((page - 1) * size)
            .limit(size)
        ).all()
    )
    return Page(
        items=rows_by_id(session, [i for i in ids if i is not None]),
        number=page,
        size=size,
        total=int(total),
    )


@dataclass(frozen=True)
class NeedRow:
    """A need with proposals to decide, and where its candidates stand."""

    need: Need
    candidates: int  # open proposals
    confirmed: int  # … whose provider confirmed (ready to decide)
    declined: int
    awaiting: int  # … whose provider has not answered
    best: float
    since: datetime  # the oldest open proposal


NEED_SORTS = ("ready", "best", "oldest")
_NEEDS_PAGES: Cache[tuple[int, tuple[tuple[Any, ...], ...]]] = Cache("needs to review", size=256)


def needs_to_review(
    session: Session, filters: Filters, page: int = 1, size: int = 25, *, viewer: Viewer
) -> Page[NeedRow]:
    """Needs with open proposals matching ``filters`` (statuses are the open ones whatever
    ``filters.statuses`` says), one row each, paged. ``filters.sort``: ``ready`` (most
    confirmed candidates first, the default), ``best`` (best score first), ``oldest``."""
    sort = filters.sort if filters.sort in NEED_SORTS else "ready"
    base = Filters(
        statuses=OPEN_STATUSES,
        theme=filters.theme,
        region=filters.region,
        country=filters.country,
        min_score=filters.min_score,
        max_score=filters.max_score,
        run_id=filters.run_id,
        need=filters.need,
        involving=filters.involving,
    )
    conditions = conditions_of(base, viewer)

    def counted(status: str) -> Any:
        return func.sum(case((col(StoredProposal.status) == status, 1), else_=0)).cast(Integer)

    confirmed = counted("provider_confirmed")
    best = func.max(StoredProposal.score)
    since = func.min(StoredProposal.created_at)
    orders = {
        "ready": [confirmed.desc(), best.desc()],
        "best": [best.desc()],
        "oldest": [since.asc()],
    }
    grouped = (
        sql_select(  # eight columns: more than sqlmodel's typed select takes
            col(StoredProposal.need),
            func.count(col(StoredProposal.id)),
            confirmed,
            counted("provider_declined"),
            counted("proposed"),
            best,
            since,
            func.count().over(),  # the number of needs, read with the page: one GROUP BY
        )
        .where(*conditions)
        .group_by(col(StoredProposal.need))
    )
    page = max(1, page)

    def counted_page() -> tuple[int, tuple[tuple[Any, ...], ...]]:
        rows = session.execute(
            grouped.order_by(*orders[sort], col(StoredProposal.need))
            .offset((page - 1) * size)
            .limit(size)
        ).all()
        if rows:
            return int(rows[0][7]), tuple(tuple(r[:7]) for r in rows)
        total = session.exec(select(func.count()).select_from(grouped.subquery())).one()
        return int(total), ()

    # Kept per version of the records, viewer's scope and filters: the grouping reads every open
    # proposal (0.2-0.5 s at 85,000), the page of needs is then read by id.
    version = data_key(session)  # None: uncommitted writes, keep nothing
    key = None if version is None else (*version, visibility.scope(viewer), base, sort, page, size)
    total, rows = _NEEDS_PAGES.get_or_make(key, counted_page)
    needs = (
        {n.id: n for n in session.exec(select(Need).where(col(Need.id).in_([r[0] for r in rows])))}
        if rows
        else {}
    )
    items = [
        NeedRow(needs[r[0]], int(r[1]), int(r[2]), int(r[3]), int(r[4]), float(r[5]), r[6])
        for r in rows
        if r[0] in needs
    ]
    return Page(items=items, number=page, size=size, total=int(total))


def matching_ids(
    session: Session, filters: Filters, *, viewer: Viewer, limit: int
) -> tuple[list[tuple[int, int]], int]:
    """(id, version) of every proposal matching ``filters`` (at most ``limit``, in the list's
    order) and how many match in all: what a bulk action over a filtered set acts on."""
    conditions = conditions_of(filters, viewer)
    total = session.exec(select(func.count(col(StoredProposal.id))).where(*conditions)).one()
    rows = session.exec(
        select(StoredProposal.id, StoredProposal.version)
        .where(*conditions)
        .order_by(*order_of(filters.sort, viewer), col(StoredProposal.id).desc())
        .limit(limit)
    ).all()
    return [(int(i or 0), int(v)) for i, v in rows], int(total)


RECORD_COLUMNS = (
    "id", "run_id", "need", "capacity", "provider", "recipient", "rank", "score", "status",
    "recipient_fit",
)  # fmt: skip


def proposal_records(
    session: Session, filters: Filters, *, viewer: Viewer, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """What :func:`list_proposals` lists (at most ``limit``, in its order) as plain records of
    :data:`RECORD_COLUMNS` with ``need_title``, ``capacity_title`` ("" without one) and
    ``basis`` (``experience`` for a fallback proposal, else ``capacity``), and how many match:
    one query of columns for an export of 50,000, no ORM objects and no reasons decoded (the
    components only where they may name the experience basis)."""
    conditions = conditions_of(filters, viewer)
    total = session.exec(select(func.count(col(StoredProposal.id))).where(*conditions)).one()
    table = StoredProposal.__table__  # type: ignore[attr-defined]
    query = (
        sql_select(
            *(table.c[c] for c in RECORD_COLUMNS if c != "rank"),
            visibility.rank_seen(viewer).label("rank"),  # NULL where the viewer may not know it
            col(Need.title).label("need_title"),
            col(Capacity.title).label("capacity_title"),
            type_coerce(table.c.components, Text).label("components"),
        )
        .join(Need, col(Need.id) == col(StoredProposal.need))
        .join(Capacity, col(Capacity.id) == col(StoredProposal.capacity), isouter=True)
        .where(*conditions)
        .order_by(*order_of(filters.sort, viewer), col(StoredProposal.id).desc())
        .limit(limit)
    )
    records = []
    for row in session.execute(query):
        record = row._asdict()
        raw = record.pop("components")
        # Decoded only where the basis may be named (JSON keeps the word as it is).
        components = json.loads(raw) if raw and "experience" in raw else None
        fallback = on_experience(components, record["capacity"])
        record["basis"] = "experience" if fallback else "capacity"
        record["capacity_title"] = record["capacity_title"] or ""
        records.append(record)
    return records, int(total)


def regions(session: Session) -> list[str]:
    """The M49 regions of the countries (for a filter)."""
    found = session.exec(select(Country.region).where(Country.region != "").distinct()).all()
    return sorted(found)


def open_need_ids(session: Session, ids: Sequence[str] = ()) -> list[str]:
    query = select(Need.id).where(Need.status == "open").order_by(col(Need.id))
    if ids:
        query = query.where(col(Need.id).in_(ids))
    return list(session.exec(query).all())
