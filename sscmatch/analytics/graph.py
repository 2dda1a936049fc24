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
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import NamedTuple

import networkx as nx
import numpy as np

from sscmatch.analytics.filters import Filters
from sscmatch.vocab import Vocabulary

DIRECTED, JOINT = "directed", "joint"
SEED = 42
BETWEENNESS_EXACT_UP_TO = 4000
"""Above this many undirected links, betweenness is estimated from a seeded sample of sources."""
BETWEENNESS_SAMPLE = 48
BACKBONE_OVER = 4000
"""Above this many undirected links, communities are found on each country's strongest links."""
BACKBONE_K = 12


class ExchangeRow(NamedTuple):
    """One exchange as the analytics need it (built from the table or a synthetic corpus).
    A named tuple: hundreds of thousands are built at once, and tuples are the cheapest."""

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
                if p != r and (p, r) not in directed:  # a list may name a country twice
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
    exchanges: int = 0  # each once, whatever roles the country has in it
    partners: set[str] = field(default_factory=set)
    betweenness: float = 0.0
    pagerank: float = 0.0
    community: int = -1

    @property
    def total(self) -> int:
        """The exchanges the country took part in, each once: the schema lets one country be
        a provider and a participant of one exchange, which the sum of the roles counts twice."""
        return self.exchanges

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


def predicate(f: Filters, vocab: Vocabulary | None = None) -> Callable[[ExchangeRow], bool]:
    """A fast test for the filters (region needs the vocabulary: an exchange passes when one
    of its countries lies in the region)."""
    themes = f.themes
    year_from, year_to = f.year_from, f.year_to
    modality, constituency = f.modality, f.constituency
    region: frozenset[str] | None = None
    if f.region is not None and vocab is not None:
        region = frozenset(c.code for c in vocab.countries.values() if c.region == f.region)

    def test(row: ExchangeRow) -> bool:
        if themes and themes.isdisjoint(row.themes):
            return False
        year = row.year
        if year_from is not None and (year is None or year < year_from):
            return False
        if year_to is not None and (year is None or year > year_to):
            return False
        if modality is not None and row.modality != modality:
            return False
        if constituency is not None and constituency not in row.constituencies:
            return False
        return region is None or not (
            region.isdisjoint(row.providers)
            and region.isdisjoint(row.recipients)
            and region.isdisjoint(row.participants)
        )

    return test


def matches(row: ExchangeRow, f: Filters, vocab: Vocabulary | None = None) -> bool:
    """Whether an exchange passes the filters (region needs the vocabulary)."""
    return predicate(f, vocab)(row)


def select(
    rows: Iterable[ExchangeRow], f: Filters | None = None, vocab: Vocabulary | None = None
) -> list[ExchangeRow]:
    if f is None or not f.active:
        return list(rows)
    test = predicate(f, vocab)
    return [row for row in rows if test(row)]


def build_network(
    rows: Iterable[ExchangeRow],
    f: Filters | None = None,
    vocab: Vocabulary | None = None,
    *,
    metrics: bool = True,
) -> Network:
    """Aggregate the (filtered) exchanges into a network and compute its metrics."""
    provided: Counter[str] = Counter()
    received: Counter[str] = Counter()
    joint: Counter[str] = Counter()
    mutual: Counter[str] = Counter()
    every: Counter[str] = Counter()
    links: Counter[tuple[str, str, str]] = Counter()
    # Exchanges with the same countries in the same roles count together: tally those shapes
    # first (a C-level count), then walk each distinct shape once.
    shapes = Counter(
        (r.providers, r.recipients, r.participants, r.direction == "reciprocal")
        for r in select(rows, f, vocab)
    )
    count = sum(shapes.values())
    for (provs, recs, parts, reciprocal), m in shapes.items():
        if not parts and len(provs) == 1 and len(recs) == 1:  # the common bilateral case
            p, r = provs[0], recs[0]
            provided[p] += m
            received[r] += m
            every.update({p: m, r: m} if p != r else {p: m})
            if p != r:
                links[(p, r, DIRECTED)] += m
            continue
        for code in {*provs, *recs, *parts}:
            every[code] += m
        for code in set(provs):
            provided[code] += m
        for code in set(recs):
            received[code] += m
        for code in set(parts):
            joint[code] += m
            if reciprocal:
                mutual[code] += m
        shape = ExchangeRow("", "", None, "", provs, recs, parts)
        for link in shape.pairs():
            links[link] += m
    net = assemble(provided, received, joint, mutual, links, count, every)
    if metrics:
        compute_metrics(net)
    return net


def assemble(
    provided: Counter[str],
    received: Counter[str],
    joint: Counter[str],
    mutual: Counter[str],
    links: Counter[tuple[str, str, str]],
    count: int,
    every: Counter[str],
) -> Network:
    """The network (without metrics) of per-country role counts, exchanges in all (``every``:
    each exchange once per country) and per-link counts."""
    nodes = {
        code: NodeStats(
            code, provided[code], received[code], joint[code], mutual[code], every[code]
        )
        for code in sorted({*provided, *received, *joint})
    }
    for a, b, _kind in links:
        nodes[a].partners.add(b)
        nodes[b].partners.add(a)
    return Network(nodes, dict(links), count)


def undirected(net: Network) -> nx.Graph:
    """The undirected projection: one edge per pair of countries, weight = exchanges."""
    weights: Counter[tuple[str, str]] = Counter()
    for (a, b, _kind), n in net.links.items():
        weights[(a, b) if a < b else (b, a)] += n
    g = nx.Graph()
    g.add_nodes_from(sorted(net.nodes))
    g.add_weighted_edges_from((a, b, n) for (a, b), n in sorted(weights.items()))
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
    rank = pagerank(net)
    communities = communities_of(backbone(und) if und.number_of_edges() > BACKBONE_OVER else und)
    for code, stats in net.nodes.items():
        stats.betweenness = float(between.get(code, 0.0))
        stats.pagerank = float(rank.get(code, 1.0 / len(net.nodes)))
    for index, members in enumerate(communities):
        for code in members:
            net.nodes[code].community = index
    net.communities = communities


def pagerank(net: Network, alpha: float = 0.85, tol: float = 1.0e-10) -> dict[str, float]:
    """Weighted PageRank of the links (joint links count both ways), by power iteration on a
    dense matrix: the same answer as ``nx.pagerank(directed(net), weight="weight")`` (dangling
    countries spread their rank evenly), much faster on a few hundred countries with tens of
    thousands of links."""
    codes = sorted(net.nodes)
    n = len(codes)
    if n == 0:
        return {}
    index = {c: i for i, c in enumerate(codes)}
    w = np.zeros((n, n))
    for (a, b, kind), count in net.links.items():
        i, j = index[a], index[b]
        w[i, j] += count
        if kind != DIRECTED:
            w[j, i] += count
    out = w.sum(axis=1)
    dangling = out == 0
    p = np.divide(w, out[:, None], out=np.zeros_like(w), where=~dangling[:, None])
    x = np.full(n, 1.0 / n)
    for _ in range(200):
        prev = x
        x = alpha * (x @ p + x[dangling].sum() / n) + (1.0 - alpha) / n
        if np.abs(x - prev).sum() < n * tol:
            break
    x = x / x.sum()
    return {c: float(x[i]) for i, c in enumerate(codes)}


def backbone(g: nx.Graph, k: int = BACKBONE_K) -> nx.Graph:
    """Each country's ``k`` strongest links (ties by partner code), joined: the skeleton of a
    dense network, on which community detection is fast and still finds the same blocs.

    >>> g = nx.Graph()
    >>> g.add_weighted_edges_from([("A", "B", 5), ("A", "C", 1), ("B", "C", 1)])
    >>> sorted(backbone(g, 1).edges)
    [('A', 'B'), ('A', 'C')]
    """
    keep = nx.Graph()
    keep.add_nodes_from(g)
    for node in g:
        strongest = sorted(g[node].items(), key=lambda kv: (-kv[1]["weight"], kv[0]))[:k]
        for other, data in strongest:
            keep.add_edge(node, other, weight=data["weight"])
    return keep


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
