"""Leave-one-out evaluation (``scripts/evaluate --leave-one-out``): each real exchange in turn
is taken out of the history and put to the matcher as the need of each of its recipients, with
everything else the corpus holds as of a year after its latest exchange.

Why beside the time splits of ``evaluation.py``: it is how a real case that is not in the
knowledge base (an exchange described in a source document, say) meets the service: the matcher
knows the whole history but that exchange. Each case counts once, not once per window, so the
figures rest on every exchange instead of a dozen a cut-off.

What it does not guard against, and the time splits do: records later than the exchange stay
visible (a capacity registered because of it, a later exchange between the same two countries),
for every method alike. Hence no method here is fitted on anything: the full matcher with the
given weights, the simple rules and the ceiling; the calibrated matcher and the rule chosen on
earlier windows, which read the whole history, are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sscmatch.matching.evaluation import Report, methods, scored
from sscmatch.matching.metrics import Ranking
from sscmatch.matching.model import DEFAULT_WEIGHTS, Corpus, Weights
from sscmatch.matching.replay import Case, make_cases, snapshot

KINDS = ("full", "baseline", "ceiling")
"""The methods that read nothing but the snapshot they rank."""


def leave_one_out(
    corpus: Corpus,
    *,
    name: str = "",
    weights: Weights = DEFAULT_WEIGHTS,
    only: Sequence[str] | None = None,
) -> Report:
    """Every method at every exchange of ``corpus`` with a southern provider, each ranked
    without that exchange."""
    if not corpus.exchanges:
        return scored(name, [], {}, [], {}, 0, 0, design=_design(0, 0, 0))
    year = max(e.start.year for e in corpus.exchanges) + 1
    table = [
        m
        for m in methods(corpus, 1, weights)
        if m.kind in KINDS and m.family and (only is None or m.name in only)
    ]
    rankings: dict[str, dict[str, Ranking]] = {m.name: {} for m in table}
    cases: list[Case] = []
    in_pool = 0
    for e in sorted(corpus.exchanges, key=lambda x: (x.start, x.id)):
        rest = replace(corpus, exchanges=[x for x in corpus.exchanges if x.id != e.id])
        mine = [replace(c, cutoff=year) for c in make_cases(rest, [e], [e.start.year], 1)]
        if not mine:
            continue
        snap = snapshot(rest, year, mine)
        in_pool += sum(1 for c in mine if c.providers & set(snap.pool(c)))
        for m in table:
            rankings[m.name].update(m.run(snap))
        cases += mine
    projects = len({c.exchange for c in cases})
    design = _design(len(cases), projects, year)
    return scored(name, table, rankings, cases, {year: len(cases)}, 0, in_pool, design=design)


def _design(cases: int, projects: int, year: int) -> str:
    return (
        f"Leave one out: each of {projects} exchanges ({cases} cases, one per recipient) ranked"
        f" with the rest of the history as of {year} (records after the exchange stay visible)."
    )
