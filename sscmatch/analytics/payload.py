"""What pages, the API and the CLI get: the network as node-link data, a node's or a link's
exchanges, and exports (GraphML, GEXF, node-link JSON, CSV of nodes and edges).

The node-link shape is networkx's (``nx.node_link_graph(payload, edges="links")`` loads it):
``{"directed": true, "multigraph": true, "graph": {...}, "nodes": [...], "links": [...]}`` with
each link keyed by its kind (``directed`` or ``joint``).
"""

from __future__ import annotations

import heapq
import io
import json
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypedDict

import networkx as nx
from sqlalchemy.engine import Engine
from sqlmodel import Session

from sscmatch.analytics import aggregate
from sscmatch.analytics.data import cached, data_version
from sscmatch.analytics.filters import Filters
from sscmatch.analytics.graph import (
    DIRECTED,
    JOINT,
    ExchangeRow,
    Network,
    build_network,
    compute_metrics,
    layout,
    link_width,
    node_radius,
    predicate,
)
from sscmatch.bundle.csvfile import csv_bytes
from sscmatch.vocab import Vocabulary
from sscmatch.workflow.base import N_, BadParameter, country_filter

FORMATS = ("json", "graphml", "gexf", "csv-nodes", "csv-edges")
LAYOUTS = ("geo", "spring")
NODE_FIELDS = (
    "id",
    "label",
    "region",
    "subregion",
    "provided",
    "received",
    "joint",
    "total",
    "partners",
    "betweenness",
    "pagerank",
    "community",
    "reciprocal",
    "x",
    "y",
)
EDGE_FIELDS = ("source", "target", "kind", "exchanges", "exchange_ids", "years", "themes")
MEDIA_TYPES = {
    "json": "application/json",
    "graphml": "application/graphml+xml",
    "gexf": "application/gexf+xml",
    "csv-nodes": "text/csv",
    "csv-edges": "text/csv",
}
EXTENSIONS = {
    "json": "json",
    "graphml": "graphml",
    "gexf": "gexf",
    "csv-nodes": "nodes.csv",
    "csv-edges": "edges.csv",
}


class Subject(TypedDict, total=False):
    """What a detail request names: a country (``node``) or a link (``source``, ``target``,
    ``kind``), as :func:`exchanges_for` takes it."""

    node: str | None
    source: str | None
    target: str | None
    kind: str | None


def asked_subject(args: Mapping[str, str]) -> Subject:
    """The subject named by query arguments of the same names (the page's and the API's)."""
    return Subject(
        node=args.get("node"),
        source=args.get("source"),
        target=args.get("target"),
        kind=args.get("kind"),
    )


class DetailError(BadParameter):
    """A node or link that the request names wrongly (400, ``bad_parameter``)."""


DRAWN_LINKS = 3000
"""The drawing shows at most this many links, the strongest (tables and exports have all)."""


LinkDetails = dict[tuple[str, str, str], dict[str, list[Any]]]


@dataclass
class NetworkView:
    """A filtered network with its layout, as built once per (data version, filters, layout).
    ``years`` spans every exchange's start year (whatever the filters: the page's time slider
    runs on it); ``link_details`` reads the exchanges behind each link (for exports only)."""

    network: Network
    positions: dict[str, tuple[float, float]]
    filters: Filters
    layout: str
    years: tuple[int, int] | None = None
    link_details: Callable[[], LinkDetails] | None = None
    _sorted: list[dict[str, Any]] | None = None

    def strongest(self, n: int | None = None) -> list[dict[str, Any]]:
        """Link records, strongest first (all, or the ``n`` strongest). Sorting every link is
        left to the exports; the page and the drawing take the strongest few."""
        if self._sorted is not None:
            return self._sorted if n is None else self._sorted[:n]
        if n is not None and n < len(self.network.links):
            top = heapq.nsmallest(n, self.network.links.items(), key=_link_order)
            return [_record(k, c) for k, c in top]
        self._sorted = [
            _record(k, c) for k, c in sorted(self.network.links.items(), key=_link_order)
        ]
        return self._sorted

    @property
    def link_count(self) -> int:
        return len(self.network.links)


def _link_order(item: tuple[tuple[str, str, str], int]) -> tuple[int, str, str, str]:
    (a, b, kind), n = item
    return (-n, a, b, kind)


def _record(key: tuple[str, str, str], n: int) -> dict[str, Any]:
    return {"source": key[0], "target": key[1], "kind": key[2], "exchanges": n}


def network_view(
    session: Session,
    vocab: Vocabulary,
    filters: Filters,
    layout_kind: str = "geo",
    version: Hashable | None = None,
) -> NetworkView:
    """The filtered network, counted by the database (:mod:`aggregate`) once per data
    version, filters and layout."""
    version = data_version(session) if version is None else version

    def make() -> NetworkView:
        net = aggregate.network(session, filters, vocab)
        compute_metrics(net)
        # a cached view outlives the request's session: its exports read through the engine
        bind: Session | Engine = session if version is None else session.get_bind().engine
        return NetworkView(
            net,
            layout(net, vocab, layout_kind),
            filters,
            layout_kind,
            years=aggregate.years(session),
            link_details=partial(_sql_link_details, bind, filters, vocab),
        )

    return cached(session, version, ("view", filters.key(), layout_kind), make)


def _sql_link_details(bind: Session | Engine, filters: Filters, vocab: Vocabulary) -> LinkDetails:
    if isinstance(bind, Session):
        return aggregate.link_details(bind, filters, vocab)
    with Session(bind) as session:
        return aggregate.link_details(session, filters, vocab)


def view_of(
    rows: Sequence[ExchangeRow], vocab: Vocabulary, filters: Filters, layout_kind: str = "geo"
) -> NetworkView:
    """The same view from exchanges in memory (the reference the database's counts are
    tested against; the benchmark's synthetic corpora)."""
    net = build_network(rows, filters, vocab)
    known = [row.year for row in rows if row.year is not None]
    return NetworkView(
        net,
        layout(net, vocab, layout_kind),
        filters,
        layout_kind,
        years=(min(known), max(known)) if known else None,
        link_details=partial(rows_link_details, rows, filters, vocab),
    )


def drawing_json(
    session: Session,
    vocab: Vocabulary,
    filters: Filters,
    layout_kind: str,
    lang: str,
    extra: dict[str, Any] | None = None,
) -> bytes:
    """The page's drawing data (node-link JSON with radius and width, at most
    :data:`DRAWN_LINKS` links), serialised once per data version, filters, layout and language."""
    version = data_version(session)

    def make() -> bytes:
        view = network_view(session, vocab, filters, layout_kind, version)
        payload = node_link(view, vocab, lang, drawing=True, max_links=DRAWN_LINKS)
        payload["graph"].update(extra or {})
        # the years exchanges span, whatever the year filters: the page's time slider runs on it
        payload["graph"]["years"] = list(view.years) if view.years else None
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    return cached(session, version, ("drawing", filters.key(), layout_kind, lang), make)


def _name(vocab: Vocabulary, code: str, lang: str) -> str:
    c = vocab.countries.get(code)
    return c.name(lang) if c else code


def node_records(view: NetworkView, vocab: Vocabulary, lang: str = "en") -> list[dict[str, Any]]:
    """One dict per country (sorted by exchanges, then name) with metrics and position."""
    out: list[dict[str, Any]] = []
    for code, s in view.network.nodes.items():
        c = vocab.countries.get(code)
        x, y = view.positions.get(code, (0.0, 0.0))
        out.append(
            {
                "id": code,
                "label": _name(vocab, code, lang),
                "region": c.region if c else "",
                "subregion": c.subregion if c else "",
                "provided": s.provided,
                "received": s.received,
                "joint": s.joint,
                "total": s.total,
                "partners": s.partner_count,
                "betweenness": round(s.betweenness, 6),
                "pagerank": round(s.pagerank, 6),
                "community": s.community,
                "reciprocal": s.reciprocal,
                "x": x,
                "y": y,
                # the capital, for a drawing that projects the countries onto a map
                "lat": c.latitude if c else None,
                "lon": c.longitude if c else None,
            }
        )
    out.sort(key=lambda n: (-n["total"], n["label"]))
    return out


def link_records(view: NetworkView) -> list[dict[str, Any]]:
    """The links, strongest first (copies: callers may change them)."""
    return [dict(link) for link in view.strongest()]


def link_exchanges(view: NetworkView) -> LinkDetails:
    """For each link ``(source, target, kind)``: the ids, years and themes of the (filtered)
    exchanges behind it, so an export says which exchanges a line stands for."""
    return view.link_details() if view.link_details is not None else {}


def rows_link_details(
    rows: Sequence[ExchangeRow], filters: Filters, vocab: Vocabulary
) -> LinkDetails:
    """:func:`link_exchanges` from exchanges in memory."""
    passes = predicate(filters, vocab)
    found: dict[tuple[str, str, str], tuple[list[str], set[int], set[str]]] = {}
    for row in rows:
        if not passes(row):
            continue
        for pair in row.pairs():
            ids, years, themes = found.setdefault(pair, ([], set(), set()))
            ids.append(row.id)
            if row.year is not None:
                years.add(row.year)
            themes.update(row.themes)
    return {
        pair: {"exchange_ids": sorted(ids), "years": sorted(years), "themes": sorted(themes)}
        for pair, (ids, years, themes) in found.items()
    }


def edge_records(view: NetworkView, vocab: Vocabulary, *, joined: bool) -> list[dict[str, Any]]:
    """:func:`link_records` with their exchanges' ids, years and themes: lists, or text joined
    with ``;`` where a format holds only plain values (CSV, GraphML, GEXF)."""
    details = link_exchanges(view)
    out = []
    for link in link_records(view):
        extra = details.get((link["source"], link["target"], link["kind"]), {})
        for name in ("exchange_ids", "years", "themes"):
            values = list(extra.get(name, []))
            link[name] = ";".join(str(v) for v in values) if joined else values
        out.append(link)
    return out


def node_link(
    view: NetworkView,
    vocab: Vocabulary,
    lang: str = "en",
    *,
    drawing: bool = False,
    max_links: int | None = None,
) -> dict[str, Any]:
    """The network in networkx's node-link shape; ``drawing`` adds radius and stroke width;
    ``max_links`` keeps only the strongest links (``graph.links_total`` says how many exist)."""
    nodes = node_records(view, vocab, lang)
    if drawing:
        links = [dict(link) for link in view.strongest(max_links)]
    else:
        links = edge_records(view, vocab, joined=False)[:max_links]
    for link in links:
        link["key"] = link["kind"]
        if drawing:
            link["width"] = link_width(link["exchanges"])
    if drawing:
        for n in nodes:
            n["r"] = node_radius(n["total"])
    return {
        "directed": True,
        "multigraph": True,
        "graph": {
            "exchanges": view.network.exchange_count,
            "filters": view.filters.args(),
            "layout": view.layout,
            "communities": view.network.communities,
            "links_total": view.link_count,
        },
        "nodes": nodes,
        "links": links,
    }


def to_networkx(view: NetworkView, vocab: Vocabulary, lang: str = "en") -> nx.MultiDiGraph:
    """A MultiDiGraph: directed links keyed ``directed``; joint (undirected) links once per pair,
    keyed ``joint`` with ``kind="joint"`` so tools can draw them without an arrow."""
    g = nx.MultiDiGraph(exchanges=view.network.exchange_count, layout=view.layout)
    for n in node_records(view, vocab, lang):
        attrs = {k: v for k, v in n.items() if k != "id"}
        g.add_node(n["id"], **attrs)
    for e in edge_records(view, vocab, joined=True):
        g.add_edge(
            e["source"],
            e["target"],
            key=e["kind"],
            kind=e["kind"],
            exchanges=e["exchanges"],
            weight=e["exchanges"],
            exchange_ids=e["exchange_ids"],
            years=e["years"],
            themes=e["themes"],
        )
    return g


def _csv(rows: list[dict[str, Any]], fields: Sequence[str]) -> bytes:
    return csv_bytes(rows, fields)  # the shared writer: formula cells neutralised


def export(view: NetworkView, vocab: Vocabulary, fmt: str, lang: str = "en") -> bytes:
    """The network in one of :data:`FORMATS`, as bytes."""
    if fmt == "json":
        return json.dumps(node_link(view, vocab, lang), ensure_ascii=False).encode("utf-8")
    if fmt == "csv-nodes":
        return _csv(node_records(view, vocab, lang), NODE_FIELDS)
    if fmt == "csv-edges":
        return _csv(edge_records(view, vocab, joined=True), EDGE_FIELDS)
    buf = io.BytesIO()
    g = to_networkx(view, vocab, lang)
    if fmt == "graphml":
        nx.write_graphml(g, buf)
    elif fmt == "gexf":
        nx.write_gexf(g, buf)
    else:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return buf.getvalue()


# --------------------------------------------------------------------------- details


def exchanges_for(
    session: Session,
    vocab: Vocabulary,
    filters: Filters,
    *,
    node: str | None = None,
    source: str | None = None,
    target: str | None = None,
    kind: str | None = None,
    partner: str | None = None,
    limit: int = 200,
) -> dict[str, Any]:
    """The (filtered) exchanges of a country (``node``; with ``partner``, those behind its
    links with that country) or of a link (``source``, ``target``, ``kind``), newest first,
    each with the country's role; counted and read by the database. Raises DetailError."""
    subject = subject_of(vocab, node=node, source=source, target=target, kind=kind, partner=partner)
    where = aggregate.matching(
        filters,
        vocab,
        node=subject.get("node"),
        partner=subject.get("partner"),
        source=subject.get("source"),
        target=subject.get("target"),
        kind=subject.get("kind", DIRECTED),
    )
    total, items = aggregate.details(session, where, limit)
    if "node" in subject:
        for item in items:
            item["role"] = _role(item, subject["node"])
    return {**subject, "total": total, "shown": len(items), "exchanges": items}


def _role(row: ExchangeRow | dict[str, Any], code: str) -> str:
    providers, recipients = (
        (row["providers"], row["recipients"])
        if isinstance(row, dict)
        else (row.providers, row.recipients)
    )
    if code in providers:
        return "provider"
    if code in recipients:
        return "recipient"
    return "participant"


def subject_of(
    vocab: Vocabulary,
    *,
    node: str | None = None,
    source: str | None = None,
    target: str | None = None,
    kind: str | None = None,
    partner: str | None = None,
) -> dict[str, str]:
    """What a detail request names: ``{"node": code}`` (with ``"partner"``: a country it is
    linked with) or ``{"source", "target", "kind"}`` (alpha-3 codes,
    :func:`~sscmatch.workflow.base.country_filter`). Raises DetailError, also for a country
    the vocabulary does not know."""
    code = country_filter(node, DetailError, vocab)
    if code:
        other = country_filter(partner, DetailError, vocab)
        return {"node": code, "partner": other} if other else {"node": code}
    first = country_filter(source, DetailError, vocab)
    second = country_filter(target, DetailError, vocab)
    if first and second:
        kind = kind or DIRECTED
        if kind not in (DIRECTED, JOINT):
            raise DetailError(N_("kind must be 'directed' or 'joint'"))
        return {"source": first, "target": second, "kind": kind}
    raise DetailError(N_("name a country (node=BRA) or a link (source=BRA&target=MOZ&kind=…)"))


def details(
    rows: Sequence[ExchangeRow],
    vocab: Vocabulary,
    filters: Filters,
    *,
    node: str | None = None,
    source: str | None = None,
    target: str | None = None,
    kind: str | None = None,
    partner: str | None = None,
    limit: int = 200,
) -> dict[str, Any]:
    """:func:`exchanges_for` from exchanges in memory."""
    subject = subject_of(vocab, node=node, source=source, target=target, kind=kind, partner=partner)
    code, other = subject.get("node"), subject.get("partner")
    if code is not None and other is not None:

        def wanted(row: ExchangeRow) -> bool:
            return any({a, b} == {code, other} for a, b, _kind in row.pairs())

    elif code is not None:

        def wanted(row: ExchangeRow) -> bool:
            return code in row.providers or code in row.recipients or code in row.participants

    else:
        pair = (subject["source"], subject["target"], subject["kind"])
        flipped = (pair[1], pair[0], pair[2])

        def wanted(row: ExchangeRow) -> bool:
            if not ({pair[0], pair[1]} <= row.countries()):
                return False
            return any(p == pair or (pair[2] == JOINT and p == flipped) for p in row.pairs())

    passes = predicate(filters, vocab)
    found = [row for row in rows if wanted(row) and passes(row)]
    found.sort(key=lambda r: (r.start, r.id), reverse=True)
    items = []
    for row in found[:limit]:
        item = {
            "id": row.id,
            "title": row.title,
            "start": row.start,
            "year": row.year,
            "providers": list(row.providers),
            "recipients": list(row.recipients),
            "participants": list(row.participants),
            "themes": list(row.themes),
            "modality": row.modality,
            "direction": row.direction,
        }
        if code is not None:
            item["role"] = _role(row, code)
        items.append(item)
    return {**subject, "total": len(found), "shown": len(items), "exchanges": items}
