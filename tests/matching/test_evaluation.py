"""The time-split evaluation: hand-worked metrics on tiny rankings (with ties), the split (nothing
at or after a cut-off reaches the matcher), the cases and pseudo-needs, per-project figures, the
project bootstrap and the report."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace
from datetime import date
from math import log2

import pytest

from sscmatch.matching import CapacityItem, Corpus, ExchangeItem
from sscmatch.matching import evaluation as ev
from sscmatch.matching.evaluation import bootstrap, evaluate, markdown, mean
from sscmatch.matching.metrics import (
    Ranking,
    case_metrics,
    concentration,
    covered,
    hit_at,
    ndcg_at,
    reciprocal_rank,
)
from sscmatch.matching.replay import Case, corpus_as_of, make_cases
from tests.matching.helpers import record_prepares, small_corpus

L2, L3, L4 = log2(2), log2(3), log2(4)


# ----------------------------------------------------------------------------- metrics, by hand
def test_strict_ranking_single_relevant() -> None:
    r: Ranking = (("A",), ("B",), ("C",))
    rel = frozenset({"B"})
    assert hit_at(r, rel, 1) == 0.0
    assert hit_at(r, rel, 2) == 1.0
    assert hit_at(r, rel, 3) == 1.0
    assert reciprocal_rank(r, rel) == 0.5
    assert ndcg_at(r, rel, 5) == pytest.approx(1 / L3)  # 0.6309
    assert covered(r, rel)


def test_first_place_is_perfect() -> None:
    r: Ranking = (("B",), ("A",))
    m = case_metrics(r, frozenset({"B"}))
    assert m == {
        "hit@1": 1.0,
        "hit@3": 1.0,
        "hit@5": 1.0,
        "mrr": 1.0,
        "ndcg@5": 1.0,
        "coverage": 1.0,
    }


def test_missing_relevant_scores_zero() -> None:
    r: Ranking = (("X",), ("Y",))
    m = case_metrics(r, frozenset({"A"}))
    assert m == {
        "hit@1": 0.0,
        "hit@3": 0.0,
        "hit@5": 0.0,
        "mrr": 0.0,
        "ndcg@5": 0.0,
        "coverage": 0.0,
    }
    assert case_metrics((), frozenset({"A"}))["mrr"] == 0.0


def test_beyond_cutoff() -> None:
    r: Ranking = tuple((x,) for x in "ABCDEF")
    rel = frozenset({"F"})
    assert hit_at(r, rel, 5) == 0.0
    assert ndcg_at(r, rel, 5) == 0.0
    assert reciprocal_rank(r, rel) == pytest.approx(1 / 6)


def test_two_way_tie_is_a_coin_flip() -> None:
    r: Ranking = (("A", "B"), ("C",))
    rel = frozenset({"B"})
    assert hit_at(r, rel, 1) == 0.5
    assert hit_at(r, rel, 2) == 1.0
    assert reciprocal_rank(r, rel) == pytest.approx((1 + 1 / 2) / 2)  # 0.75
    assert ndcg_at(r, rel, 5) == pytest.approx((1 / L2 + 1 / L3) / 2)  # 0.8155


def test_tie_holding_two_of_three_relevant() -> None:
    r: Ranking = (("X",), ("A", "B", "C"))
    rel = frozenset({"A", "B"})
    assert hit_at(r, rel, 1) == 0.0
    # top 2 holds X and one of A, B, C: relevant with probability 2/3
    assert hit_at(r, rel, 2) == pytest.approx(2 / 3)
    # first relevant at rank 2 with probability 2/3, else at rank 3
    assert reciprocal_rank(r, rel) == pytest.approx(2 / 3 * 1 / 2 + 1 / 3 * 1 / 3)  # 4/9
    # each relevant item sits at rank 2, 3 or 4 with probability 1/3; ideal: ranks 1 and 2
    dcg = 2 / 3 * (1 / L3 + 1 / L4 + 1 / log2(5))
    assert ndcg_at(r, rel, 5) == pytest.approx(dcg / (1 / L2 + 1 / L3))


def test_ndcg_two_relevant_and_an_unranked_one() -> None:
    r: Ranking = (("A",), ("X",), ("B",))
    assert ndcg_at(r, frozenset({"A", "B"}), 5) == pytest.approx((1 + 1 / L4) / (1 + 1 / L3))
    # the ideal counts relevant items the ranking left out
    assert ndcg_at((("A",),), frozenset({"A", "B"}), 5) == pytest.approx(1 / (1 + 1 / L3))


def test_tie_straddling_the_cutoff() -> None:
    r: Ranking = (("X", "Y"), ("A", "B", "C", "D"))
    rel = frozenset({"D"})
    # ranks 3..6 equally likely; top 3 only when D is first of its group
    assert hit_at(r, rel, 3) == pytest.approx(1 / 4)
    assert hit_at(r, rel, 5) == pytest.approx(3 / 4)
    assert ndcg_at(r, rel, 5) == pytest.approx((1 / L4 + 1 / log2(5) + 1 / log2(6)) / 4)


def _expected_by_enumeration(r: Ranking, rel: frozenset[str]) -> dict[str, float]:
    orders = list(itertools.product(*(itertools.permutations(g) for g in r)))
    totals: dict[str, float] = {}
    for order in orders:
        strict = tuple((x,) for g in order for x in g)
        for k, v in case_metrics(strict, rel).items():
            totals[k] = totals.get(k, 0.0) + v
    return {k: v / len(orders) for k, v in totals.items()}


def test_tie_expectations_equal_the_average_over_all_orders() -> None:
    rng = random.Random(7)
    for _ in range(60):
        items = [f"c{i}" for i in range(rng.randint(1, 7))]
        rng.shuffle(items)
        groups: list[tuple[str, ...]] = []
        i = 0
        while i < len(items):
            size = rng.randint(1, 3)
            groups.append(tuple(items[i : i + size]))
            i += size
        pick = [*items, "zz"]
        rel = frozenset(rng.sample(pick, rng.randint(1, min(3, len(pick)))))
        got = case_metrics(tuple(groups), rel)
        want = _expected_by_enumeration(tuple(groups), rel)
        for k in want:
            assert got[k] == pytest.approx(want[k]), (groups, rel, k)


def test_concentration_splits_tied_first_places() -> None:
    rankings: list[Ranking] = [(("A",),), (("A", "B"), ("C",)), (("C",),), ()]
    share, hhi, top = concentration(rankings)
    # slots: A 1.5, B 0.5, C 1 over 3 rankings (the empty one has no rank 1)
    assert top == "A"
    assert share == pytest.approx(0.5)
    assert hhi == pytest.approx(0.5**2 + (1 / 6) ** 2 + (1 / 3) ** 2)
    assert concentration([]) == (0.0, 0.0, "")


# ----------------------------------------------------------------------------- split and cases
def dated_corpus() -> Corpus:
    """small_corpus with dated capacities: C-CRI-1 2010, C-CRI-2 2013, C-BRA-1 2016, C-FJI-1
    2021 (after every cut-off), so what is visible changes with the cut-off."""
    base = small_corpus()
    created = {
        "C-BRA-1": date(2016, 1, 1),
        "C-CRI-1": date(2010, 1, 1),
        "C-CRI-2": date(2013, 1, 1),
        "C-FJI-1": date(2021, 1, 1),
        "C-GTM-1": date(2010, 1, 1),
    }
    caps = [replace(c, created=created[c.id]) for c in base.capacities]
    caps.append(
        CapacityItem(
            id="C-BRA-0",
            country="BRA",
            title="Cash transfers",
            themes=("conditional-cash-transfers",),
            created=date(2011, 6, 1),
        )
    )
    return replace(base, capacities=caps)


def test_corpus_as_of_drops_everything_at_or_after_the_cutoff() -> None:
    corpus = dated_corpus()
    cut = date(2015, 6, 1)  # E3 starts exactly then
    seen = corpus_as_of(corpus, cut)
    assert [e.id for e in seen.exchanges] == ["E1", "E2"]
    assert all(e.start < cut for e in seen.exchanges)
    assert {c.id for c in seen.capacities} == {"C-CRI-1", "C-CRI-2", "C-GTM-1", "C-BRA-0"}
    assert all(k.start is None or k.start < cut for k in seen.commitments)
    assert [k.id for k in seen.commitments] == ["K1", "K2", "K3"]
    assert len(corpus.exchanges) == 5  # the input is left alone


def test_cases_windows_repeat_and_pseudo_needs() -> None:
    corpus = dated_corpus()
    cases = make_cases(corpus, corpus.exchanges, cutoffs=(2012, 2015, 2019), window=2)
    got = [(c.cutoff, c.exchange, c.recipient, sorted(c.providers), c.repeat) for c in cases]
    assert got == [
        (2012, "E2", "HTI", ["CRI"], False),
        (2015, "E3", "HTI", ["BRA"], False),  # E4 (2016) has no providers: not a case
        (2019, "E5", "GTM", ["BRA"], True),  # BRA and GTM shared E4 in 2016
    ]
    need = cases[0].need
    assert need.country == "HTI"
    assert need.themes == ("conditional-cash-transfers",)
    assert need.languages == ("fr", "ht")
    assert need.title == "Conditional cash transfers"  # an untitled exchange: theme labels
    assert need.status == "open"
    # window: an exchange at T + window belongs to the next cut-off
    assert [c.exchange for c in make_cases(corpus, corpus.exchanges, (2018,), 2)] == []
    assert [c.exchange for c in make_cases(corpus, corpus.exchanges, (2018,), 3)] == ["E5"]


def test_donor_providers_are_not_the_answer_and_joint_hosts_are_no_cases() -> None:
    corpus = replace(
        dated_corpus(),
        exchanges=[
            ExchangeItem(
                id="D",
                start=date(2013, 1, 1),
                providers=("ESP", "CRI"),
                recipients=("GTM", "CRI"),
                themes=("labour-inspection",),
            ),
            ExchangeItem(
                id="O",
                start=date(2013, 1, 1),
                providers=("ESP",),
                recipients=("HTI",),
                themes=("labour-inspection",),
            ),
        ],
    )
    cases = make_cases(corpus, corpus.exchanges, (2012,), 2)
    # ESP (a DAC member since 1991) is not a southern provider: only CRI counts, and CRI,
    # host too, is no case of its own; O has no southern provider at all
    assert [(c.exchange, c.recipient, sorted(c.providers)) for c in cases] == [
        ("D", "GTM", ["CRI"])
    ]


def test_the_matcher_never_sees_exchanges_at_or_after_the_cutoff(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen = record_prepares(monkeypatch)
    corpus = dated_corpus()
    report = evaluate(corpus, cutoffs=(2012, 2015, 2019), window=2, only=[ev.FULL, "popularity"])
    assert report.cutoffs == {2012: 1, 2015: 1, 2019: 1}
    assert {as_of for _c, as_of in seen} == {date(2012, 1, 1), date(2015, 1, 1), date(2019, 1, 1)}
    for snap, as_of in seen:
        assert as_of is not None
        assert all(e.start < as_of for e in snap.exchanges)
        assert all(c.created is None or c.created < as_of for c in snap.capacities)
        assert all(k.start is None or k.start < as_of for k in snap.commitments)
        tested = {c.exchange for c in report.cases if date(c.cutoff, 1, 1) == as_of}
        assert not tested & {e.id for e in snap.exchanges}


def test_evaluate_on_a_tiny_corpus() -> None:
    corpus = dated_corpus()
    report = evaluate(corpus, cutoffs=(2012, 2015, 2019), window=2)
    names = [r.method for r in report.rows]
    assert names[:2] == [ev.FULL, ev.CALIBRATED]
    assert {"popularity", "repeat-pair → theme", "theme → language → region"} <= set(names)
    assert ev.NO_FAMILY in names
    for row in report.rows:
        for m in ("hit@1", "hit@3", "hit@5", "mrr", "ndcg@5"):
            for unit in ev.UNITS:
                assert 0.0 <= report.mean(row.method, m, "all", unit) <= 1.0
        assert report.mean(row.method, "hit@1") <= report.mean(row.method, "hit@3")
    pop = report.row("popularity")
    # 2012: CRI has provided before (E1), BRA has not: popularity ranks CRI first
    assert pop.per_case["2012:E2:HTI"]["mrr"] == 1.0
    assert report.pool_coverage == 1.0
    for cut in ("2012", "2015", "2019", "all"):
        for unit in ev.UNITS:
            m = report.margins[(cut, unit)]
            assert m.low <= m.value + 1e-12 or m.low <= m.high
            assert m.value == pytest.approx(m.full - m.rule)
    text = markdown(report)
    assert text.startswith("| method | MRR 2012 need / project |")
    assert "Margin of the full matcher over the best simple rule" in text
    assert text.count("\n|") == len(report.rows) + 1


def test_a_project_with_many_recipients_counts_once_per_project() -> None:
    need = dated_corpus().needs[0]

    def case(cid: str, project: str) -> Case:
        return Case(
            id=cid,
            cutoff=2012,
            exchange=project,
            recipient="X",
            providers=frozenset(),
            repeat=False,
            need=need,
        )

    cases = [case("a1", "A"), case("a2", "A"), case("a3", "A"), case("b1", "B")]
    per = {"a1": {"mrr": 1.0}, "a2": {"mrr": 1.0}, "a3": {"mrr": 1.0}, "b1": {"mrr": 0.0}}
    assert mean(per, cases, "mrr", "need") == pytest.approx(0.75)
    assert mean(per, cases, "mrr", "project") == pytest.approx(0.5)
    # the bootstrap moves a project's cases together: A alone or B alone are the extremes
    low, high = bootstrap({k: v["mrr"] for k, v in per.items()}, cases, "project")
    assert 0.0 <= low <= 0.5 <= high <= 1.0
    low_n, high_n = bootstrap({k: v["mrr"] for k, v in per.items()}, cases, "need")
    assert low_n >= 0.0 and high_n <= 1.0


def test_min_cases_skips_thin_cutoffs() -> None:
    corpus = dated_corpus()
    report = evaluate(corpus, cutoffs=(2012, 2015, 2019), window=2, min_cases=2)
    assert report.cutoffs == {}
    assert report.cases == []


def test_the_chosen_rule_is_the_best_on_the_history_and_never_looks_ahead() -> None:
    from sscmatch.matching.baselines import RULES
    from sscmatch.matching.calibration import chosen_rule, training_cutoffs

    # a history where popularity and repeat partners disagree: Brazil provides the most, but
    # Guatemala keeps going back to Argentina and Fiji to Costa Rica
    extra = [
        ExchangeItem(
            id=f"R{year}-{i}",
            start=date(year, 3, 1),
            providers=(p,),
            recipients=(r,),
            themes=("labour-inspection",),
        )
        for year in range(2004, 2018)
        for i, (p, r) in enumerate([("ARG", "GTM"), ("CRI", "FJI"), ("BRA", "HTI"), ("BRA", "KGZ")])
    ]
    corpus = replace(dated_corpus(), exchanges=[*dated_corpus().exchanges, *extra])
    until = 2019
    chosen = chosen_rule(corpus, until, 2)
    history = training_cutoffs(corpus, until, 2)
    report = evaluate(corpus, cutoffs=history, window=2, only=list(RULES))
    scores = {name: report.mean(name, "mrr", "all", "project") for name in RULES}
    assert len(set(scores.values())) > 1, scores  # the rules disagree: the choice means something
    assert scores[chosen] == max(scores.values()), (chosen, scores)
    assert chosen != "popularity"
    # what starts on or after the cut-off cannot change the choice
    before = replace(corpus, exchanges=[e for e in corpus.exchanges if e.start.year < until])
    assert chosen_rule(before, until, 2) == chosen
    # with no history to judge by, popularity
    assert chosen_rule(corpus, 2005, 2) == "popularity"


def test_the_report_sets_the_full_matcher_beside_the_rule_chosen_before_each_cutoff() -> None:
    report = evaluate(dated_corpus(), cutoffs=(2012, 2015, 2019), window=2)
    assert set(report.chosen) == set(report.cutoffs)
    row = report.row(ev.CHOSEN)
    for case in report.cases:
        rule = report.row(report.chosen[case.cutoff])
        assert row.per_case[case.id] == rule.per_case[case.id]
    for key, m in report.chosen_margins.items():
        assert m.value == pytest.approx(m.full - m.rule)
        assert key in report.margins
    assert "simple rule chosen on the history before each cut-off" in markdown(report)


# ----------------------------------------------------------------------------- the ceiling
def _proposal(provider: str, *, addresses: bool, basis: str = "capacity", **factors: float):
    components = {k: factors.get(k, 0.5) for k in ev.FACTORS}
    return ev.Proposal(
        need_id="N",
        recipient="GTM",
        rank=0,
        provider=provider,
        capacity_id=None if basis != "capacity" else f"C-{provider}",
        institution=None,
        score=0.0,
        components=components,
        contributions=components,
        reasons=(),
        basis=basis,
        addresses=addresses,
    )


def test_topical_fit_first_binds_only_where_the_other_is_better_only_in_context() -> None:
    on = _proposal("ARG", addresses=True)
    assert ev.on_topic_over(on, _proposal("CRI", addresses=False, region=1.0, language=1.0))
    assert ev.on_topic_over(on, _proposal("CHN", addresses=True, basis="experience"))
    assert not ev.on_topic_over(on, _proposal("BRA", addresses=False, experience=0.9))
    assert not ev.on_topic_over(on, _proposal("COL", addresses=False, text=0.6))
    assert not ev.on_topic_over(on, _proposal("PER", addresses=True))  # both address it
    assert not ev.on_topic_over(_proposal("CRI", addresses=False), on)


def test_the_ceiling_puts_the_real_provider_just_below_what_must_stay_above_it() -> None:
    ranked = [
        _proposal("ARG", addresses=True, experience=0.9),  # above: better only in... nothing
        _proposal("MEX", addresses=True, experience=0.1),  # not above: worse experience
        _proposal("BRA", addresses=False, experience=0.2, region=1.0, language=1.0),
        _proposal("CHL", addresses=True, experience=0.3),  # above
        _proposal("URY", addresses=False),
    ]
    need = small_corpus().needs[0]
    case = Case(
        id="2012:E:GTM",
        cutoff=2012,
        exchange="E",
        recipient="GTM",
        providers=frozenset({"BRA"}),
        repeat=False,
        need=replace(need, id="N"),
    )

    class Prepared:
        ix = type("Ix", (), {"codes": ["ARG", "MEX", "BRA", "CHL", "URY"]})()

        def rank(self, *_a: object, **_k: object) -> list[ev.Proposal]:
            return ranked

    snap = type(
        "Snap",
        (),
        {
            "cases": [case],
            "prepared": Prepared(),
            "pool": lambda self, c: ["ARG", "BRA", "CHL", "MEX"],
        },
    )()
    got = ev.ceiling_method()(snap)  # type: ignore[arg-type]
    assert got[case.id] == (("ARG", "CHL"), ("BRA",), ("MEX",))  # URY is not in the pool
    assert reciprocal_rank(got[case.id], {"BRA"}) == pytest.approx(1 / 3)


def test_the_ceiling_is_never_below_the_full_matcher() -> None:
    """The full matcher keeps topical fit first, so the oracle can only place its real provider
    as high or higher; and the report names the windows the ceiling puts out of reach."""
    report = evaluate(dated_corpus(), cutoffs=(2012, 2015, 2019), window=2)
    full, top = report.row(ev.FULL), report.row(ev.CEILING)
    for case in report.cases:
        assert top.per_case[case.id]["mrr"] >= full.per_case[case.id]["mrr"] - 1e-12
    text = markdown(report)
    assert "Out of reach of any ranking" in text or "above the best simple rule at every" in text
