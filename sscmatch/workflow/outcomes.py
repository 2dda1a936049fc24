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
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Text, type_coerce
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from sscmatch.caches import Cache
from sscmatch.columns import json_list_reader
from sscmatch.db import data_key
from sscmatch.models import CommitmentUpdate, Exchange, Need, Proposal, StudyTour
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
    due date, else the start of its exchange (two queries for all of them, not two each)."""
    ids = [k.id for k in commitments]
    last: dict[tuple[str, str], date] = {}
    if ids:
        rows = session.exec(
            select(CommitmentUpdate.commitment, CommitmentUpdate.status, CommitmentUpdate.at).where(
                col(CommitmentUpdate.commitment).in_(ids)
            )
        )
        for commitment, status, at in rows:
            key = (commitment, status)
            if key not in last or at.date() > last[key]:
                last[key] = at.date()
    exchange_ids = {k.exchange for k in commitments if k.exchange}
    starts: dict[str, date] = (
        dict(
            session.exec(
                select(Exchange.id, col(Exchange.start_date)).where(
                    col(Exchange.id).in_(exchange_ids)
                )
            ).all()
        )
        if exchange_ids
        else {}
    )
    out: dict[str, date | None] = {}
    for k in commitments:
        when: date | None = last.get((k.id, k.status))
        if when is None and k.due:
            when = k.due.last
        start = starts.get(k.exchange or "")
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


ORIGINS = ("service", "documents")


@dataclass(frozen=True)
class Cooperation:
    key: str
    countries: tuple[str, ...]
    themes: tuple[str, ...]
    step: int  # index into LADDER
    origin: str = "service"  # planned in sscmatch, or an exchange recorded from the documents


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


def _tour_step(tour: StudyTour, commitments: Sequence[CommitmentItem]) -> int:
    order = {"draft": 0, "cancelled": 0, "proposed": 1, "agreed": 2, "scheduled": 2}
    step = order.get(tour.status, 3)
    if step == 3 and commitments and all(k.status == "fulfilled" for k in commitments):
        step = 4
    return step


def _counts(steps: Iterable[int]) -> list[int]:
    c = Counter(steps)
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


def _exchanges_without_tour(
    session: Session,
) -> Iterator[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """``(id, countries, themes)`` of every exchange not recorded from a study tour, by id."""
    parse = json_list_reader()
    rows = session.connection().execute(
        sa_select(
            col(Exchange.id),
            type_coerce(col(Exchange.providers), Text),
            type_coerce(col(Exchange.recipients), Text),
            type_coerce(col(Exchange.participants), Text),
            type_coerce(col(Exchange.themes), Text),
        )
        .where(col(Exchange.study_tour).is_(None))
        .order_by(col(Exchange.id))
    )
    for exchange_id, providers, recipients, participants, themes in rows:
        countries = tuple(
            dict.fromkeys((*parse(providers), *parse(recipients), *parse(participants)))
        )
        yield exchange_id, countries, parse(themes)


def _compute_ladder(session: Session) -> Ladder:
    by_tour: dict[str, list[CommitmentItem]] = defaultdict(list)
    by_exchange: dict[str, list[CommitmentItem]] = defaultdict(list)
    for k in commitment_items(session):
        if k.study_tour:
            by_tour[k.study_tour].append(k)
        elif k.exchange:
            by_exchange[k.exchange].append(k)
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
    for exchange_id, countries, themes in _exchanges_without_tour(session):
        ks = by_exchange.get(exchange_id, [])
        coops.append(
            Cooperation(
                key=f"exchange:{exchange_id}",
                countries=countries,
                themes=themes,
                step=4 if ks and all(k.status == "fulfilled" for k in ks) else 3,
                origin="documents",
            )
        )
    per_country: dict[str, list[int]] = defaultdict(list)
    per_theme: dict[str, list[int]] = defaultdict(list)
    for c in coops:
        for code in set(c.countries):
            per_country[code].append(c.step)
        for theme in set(c.themes):
            per_theme[theme].append(c.step)
    # Only the counts are kept (for as long as the data is unchanged): the cooperations, one an
    # exchange (200,000 objects at full scale), made every full pass of Python's cycle collector
    # walk them, 0.1 s more in whichever request it landed on.
    return Ladder(
        total=_counts(c.step for c in coops),
        by_country={k: _counts(v) for k, v in sorted(per_country.items())},
        by_theme={k: _counts(v) for k, v in sorted(per_theme.items())},
        by_origin={o: _counts(c.step for c in coops if c.origin == o) for o in ORIGINS},
    )
