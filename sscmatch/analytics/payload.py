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
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
from sqlmodel import Session

from sscmatch.analytics.data import cached, cached_rows, data_version
from sscmatch.analytics.filters import Filters
from sscmatch.analytics.graph import (
    DIRECTED,
    JOINT,
    ExchangeRow,
    Network,
    build_network,
    layout,
    link_width,
    node_radius,
    predicate,
)
from sscmatch.bundle.csvfile import csv_bytes
from sscmatch.vocab import Vocabulary

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


class DetailError(ValueError):
    """A node or link that the request names wrongly."""


DRAWN_LINKS = 3000
"""The drawing shows at most this many links, the strongest (tables and exports have all)."""


@dataclass
class NetworkView:
    """A filtered network with its layout, as built once per (data version, filters, layout)."""

    network: Network
    positions: dict[str, tuple[float, float]]
    filters: Filters
    layout: str
    _sorted: list[dict[str, Any]] | None = None
    rows: Sequence[ExchangeRow] = ()  # the exchanges it was built from (exports list them)

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
    """The filtered network, built once per data version, filters and layout."""
    version = data_version(session) if version is None else version
    _, rows = cached_rows(session, version)
    return cached(
        session,
        version,
        ("view", filters.key(), layout_kind),
        lambda: view_of(rows, vocab, filters, layout_kind),
    )


def view_of(
    rows: Sequence[ExchangeRow], vocab: Vocabulary, filters: Filters, layout_kind: str = "geo"
) -> NetworkView:
    net = build_network(rows, filters, vocab)
    return NetworkView(net, layout(net, vocab, layout_kind), filters, layout_kind, rows=rows)


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
        years = [row.year for row in view.rows if row.year is not None]
        payload["graph"]["years"] = [min(years), max(years)] if years else None
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


def link_exchanges(view: NetworkView, vocab: Vocabulary) -> dict[tuple[str, str, str], Any]:
    """For each link ``(source, target, kind)``: the ids, years and themes of the (filtered)
    exchanges behind it, so an export says which exchanges a line stands for."""
    passes = predicate(view.filters, vocab)
    found: dict[tuple[str, str, str], tuple[list[str], set[int], set[str]]] = {}
    for row in view.rows:
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
    details = link_exchanges(view, vocab)
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
    limit: int = 200,
) -> dict[str, Any]:
    """The (filtered) exchanges of a country (``node``) or of a link (``source``, ``target``,
    ``kind``), newest first, each with the country's role. Raises DetailError."""
    _, rows = cached_rows(session)
    return details(
        rows, vocab, filters, node=node, source=source, target=target, kind=kind, limit=limit
    )


def _role(row: ExchangeRow, code: str) -> str:
    if code in row.providers:
        return "provider"
    if code in row.recipients:
        return "recipient"
    return "participant"


def details(
    rows: Sequence[ExchangeRow],
    vocab: Vocabulary,
    filters: Filters,
    *,
    node: str | None = None,
    source: str | None = None,
    target: str | None = None,
    kind: str | None = None,
    limit: int = 200,
) -> dict[str, Any]:
    if node:
        node = node.strip().upper()
        if node not in vocab.countries:
            raise DetailError(f"unknown country code {node!r} (expected ISO alpha-3, e.g. BRA)")

        def wanted(row: ExchangeRow) -> bool:
            return node in row.providers or node in row.recipients or node in row.participants

        subject: dict[str, Any] = {"node": node}
    elif source and target:
        source, target = source.strip().upper(), target.strip().upper()
        kind = kind or DIRECTED
        if kind not in (DIRECTED, JOINT):
            raise DetailError("kind must be 'directed' or 'joint'")
        pair = (source, target, kind)
        flipped = (target, source, kind)

        def wanted(row: ExchangeRow) -> bool:
            if not ({source, target} <= row.countries()):
                return False
            return any(p == pair or (kind == JOINT and p == flipped) for p in row.pairs())

        subject = {"source": source, "target": target, "kind": kind}
    else:
        raise DetailError("name a country (node=BRA) or a link (source=BRA&target=MOZ&kind=…)")

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
        if node:
            item["role"] = _role(row, node)
        items.append(item)
    return {**subject, "total": len(found), "shown": len(items), "exchanges": items}
