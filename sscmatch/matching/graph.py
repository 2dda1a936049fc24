"""The exchange graph: country projection and link-prediction measures with sparse matrices.

An exchange of at most ``TIE_MEMBERS`` countries links every pair of countries taking part in it
(providers, recipients and participants; partners are institutions and are left out; larger
meetings make no ties). The projection is undirected and
simple: an edge when two countries ever took part in the same visible exchange. networkx's
``adamic_adar_index``, ``resource_allocation_index`` and ``jaccard_coefficient`` give the same
numbers on that projection (they refuse directed graphs and multigraphs, hence the projection);
here they are computed for all pairs at once:

- common neighbours ``CN = A·A``;
- Adamic-Adar ``AA = A·diag(1/log deg)·A``;
- resource allocation ``RA = A·diag(1/deg)·A``;
- Jaccard ``CN / (deg_u + deg_v - CN)``.

>>> import numpy as np
>>> adj = projection([("a", "b"), ("b", "c")], {"a": 0, "b": 1, "c": 2})
>>> float(resource_allocation(adj)[0, 2]), float(jaccard(adj)[0, 2])
(0.5, 1.0)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from sscmatch.matching.model import ExchangeItem

FloatArray = np.ndarray


def members(exchange: ExchangeItem) -> tuple[str, ...]:
    """The countries taking part in an exchange, each once, in a stable order."""
    return tuple(dict.fromkeys((*exchange.providers, *exchange.recipients, *exchange.participants)))


def projection(groups: Iterable[Sequence[str]], index: Mapping[str, int]) -> sp.csr_matrix:
    """Binary symmetric adjacency (no self-loops) linking every two members of each group."""
    rows: list[int] = []
    cols: list[int] = []
    for group in groups:
        ids = sorted({index[c] for c in group if c in index})
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                rows.append(a)
                cols.append(b)
    n = len(index)
    upper = sp.coo_matrix(
        (np.ones(len(rows)), (np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64))),
        shape=(n, n),
    ).tocsr()
    upper.data[:] = 1.0
    adj = (upper + upper.T).tocsr()
    adj.data[:] = 1.0
    adj.eliminate_zeros()
    return adj


TIE_MEMBERS = 3
"""Exchanges with at most this many countries make ties in the country graph: a meeting of
many is not a relationship between each two of its participants."""


def small_exchanges(membership: sp.csr_matrix) -> sp.csr_matrix:
    """The columns (exchanges) of a membership matrix with at most ``TIE_MEMBERS`` members."""
    sizes = np.asarray((membership != 0).sum(axis=0)).ravel()
    keep = sp.diags((sizes <= TIE_MEMBERS).astype(float))
    out: sp.csr_matrix = (membership @ keep).tocsr()
    out.eliminate_zeros()
    return out


def projection_from_membership(membership: sp.csr_matrix) -> sp.csr_matrix:
    """Adjacency from a (countries × exchanges) membership matrix: linked when co-members."""
    binary = membership.copy()
    binary.data[:] = 1.0
    co = (binary @ binary.T).tocsr()
    co.setdiag(0)
    co.eliminate_zeros()
    co.data[:] = 1.0
    return co


def degrees(adj: sp.csr_matrix) -> FloatArray:
    return np.asarray(adj.sum(axis=1)).ravel()


def _weighted_common(adj: sp.csr_matrix, node_weight: FloatArray) -> sp.csr_matrix:
    out = (adj @ sp.diags(node_weight) @ adj).tocsr()
    out.setdiag(0)
    out.eliminate_zeros()
    return out


def common_neighbours(adj: sp.csr_matrix) -> sp.csr_matrix:
    return _weighted_common(adj, np.ones(adj.shape[0]))


def adamic_adar(adj: sp.csr_matrix) -> sp.csr_matrix:
    """Σ over common neighbours w of 1 / log(deg w) (a common neighbour has degree ≥ 2)."""
    deg = degrees(adj)
    w = np.zeros_like(deg)
    ok = deg > 1
    w[ok] = 1.0 / np.log(deg[ok])
    return _weighted_common(adj, w)


def resource_allocation(adj: sp.csr_matrix) -> sp.csr_matrix:
    """Σ over common neighbours w of 1 / deg w."""
    deg = degrees(adj)
    w = np.zeros_like(deg)
    ok = deg > 0
    w[ok] = 1.0 / deg[ok]
    return _weighted_common(adj, w)


def jaccard(adj: sp.csr_matrix) -> sp.csr_matrix:
    """|N(u) ∩ N(v)| / |N(u) ∪ N(v)| for every pair with a common neighbour (else 0)."""
    cn = common_neighbours(adj).tocoo()
    deg = degrees(adj)
    union = deg[cn.row] + deg[cn.col] - cn.data
    data = np.divide(cn.data, union, out=np.zeros_like(cn.data), where=union > 0)
    return sp.csr_matrix((data, (cn.row, cn.col)), shape=adj.shape)


def indirect_proximity(aa: float, jac: float) -> float:
    """Blend of Adamic-Adar (squashed to [0, 1) as AA/(AA+1)) and Jaccard, in [0, 1)."""
    return 0.5 * jac + 0.5 * aa / (aa + 1.0)


def indirect_proximity_matrix(adj: sp.csr_matrix) -> FloatArray:
    aa = adamic_adar(adj).toarray()
    jac = jaccard(adj).toarray()
    out: FloatArray = 0.5 * jac + 0.5 * aa / (aa + 1.0)
    return out
