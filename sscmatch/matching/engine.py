"""The engine: a corpus prepared once per ``as_of``, then needs ranked in blocks.

``prepare`` builds the ``Indexes`` (records as arrays); ``rank`` scores every need against its
candidate capacities (those with a theme in the need's theme families) and every country's
fallback offer (``scoring.score_block``), keeps each country's best offer, orders countries by
score then code, applies hub damping when asked, and explains the top K (``explain.py``). The
result equals the per-pair ``reference.py``, which the tests check.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from itertools import repeat
from typing import Any

import numpy as np
import numpy.typing as npt
from threadpoolctl import ThreadpoolController

from sscmatch.collector import paused_collector
from sscmatch.matching.explain import Explainer, Facts
from sscmatch.matching.indexes import Indexes
from sscmatch.matching.model import (
    DEFAULT_WEIGHTS,
    FACTORS,
    Corpus,
    Proposal,
    Reason,
    Weights,
)
from sscmatch.matching.reference import exclusion
from sscmatch.matching.scoring import (
    F64,
    I64,
    Bool,
    candidates,
    fallback_weights,
    offer_facts,
    offer_weights,
    pair_components,
    rank_keys,
    score_block,
    weighted,
)
from sscmatch.matching.tables import Tables
from sscmatch.matching.texts import Text
from sscmatch.matching.ties import addresses_need, near_tie, select


@functools.cache
def _blas() -> ThreadpoolController:
    return ThreadpoolController()


def one_blas_thread() -> Any:
    """A context in which BLAS (numpy's matrix products) runs on one thread.

    The engine makes one small matrix product per candidate country; BLAS threads cost more to
    wake and join than such a product takes, and on a server whose cores are busy (web and job
    workers) they wait for each other: on the full synthetic corpus at load 5, ranking took
    18 s with two BLAS threads and 3 s with one."""
    return _blas().limit(limits=1, user_api="blas")


Objects = npt.NDArray[np.object_]


def _objects(values: list[Any]) -> Objects:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


BASIS = _objects(["capacity", "experience"])
"""A proposal's basis by whether its offer is a fallback."""


def _factor_dicts(rows: list[list[float]]) -> list[dict[str, float]]:
    """A dict of ``FACTORS`` per row of values (map, zip and dict run in C, one row each)."""
    return list(map(dict, map(zip, repeat(FACTORS), rows)))


_SET_FIELD = tuple(getattr(Proposal, f.name).__set__ for f in dataclasses.fields(Proposal))
"""Each field's slot setter, in the order of ``Proposal``'s fields."""


def _proposals(*columns: list[Any]) -> list[Proposal]:
    """A ``Proposal`` per row of ``columns`` (one list per field, in the order of its fields).

    Each field's slot is set as Proposal's own ``__init__`` sets it (a frozen dataclass:
    ``object.__setattr__`` a field), without the keyword call around it, which took half of
    the time of making the 85,000 proposals of a full re-match. Proposal has no
    ``__post_init__`` to skip; test_fast_paths checks both, and that these equal Proposal(...).
    """
    if len(columns) != len(_SET_FIELD):
        raise TypeError(f"{len(_SET_FIELD)} columns expected, one per field of Proposal")
    new = object.__new__
    out = []
    for values in zip(*columns, strict=True):
        proposal = new(Proposal)
        for set_field, value in zip(_SET_FIELD, values, strict=False):  # checked above
            set_field(proposal, value)
        out.append(proposal)
    return out


BLOCK_NEEDS = 2048
"""Needs scored together (their per-country arrays and candidate pairs are held at once)."""


@dataclass
class _Scores:
    """Per need and country: the best offer's score and which offer it is (-1: fallback)."""

    best: F64
    offer: I64


@dataclass(eq=False)
class PreparedCorpus:
    """A corpus indexed as seen on ``as_of``; build with ``prepare`` and rank it many times."""

    corpus: Corpus
    as_of: date | None
    family: bool = True
    """Only capacities with a theme in one of the need's theme families are candidates (the
    hard constraint); False lifts it (the evaluation measures what it costs)."""
    ix: Indexes = field(init=False)

    def __post_init__(self) -> None:
        with paused_collector():
            self.ix = Indexes.build(self.corpus, self.as_of)
        self._tables: dict[float, Tables] = {}
        self._text: Text | None = None
        self.facts = Facts(self.ix)
        self._scores: dict[Weights, _Scores] = {}
        self._family_caps: dict[tuple[int, ...], I64] = {}

    # ------------------------------------------------------------------ pieces
    def tables(self, half_life: float) -> Tables:
        got = self._tables.get(half_life)
        if got is None:
            got = self._tables[half_life] = Tables.build(self.ix, half_life)
        return got

    @property
    def text(self) -> Text:
        if self._text is None:
            self._text = Text.build(self.ix)
        return self._text

    def _candidates(self, roots: tuple[int, ...]) -> I64:
        """The capacities of these theme families (kept: one need at a time asks again)."""
        got = self._family_caps.get(roots)
        if got is None:
            got = self._family_caps[roots] = candidates(self.ix, roots)
        return got

    def _blocks(self, ns: list[int]) -> Iterable[tuple[I64, I64]]:
        """Needs grouped by theme families (they share candidates), cut to ``BLOCK_NEEDS``."""
        groups: dict[tuple[int, ...], list[int]] = {}
        for n in ns:
            groups.setdefault(self.ix.need_roots[n], []).append(n)
        everything = np.arange(len(self.ix.caps), dtype=np.int64)
        for roots in sorted(groups):
            cs = self._candidates(roots) if self.family else everything
            step = BLOCK_NEEDS
            members = groups[roots]
            for i in range(0, len(members), step):
                yield np.asarray(members[i : i + step], dtype=np.int64), cs

    def scores(
        self, weights: Weights, ns: list[int], top_k: int | None = None, slack: float = 0.0
    ) -> _Scores:
        """Best offer per (need, country) for the needs ``ns`` (rows in that order); with
        ``top_k``, exact for the countries that can be among each need's best ``top_k`` or
        within ``slack`` of its k-th."""
        nc = len(self.ix.codes)
        best = np.full((len(ns), nc), -np.inf)
        offer = np.full((len(ns), nc), -1, dtype=np.int64)
        row = {n: i for i, n in enumerate(ns)}
        tables = self.tables(weights.half_life)
        for block_needs, cs in self._blocks(ns):
            got = score_block(self.ix, tables, self.text, weights, block_needs, cs, top_k, slack)
            rows = [row[n] for n in block_needs.tolist()]
            best[rows] = got.best
            offer[rows] = got.offer
        return _Scores(best=best, offer=offer)

    @functools.cached_property
    def _record_columns(self) -> tuple[Objects, Objects, Objects, Objects, Objects]:
        """The needs' ids and countries, the capacities' ids and institutions (None last, where
        a fallback offer's -1 reads) and the country codes, as arrays: a proposal's strings
        are gathered by numpy, not looked up one record at a time."""
        ix = self.ix
        caps = [*ix.caps, None]
        return (
            _objects([n.id for n in ix.needs]),
            _objects([n.country for n in ix.needs]),
            _objects([c.id if c else None for c in caps]),
            _objects([c.institution if c else None for c in caps]),
            _objects(ix.codes),
        )

    def _damping(self, weights: Weights, ns: list[int]) -> F64:
        """Per need (row) and country, the hub-damping multiplier: 1 / (1 + λ·W/N) with W the
        other needs the country wins at rank 1 undamped and N the needs with a candidate."""
        nc = len(self.ix.codes)
        if weights.hub_damping == 0:
            return np.ones((len(ns), nc))
        everything = self._scores.get(weights)
        if everything is None:
            everything = self._scores[weights] = self.scores(
                weights, list(range(len(self.ix.needs)))
            )
        keys = rank_keys(everything.best)
        has = np.isfinite(keys).any(axis=1)
        winner = np.where(has, np.argmax(keys, axis=1), -1)  # argmax: first (lowest code) of ties
        wins = np.bincount(winner[has], minlength=nc).astype(float)
        ranked = max(1, int(has.sum()))
        own = winner[ns]
        out = np.tile(1.0 / (1.0 + weights.hub_damping * wins / ranked), (len(ns), 1))
        for i, w in enumerate(own.tolist()):
            if w >= 0:
                out[i, w] = 1.0 / (1.0 + weights.hub_damping * (wins[w] - 1) / ranked)
        return out

    # ------------------------------------------------------------------ public
    def rank(
        self,
        weights: Weights = DEFAULT_WEIGHTS,
        need_ids: Iterable[str] | None = None,
        top_k: int = 5,
        explain: bool = True,
    ) -> list[Proposal]:
        if top_k < 1:
            raise ValueError("top_k must be >= 1")
        with one_blas_thread(), paused_collector():
            return self._rank(weights, need_ids, top_k, explain)

    def _rank(
        self, weights: Weights, need_ids: Iterable[str] | None, top_k: int, explain: bool
    ) -> list[Proposal]:
        ix = self.ix
        if need_ids is None:
            ns = list(range(len(ix.needs)))
        else:
            ns = sorted({ix.need_pos[i] for i in need_ids if i in ix.need_pos})
        if not ns:
            return []
        # hub damping can lift any country: it needs every country's exact score
        delta = near_tie(weights)
        got = self.scores(weights, ns, None if weights.hub_damping else top_k, delta)
        damping = self._damping(weights, ns)
        keys = rank_keys(got.best * damping)
        tables = self.tables(weights.half_life)
        nsa = np.asarray(ns, dtype=np.int64)

        def facts(rows: I64, pp: I64) -> tuple[F64, F64, Bool]:
            oo = got.offer[rows, pp]
            got_facts = offer_facts(ix, weights, nsa[rows], oo, pp)
            return got_facts["language"], got_facts["region"], addresses_need(got_facts, oo)

        # (row, rank, country) of every proposal, by row then rank; near-ties ordered
        chosen = select(keys, top_k, delta, facts)
        if not chosen.rows.size:
            return []
        rows, ranks, pp = chosen.rows, chosen.ranks, chosen.cols
        nn = nsa[rows]
        oo = got.offer[rows, pp]
        dd = damping[rows, pp]
        comps = pair_components(ix, tables, self.text, weights, nn, oo, pp)
        total = weights.total
        fallback = oo < 0
        score = dd * weighted(weights, comps, fallback)
        # Python floats once per proposal row (not one numpy scalar at a time per proposal)
        comp_rows = np.column_stack([comps[k] for k in FACTORS]).tolist()
        on, fb = offer_weights(weights), fallback_weights(weights)
        contrib = np.column_stack(
            [dd * np.where(fallback, fb[k], on[k]) * comps[k] / total for k in FACTORS]
        )
        contrib_rows = contrib.tolist()
        addresses = addresses_need(comps, oo)
        explainer = Explainer(ix, tables, weights, self.text, self.facts) if explain else None
        explained: list[tuple[Reason, ...]] = []
        if explainer is not None:
            explained = explainer.explain(nn, pp, oo, comps, contrib, dd)
        reasons: list[tuple[Reason, ...]] = [()] * rows.size
        if explainer is not None:
            reasons = explained
            for j in np.flatnonzero(chosen.passed >= 0).tolist():
                near = {"country": ix.codes[chosen.passed[j]]}
                reasons[j] += (Reason(f"near_tie.{chosen.by[j]}", near),)
        need_id, recipient, cap_id, institution, code = self._record_columns
        out = _proposals(
            need_id[nn].tolist(),
            recipient[nn].tolist(),
            ranks.tolist(),
            code[pp].tolist(),
            cap_id[oo].tolist(),
            institution[oo].tolist(),
            score.tolist(),
            _factor_dicts(comp_rows),
            _factor_dicts(contrib_rows),
            reasons,
            BASIS[fallback.astype(np.int64)].tolist(),
            addresses.tolist(),
            dd.tolist(),
        )
        return out

    def score_pair(
        self, need_id: str, capacity_id: str, weights: Weights = DEFAULT_WEIGHTS
    ) -> tuple[float, dict[str, float]] | None:
        """Undamped score and components of an eligible (need, capacity) pair (None when a
        hard constraint excludes it)."""
        if self.exclusion(need_id, capacity_id) is not None:
            return None
        ix = self.ix
        n, c = ix.need_pos[need_id], ix.cap_pos[capacity_id]
        comps = pair_components(
            ix,
            self.tables(weights.half_life),
            self.text,
            weights,
            np.array([n]),
            np.array([c]),
            np.array([ix.cap_country[c]]),
        )
        flat = {k: float(v[0]) for k, v in comps.items()}
        return float(weighted(weights, comps)[0]), flat

    def exclusion(self, need_id: str, capacity_id: str) -> Reason | None:
        """Why this pair is never proposed (hard constraints), or None when it may be."""
        need = next((n for n in self.corpus.needs if n.id == need_id), None)
        cap = next((c for c in self.corpus.capacities if c.id == capacity_id), None)
        if need is None:
            return Reason("excluded.unknown_need", {"need": need_id})
        if cap is None:
            return Reason("excluded.unknown_capacity", {"capacity": capacity_id})
        return exclusion(self.corpus, need, cap, self.as_of, self.ix.taxonomy)


def prepare(corpus: Corpus, as_of: date | None = None, *, family: bool = True) -> PreparedCorpus:
    """Index a corpus as seen on ``as_of`` (None: everything). Reuse it for many rankings."""
    return PreparedCorpus(corpus=corpus, as_of=as_of, family=family)


def rank(
    corpus: Corpus | PreparedCorpus,
    weights: Weights = DEFAULT_WEIGHTS,
    as_of: date | None = None,
    need_ids: Iterable[str] | None = None,
    top_k: int = 5,
    explain: bool = True,
) -> list[Proposal]:
    """Top ``top_k`` proposals (one per provider country) for each open need, or the named ones.

    Sorted by need id then rank. Pass a ``PreparedCorpus`` to rank repeatedly without
    re-indexing (its ``as_of`` is used; passing a different one is an error).
    """
    if isinstance(corpus, PreparedCorpus):
        if as_of is not None and as_of != corpus.as_of:
            raise ValueError(f"corpus was prepared as of {corpus.as_of}, not {as_of}")
        prepared = corpus
    else:
        prepared = prepare(corpus, as_of)
    return prepared.rank(weights, need_ids, top_k, explain)


def explain_exclusion(
    corpus: Corpus | PreparedCorpus, need_id: str, capacity_id: str, as_of: date | None = None
) -> Reason | None:
    """Why a (need, capacity) pair is never proposed, or None when it is eligible."""
    prepared = corpus if isinstance(corpus, PreparedCorpus) else prepare(corpus, as_of)
    return prepared.exclusion(need_id, capacity_id)
