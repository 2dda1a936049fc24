"""The cooperation network: countries as nodes, exchanges aggregated into links, and metrics.

Pure functions on :class:`ExchangeRow` tuples (no database): the web pages, the API, the CLI and
the benchmark share them.

Links come in two kinds. A **directed** link ``provider → recipient`` counts the exchanges in
which one country gave and the other received. A **joint** link (undirected, drawn dashed)
counts the exchanges two countries took part in together without the record saying who gave
and who received (multilateral events, reciprocal exchanges): no direction is invented. Joint
links are stored once per pair, the smaller code first.

>>> rows = [ExchangeRow("e1", "", 2010, "2010", ("BRA",), ("MOZ",)),
...         ExchangeRow("e2", "", 2011, "2011", participants=("BRA", "IND", "ZAF"))]
>>> net = build_network(rows)
>>> for link in sorted(net.links): print(link)
('BRA', 'IND', 'joint')
('BRA', 'MOZ', 'directed')
('BRA', 'ZAF', 'joint')
('IND', 'ZAF', 'joint')
>>> net.nodes["BRA"].provided, net.nodes["BRA"].joint, net.nodes["MOZ"].received
(1, 1, 1)
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import combinations

import networkx as nx

from sscmatch.analytics.filters import Filters
from sscmatch.vocab import Vocabulary

DIRECTED, JOINT = "directed", "joint"
SEED = 42
BETWEENNESS_EXACT_UP_TO = 4000
"""Above this many undirected links, betweenness is estimated from a seeded sample of sources."""
BETWEENNESS_SAMPLE = 48


@dataclass(frozen=True, slots=True)
class ExchangeRow:
    """One exchange as the analytics need it (built from the table or a synthetic corpus)."""

    id: str
    title: str
    year: int | None
    start: str
    providers: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()
    participants: tuple[str, ...] = ()
    partners: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    modality: str | None = None
    direction: str | None = None
    constituencies: frozenset[str] = frozenset()

    def countries(self) -> set[str]:
        return {*self.providers, *self.recipients, *self.participants}

    def pairs(self) -> Iterator[tuple[str, str, str]]:
        """The links this exchange contributes: ``(a, b, kind)``, each once."""
        directed = set()
        for p in self.providers:
            for r in self.recipients:
                if p != r:
                    directed.add((p, r))
                    yield p, r, DIRECTED
        if self.participants:
            members = sorted(self.countries())
            for a, b in combinations(members, 2):
                if (a, b) not in directed and (b, a) not in directed:
                    yield a, b, JOINT


@dataclass
class NodeStats:
    code: str
    provided: int = 0
    received: int = 0
    joint: int = 0
    mutual: int = 0
    partners: set[str] = field(default_factory=set)
    betweenness: float = 0.0
    pagerank: float = 0.0
    community: int = -1

    @property
    def total(self) -> int:
        return self.provided + self.received + self.joint

    @property
    def reciprocal(self) -> bool:
        """Both gives and receives: provided and received something, or took part in an
        exchange recorded as reciprocal (each side gave and received)."""
        return (self.provided > 0 and self.received > 0) or self.mutual > 0

    @property
    def partner_count(self) -> int:
        return len(self.partners)


@dataclass
class Network:
    """Nodes with metrics, aggregated links ``(a, b, kind) → exchanges``, communities."""

    nodes: dict[str, NodeStats]
    links: dict[tuple[str, str, str], int]
    exchange_count: int
    communities: list[list[str]] = field(default_factory=list)


def matches(row: ExchangeRow, f: Filters, vocab: Vocabulary | None = None) -> bool:
    """Whether an exchange passes the filters (region needs the vocabulary)."""
    if f.themes and not f.themes.intersection(row.themes):
        return False
    if f.year_from is not None and (row.year is None or row.year < f.year_from):
        return False
    if f.year_to is not None and (row.year is None or row.year > f.year_to):
        return False
    if f.modality is not None and row.modality != f.modality:
        return False
    if f.constituency is not None and f.constituency not in row.constituencies:
        return False
    if f.region is not None and vocab is not None:
        countries = vocab.countries
        if not any(
            (c := countries.get(code)) is not None and c.region == f.region
            for code in row.countries()
        ):
            return False
    return True


def select(
    rows: Iterable[ExchangeRow], f: Filters | None = None, vocab: Vocabulary | None = None
) -> list[ExchangeRow]:
    if f is None or not f.active:
        return list(rows)
    return [row for row in rows if matches(row, f, vocab)]


def build_network(
    rows: Iterable[ExchangeRow],
    f: Filters | None = None,
    vocab: Vocabulary | None = None,
    *,
    metrics: bool = True,
) -> Network:
    """Aggregate the (filtered) exchanges into a network and compute its metrics."""
    nodes: dict[str, NodeStats] = {}
    links: Counter[tuple[str, str, str]] = Counter()
    count = 0

    def node(code: str) -> NodeStats:
        stats = nodes.get(code)
        if stats is None:
            stats = nodes[code] = NodeStats(code)
        return stats

    for row in select(rows, f, vocab):
        count += 1
        for p in set(row.providers):
            node(p).provided += 1
        for r in set(row.recipients):
            node(r).received += 1
        for c in set(row.participants):
            node(c).joint += 1
        if row.direction == "reciprocal":
            for c in set(row.participants):
                node(c).mutual += 1
        for a, b, kind in row.pairs():
            links[(a, b, kind)] += 1
            node(a).partners.add(b)
            node(b).partners.add(a)
    net = Network(nodes, dict(links), count)
    if metrics:
        compute_metrics(net)
    return net


def undirected(net: Network) -> nx.Graph:
    """The undirected projection: one edge per pair of countries, weight = exchanges."""
    g = nx.Graph()
    g.add_nodes_from(sorted(net.nodes))
    for (a, b, _kind), n in net.links.items():
        if g.has_edge(a, b):
            g[a][b]["weight"] += n
        else:
            g.add_edge(a, b, weight=n)
    return g


def directed(net: Network) -> nx.DiGraph:
    """Directed links as they are; joint links count in both directions (for PageRank)."""
    g = nx.DiGraph()
    g.add_nodes_from(sorted(net.nodes))
    for (a, b, kind), n in net.links.items():
        ends = ((a, b),) if kind == DIRECTED else ((a, b), (b, a))
        for u, v in ends:
            if g.has_edge(u, v):
                g[u][v]["weight"] += n
            else:
                g.add_edge(u, v, weight=n)
    return g


def compute_metrics(net: Network) -> None:
    """Betweenness (on the undirected projection, hops), PageRank (weighted, directed; joint
    links both ways) and communities (Louvain on the weighted projection, seeded)."""
    if not net.nodes:
        return
    und = undirected(net)
    if und.number_of_edges() > BETWEENNESS_EXACT_UP_TO and len(und) > BETWEENNESS_SAMPLE:
        between = nx.betweenness_centrality(und, k=BETWEENNESS_SAMPLE, seed=SEED)
    else:
        between = nx.betweenness_centrality(und)
    dig = directed(net)
    rank = nx.pagerank(dig, weight="weight") if dig.number_of_edges() else {}
    communities = communities_of(und)
    for code, stats in net.nodes.items():
        stats.betweenness = float(between.get(code, 0.0))
        stats.pagerank = float(rank.get(code, 1.0 / len(net.nodes)))
    for index, members in enumerate(communities):
        for code in members:
            net.nodes[code].community = index
    net.communities = communities


def communities_of(g: nx.Graph) -> list[list[str]]:
    """Louvain communities of the linked countries, largest first (isolated countries have
    none). Seeded, so the same data gives the same groups."""
    linked = g.subgraph([n for n in g if g.degree(n) > 0])
    if linked.number_of_edges() == 0:
        return []
    found = nx.community.louvain_communities(linked, weight="weight", seed=SEED)
    groups = [sorted(c) for c in found]
    groups.sort(key=lambda c: (-len(c), c))
    return groups


# --------------------------------------------------------------------------- layout


def geo_layout(codes: Sequence[str], vocab: Vocabulary) -> dict[str, tuple[float, float]]:
    """Capital coordinates projected (equirectangular) onto a 1000 × 500 plane."""
    pos: dict[str, tuple[float, float]] = {}
    missing = []
    for code in codes:
        c = vocab.countries.get(code)
        if c is None or c.latitude is None or c.longitude is None:
            missing.append(code)
            continue
        pos[code] = (
            round((c.longitude + 180.0) / 360.0 * 1000.0, 1),
            round((90.0 - c.latitude) / 180.0 * 500.0, 1),
        )
    for i, code in enumerate(sorted(missing)):  # a row along the bottom edge
        pos[code] = (20.0 + 30.0 * (i % 30), 490.0)
    return pos


def spring_layout(net: Network) -> dict[str, tuple[float, float]]:
    """A force-directed layout of the projection (seeded), scaled onto 1000 × 500."""
    g = undirected(net)
    if len(g) == 0:
        return {}
    raw = nx.spring_layout(g, seed=SEED, weight=None, iterations=60)
    return {
        code: (round((float(x) + 1.0) * 500.0, 1), round((float(y) + 1.0) * 250.0, 1))
        for code, (x, y) in raw.items()
    }


def layout(net: Network, vocab: Vocabulary, kind: str = "geo") -> dict[str, tuple[float, float]]:
    if kind == "spring":
        return spring_layout(net)
    return geo_layout(sorted(net.nodes), vocab)


def node_radius(total: int) -> float:
    """Node size grows with the square root of the exchanges a country took part in."""
    return round(3.0 + 2.2 * math.sqrt(total), 2)


def link_width(count: int) -> float:
    return round(min(1.0 + 1.6 * math.log2(count), 12.0), 2) if count > 0 else 1.0
