"""Factor weights learned from the history a corpus holds, never from what they are judged on.

**Examples.** For training cut-offs T = until − w, until − 2w, … (w = ``window`` years; only
windows that end by ``until``) the history before T is replayed (``replay.py``): every case's
pool countries are ranked with the prior weights, and each country's best offer gives a vector
of factor components.

**Fit.** A conditional logit (learning to rank): the probability that the real provider comes
first is softmax(β · components) over the pool. β ≥ 0, one per factor, maximises the
log-likelihood, each project counting once (its recipients share its weight), minus
``REGULARISATION`` · ‖β − β₀‖², where β₀ is the prior weights scaled to a softmax temperature of
``PRIOR_TEMPERATURE``: small data cannot pull the weights far from the documented defaults.
β also keeps the topic guarantee (``Weights.topic_guarantee``): topic · gap ≥ (1 + margin) ·
(relationship + region + language). The fitted weights are β rescaled to the prior's total.

**Figures.** To tell the secretariat how good the suggestions have been, the last window
[until − w, until) is held out: weights fitted on the windows before it rank its cases, and the
share of cases whose real provider is in the top 3 is set beside the best simple rule's.
With fewer than ``MIN_CASES`` training cases the prior is kept.
"""

from __future__ import annotations

import math
import warnings
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

import numpy as np
import numpy.typing as npt
from scipy.optimize import LinearConstraint, minimize

from sscmatch.matching import baselines
from sscmatch.matching import factors as F
from sscmatch.matching.metrics import Ranking, case_metrics, group_by_score
from sscmatch.matching.model import CONTEXT_FACTORS, DEFAULT_WEIGHTS, FACTORS, Corpus, Weights
from sscmatch.matching.replay import Case, Snapshot, make_cases, snapshot
from sscmatch.matching.scoring import fallback_weights, offer_weights

F64 = npt.NDArray[np.float64]

PRIOR_TEMPERATURE = 10.0
REGULARISATION = 5.0
"""λ of the penalty λ·‖β − β₀‖²: a prior standard deviation of 1/√(2λ) ≈ 0.32 per weight, in
units where the weights sum to 10 (a mid-sized weight is about 1): a weight does not move by
much more than a third without the evidence of many projects. The knowledge base and the
development set hold a few dozen projects before any cut-off: too few to move the defaults far,
and the evaluation shows that moving them further does not carry over to the next window."""
MIN_CASES = 10
GUARANTEE_MARGIN = 0.05
DEFAULT_WINDOW = 2


@dataclass(frozen=True)
class Example:
    """One case: the components of each ranked pool country's best offer, which are real
    providers, and the project (exchange) it comes from."""

    components: F64
    relevant: npt.NDArray[np.bool_]
    project: str


@dataclass(frozen=True)
class Figures:
    """How the suggestions fared on the held-out last window [start, end)."""

    start: int
    end: int
    cases: int
    projects: int
    hit3: float
    mrr: float
    best_rule: str
    best_rule_hit3: float
    best_rule_mrr: float


@dataclass(frozen=True)
class Calibration:
    weights: Weights
    prior: Weights
    cutoffs: tuple[int, ...]
    cases: int
    projects: int
    figures: Figures | None


def training_cutoffs(corpus: Corpus, until: int, window: int) -> list[int]:
    """Cut-off years T with T + window <= until, back to the first exchange's year."""
    first = min((e.start.year for e in corpus.exchanges), default=until)
    out = []
    year = until - window
    while year > first:
        out.append(year)
        year -= window
    return sorted(out)


def ranked_components(snap: Snapshot, weights: Weights) -> dict[str, dict[str, list[float]]]:
    """Per case, the components of every pool country's best offer under ``weights``."""
    top = max(1, len(snap.prepared.ix.codes))
    props = snap.prepared.rank(
        weights, need_ids=[c.need.id for c in snap.cases], top_k=top, explain=False
    )
    # A fallback offer weighs its components less (``scoring.fallback_weights``): the logit
    # sees them discounted by the ratio at these weights, so β · components stays the score
    # near them (β is kept close to them by the regularisation).
    on, fb = offer_weights(weights), fallback_weights(weights)
    discount = {k: fb[k] / on[k] if on[k] > 0 else 0.0 for k in FACTORS}
    whole = dict.fromkeys(FACTORS, 1.0)
    by_need: dict[str, dict[str, list[float]]] = defaultdict(dict)
    for p in props:
        scale = discount if p.basis == "experience" else whole
        by_need[p.need_id][p.provider] = [p.components[k] * scale[k] for k in FACTORS]
    out: dict[str, dict[str, list[float]]] = {}
    for case in snap.cases:
        pool = set(snap.pool(case))
        out[case.id] = {x: v for x, v in by_need.get(case.need.id, {}).items() if x in pool}
    return out


def examples(snaps: Sequence[Snapshot], weights: Weights) -> list[Example]:
    out: list[Example] = []
    for snap in snaps:
        ranked = ranked_components(snap, weights)
        for case in snap.cases:
            rows = ranked[case.id]
            relevant = np.array([x in case.providers for x in rows])
            if not relevant.any() or relevant.all():
                continue  # nothing to learn: the provider is not ranked, or only providers are
            out.append(
                Example(
                    components=np.array(list(rows.values())),
                    relevant=relevant,
                    project=case.exchange,
                )
            )
    return out


def fit(data: Sequence[Example], prior: Weights = DEFAULT_WEIGHTS) -> Weights:
    """Weights from ``data`` by regularised conditional logit (see the module docstring)."""
    if len(data) < MIN_CASES:
        return prior
    per_project: dict[str, int] = defaultdict(int)
    for ex in data:
        per_project[ex.project] += 1
    share = np.array([1.0 / per_project[ex.project] for ex in data])
    w0 = np.array([prior.factor(k) for k in FACTORS])
    b0 = PRIOR_TEMPERATURE * w0 / w0.sum()

    def objective(b: F64) -> tuple[float, F64]:
        total, grad = 0.0, np.zeros_like(b)
        for ex, a in zip(data, share, strict=True):
            s = ex.components @ b
            e = np.exp(s - s.max())
            z, er = e.sum(), e[ex.relevant]
            zr = er.sum()
            total -= a * (math.log(zr) - math.log(z))
            grad -= a * (
                (er[:, None] * ex.components[ex.relevant]).sum(0) / zr
                - (e[:, None] * ex.components).sum(0) / z
            )
        d = b - b0
        return total + REGULARISATION * float(d @ d), grad + 2 * REGULARISATION * d

    guarantee = np.zeros((1, len(FACTORS)))
    guarantee[0, FACTORS.index("topic")] = F.OFF_TOPIC_GAP
    for k in CONTEXT_FACTORS:
        guarantee[0, FACTORS.index(k)] = -(1.0 + GUARANTEE_MARGIN)
    start = b0.copy()
    start[FACTORS.index("topic")] = max(
        start[FACTORS.index("topic")],
        (1.0 + 2 * GUARANTEE_MARGIN)
        * sum(start[FACTORS.index(k)] for k in CONTEXT_FACTORS)
        / F.OFF_TOPIC_GAP,
    )
    with warnings.catch_warnings():
        # trust-constr's quasi-Newton update warns when a step leaves the gradient
        # unchanged (a flat stretch of the objective, e.g. a window whose cases all
        # tie); it then skips that update, which is the right thing for us too.
        warnings.filterwarnings("ignore", message="delta_grad == 0.0", category=UserWarning)
        result = minimize(
            objective,
            start,
            jac=True,
            method="trust-constr",
            bounds=[(0.0, None)] * len(FACTORS),
            constraints=[LinearConstraint(guarantee, 0.0, np.inf)],
            options={"maxiter": 300},
        )
    b = np.maximum(result.x, 0.0)
    if not np.isfinite(b).all() or b.sum() <= 0:
        return prior
    scaled = b * (w0.sum() / b.sum())
    return replace(prior, **{k: float(v) for k, v in zip(FACTORS, scaled, strict=True)})


def history_snapshots(corpus: Corpus, cutoffs: Sequence[int], window: int) -> list[Snapshot]:
    out = []
    for year in cutoffs:
        cases = make_cases(corpus, corpus.exchanges, (year,), window)
        if cases:
            out.append(snapshot(corpus, year, cases))
    return out


def chosen_rule(corpus: Corpus, until: int, window: int) -> str:
    """The simple rule a practitioner would pick at ``until`` from the history before it: the
    best MRR per project over the replayed windows that end by ``until`` (popularity when the
    history holds no case). Nothing on or after ``until`` is looked at."""
    snaps = history_snapshots(corpus, training_cutoffs(corpus, until, window), window)
    per: dict[str, dict[str, list[float]]] = {name: defaultdict(list) for name in baselines.RULES}
    for snap in snaps:
        for name, key in baselines.RULES.items():
            rankings = baselines.rule(key)(snap)
            for case in snap.cases:
                mrr = case_metrics(rankings[case.id], case.providers)["mrr"]
                per[name][f"{snap.year}:{case.exchange}"].append(mrr)
    if not any(per[name] for name in per):
        return "popularity"

    def project_mrr(name: str) -> float:
        return sum(sum(v) / len(v) for v in per[name].values()) / len(per[name])

    return max(baselines.RULES, key=lambda name: (project_mrr(name), name == "popularity"))


def _rankings(snap: Snapshot, weights: Weights) -> dict[str, Ranking]:
    ranked = snap.prepared.rank(
        weights,
        need_ids=[c.need.id for c in snap.cases],
        top_k=max(1, len(snap.prepared.ix.codes)),
        explain=False,
    )
    by_need: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for p in ranked:
        by_need[p.need_id].append((p.provider, p.score))
    out: dict[str, Ranking] = {}
    for case in snap.cases:
        pool = set(snap.pool(case))
        out[case.id] = group_by_score((x, s) for x, s in by_need.get(case.need.id, []) if x in pool)
    return out


def held_out_figures(corpus: Corpus, until: int, window: int, prior: Weights) -> Figures | None:
    """Fit on the windows before [until − window, until), rank that window's cases."""
    last = until - window
    snaps = history_snapshots(corpus, [last], window)
    if not snaps:
        return None
    snap = snaps[0]
    train = history_snapshots(corpus, training_cutoffs(corpus, last, window), window)
    weights = fit(examples(train, prior), prior)
    cases: list[Case] = snap.cases

    def score(rankings: dict[str, Ranking]) -> tuple[float, float]:
        per = [case_metrics(rankings[c.id], c.providers) for c in cases]
        return (
            sum(m["hit@3"] for m in per) / len(per),
            sum(m["mrr"] for m in per) / len(per),
        )

    hit3, mrr = score(_rankings(snap, weights))
    rules = {name: score(baselines.rule(key)(snap)) for name, key in baselines.RULES.items()}
    best = max(rules, key=lambda k: (rules[k][0], rules[k][1], k))
    return Figures(
        start=last,
        end=until,
        cases=len(cases),
        projects=len({c.exchange for c in cases}),
        hit3=hit3,
        mrr=mrr,
        best_rule=best,
        best_rule_hit3=rules[best][0],
        best_rule_mrr=rules[best][1],
    )


def calibrate(
    corpus: Corpus,
    until: date,
    window: int = DEFAULT_WINDOW,
    prior: Weights = DEFAULT_WEIGHTS,
    *,
    figures: bool = True,
) -> Calibration:
    """Weights fitted on every window of history that ends by ``until`` (nothing on or after
    it is looked at), with the held-out figures of the last window."""
    if window < 1:
        raise ValueError("window must be at least one year")
    cutoffs = training_cutoffs(corpus, until.year, window)
    snaps = history_snapshots(corpus, cutoffs, window)
    data = examples(snaps, prior)
    weights = fit(data, prior)
    return Calibration(
        weights=weights,
        prior=prior,
        cutoffs=tuple(s.year for s in snaps),
        cases=len(data),
        projects=len({d.project for d in data}),
        figures=held_out_figures(corpus, until.year, window, prior) if figures else None,
    )
