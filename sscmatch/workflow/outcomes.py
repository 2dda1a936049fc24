"""What the commitments add up to: the follow-up dashboard and the outcome ladder.

**Outcome ladder** (:func:`outcome_ladder`). One *cooperation* is one study tour, or one accepted
or provider-confirmed proposal without a tour, or one recorded exchange without a tour. Its step
is derived from the data, never stored:

1. ``interest``: an accepted/confirmed proposal, a draft or cancelled tour, or anything above;
2. ``commitment``: the tour was proposed to both countries (status proposed or later);
3. ``agreement``: both sides agreed it (agreed, scheduled, completed, closed);
4. ``exchange``: it took place (tour completed or closed; any recorded exchange);
5. ``fulfilled``: it has commitments and every one of them is fulfilled.

A cooperation counts once for each country involved and once for each of its themes; a step's
count includes every cooperation that reached it or went further.

**Live and historical.** A commitment of a study tour planned in sscmatch is *live*: its owners
follow it up here. One recorded from the documents (no study tour) is *historical*: the
documents left it open years ago and nobody reports on it here, so the dashboard counts it apart
instead of opening with dozens of items thousands of days "overdue".
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Text, and_, case, distinct, func, type_coerce
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from sscmatch.caches import Cache
from sscmatch.columns import json_list_reader
from sscmatch.db import data_key
from sscmatch.models import Commitment, CommitmentUpdate, Exchange, Need, Proposal, StudyTour
from sscmatch.relations import exchange_country, exchange_theme
from sscmatch.workflow.commitments import (
    DECIDED,
    LADDER,
    OPEN,
    CommitmentItem,
    commitment_items,
    days_left,
    is_historical,
    is_overdue,
)
from sscmatch.workflow.tours import themes_of


@dataclass
class Tally:
    """Commitment counts of a group (a country, a tour, a year)."""

    pending: int = 0
    in_progress: int = 0
    fulfilled: int = 0
    dropped: int = 0
    overdue: int = 0

    def add(self, k: CommitmentItem, today: date) -> None:
        """Count ``k``; overdue only when it is live (one recorded from the documents, years
        past its due date, is not overdue here: nobody reports on it)."""
        setattr(self, k.status, getattr(self, k.status, 0) + 1)
        if not is_historical(k) and is_overdue(k, today):
            self.overdue += 1

    @property
    def total(self) -> int:
        return self.pending + self.in_progress + self.fulfilled + self.dropped

    @property
    def rate(self) -> float | None:
        """Fulfilled among decided (None while nothing is decided)."""
        decided = self.fulfilled + self.dropped
        return self.fulfilled / decided if decided else None

    @property
    def decided(self) -> int:
        return self.fulfilled + self.dropped

    @property
    def share_fulfilled(self) -> float | None:
        """Fulfilled among all recorded: unlike :attr:`rate`, a country whose commitments are
        mostly still open scores low (among decided ones nearly every country is at 100%)."""
        return self.fulfilled / self.total if self.total else None


@dataclass
class Dashboard:
    """``overdue`` and ``due_soon`` are live commitments (of study tours planned here);
    ``historical`` holds those recorded from the documents, whose follow-up sscmatch never saw:
    counted apart, so years-old "overdue" items do not bury what needs acting on now."""

    today: date
    overdue: list[CommitmentItem]
    due_soon: list[CommitmentItem]
    by_country: dict[str, Tally]
    by_tour: dict[str, Tally]
    over_time: dict[str, Tally]
    tour_titles: dict[str, str] = field(default_factory=dict)
    historical: list[CommitmentItem] = field(default_factory=list)
    historical_tally: Tally = field(default_factory=Tally)
    live_tally: Tally = field(default_factory=Tally)

    @property
    def historical_overdue(self) -> list[CommitmentItem]:
        return [k for k in self.historical if is_overdue(k, self.today)]


def decided_on(session: Session, commitments: Sequence[CommitmentItem]) -> dict[str, date | None]:
    """When each decided commitment was decided: its last history row with its status, else its
    due date, else the start of its exchange. Two queries joined on the commitments of the same
    statuses, not an ``IN`` of every id (32,000 bound ids each at full scale: 0.27 -> 0.19 s)."""
    wanted = {k.id for k in commitments}
    if not wanted:
        return {}
    statuses = sorted({k.status for k in commitments})
    k_ = Commitment.__table__  # type: ignore[attr-defined]
    u = CommitmentUpdate.__table__  # type: ignore[attr-defined]
    x = Exchange.__table__  # type: ignore[attr-defined]
    last: dict[str, date] = {
        commitment: at.date()
        for commitment, at in session.execute(
            sa_select(u.c.commitment, func.max(u.c.at))
            .join(k_, and_(k_.c.id == u.c.commitment, k_.c.status == u.c.status))
            .where(k_.c.status.in_(statuses))
            .group_by(u.c.commitment)
        )
        if commitment in wanted
    }
    starts: dict[str, date] = {
        commitment: start
        for commitment, start in session.execute(
            sa_select(k_.c.id, x.c.start_date)
            .join(x, x.c.id == k_.c.exchange)
            .where(k_.c.status.in_(statuses))
        )
        if commitment in wanted
    }
    out: dict[str, date | None] = {}
    for k in commitments:
        when: date | None = last.get(k.id)
        if when is None and k.due:
            when = k.due.last
        start = starts.get(k.id)
        if when is None and start:
            when = date(start.year, 1, 1)
        out[k.id] = when
    return out


def dashboard(
    session: Session, *, today: date, country: str | None = None, soon_days: int = 30
) -> Dashboard:
    """Live overdue first, due soon, counts by owner country and by tour, fulfilment rate by
    year in which commitments were decided; commitments recorded from documents apart."""
    rows = commitment_items(session, today=today, country=country)
    live = [k for k in rows if not is_historical(k)]
    historical = [k for k in rows if is_historical(k)]
    live_tally, historical_tally = Tally(), Tally()
    for k in live:
        live_tally.add(k, today)
    for k in historical:
        historical_tally.add(k, today)
    by_country: dict[str, Tally] = defaultdict(Tally)
    by_tour: dict[str, Tally] = defaultdict(Tally)
    over_time: dict[str, Tally] = defaultdict(Tally)
    decided = decided_on(session, [k for k in rows if k.status in DECIDED])
    for k in rows:
        if k.owner_country:  # an international or regional body is not a country to count
            by_country[k.owner_country].add(k, today)
        if k.study_tour:
            by_tour[k.study_tour].add(k, today)
        when = decided.get(k.id)
        if when is not None:
            over_time[str(when.year)].add(k, today)
    titles = {
        t.id: t.title
        for t in session.exec(select(StudyTour).where(col(StudyTour.id).in_(list(by_tour))))
    }
    soon = [
        k
        for k in live
        if k.status in OPEN
        and not is_overdue(k, today)
        and (left := days_left(k, today)) is not None
        and left <= soon_days
    ]
    return Dashboard(
        today=today,
        overdue=[k for k in live if is_overdue(k, today)],
        due_soon=soon,
        by_country=dict(sorted(by_country.items(), key=lambda kv: (-kv[1].overdue, kv[0]))),
        by_tour=dict(sorted(by_tour.items(), key=lambda kv: (-kv[1].overdue, kv[0]))),
        over_time=dict(sorted(over_time.items())),
        tour_titles=titles,
        historical=historical,
        historical_tally=historical_tally,
        live_tally=live_tally,
    )


# --------------------------------------------------------------------------- outcome ladder


@dataclass(frozen=True)
class Cooperation:
    key: str
    countries: tuple[str, ...]
    themes: tuple[str, ...]
    step: int  # index into LADDER (the exchanges recorded from the documents are counted apart)


@dataclass
class Ladder:
    """``total``, ``by_country`` and ``by_theme`` count the cooperations that *reached* each
    step (cumulative). ``by_origin`` does the same for the cooperations planned in sscmatch and
    for the exchanges recorded from the documents, which enter the ladder at "exchange" (the
    documents do not tell the earlier steps): mixing them made every early step look alike."""

    total: list[int]
    by_country: dict[str, list[int]]
    by_theme: dict[str, list[int]]
    by_origin: dict[str, list[int]] = field(default_factory=dict)

    @staticmethod
    def conversion(counts: Sequence[int]) -> list[float | None]:
        """Of those that reached a step, the share that reached the next (None for the first
        step, or when none reached the one before)."""
        out: list[float | None] = [None]
        for before, after in itertools.pairwise(counts):
            out.append(after / before if before else None)
        return out

    @staticmethod
    def stopped(counts: Sequence[int]) -> list[int]:
        """How many stopped at each step (reached it, not the next)."""
        return [n - (counts[i + 1] if i + 1 < len(counts) else 0) for i, n in enumerate(counts)]


def _tour_step(tour: StudyTour, statuses: Sequence[str]) -> int:
    """``statuses``: those of the tour's commitments."""
    order = {"draft": 0, "cancelled": 0, "proposed": 1, "agreed": 2, "scheduled": 2}
    step = order.get(tour.status, 3)
    if step == 3 and statuses and all(status == "fulfilled" for status in statuses):
        step = 4
    return step


def _counts(c: Counter[int]) -> list[int]:
    return [sum(n for s, n in c.items() if s >= i) for i in range(len(LADDER))]


_LADDER: Cache[Ladder] = Cache("outcome ladder", size=1)
"""The ladder of the latest data version (one database at a time in a process)."""


def outcome_ladder(session: Session) -> Ladder:
    """How far the cooperations went: counts per step overall, per country and per theme (see
    the module's definition). Kept while the records are unchanged
    (:func:`sscmatch.db.data_key`): the follow-up dashboard shows it on every visit."""
    return _LADDER.get_or_make(data_key(session), lambda: _compute_ladder(session))


def _need_themes(session: Session, need_ids: set[str]) -> dict[str, tuple[str, ...]]:
    if not need_ids:
        return {}
    parse = json_list_reader()
    rows = session.exec(
        select(Need.id, type_coerce(col(Need.themes), Text)).where(col(Need.id).in_(need_ids))
    )
    return {need_id: parse(themes) for need_id, themes in rows}


def _exchange_steps(session: Session) -> tuple[Counter[int], list[tuple[str, str, int, int]]]:
    """The exchanges not recorded from a study tour, counted by the database: how many reached
    each step (4 when it has commitments, of no tour, and every one is fulfilled; else 3), and
    ``(kind, value, step, count)`` per country (``country``: any role, counted once) and per
    theme (``theme``), from the association tables (:mod:`sscmatch.relations`). At full scale
    this was 200,000 rows read and their JSON lists parsed in Python, most of the dashboard's
    first render. Per value: all its exchanges (on the table's index), less those of a study
    tour (few), less the fulfilled ones (counted apart, from their commitments); joining every
    exchange row to find the few to leave out took 1.4 s on SQLite."""
    k = Commitment.__table__  # type: ignore[attr-defined]
    x = Exchange.__table__  # type: ignore[attr-defined]
    fulfilled = (
        sa_select(k.c.exchange.label("exchange"))
        .where(k.c.study_tour.is_(None), k.c.exchange.is_not(None))
        .group_by(k.c.exchange)
        .having(func.count() == func.count(case((k.c.status == "fulfilled", 1))))
        .subquery()
    )
    done = fulfilled.join(x, x.c.id == fulfilled.c.exchange)
    conn = session.connection()
    without_tour = x.c.study_tour.is_(None)
    n_all = conn.execute(sa_select(func.count()).select_from(x).where(without_tour)).scalar_one()
    n_done = conn.execute(
        sa_select(func.count()).select_from(done).where(without_tour)
    ).scalar_one()
    totals = Counter({3: n_all - n_done, 4: n_done})
    groups: list[tuple[str, str, int, int]] = []

    def per_value(query: Any) -> dict[str, int]:
        return {v: n for v, n in conn.execute(query)}

    for kind, table, value in (
        ("country", exchange_country, exchange_country.c.country),
        ("theme", exchange_theme, exchange_theme.c.theme),
    ):
        counted = sa_select(value, func.count(distinct(table.c.exchange))).group_by(value)
        on = table.c.exchange == x.c.id
        every = per_value(counted.select_from(table))
        of_tours = per_value(
            counted.select_from(x.join(table, on)).where(x.c.study_tour.is_not(None))
        )
        of_done = per_value(counted.select_from(done.join(table, on)).where(without_tour))
        for v, n in every.items():
            four = of_done.get(v, 0)
            three = n - of_tours.get(v, 0) - four
            groups.extend((kind, v, step, m) for step, m in ((3, three), (4, four)) if m)
    return totals, groups


def _compute_ladder(session: Session) -> Ladder:
    # Only the commitments of tours are read here (the exchanges' are counted by the database).
    k = Commitment.__table__  # type: ignore[attr-defined]
    by_tour: dict[str, list[str]] = defaultdict(list)
    for tour_id, status in session.execute(
        sa_select(k.c.study_tour, k.c.status).where(k.c.study_tour.is_not(None))
    ):
        by_tour[tour_id].append(status)
    coops: list[Cooperation] = []
    proposals_with_tour: set[int] = set()
    for tour in session.exec(select(StudyTour).order_by(col(StudyTour.id))):
        if tour.proposal_id is not None:
            proposals_with_tour.add(tour.proposal_id)
        coops.append(
            Cooperation(
                key=f"tour:{tour.id}",
                countries=(tour.host_country, tour.visiting_country),
                themes=tuple(themes_of(session, tour)),
                step=_tour_step(tour, by_tour.get(tour.id, [])),
            )
        )
    agreed = [
        p
        for p in session.exec(
            select(Proposal).where(col(Proposal.status).in_(("accepted", "provider_confirmed")))
        )
        if p.id not in proposals_with_tour
    ]
    need_themes = _need_themes(session, {p.need for p in agreed})
    for p in agreed:
        coops.append(
            Cooperation(
                key=f"proposal:{p.id}",
                countries=(p.provider, p.recipient),
                themes=need_themes.get(p.need, ()),
                step=0,
            )
        )
    per_country: dict[str, Counter[int]] = defaultdict(Counter)
    per_theme: dict[str, Counter[int]] = defaultdict(Counter)
    for c in coops:
        for code in set(c.countries):
            per_country[code][c.step] += 1
        for theme in set(c.themes):
            per_theme[theme][c.step] += 1
    documents, groups = _exchange_steps(session)
    for kind, value, step, n in groups:
        (per_country if kind == "country" else per_theme)[value][step] += n
    # Only the counts are kept (for as long as the data is unchanged): the cooperations, one an
    # exchange (200,000 objects at full scale), made every full pass of Python's cycle collector
    # walk them, 0.1 s more in whichever request it landed on.
    service = Counter(c.step for c in coops)
    return Ladder(
        total=_counts(service + documents),
        by_country={k: _counts(v) for k, v in sorted(per_country.items())},
        by_theme={k: _counts(v) for k, v in sorted(per_theme.items())},
        by_origin={"service": _counts(service), "documents": _counts(documents)},
    )
