"""The plain computation the engine is measured against: every (need, capacity) pair of the
same theme family scored in full (text included), with whole-array operations but no bounds.

``scripts/bench_match`` times it beside the engine in one run and checks that both propose the
same top K; the tests check the same on small corpora. With ``text`` weighted 0 it is the
text-free brute force of issue 16 (no matrix product of texts at all). It reuses the engine's
factor tables (the arithmetic is the specification's, so the floats are equal), not its
pruning.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sscmatch.matching.engine import PreparedCorpus
from sscmatch.matching.model import Weights
from sscmatch.matching.offers import country_runs, offer_parts
from sscmatch.matching.scoring import (
    F64,
    I64,
    Bool,
    Signatures,
    cap_offer_part,
    country_components,
    country_part,
    fallback_scores,
    offer_facts,
    rank_keys,
)
from sscmatch.matching.ties import addresses_need, near_tie, select

CHUNK_NEEDS = 512
"""Needs scored at once (each holds one score per candidate capacity)."""

Ranked = list[tuple[str, int, str, str | None]]
"""(need id, rank, provider country, capacity id or None for the fallback offer)."""


def brute_force(prepared: PreparedCorpus, weights: Weights, top_k: int = 5) -> Ranked:
    """Every open need's ``top_k`` offers, one per country, the engine's tie rules and its
    near-tie ordering (``ties.select``, on the scores computed here)."""
    if weights.hub_damping:
        raise ValueError("the brute force ranks without hub damping")
    ix = prepared.ix
    out: Ranked = []
    for block, cs in prepared._blocks(list(range(len(ix.needs)))):
        for lo in range(0, block.size, CHUNK_NEEDS):
            ns = block[lo : lo + CHUNK_NEEDS]
            best, offer = _chunk(prepared, weights, ns, cs)
            facts = _facts(prepared, weights, ns, offer)
            chosen = select(rank_keys(best), top_k, near_tie(weights), facts)
            picked = zip(
                chosen.rows.tolist(), chosen.ranks.tolist(), chosen.cols.tolist(), strict=True
            )
            for i, r, p in picked:
                o = int(offer[i, p])
                need = ix.needs[int(ns[i])].id
                out.append((need, r, ix.codes[p], ix.caps[o].id if o >= 0 else None))
    out.sort(key=lambda x: (x[0], x[1]))
    return out


def _facts(
    prepared: PreparedCorpus, w: Weights, ns: I64, offer: I64
) -> Callable[[I64, I64], tuple[F64, F64, Bool]]:
    """What the near-tie ordering asks of (row, country) pairs: their best offer's language,
    region and whether it addresses the need."""

    def facts(rows: I64, pp: I64) -> tuple[F64, F64, Bool]:
        got = offer_facts(prepared.ix, w, ns[rows], offer[rows, pp], pp)
        return got["language"], got["region"], addresses_need(got, offer[rows, pp])

    return facts


def _chunk(prepared: PreparedCorpus, w: Weights, ns: I64, cs: I64) -> tuple[F64, I64]:
    """needs × countries: the best offer's score and capacity (-1: the fallback)."""
    ix, text = prepared.ix, prepared.text
    tables = prepared.tables(w.half_life)
    sig = Signatures(ix, ns)
    comps = country_components(ix, tables, ns, sig)
    country = country_part(w, comps)
    best = fallback_scores(ix, tables, text, w, ns, sig, comps)
    offer_of = np.full(best.shape, -1, dtype=np.int64)
    if not cs.size:
        return best, offer_of
    topic, lang = cap_offer_part(ix, w, cs, sig)
    owner = ix.cap_country[cs]
    score = (
        offer_parts(w, topic, lang, ix.cap_maturity[cs], sig.theme_row, sig.lang_row)
        + country[:, owner]
    )
    if text.need.shape[1] and w.text:
        rel = text.relevance(text.need[ns] @ text.cap[cs].T)
        rel[~text.has_need[ns]] = 0.0
        rel[:, ~text.has_cap[cs]] = 0.0
    else:
        rel = np.zeros(score.shape)
    score = (score + w.text * rel) / w.total
    open_ = (ix.cap_from[cs][None, :] <= ix.need_to[ns][:, None]) & (
        ix.cap_to[cs][None, :] >= ix.need_from[ns][:, None]
    )
    open_ &= ix.allowed[ix.need_country[ns]][:, owner]
    for n, ids in ix.cap_vetoes.items():
        row = np.flatnonzero(ns == ix.need_pos.get(n, -1))
        if row.size:
            vetoed = np.isin(cs, [ix.cap_pos[c] for c in ids if c in ix.cap_pos])
            open_[row[0], vetoed] = False
    score[~open_] = -np.inf
    starts, owners = country_runs(owner)
    ends = np.r_[starts[1:], cs.size]
    for s, e, p in zip(starts.tolist(), ends.tolist(), owners.tolist(), strict=True):
        at = score[:, s:e].argmax(axis=1)  # the first of equal scores: the lowest capacity
        top = score[np.arange(ns.size), s + at]
        take = (rank_keys(top) >= rank_keys(best[:, p])) & np.isfinite(top)
        best[take, p] = top[take]
        offer_of[take, p] = cs[s + at[take]]
    return best, offer_of
