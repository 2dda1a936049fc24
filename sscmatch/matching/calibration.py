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

**Figures.** To tell the secretariat how good the suggestions have been, a window is held
out: the latest one of w years that ends by ``until`` and holds at least ``MIN_CASES`` cases (else
the latest with any; :func:`held_out_window`). Weights fitted on the windows before it rank its
cases, and the share of cases whose real provider is in the top 3 is set beside the best simple
rule's and the prior's (the documented defaults). With fewer than ``MIN_CASES`` training cases
the prior is kept.

**Adopted only when it proved itself.** The fitted weights replace the prior only when, on the
held-out window, the weights fitted before it ranked the real providers better than the prior
did (mean reciprocal rank per project, each project counting once), by ``MIN_GAIN`` at least.
A tie keeps the prior, the simpler, and so do weights that could not be tested (too few cases
before the window). A fit
that does not carry over to the next window is noise: on the knowledge base's 2017 window a
calibration used unconditionally ranked worse than the defaults (README, "Calibration").
:attr:`Calibration.used` is what runs use; ``weights`` stays what was learnt.
"""

from __future__ import annotations

import math
import warnings
from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace
from datetime import date

import numpy as np
import numpy.typing as npt
from scipy.optimize import LinearConstraint, minimize

from sscmatch.matching import baselines
from sscmatch.matching import factors as F
from sscmatch.matching.metrics import Ranking, case_metrics, group_in_order, proposal_key
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
MIN_GAIN = 0.01
"""The least gain in held-out MRR per project for learnt weights to replace the prior: below a
hundredth the two rank the window alike (a near-tie moved), and the simpler prior is kept."""
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
    prior_hit3: float
    prior_mrr: float
    project_mrr: float
    """MRR per project (each project's cases averaged first) of the weights fitted before."""
    prior_project_mrr: float
    tested: bool
    """Whether the years before the window held enough cases to fit weights that differ from
    the prior (else there was nothing to test, and the prior is kept)."""
    adopted: bool
    """Whether the fitted weights ranked the window better than the prior (``project_mrr`` ≥
    ``prior_project_mrr`` + ``MIN_GAIN``): only then do runs use a calibration's weights."""


@dataclass(frozen=True)
class Calibration:
    weights: Weights
    """What was learnt from every window of history (the prior when too few cases)."""
    prior: Weights
    cutoffs: tuple[int, ...]
    cases: int
    projects: int
    figures: Figures | None

    @property
    def used(self) -> Weights:
        """What runs use: the learnt weights when they proved themselves on the held-out
        window (or no window could test them), else the prior."""
        if self.figures is None or self.figures.adopted:
            return self.weights
        return self.prior


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
    by_need: dict[str, list[tuple[str, Hashable]]] = defaultdict(list)
    for p in ranked:  # in rank order
        key = proposal_key(p.score, p.components, p.addresses)
        by_need[p.need_id].append((p.provider, key))
    out: dict[str, Ranking] = {}
    for case in snap.cases:
        pool = set(snap.pool(case))
        out[case.id] = group_in_order((x, k) for x, k in by_need.get(case.need.id, []) if x in pool)
    return out


def held_out_window(corpus: Corpus, until: int, window: int) -> int | None:
    """The end year E of the window [E − window, E) held out at ``until``: the latest that
    ends by ``until`` and holds at least ``MIN_CASES`` cases, else the latest with any (None
    when none has any): the last years when they hold exchanges, an older window when not."""
    if not corpus.exchanges:
        return None
    first = min(e.start.year for e in corpus.exchanges)
    with_any = None
    for end in range(until, first + window, -1):
        count = len(make_cases(corpus, corpus.exchanges, (end - window,), window))
        if count >= MIN_CASES:
            return end
        if count and with_any is None:
            with_any = end
    return with_any


def _project_mrr(cases: Sequence[Case], rankings: dict[str, Ranking]) -> float:
    by: dict[str, list[float]] = defaultdict(list)
    for c in cases:
        by[c.exchange].append(case_metrics(rankings[c.id], c.providers)["mrr"])
    return sum(sum(v) / len(v) for v in by.values()) / len(by)


def held_out_figures(corpus: Corpus, until: int, window: int, prior: Weights) -> Figures | None:
    """Fit on the windows before [until − window, until), rank that window's cases with the
    fitted weights and with the prior, and say whether the fit did better."""
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

    fitted = _rankings(snap, weights)
    before = fitted if weights == prior else _rankings(snap, prior)
    hit3, mrr = score(fitted)
    prior_hit3, prior_mrr = score(before)
    project_mrr, prior_project_mrr = _project_mrr(cases, fitted), _project_mrr(cases, before)
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
        prior_hit3=prior_hit3,
        prior_mrr=prior_mrr,
        project_mrr=project_mrr,
        prior_project_mrr=prior_project_mrr,
        tested=weights != prior,
        adopted=project_mrr >= prior_project_mrr + MIN_GAIN,
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
    it is looked at), with the figures of the held-out window (``held_out_window``), which
    decide whether runs use them (``Calibration.used``). ``figures=False`` skips the held-out
    test: the learnt weights are then used as they are."""
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
        figures=_figures(corpus, until.year, window, prior) if figures else None,
    )


def _figures(corpus: Corpus, until: int, window: int, prior: Weights) -> Figures | None:
    end = held_out_window(corpus, until, window)
    return None if end is None else held_out_figures(corpus, end, window, prior)
