"""The analytics counted by the database: GROUP BY queries over the association tables of
:mod:`sscmatch.relations` (``exchange_country``, ``exchange_theme``, ``exchange_partner``)
instead of reading every exchange into Python.

Each function here answers what a function on :class:`~sscmatch.analytics.graph.ExchangeRow`
tuples answers (``tests/test_analytics.py`` compares them on the knowledge base and on a
synthetic corpus under every filter): :func:`network` as :func:`graph.build_network`,
:func:`link_details` as :func:`payload.link_exchanges`, :func:`details` as
:func:`payload.details`, :func:`year_family_counts` and :func:`family_country_counts` as the
charts' counts of :mod:`insights`. At 200,000 exchanges the unfiltered network takes a few
hundred milliseconds where reading the exchanges took seconds, and a filtered one less.

Filters become conditions on ``exchange`` (:func:`conditions`): a theme (with its children) and
a region through the association tables' indexes, the years on ``start`` (a normalised partial
date, so its first four characters are the year), the modality on its column, a constituency
through ``exchange_partner`` and ``institution``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    exists,
    extract,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    union_all,
)
from sqlalchemy import String as SAString
from sqlmodel import Session

from sscmatch.analytics.filters import Filters
from sscmatch.analytics.graph import DIRECTED, JOINT, Network, assemble
from sscmatch.dates import text_of
from sscmatch.models import Exchange, Institution, period_order
from sscmatch.relations import exchange_country, exchange_partner, exchange_theme
from sscmatch.vocab import Vocabulary

EXCHANGE = Exchange.__table__  # type: ignore[attr-defined]
E = EXCHANGE.c
INSTITUTION = Institution.__table__  # type: ignore[attr-defined]
NONE_FAMILY = "(none)"


# --------------------------------------------------------------------------- filters


def year_known() -> ColumnElement[bool]:
    """The exchange's start is known (it always is: the column is required)."""
    known: ColumnElement[bool] = E.start_date.is_not(None)
    return known


NEWEST = [o.desc() for o in (*period_order(E.start_date, E.start_precision), E.id)]
"""Newest exchanges first (by start as :class:`~sscmatch.dates.PartialDate` orders them)."""


def region_codes(vocab: Vocabulary, region: str) -> list[str]:
    return sorted(c.code for c in vocab.countries.values() if c.region == region)


def conditions(f: Filters | None, vocab: Vocabulary) -> list[ColumnElement[bool]]:
    """The filters as conditions on the ``exchange`` table (none for no filter)."""
    if f is None or not f.active:
        return []
    out: list[ColumnElement[bool]] = []
    if f.themes:
        wanted = sorted(f.themes)
        out.append(
            E.id.in_(select(exchange_theme.c.exchange).where(exchange_theme.c.theme.in_(wanted)))
        )
    if f.year_from is not None or f.year_to is not None:
        out.append(year_known())
        # the year is the start's: a range of days
        if f.year_from is not None:
            out.append(E.start_date >= date(f.year_from, 1, 1))
        if f.year_to is not None:
            out.append(E.start_date < date(f.year_to + 1, 1, 1))
    if f.modality is not None:
        out.append(E.modality == f.modality)
    if f.constituency is not None:
        partner = exchange_partner.c
        out.append(
            E.id.in_(
                select(partner.exchange)
                .join(INSTITUTION, INSTITUTION.c.id == partner.partner)
                .where(INSTITUTION.c.constituency == f.constituency)
            )
        )
    if f.region is not None:
        codes = region_codes(vocab, f.region)
        if not codes:
            return [false()]
        out.append(
            E.id.in_(
                select(exchange_country.c.exchange).where(exchange_country.c.country.in_(codes))
            )
        )
    return out


def chosen(f: Filters | None, vocab: Vocabulary) -> Select[Any] | None:
    """The ids of the exchanges that pass ``f`` (None: all of them)."""
    where = conditions(f, vocab)
    return select(E.id).where(*where) if where else None


def _within(expr: Any, ids: Select[Any] | None) -> list[ColumnElement[bool]]:
    return [] if ids is None else [expr.in_(ids)]


def _role(alias: Any, exchange: Any, role: str, code: Any) -> ColumnElement[bool]:
    """The exchange has ``code`` in ``role`` (a primary-key lookup)."""
    return exists().where(
        alias.c.exchange == exchange, alias.c.role == role, alias.c.country == code
    )


# --------------------------------------------------------------------------- the network


def count(session: Session, f: Filters | None, vocab: Vocabulary) -> int:
    """How many exchanges pass ``f``."""
    where = conditions(f, vocab)
    found = session.connection().execute(select(func.count()).select_from(EXCHANGE).where(*where))
    return int(found.scalar_one())


def network(session: Session, f: Filters | None, vocab: Vocabulary) -> Network:
    """The (filtered) network without metrics: what ``build_network(rows, f, vocab,
    metrics=False)`` gives for every exchange in the database."""
    conn = session.connection()
    ids = chosen(f, vocab)
    where = conditions(f, vocab)
    total = count(session, f, vocab)
    ec = exchange_country.c
    per_role = role_counts(session, ids)
    mutual: Counter[str] = Counter()
    for code, n in conn.execute(
        # an IN over the reciprocal exchanges: 8x cheaper on SQLite than a join by exchange
        select(ec.country, func.count())
        .where(
            ec.role == "participant",
            ec.exchange.in_(select(E.id).where(E.direction == "reciprocal", *where)),
        )
        .group_by(ec.country)
    ):
        mutual[code] += int(n)
    links: Counter[tuple[str, str, str]] = Counter()
    for a, b, kind, n in conn.execute(_links(ids)):
        if kind == JOINT and b < a:  # once per pair, the smaller code first
            a, b = b, a
        links[(a, b, kind)] += int(n)
    every: Counter[str] = Counter()
    for code, n in conn.execute(  # each exchange once per country, on the (country, exchange) index
        select(ec.country, func.count(func.distinct(ec.exchange)))
        .where(*_within(ec.exchange, ids))
        .group_by(ec.country)
    ):
        every[code] = int(n)
    provided, received, joint = (per_role[r] for r in ("provider", "recipient", "participant"))
    return assemble(provided, received, joint, mutual, links, total, every)


def role_counts(session: Session, ids: Select[Any] | None = None) -> dict[str, Counter[str]]:
    """Per role (provider, recipient, participant), the exchanges (of ``ids``; None: all) each
    country has in it: the network's node counts, one grouped query on the index."""
    ec = exchange_country.c
    per_role: dict[str, Counter[str]] = defaultdict(Counter)
    for code, role, n in session.connection().execute(
        select(ec.country, ec.role, func.count())
        .where(*_within(ec.exchange, ids))
        .group_by(ec.country, ec.role)
    ):
        per_role[role][code] += int(n)
    return per_role


def _links(ids: Select[Any] | None, *, with_exchange: bool = False) -> Any:
    """``(a, b, kind, count)`` per link (or ``(a, b, kind, exchange)`` per link and exchange
    with ``with_exchange``): provider → recipient as ``directed``; for exchanges with
    participants, every other pair of their countries as ``joint`` (either order)."""
    p, r = exchange_country.alias("p"), exchange_country.alias("r")
    pair = and_(r.c.exchange == p.c.exchange, r.c.role == "recipient", r.c.country != p.c.country)
    directed_cols = [p.c.country, r.c.country, literal(DIRECTED, SAString)]
    directed = select(*directed_cols, *([p.c.exchange] if with_exchange else [func.count()]))
    directed = directed.join(r, pair).where(p.c.role == "provider", *_within(p.c.exchange, ids))
    if not with_exchange:
        directed = directed.group_by(p.c.country, r.c.country)

    events = (
        select(exchange_country.c.exchange)
        .where(exchange_country.c.role == "participant", *_within(exchange_country.c.exchange, ids))
        .distinct()
        .subquery("events")
    )
    member = exchange_country.alias("m")
    members = (
        select(member.c.exchange, member.c.country)
        .join(events, events.c.exchange == member.c.exchange)
        .distinct()
        .subquery("members")
    )
    a, b = members.alias("a"), members.alias("b")
    role = exchange_country.alias("x")
    said = or_(
        and_(
            _role(role, a.c.exchange, "provider", a.c.country),
            _role(role, a.c.exchange, "recipient", b.c.country),
        ),
        and_(
            _role(role, a.c.exchange, "provider", b.c.country),
            _role(role, a.c.exchange, "recipient", a.c.country),
        ),
    )
    joint_cols = [a.c.country, b.c.country, literal(JOINT, SAString)]
    joint = select(*joint_cols, *([a.c.exchange] if with_exchange else [func.count()]))
    joint = joint.join(b, and_(b.c.exchange == a.c.exchange, a.c.country < b.c.country)).where(
        not_(said)
    )
    if not with_exchange:
        joint = joint.group_by(a.c.country, b.c.country)
    return union_all(directed, joint)


def years(session: Session) -> tuple[int, int] | None:
    """The first and last year of every exchange (whatever the filters; the page's slider)."""
    first, last = (
        session.connection()
        .execute(select(func.min(E.start_date), func.max(E.start_date)).where(year_known()))
        .one()
    )
    return None if first is None else (first.year, last.year)


def link_details(
    session: Session, f: Filters | None, vocab: Vocabulary
) -> dict[tuple[str, str, str], dict[str, list[Any]]]:
    """Per link: the ids, years and themes of its (filtered) exchanges (for exports)."""
    conn = session.connection()
    ids = chosen(f, vocab)
    found: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for a, b, kind, exchange in conn.execute(_links(ids, with_exchange=True)):
        if kind == JOINT and b < a:
            a, b = b, a
        found[(a, b, kind)].append(exchange)
    linked = select(exchange_country.c.exchange).where(*_within(exchange_country.c.exchange, ids))
    start: dict[str, date] = {
        eid: day
        for eid, day in conn.execute(
            select(E.id, E.start_date).where(year_known(), E.id.in_(linked))
        )
    }
    themes: dict[str, list[str]] = defaultdict(list)
    for exchange, theme in conn.execute(
        select(exchange_theme.c.exchange, exchange_theme.c.theme).where(
            exchange_theme.c.exchange.in_(linked)
        )
    ):
        themes[exchange].append(theme)
    out: dict[tuple[str, str, str], dict[str, list[Any]]] = {}
    for key, exchanges in found.items():
        link_years = {start[e].year for e in exchanges if e in start}
        link_themes = {t for e in exchanges for t in themes.get(e, ())}
        out[key] = {
            "exchange_ids": sorted(exchanges),
            "years": sorted(link_years),
            "themes": sorted(link_themes),
        }
    return out


# --------------------------------------------------------------------------- details


def matching(
    f: Filters | None,
    vocab: Vocabulary,
    *,
    node: str | None = None,
    source: str | None = None,
    target: str | None = None,
    kind: str = DIRECTED,
    partner: str | None = None,
) -> list[ColumnElement[bool]]:
    """Conditions on ``exchange`` for the (filtered) exchanges of a country (with ``partner``:
    those behind its links with that country, as :func:`_links` makes them) or of a link
    (codes already checked, see :func:`payload.subject_of`)."""
    where = conditions(f, vocab)
    ec = exchange_country.c
    if node is not None:
        where.append(E.id.in_(select(ec.exchange).where(ec.country == node)))
        if partner == node:  # no country is linked with itself
            return [false()]
        if partner is not None:
            role = exchange_country.alias("x")
            where += [
                E.id.in_(select(ec.exchange).where(ec.country == partner)),
                or_(
                    E.id.in_(select(ec.exchange).where(ec.role == "participant")),
                    and_(
                        _role(role, E.id, "provider", node), _role(role, E.id, "recipient", partner)
                    ),
                    and_(
                        _role(role, E.id, "provider", partner), _role(role, E.id, "recipient", node)
                    ),
                ),
            ]
        return where
    if source is None or target is None or source == target:
        return [false()]
    role = exchange_country.alias("x")
    if kind == DIRECTED:
        where += [_role(role, E.id, "provider", source), _role(role, E.id, "recipient", target)]
        return where

    def anywhere(code: str) -> ColumnElement[bool]:
        found: ColumnElement[bool] = E.id.in_(select(ec.exchange).where(ec.country == code))
        return found

    where += [
        E.id.in_(select(ec.exchange).where(ec.role == "participant")),
        anywhere(source),
        anywhere(target),
        not_(and_(_role(role, E.id, "provider", source), _role(role, E.id, "recipient", target))),
        not_(and_(_role(role, E.id, "provider", target), _role(role, E.id, "recipient", source))),
    ]
    return where


def details(
    session: Session, where: Sequence[ColumnElement[bool]], limit: int
) -> tuple[int, list[dict[str, Any]]]:
    """How many exchanges pass ``where`` and the newest ``limit`` of them (by start, then id),
    as the fields a detail item shows."""
    conn = session.connection()
    total = int(conn.execute(select(func.count()).select_from(EXCHANGE).where(*where)).scalar_one())
    if not total or limit <= 0:
        return total, []
    rows = conn.execute(
        select(
            E.id,
            E.title,
            E.start_date,
            E.start_precision,
            E.providers,
            E.recipients,
            E.participants,
            E.themes,
            E.modality,
            E.direction,
        )
        .where(*where)
        .order_by(*NEWEST)
        .limit(limit)
    )
    items = []
    for eid, title, day, precision, prov, rec, part, themes, modality, direction in rows:
        items.append(
            {
                "id": eid,
                "title": title or "",
                "start": text_of(day, precision),
                "year": day.year,
                "providers": list(prov or ()),
                "recipients": list(rec or ()),
                "participants": list(part or ()),
                "themes": list(themes or ()),
                "modality": modality,
                "direction": direction,
            }
        )
    return total, items


# --------------------------------------------------------------------------- charts


def _families(vocab: Vocabulary, ids: Select[Any] | None) -> Any:
    """``(exchange, family)`` once per exchange and theme family it touches (of the exchanges
    ``ids``): the family is a sub-theme's parent, else the theme itself (also an unknown one),
    as :func:`insights.family` says. Made distinct first, so the counts over it need no
    ``COUNT(DISTINCT)`` (twice as fast on SQLite)."""
    parents = {t.id: t.parent for t in vocab.themes.values() if t.parent}
    theme = exchange_theme.c.theme
    family = case(parents, value=theme, else_=theme) if parents else theme
    return (
        select(exchange_theme.c.exchange, family.label("family"))
        .where(*_within(exchange_theme.c.exchange, ids))
        .distinct()
        .subquery("families")
    )


def year_family_counts(
    session: Session, f: Filters | None, vocab: Vocabulary
) -> dict[int, Counter[str]]:
    """Per start year: the exchanges touching each theme family (each once per family; an
    exchange without themes under ``(none)``)."""
    conn = session.connection()
    where = conditions(f, vocab)
    families = _families(vocab, chosen(f, vocab))
    year = extract("year", E.start_date)
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    per_family = (
        select(year, families.c.family, func.count())
        .join(EXCHANGE, E.id == families.c.exchange)
        .where(year_known())
        .group_by(year, families.c.family)
    )
    themeless = (
        select(year, literal(NONE_FAMILY, SAString), func.count())
        .where(
            year_known(),
            *where,
            ~exists().where(exchange_theme.c.exchange == E.id),
        )
        .group_by(year)
    )
    for found in (per_family, themeless):
        for y, fam, n in conn.execute(found):
            counts[int(y)][fam] += int(n)
    return counts


def family_country_counts(
    session: Session, f: Filters | None, vocab: Vocabulary
) -> tuple[dict[str, Counter[str]], dict[str, Counter[str]]]:
    """Per theme family: the exchanges each country provided to and received in."""
    conn = session.connection()
    families = _families(vocab, chosen(f, vocab))
    ec = exchange_country.c
    prov: dict[str, Counter[str]] = defaultdict(Counter)
    rec: dict[str, Counter[str]] = defaultdict(Counter)
    # (exchange, role, country) is the key of exchange_country: each row one exchange
    found = (
        select(families.c.family, ec.role, ec.country, func.count())
        .join(
            exchange_country,
            and_(ec.exchange == families.c.exchange, ec.role.in_(["provider", "recipient"])),
        )
        .group_by(families.c.family, ec.role, ec.country)
    )
    for fam, role, code, n in conn.execute(found):
        (prov if role == "provider" else rec)[fam][code] += int(n)
    return prov, rec


# --------------------------------------------------------------------------- a country


def country_exchanges(
    session: Session, code: str, limit: int
) -> tuple[dict[str, int], dict[str, list[str]]]:
    """A country's exchanges by role: how many, and the ids of the newest ``limit``."""
    conn = session.connection()
    ec = exchange_country.c
    totals = {"given": 0, "received": 0, "joint": 0}
    names = {"provider": "given", "recipient": "received", "participant": "joint"}
    for role, n in conn.execute(
        select(ec.role, func.count()).where(ec.country == code).group_by(ec.role)
    ):
        totals[names[role]] = int(n)
    newest: dict[str, list[str]] = {}
    for role, name in names.items():
        newest[name] = list(
            conn.execute(
                select(E.id)
                .join(exchange_country, ec.exchange == E.id)
                .where(ec.country == code, ec.role == role)
                .order_by(*NEWEST)
                .limit(limit)
            ).scalars()
        )
    return totals, newest


def country_partners(session: Session, code: str) -> tuple[Counter[str], Counter[str]]:
    """The countries ``code`` is linked with in the network, each with the exchanges behind
    those links, and the partners (institutions or names) of its exchanges, each with its
    number of exchanges. Partner countries are the network's (:func:`_links`): two providers
    of one exchange without participants gave together but have no link, so they are not each
    other's partner here either (the profile's count and list must agree with its row in the
    network and its exports)."""
    conn = session.connection()
    ec = exchange_country.c
    mine = select(ec.exchange).where(ec.country == code)
    together: dict[str, set[str]] = defaultdict(set)
    for a, b, _kind, exchange in conn.execute(_links(mine, with_exchange=True)):
        if code in (a, b):
            together[b if a == code else a].add(exchange)
    countries: Counter[str] = Counter({other: len(ids) for other, ids in together.items()})
    bodies: Counter[str] = Counter()
    for body, n in conn.execute(
        select(exchange_partner.c.partner, func.count())
        .where(exchange_partner.c.exchange.in_(mine))
        .group_by(exchange_partner.c.partner)
    ):
        bodies[body] = int(n)
    return countries, bodies
