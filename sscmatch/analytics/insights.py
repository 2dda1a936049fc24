"""Gaps (themes with open needs that no published capacity covers) and the charts' data.

Records held by international or regional bodies (``Institution.international``; such records
have no country) are not a country's own (see data/README.md): they are left out of gaps and of
supply and demand.

Charts come with their geometry (bars in SVG user units) so templates only draw them.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from sscmatch.analytics import aggregate
from sscmatch.analytics.data import cached
from sscmatch.analytics.filters import Filters
from sscmatch.analytics.graph import ExchangeRow
from sscmatch.models import Capacity, Institution, Need
from sscmatch.relations import capacity_theme, having, need_theme
from sscmatch.vocab import Vocabulary

FamilyCounts = tuple[dict[str, Counter[str]], dict[str, Counter[str]]]
"""Per theme family, the exchanges each country provided to and received in."""

PALETTE = (
    "#0072b2",
    "#e69f00",
    "#009e73",
    "#cc79a7",
    "#56b4e9",
    "#d55e00",
    "#7f7f7f",
    "#f0e442",
    "#332288",
    "#88ccee",
    "#44aa99",
    "#aa4499",
    "#999933",
)


def family(theme: str, vocab: Vocabulary) -> str:
    """The top-level theme of ``theme`` (itself for a root or an unknown id)."""
    t = vocab.themes.get(theme)
    return t.parent if t is not None and t.parent else theme


def family_colours(vocab: Vocabulary) -> dict[str, str]:
    return {root: PALETTE[i % len(PALETTE)] for i, root in enumerate(vocab.roots())}


def covers(capacity_theme: str, need_theme: str, vocab: Vocabulary) -> bool:
    """A capacity theme covers a need theme when it is the same, its parent or its child."""
    if capacity_theme == need_theme:
        return True
    if capacity_theme not in vocab.themes or need_theme not in vocab.themes:
        return False
    return vocab.theme_relation(need_theme, capacity_theme) in ("parent", "child")


# --------------------------------------------------------------------------- gaps


@dataclass(frozen=True)
class NeedRef:
    id: str
    country: str
    title: str
    priority: str | None


@dataclass
class Gap:
    theme: str
    family: str
    needs: list[NeedRef] = field(default_factory=list)

    @property
    def countries(self) -> list[str]:
        return sorted({n.country for n in self.needs})


def gaps_from(
    needs: Iterable[tuple[str, str, str, Sequence[str], str | None]],
    capacity_themes: Iterable[Sequence[str]],
    vocab: Vocabulary,
) -> list[Gap]:
    """Themes of open needs that no capacity theme covers, most needs first.

    ``needs`` are ``(id, country, title, themes, priority)``.

    >>> from sscmatch.vocab import load_vocabulary
    >>> v = load_vocabulary()
    >>> gs = gaps_from([("n1", "GTM", "t", ["labour-inspection", "legislation"], None)],
    ...                [["enforcement"]], v)
    >>> [g.theme for g in gs]
    ['legislation']
    """
    offered: set[str] = set()
    for themes in capacity_themes:
        offered.update(themes)
    covered: dict[str, bool] = {}
    by_theme: dict[str, Gap] = {}
    for nid, country, title, themes, priority in needs:
        for theme in themes:
            if theme not in covered:
                covered[theme] = any(covers(c, theme, vocab) for c in offered)
            if covered[theme]:
                continue
            gap = by_theme.get(theme)
            if gap is None:
                gap = by_theme[theme] = Gap(theme, family(theme, vocab))
            gap.needs.append(NeedRef(nid, country, title, priority))
    out = list(by_theme.values())
    for gap in out:
        gap.needs.sort(key=lambda n: (n.country, n.id))
    out.sort(key=lambda g: (-len(g.needs), g.theme))
    return out


def _own(model: type[Need] | type[Capacity], status: str, codes: set[str] | None) -> list[Any]:
    """Conditions for a country's own records in ``status`` (of countries in ``codes``, if
    given): records of international or regional bodies aside."""
    international = select(Institution.id).where(col(Institution.international))
    where = [
        col(model.status) == status,
        col(model.country).is_not(None),
        or_(col(model.institution).is_(None), col(model.institution).not_in(international)),
    ]
    if codes is not None:
        where.append(col(model.country).in_(sorted(codes)))
    return where


def _theme_counts(
    session: Session, model: type[Need] | type[Capacity], status: str, codes: set[str] | None
) -> Counter[str]:
    """Per theme, the records of :func:`_own` with it (from the association table)."""
    table = need_theme if model is Need else capacity_theme
    record = table.c[model.__tablename__]  # type: ignore[index]
    found = session.connection().execute(
        sa_select(table.c.theme, func.count())
        .join(model, col(model.id) == record)
        .where(*_own(model, status, codes))
        .group_by(table.c.theme)
    )
    return Counter({theme: int(n) for theme, n in found})


def _region_codes(vocab: Vocabulary, region: str | None) -> set[str] | None:
    if region is None:
        return None
    return {c.code for c in vocab.countries.values() if c.region == region}


def gaps(session: Session, vocab: Vocabulary, region: str | None = None) -> list[Gap]:
    """Themes with open needs (of countries in ``region``, if given) that no published
    capacity anywhere covers (same theme, its parent or a child). Cached per data version."""
    return cached(session, None, ("gaps", region), lambda: _gaps(session, vocab, region))


def _gaps(session: Session, vocab: Vocabulary, region: str | None) -> list[Gap]:
    """:func:`gaps_from` with the themes counted by the database: only the open needs with a
    theme no capacity covers are read."""
    codes = _region_codes(vocab, region)
    offered = sorted(_theme_counts(session, Capacity, "published", None))
    asked = _theme_counts(session, Need, "open", codes)
    uncovered = [t for t in asked if not any(covers(c, t, vocab) for c in offered)]
    if not uncovered:
        return []
    rows = session.exec(
        select(Need.id, Need.country, Need.title, Need.themes, Need.priority)  # type: ignore[call-overload]
        .where(*_own(Need, "open", codes), having(Need, "themes", uncovered))
        .order_by(Need.id)
    )
    needs = [(nid, country, title, list(themes), p) for nid, country, title, themes, p in rows]
    return gaps_from(needs, [offered], vocab)


# --------------------------------------------------------------------------- charts


def chart_counts(
    session: Session, vocab: Vocabulary, filters: Filters
) -> tuple[int, dict[int, Counter[str]], FamilyCounts]:
    """The (filtered) exchanges counted by the database for the charts: how many, per year and
    theme family, per family and country. Cached per data version and filters."""

    def make() -> tuple[int, dict[int, Counter[str]], FamilyCounts]:
        return (
            aggregate.count(session, filters, vocab),
            aggregate.year_family_counts(session, filters, vocab),
            aggregate.family_country_counts(session, filters, vocab),
        )

    return cached(session, None, ("charts", filters.key()), make)


def nice_ticks(top: float, count: int = 5) -> list[int]:
    """Whole-number axis ticks from 0 to at least ``top``.

    >>> nice_ticks(37)
    [0, 10, 20, 30, 40]
    """
    if top <= 0:
        return [0, 1]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(int(step), 1)
    ticks = list(range(0, math.ceil(top / step) * step + 1, step))
    return ticks


@dataclass
class Segment:
    key: str
    label: str
    value: int
    x: float
    y: float
    w: float
    h: float
    colour: str


@dataclass
class StackedBars:
    """Exchanges per year, stacked by theme family."""

    width: int
    height: int
    plot: tuple[float, float, float, float]  # left, top, right, bottom
    bars: list[tuple[int, int, float, list[Segment]]]  # year, total, label x, segments
    ticks: list[tuple[int, float]]  # value, y
    legend: list[tuple[str, str, str]]  # key, label, colour
    label_every: int


def year_family_counts(rows: Iterable[ExchangeRow], vocab: Vocabulary) -> dict[int, Counter[str]]:
    """Per start year, the exchanges touching each theme family: an exchange counts once in
    each family it touches (``(none)`` without themes). The database counts the same:
    :func:`sscmatch.analytics.aggregate.year_family_counts`."""
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    for row in rows:
        if row.year is None:
            continue
        fams = {family(t, vocab) for t in row.themes} or {"(none)"}
        for f in fams:
            counts[row.year][f] += 1
    return counts


def per_year_by_family(
    rows: Sequence[ExchangeRow], vocab: Vocabulary, lang: str = "en"
) -> StackedBars:
    """An exchange counts once in each theme family it touches, in its start year."""
    return per_year_chart(year_family_counts(rows, vocab), vocab, lang)


def per_year_chart(
    counts: dict[int, Counter[str]], vocab: Vocabulary, lang: str = "en"
) -> StackedBars:
    """The stacked bars of :func:`year_family_counts`."""
    counts = defaultdict(Counter, counts)
    colours = family_colours(vocab)
    width, height = 760, 320
    left, top, right, bottom = 48.0, 16.0, width - 12.0, height - 40.0
    years = list(range(min(counts), max(counts) + 1)) if counts else []
    peak = max((sum(c.values()) for c in counts.values()), default=0)
    ticks = nice_ticks(peak)
    scale = (bottom - top) / ticks[-1] if ticks[-1] else 0.0
    slot = (right - left) / max(len(years), 1)
    bar_w = max(slot * 0.8, 1.0)
    present: list[str] = [r for r in vocab.roots() if any(c[r] for c in counts.values())]
    present += sorted({f for c in counts.values() for f in c} - set(present))
    bars = []
    for i, year in enumerate(years):
        x = left + i * slot + (slot - bar_w) / 2
        y = bottom
        segs = []
        for f in present:
            v = counts[year][f]
            if not v:
                continue
            h = v * scale
            y -= h
            label = vocab.themes[f].label(lang) if f in vocab.themes else f
            segs.append(
                Segment(
                    f,
                    label,
                    v,
                    round(x, 2),
                    round(y, 2),
                    round(bar_w, 2),
                    round(h, 2),
                    colours.get(f, "#999999"),
                )
            )
        bars.append((year, sum(counts[year].values()), round(x + bar_w / 2, 2), segs))
    legend = [
        (f, vocab.themes[f].label(lang) if f in vocab.themes else f, colours.get(f, "#999999"))
        for f in present
    ]
    return StackedBars(
        width,
        height,
        (left, top, right, bottom),
        bars,
        [(t, round(bottom - t * scale, 2)) for t in ticks],
        legend,
        max(1, math.ceil(len(years) / 16)),
    )


@dataclass
class BarRow:
    key: str
    label: str
    value: int
    w: float


@dataclass
class TopChart:
    family: str
    label: str
    colour: str
    providers: list[BarRow]
    recipients: list[BarRow]


def _bars(
    counter: Counter[str], vocab: Vocabulary, lang: str, n: int, width: float
) -> list[BarRow]:
    top = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    peak = top[0][1] if top else 1
    out = []
    for code, v in top:
        c = vocab.countries.get(code)
        out.append(BarRow(code, c.name(lang) if c else code, v, round(width * v / peak, 2)))
    return out


def family_country_counts(rows: Iterable[ExchangeRow], vocab: Vocabulary) -> FamilyCounts:
    """Per theme family, the exchanges each country provided to and received in (the database
    counts the same: :func:`sscmatch.analytics.aggregate.family_country_counts`)."""
    prov: dict[str, Counter[str]] = defaultdict(Counter)
    rec: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        fams = {family(t, vocab) for t in row.themes}
        for f in fams:
            prov[f].update(set(row.providers))
            rec[f].update(set(row.recipients))
    return prov, rec


def top_by_family(
    rows: Sequence[ExchangeRow],
    vocab: Vocabulary,
    lang: str = "en",
    n: int = 5,
    width: float = 220.0,
) -> list[TopChart]:
    """Per theme family: the countries that provided and received most (directed exchanges)."""
    return top_chart(family_country_counts(rows, vocab), vocab, lang, n, width)


def top_chart(
    counts: FamilyCounts,
    vocab: Vocabulary,
    lang: str = "en",
    n: int = 5,
    width: float = 220.0,
) -> list[TopChart]:
    """The bars of :func:`family_country_counts`: the ``n`` first countries of each family."""
    prov: dict[str, Counter[str]] = defaultdict(Counter, counts[0])
    rec: dict[str, Counter[str]] = defaultdict(Counter, counts[1])
    colours = family_colours(vocab)
    out = []
    for f in [r for r in vocab.roots() if prov[r] or rec[r]]:
        out.append(
            TopChart(
                f,
                vocab.themes[f].label(lang),
                colours[f],
                _bars(prov[f], vocab, lang, n, width),
                _bars(rec[f], vocab, lang, n, width),
            )
        )
    return out


@dataclass
class SupplyDemandRow:
    theme: str
    label: str
    needs: int
    capacities: int
    w_needs: float
    w_capacities: float
    gap: bool


def supply_demand(
    session: Session,
    vocab: Vocabulary,
    lang: str = "en",
    region: str | None = None,
    width: float = 300.0,
) -> list[SupplyDemandRow]:
    """Open needs and published capacities per theme (countries' own records), side by side;
    ``gap`` marks a theme whose needs no capacity covers."""
    codes = _region_codes(vocab, region)
    n_count, c_count = cached(
        session,
        None,
        ("supply-demand", region),
        lambda: (
            _theme_counts(session, Need, "open", codes),
            _theme_counts(session, Capacity, "published", codes),
        ),
    )
    gap_themes = {g.theme for g in gaps(session, vocab, region)}
    peak = max([*n_count.values(), *c_count.values(), 1])
    rows = []
    for theme in sorted(set(n_count) | set(c_count), key=lambda t: (-n_count[t], -c_count[t], t)):
        label = vocab.themes[theme].label(lang) if theme in vocab.themes else theme
        rows.append(
            SupplyDemandRow(
                theme,
                label,
                n_count[theme],
                c_count[theme],
                round(width * n_count[theme] / peak, 2),
                round(width * c_count[theme] / peak, 2),
                theme in gap_themes,
            )
        )
    return rows
