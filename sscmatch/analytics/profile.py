"""A country on one page (capacities, needs, exchanges by role, partners, commitments, metrics)
and the list of countries with activity."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import and_, func
from sqlmodel import Session, col, select

from sscmatch.analytics import aggregate
from sscmatch.analytics.data import cached
from sscmatch.analytics.filters import Filters
from sscmatch.analytics.graph import NodeStats
from sscmatch.analytics.payload import network_view
from sscmatch.caches import Cache
from sscmatch.dates import PartialDate, PartialDateError, as_text, period_end
from sscmatch.db import data_key
from sscmatch.enums import OPEN_COMMITMENT_STATUSES
from sscmatch.models import Capacity, Commitment, Exchange, Institution, Need
from sscmatch.vocab import Vocabulary
from sscmatch.workflow import visibility
from sscmatch.workflow.base import N_, NotFound
from sscmatch.workflow.visibility import Viewer

OPEN_COMMITMENT = OPEN_COMMITMENT_STATUSES


class UnknownCountry(NotFound):
    """No country has this code (404)."""


def commitment_state(status: str, due: str | None, today: date) -> str:
    """The status shown: ``overdue`` when an open commitment's due period has ended.

    >>> commitment_state("pending", "2020", date(2021, 1, 1))
    'overdue'
    >>> commitment_state("pending", "2020-12", date(2020, 12, 31))
    'pending'
    >>> commitment_state("fulfilled", "2020", date(2024, 1, 1))
    'fulfilled'
    """
    if status in OPEN_COMMITMENT and due:
        try:
            if period_end(due) < today:
                return "overdue"
        except PartialDateError:
            return status
    return status


LIST_LIMIT = 50
"""Records shown per list of a country profile; each list says how many there are in all and
links to the full (paged) list. A country can have thousands of exchanges."""

# Open commitments first (the follow-up is what needs attention), then by id.
_COMMITTED: Cache[dict[str, int]] = Cache("commitments per country", size=4)
"""Commitments per owner country, per database and change version."""
_STATE_ORDER = {"overdue": 0, "in_progress": 1, "pending": 2, "fulfilled": 3, "dropped": 4}


@dataclass
class CountryProfile:
    """What a country's page shows. The lists hold at most ``limit`` records (newest exchanges,
    open commitments first); the ``*_total`` fields count them all."""

    code: str
    capacities: list[Capacity]
    needs: list[Need]
    given: list[Exchange]
    received: list[Exchange]
    joint: list[Exchange]
    partners: list[tuple[str, int]]  # country, exchanges together
    partner_bodies: list[tuple[str, str, int]]  # institution id, name, exchanges
    commitments: list[tuple[Commitment, str]]  # with the status shown
    stats: NodeStats | None
    international: set[str] = field(default_factory=set)
    commitment_counts: dict[str, int] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)  # capacities, needs, given, …
    limit: int = LIST_LIMIT


def country_profile(
    session: Session,
    vocab: Vocabulary,
    code: str,
    today: date,
    limit: int = LIST_LIMIT,
    *,
    viewer: Viewer,
) -> CountryProfile:
    """What ``viewer`` may see of country ``code`` (drafts only for its focal points and the
    staff: :mod:`sscmatch.workflow.visibility`)."""
    code = code.strip().upper()
    if code not in vocab.countries:
        raise UnknownCountry(N_("No country with code %(code)s."), code=repr(code))
    totals: dict[str, int] = {}

    def first(model: type[Capacity] | type[Need], name: str) -> list[Any]:
        where = and_(col(model.country) == code, visibility.visible(model, viewer))
        totals[name] = int(session.exec(select(func.count()).select_from(model).where(where)).one())
        return list(session.exec(select(model).where(where).order_by(model.id).limit(limit)))

    caps: list[Capacity] = first(Capacity, "capacities")
    needs: list[Need] = first(Need, "needs")
    international = set(
        session.exec(select(Institution.id).where(col(Institution.international))).all()
    )
    view = network_view(session, vocab, Filters())
    # counted by the database (the association tables), newest first: start, then id
    role_totals, newest = aggregate.country_exchanges(session, code, limit)
    totals.update(role_totals)
    shown = {i for ids in newest.values() for i in ids}
    records = (
        {e.id: e for e in session.exec(select(Exchange).where(col(Exchange.id).in_(shown)))}
        if shown
        else {}
    )
    lists = {role: [records[i] for i in ids if i in records] for role, ids in newest.items()}
    partners, bodies = aggregate.country_partners(session, code)
    names = (
        dict(
            session.exec(
                select(Institution.id, Institution.name).where(
                    col(Institution.id).in_(list(bodies))
                )
            ).all()
        )
        if bodies
        else {}
    )
    states = sorted(
        (
            (commitment_state(status, as_text(PartialDate.of(due, precision)), today), key)
            for key, status, due, precision in session.exec(
                select(
                    Commitment.id,
                    Commitment.status,
                    col(Commitment.due_date),
                    col(Commitment.due_precision),
                ).where(Commitment.owner_country == code)
            )
        ),
        key=lambda pair: (_STATE_ORDER.get(pair[0], 5), pair[1]),
    )
    totals["commitments"] = len(states)
    wanted = dict((commitment_id, state) for state, commitment_id in states[:limit])
    loaded = (
        {k.id: k for k in session.exec(select(Commitment).where(col(Commitment.id).in_(wanted)))}
        if wanted
        else {}
    )
    return CountryProfile(
        code=code,
        capacities=caps,
        needs=needs,
        given=lists["given"],
        received=lists["received"],
        joint=lists["joint"],
        partners=sorted(partners.items(), key=lambda kv: (-kv[1], kv[0])),
        partner_bodies=sorted(
            ((b, names.get(b, b), n) for b, n in bodies.items()), key=lambda t: (-t[2], t[0])
        ),
        commitments=[(loaded[i], state) for i, state in wanted.items() if i in loaded],
        stats=view.network.nodes.get(code),
        international=international,
        commitment_counts=dict(Counter(state for state, _ in states)),
        totals=totals,
        limit=limit,
    )


@dataclass
class CountryActivity:
    code: str
    region: str
    capacities: int = 0
    needs: int = 0
    open_needs: int = 0
    provided: int = 0
    received: int = 0
    joint: int = 0
    commitments: int = 0

    @property
    def exchanges(self) -> int:
        return self.provided + self.received + self.joint


Counts = tuple[int, int, int, int, int, int, int, int, int]
"""Per country: capacities, needs, open needs, commitments, provided, received, joint, draft
capacities, draft needs (capacities and needs count the others: drafts are added for a viewer
who may see them)."""


def _activity_counts(session: Session) -> dict[str, Counts]:
    """Grouped counts per country: those of countries' own records kept under their version
    (:func:`sscmatch.analytics.data.cached`), the commitments' under the change version (a
    commitment updated recounts only them)."""
    counts = {
        code: list(row)
        for code, row in cached(
            session, None, ("country-records",), lambda: _record_counts(session)
        ).items()
    }
    committed = _COMMITTED.get_or_make(data_key(session), lambda: _commitment_counts(session))
    for code, n in committed.items():
        counts.setdefault(code, [0] * 9)[3] = n
    return {code: tuple(c) for code, c in counts.items()}  # type: ignore[misc]


def _commitment_counts(session: Session) -> dict[str, int]:
    rows = session.exec(
        select(Commitment.owner_country, func.count()).group_by(Commitment.owner_country)
    )
    return {code: int(n) for code, n in rows if code is not None}


def _record_counts(session: Session) -> dict[str, Counts]:
    """Grouped counts per country of capacities, needs (each from an index where one exists)
    and the exchange roles of the unfiltered network; the commitments' slot is 0."""
    found: dict[str, list[int]] = {}

    def add(rows: Iterable[tuple[str | None, int]], slot: int) -> None:
        for code, n in rows:
            if code is not None:  # records of international or regional bodies have no country
                found.setdefault(code, [0] * 9)[slot] = int(n)

    for model, slot in ((Capacity, 0), (Need, 1)):
        for draft, offset in ((False, 0), (True, 7)):
            add(
                session.exec(
                    select(model.country, func.count())
                    .where((col(model.status) == "draft") == draft)
                    .group_by(model.country)
                ),
                slot + offset,
            )
    add(
        session.exec(
            select(Need.country, func.count()).where(Need.status == "open").group_by(Need.country)
        ),
        2,
    )
    # the unfiltered network's node counts, counted alone: building the whole network view
    # (links, metrics, layout) for them made this page's first render after a change 1.2 s
    per_role = aggregate.role_counts(session)
    for code in sorted({*per_role["provider"], *per_role["recipient"], *per_role["participant"]}):
        counts = found.setdefault(code, [0] * 9)
        counts[4:7] = [per_role[r][code] for r in ("provider", "recipient", "participant")]
    return {code: tuple(c) for code, c in found.items()}  # type: ignore[misc]


def countries_activity(
    session: Session, vocab: Vocabulary, region: str | None = None, *, viewer: Viewer
) -> list[CountryActivity]:
    """Countries with any capacity, need, exchange or commitment (in ``region`` if given) that
    ``viewer`` may see: draft capacities and needs count only where ``viewer`` may see them.

    The counts are kept: those of the records under their version, the commitments' under the
    change version (:func:`_activity_counts`)."""
    counts = _activity_counts(session)
    out = []
    for code, row in counts.items():
        caps, needs, open_needs, commitments, provided, received, joint = row[:7]
        if visibility.sees_drafts_of(viewer, code):
            caps, needs = caps + row[7], needs + row[8]
        if not (caps or needs or commitments or provided or received or joint):
            continue  # only drafts, which this viewer may not see
        c = vocab.countries.get(code)
        where = c.region if c else ""
        if region is None or where == region:
            out.append(
                CountryActivity(
                    code,
                    where,
                    capacities=caps,
                    needs=needs,
                    open_needs=open_needs,
                    provided=provided,
                    received=received,
                    joint=joint,
                    commitments=commitments,
                )
            )
    return out
