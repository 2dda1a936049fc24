"""Time-split evaluation of the matcher on real exchanges (``scripts/evaluate``).

Pure: a ``Corpus`` goes in, a ``Report`` comes out; no database, no files, no clock, and a fixed
seed for the bootstrap. The cases, pseudo-needs and pools are those of ``replay.py``.

**Methods.** Every method orders the same pool of each case:

- the *full matcher* with the documented default weights; the *calibrated matcher*, whose
  weights ``calibration.calibrate`` fits at each cut-off T on the history before T only (the
  window being judged is never looked at) and uses, as runs do, only when they beat the
  defaults on the window the calibration held out before T; ablations (full − one factor)
  and the matcher without the theme-family constraint, to measure what it costs and gains;
- the simple rules of ``baselines.py``, and the *rule chosen on the history before T*: the
  rule with the best MRR per project on the windows replayed before T
  (``calibration.chosen_rule``), which is how a practitioner without a matcher would pick one;
- the *ceiling*, an oracle: the real provider as high as any ranking that keeps topical fit first
  can put it (``ceiling_method``); where it is not above the best rule, no such ranking can be.

The engine ranks what it may propose (its hard constraints can leave pool countries out: a
real provider left out is a miss); the rules rank the whole pool.

**Units.** Figures are given per need (every case counts once) and per project (a project's
cases are averaged first, so a project with fifteen recipients counts once), for each cut-off
and pooled. The *best simple rule* of a cut-off is the rule with the highest MRR there (per
unit); the margin of the full matcher over it has a 95% paired bootstrap interval that
resamples projects (cases of one project move together). The best rule is picked *after*
seeing the window, from five: the maximum of five noisy scores on a dozen projects sits above
what any one rule is expected to do (a winner's curse), so the margin over the rule chosen before
T, which is a fair competitor, is reported beside it.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from weakref import WeakKeyDictionary

from sscmatch.matching import baselines
from sscmatch.matching.calibration import DEFAULT_WINDOW, calibrate, chosen_rule
from sscmatch.matching.metrics import (
    METRICS,
    Ranking,
    case_metrics,
    concentration,
    group_in_order,
    proposal_key,
)
from sscmatch.matching.model import (
    CONTEXT_FACTORS,
    DEFAULT_WEIGHTS,
    FACTORS,
    Corpus,
    Proposal,
    Weights,
)
from sscmatch.matching.replay import Case, Snapshot, cutoff_date, make_cases, snapshot

FULL = "full matcher"
CALIBRATED = "calibrated matcher"
NO_FAMILY = "full without the theme-family constraint"
CEILING = "ceiling: the best ranking that keeps topical fit first (an oracle)"
CHOSEN = "simple rule chosen on the history before T"
BOOTSTRAP = 2000
UNITS: tuple[str, ...] = ("need", "project")

Method = Callable[[Snapshot], dict[str, Ranking]]


_RANKED: WeakKeyDictionary[Snapshot, dict[Weights, dict[str, list[Proposal]]]] = WeakKeyDictionary()


def _ranked(snap: Snapshot, weights: Weights) -> dict[str, list[Proposal]]:
    """The engine's proposals for every case's need, in rank order (one per country); kept per
    snapshot and weights, since the full matcher and the ceiling read the same ranking."""
    kept = _RANKED.setdefault(snap, {})
    if weights not in kept:
        kept[weights] = _rank(snap, weights)
    return kept[weights]


def _rank(snap: Snapshot, weights: Weights) -> dict[str, list[Proposal]]:
    ranked = snap.prepared.rank(
        weights,
        need_ids=[c.need.id for c in snap.cases],
        top_k=max(1, len(snap.prepared.ix.codes)),
        explain=False,
    )
    by: dict[str, list[Proposal]] = defaultdict(list)
    for p in ranked:  # in rank order
        by[p.need_id].append(p)
    return by


def engine_method(weights: Weights | Callable[[Snapshot], Weights]) -> Method:
    """The engine ranking every case's pool (``weights`` may depend on the cut-off)."""

    def run(snap: Snapshot) -> dict[str, Ranking]:
        by = _ranked(snap, weights(snap) if callable(weights) else weights)
        out: dict[str, Ranking] = {}
        for case in snap.cases:
            pool = set(snap.pool(case))
            out[case.id] = group_in_order(
                (p.provider, proposal_key(p.score, p.components, p.addresses))
                for p in by[case.need.id]
                if p.provider in pool
            )
        return out

    return run


def on_topic_over(a: Proposal, b: Proposal) -> bool:
    """Whether topical fit first requires ``a`` above ``b``: ``a`` is a registered offer that
    addresses the need, ``b`` is not, and ``b`` is better only in relationship, region or
    language (the property ``tests/matching/test_properties.py`` states)."""
    return (
        a.addresses
        and a.basis == "capacity"
        and not (b.addresses and b.basis == "capacity")
        and all(a.components[k] >= b.components[k] for k in FACTORS if k not in CONTEXT_FACTORS)
    )


def ceiling_method(weights: Weights = DEFAULT_WEIGHTS) -> Method:
    """An oracle, not a method: the real provider as high as any ranking can put it while
    keeping topical fit first with the full matcher's factor values, that is just below the
    countries whose offer ``on_topic_over`` its own. Where this ceiling is below the best simple
    rule of a window, no ranking with the property can be ahead there."""

    def run(snap: Snapshot) -> dict[str, Ranking]:
        by = _ranked(snap, weights)
        out: dict[str, Ranking] = {}
        for case in snap.cases:
            pool = set(snap.pool(case))
            best = {p.provider: p for p in by[case.need.id] if p.provider in pool}
            real = [best[x] for x in sorted(case.providers) if x in best]
            if not real:  # the engine may not propose it: nothing can rank it
                out[case.id] = (tuple(sorted(best)),) if best else ()
                continue
            above = min(
                ({x for x, p in best.items() if on_topic_over(p, r)} for r in real), key=len
            )
            rest = set(best) - above - set(case.providers)
            groups = (tuple(sorted(above)), tuple(sorted(x for x in case.providers if x in best)))
            out[case.id] = tuple(g for g in (*groups, tuple(sorted(rest))) if g)
        return out

    return run


def without(name: str, weights: Weights = DEFAULT_WEIGHTS) -> Weights:
    return replace(weights, **{name: 0.0})


@dataclass(frozen=True)
class MethodSpec:
    name: str
    kind: str  # full, calibrated, baseline, ablation
    run: Method
    family: bool = True
    choices: dict[int, str] = field(default_factory=dict)
    """For the rule chosen before T: cut-off -> the rule it chose (filled as it runs)."""


def methods(corpus: Corpus, window: int, weights: Weights = DEFAULT_WEIGHTS) -> list[MethodSpec]:
    """Every method, in table order."""

    def calibrated(snap: Snapshot) -> Weights:
        # as runs do: the learnt weights only when they beat the defaults on the window the
        # calibration held out (which ends by the cut-off: nothing of the judged window is seen)
        return calibrate(corpus, cutoff_date(snap.year), window, weights).used

    out = [
        MethodSpec(FULL, "full", engine_method(weights)),
        MethodSpec(CALIBRATED, "calibrated", engine_method(calibrated)),
    ]
    out += [
        MethodSpec(name, "baseline", baselines.rule(key)) for name, key in baselines.RULES.items()
    ]

    choices: dict[int, str] = {}

    def chosen(snap: Snapshot) -> dict[str, Ranking]:
        choices[snap.year] = name = chosen_rule(corpus, snap.year, window)
        return baselines.rule(baselines.RULES[name])(snap)

    out.append(MethodSpec(CHOSEN, "chosen", chosen, choices=choices))
    out.append(MethodSpec(CEILING, "ceiling", ceiling_method(weights)))
    out.append(MethodSpec(NO_FAMILY, "ablation", engine_method(weights), family=False))
    out += [
        MethodSpec(f"full − {f.replace('_', '-')}", "ablation", engine_method(without(f, weights)))
        for f in FACTORS
        if weights.factor(f) > 0
    ]
    return out


@dataclass(frozen=True)
class Margin:
    """The full matcher's MRR minus the best simple rule's, with a bootstrap interval."""

    best: str
    full: float
    rule: float
    low: float
    high: float

    @property
    def value(self) -> float:
        return self.full - self.rule


@dataclass(frozen=True)
class Row:
    method: str
    kind: str
    per_case: Mapping[str, Mapping[str, float]]  # case id -> metric -> value
    top1_share: float
    top1: str
    hhi: float


@dataclass(frozen=True)
class Report:
    name: str
    rows: list[Row]
    cases: list[Case]
    cutoffs: dict[int, int]  # cut-off -> cases
    window: int
    margins: dict[tuple[str, str], Margin]  # (cut-off or "all", unit) -> margin
    chosen_margins: dict[tuple[str, str], Margin]  # the same, over the rule chosen before T
    chosen: dict[int, str]  # cut-off -> the rule chosen on the history before it
    pool_coverage: float
    design: str = ""  # how the cases were made, when not by cut-offs (``leaveout.py``)

    def row(self, method: str) -> Row:
        return next(r for r in self.rows if r.method == method)

    def cases_of(self, cutoff: int | str) -> list[Case]:
        return [c for c in self.cases if cutoff == "all" or c.cutoff == cutoff]

    def mean(
        self, method: str, metric: str, cutoff: int | str = "all", unit: str = "need"
    ) -> float:
        return mean(self.row(method).per_case, self.cases_of(cutoff), metric, unit)


def mean(
    per_case: Mapping[str, Mapping[str, float]], cases: Sequence[Case], metric: str, unit: str
) -> float:
    """Mean of a metric over cases (``need``) or over projects of their case means."""
    if not cases:
        return float("nan")
    if unit == "need":
        return sum(per_case[c.id][metric] for c in cases) / len(cases)
    by: dict[str, list[float]] = defaultdict(list)
    for c in cases:
        by[c.exchange].append(per_case[c.id][metric])
    return sum(sum(v) / len(v) for v in by.values()) / len(by)


def bootstrap(
    diffs: Mapping[str, float], cases: Sequence[Case], unit: str, seed: int = 0
) -> tuple[float, float]:
    """95% interval of the mean difference, resampling projects with their cases."""
    by: dict[str, list[float]] = defaultdict(list)
    for c in cases:
        by[c.exchange].append(diffs[c.id])
    groups = list(by.values())
    if not groups:
        return float("nan"), float("nan")
    rng = random.Random(seed)
    means = []
    for _ in range(BOOTSTRAP):
        sample = rng.choices(groups, k=len(groups))
        if unit == "need":
            flat = [x for g in sample for x in g]
            means.append(sum(flat) / len(flat))
        else:
            means.append(sum(sum(g) / len(g) for g in sample) / len(sample))
    means.sort()
    return means[int(0.025 * BOOTSTRAP)], means[int(0.975 * BOOTSTRAP) - 1]


def evaluate(
    corpus: Corpus,
    *,
    name: str = "",
    cutoffs: Sequence[int],
    window: int = DEFAULT_WINDOW,
    min_cases: int = 1,
    weights: Weights = DEFAULT_WEIGHTS,
    only: Sequence[str] | None = None,
) -> Report:
    """Run every method (or those named in ``only``) at every cut-off with at least
    ``min_cases`` cases."""
    all_cases = make_cases(corpus, corpus.exchanges, cutoffs, window)
    by_year: dict[int, list[Case]] = defaultdict(list)
    for c in all_cases:
        by_year[c.cutoff].append(c)
    years = [y for y in cutoffs if len(by_year.get(y, [])) >= max(1, min_cases)]
    cases = [c for y in years for c in by_year[y]]
    table = [m for m in methods(corpus, window, weights) if only is None or m.name in only]
    rankings: dict[str, dict[str, Ranking]] = {m.name: {} for m in table}
    in_pool = 0
    for year in years:
        snaps = {
            family: snapshot(corpus, year, by_year[year], family=family)
            for family in {True, *(m.family for m in table)}  # the pool is the family's
        }
        in_pool += sum(1 for c in by_year[year] if c.providers & set(snaps[True].pool(c)))
        for m in table:
            rankings[m.name].update(m.run(snaps[m.family]))
    cutoff_sizes = {y: len(by_year[y]) for y in years}
    return scored(name, table, rankings, cases, cutoff_sizes, window, in_pool)


def scored(
    name: str,
    table: Sequence[MethodSpec],
    rankings: Mapping[str, Mapping[str, Ranking]],
    cases: list[Case],
    cutoffs: dict[int, int],
    window: int,
    in_pool: int,
    design: str = "",
) -> Report:
    """The report of every method's rankings of ``cases``: metrics, concentration, margins."""
    rows = []
    for m in table:
        per = {c.id: case_metrics(rankings[m.name][c.id], c.providers) for c in cases}
        share, hhi, top = concentration(rankings[m.name][c.id] for c in cases)
        rows.append(Row(m.name, m.kind, per, share, top, hhi))
    report = Report(
        name=name,
        rows=rows,
        cases=cases,
        cutoffs=cutoffs,
        window=window,
        margins={},
        chosen_margins={},
        chosen=next((dict(m.choices) for m in table if m.kind == "chosen"), {}),
        pool_coverage=in_pool / len(cases) if cases else float("nan"),
        design=design,
    )
    if any(r.kind == "full" for r in rows) and any(r.kind == "baseline" for r in rows):
        cuts: list[int | str] = [*cutoffs, "all"]
        for cut in cuts:
            for unit in UNITS:
                report.margins[(str(cut), unit)] = margin(report, cut, unit)
                if any(r.kind == "chosen" for r in rows):
                    report.chosen_margins[(str(cut), unit)] = margin(report, cut, unit, "chosen")
    return report


def margin(report: Report, cutoff: int | str, unit: str, kind: str = "baseline") -> Margin:
    """The full matcher against the best row of ``kind`` there (``baseline``: the best
    simple rule of the window; ``chosen``: the rule chosen before each cut-off)."""
    cases = report.cases_of(cutoff)
    rules = [r for r in report.rows if r.kind == kind]
    best = max(rules, key=lambda r: (mean(r.per_case, cases, "mrr", unit), r.method))
    full = report.row(FULL)
    diffs = {c.id: full.per_case[c.id]["mrr"] - best.per_case[c.id]["mrr"] for c in cases}
    low, high = bootstrap(diffs, cases, unit)
    return Margin(
        best=best.method,
        full=mean(full.per_case, cases, "mrr", unit),
        rule=mean(best.per_case, cases, "mrr", unit),
        low=low,
        high=high,
    )


# ----------------------------------------------------------------------------- markdown
def _fmt(x: float) -> str:
    return "–" if x != x else f"{x:.2f}"


def markdown(report: Report) -> str:
    """One table (MRR per need and per project at each cut-off and pooled, pooled Hit@k and
    nDCG@5 per need, coverage, concentration) and the margins, as markdown; a report with no
    case says so (there is nothing to compare)."""
    if not report.cases:
        return (
            "No cut-off has enough cases to judge (real exchanges with a southern provider in"
            " the years after it; see --min-cases): nothing to compare."
        )
    cuts: list[int | str] = [*report.cutoffs, "all"]
    head = ["method"]
    head += [f"MRR {c} need / project" for c in cuts]
    head += [m.replace("hit", "Hit").replace("ndcg", "nDCG") for m in METRICS if m != "mrr"]
    head += ["coverage", "top-1 share"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in report.rows:
        label = f"**{r.method}**" if r.kind in ("full", "calibrated") else r.method
        cells = [label]
        for c in cuts:
            need = report.mean(r.method, "mrr", c, "need")
            project = report.mean(r.method, "mrr", c, "project")
            cells.append(f"{_fmt(need)} / {_fmt(project)}")
        cells += [_fmt(report.mean(r.method, m)) for m in METRICS if m != "mrr"]
        cells.append(_fmt(report.mean(r.method, "coverage")))
        cells.append(f"{_fmt(r.top1_share)} ({r.top1 or '–'})")
        lines.append("| " + " | ".join(cells) + " |")
    sizes = ", ".join(
        f"{y}: {n} cases in {len({c.exchange for c in report.cases_of(y)})} projects"
        for y, n in report.cutoffs.items()
    )
    design = report.design or (
        f"Cut-offs (each tests the exchanges of the next {report.window} years): {sizes}."
    )
    lines += [
        "",
        f"{design} The real provider is a candidate at all in {_fmt(report.pool_coverage)} of the"
        " cases (the ceiling of coverage for every method).",
        "",
        "Margin of the full matcher over the best simple rule on MRR (95% paired bootstrap"
        " interval over projects):",
        "",
    ]
    lines += [_margin_line(cut, unit, m, m.best) for (cut, unit), m in report.margins.items()]
    lines += _out_of_reach(report)
    if report.chosen_margins:
        chosen = ", ".join(f"{y}: {name}" for y, name in report.chosen.items())
        lines += [
            "",
            "Margin of the full matcher over the simple rule chosen on the history before each"
            f" cut-off ({chosen}):",
            "",
        ]
        lines += [
            _margin_line(
                cut,
                unit,
                m,
                report.chosen.get(int(cut), "")
                if cut != "all"
                else "rules chosen before each cut-off",
            )
            for (cut, unit), m in report.chosen_margins.items()
        ]
    return "\n".join(lines)


def _out_of_reach(report: Report) -> list[str]:
    """The windows where even the ceiling (``ceiling_method``) is not ahead of the best rule."""
    if not any(r.kind == "ceiling" for r in report.rows):
        return []
    out = []
    for (cut, unit), m in report.margins.items():
        top = report.mean(CEILING, "mrr", cut if cut == "all" else int(cut), unit)
        if top <= m.rule:
            out.append(f"- {cut}, per {unit}: at most {top:.3f} against {m.rule:.3f} ({m.best})")
    if not out:
        return ["", "The ceiling is above the best simple rule at every cut-off."]
    return [
        "",
        "Out of reach of any ranking that keeps topical fit first (the ceiling is not above"
        " the best simple rule):",
        "",
        *out,
    ]


def _margin_line(cut: str, unit: str, m: Margin, rule: str) -> str:
    ahead = "ahead" if m.value > 0 else ("level" if m.value == 0 else "behind")
    return (
        f"- {cut}, per {unit}: {m.value:+.3f} ({m.full:.3f} vs {m.rule:.3f}, {rule};"
        f" {m.low:+.3f} to {m.high:+.3f}): {ahead}"
    )
