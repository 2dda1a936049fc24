"""Hand-worked cases for each factor's building blocks."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date

import pytest

from sscmatch.matching import factors as F
from tests.matching.helpers import COUNTRIES, THEMES


def test_taxonomy_similarity_levels() -> None:
    tx = F.Taxonomy.of(THEMES)
    assert tx.similarity("labour-inspection", "labour-inspection") == 1.0
    assert tx.similarity("social-protection", "conditional-cash-transfers") == 0.7
    assert tx.similarity("conditional-cash-transfers", "social-protection") == 0.7
    assert tx.similarity("conditional-cash-transfers", "social-assistance") == 0.4
    assert tx.similarity("conditional-cash-transfers", "labour-inspection") == 0.0
    assert tx.similarity("unknown-theme", "unknown-theme") == 1.0
    assert tx.similarity("unknown-theme", "labour-inspection") == 0.0


def test_taxonomy_cousins_in_a_deeper_tree() -> None:
    tx = F.Taxonomy({"r": None, "a": "r", "b": "r", "a1": "a", "b1": "b"})
    assert tx.similarity("a1", "b1") == F.COUSIN
    assert tx.similarity("r", "a1") == F.PARENT_CHILD
    assert tx.root("a1") == "r"


def test_taxonomy_score_is_mean_over_need_themes_of_best_match() -> None:
    tx = F.Taxonomy.of(THEMES)
    need = ("conditional-cash-transfers", "labour-inspection")
    assert F.taxonomy_score(need, ("conditional-cash-transfers",), tx) == pytest.approx(0.5)
    assert F.taxonomy_score(need, ("social-assistance", "labour-inspection"), tx) == (
        pytest.approx((0.4 + 1.0) / 2)
    )
    assert F.taxonomy_score((), ("labour-inspection",), tx) == 0.0


def test_language_score_shared_intelligible_interpretation_unknown() -> None:
    intel = {("es", "pt"): 0.7}
    assert F.language_score(("es",), ("es", "en"), intel, 0.2) == 1.0
    assert F.language_score(("pt",), ("es",), intel, 0.2) == 0.7  # looked up both ways
    assert F.language_score(("ru",), ("es",), intel, 0.2) == 0.2
    assert F.language_score((), ("es",), intel, 0.2) == F.LANGUAGE_UNKNOWN
    assert F.language_relation(("es",), ("es",), intel, 0.2) == (
        "language.shared",
        {"languages": ["es"]},
    )
    assert F.language_relation(("pt",), ("es",), intel, 0.2)[0] == "language.intelligible"
    assert F.language_relation(("ru",), ("en",), intel, 0.2) == (
        "language.interpretation",
        {"need_language": "ru", "offer_language": "en"},
    )
    assert F.language_relation((), ("en",), intel, 0.2) == ("language.unknown", {})


def test_region_levels_and_reasons() -> None:
    c = COUNTRIES
    assert F.region_relation(c["GTM"], c["CRI"]) == (
        1.0,
        "region.same",
        {"region": "Central America"},
    )
    coded = replace(c["GTM"], region_codes=("019", "419", "013"))
    assert F.region_relation(coded, c["CRI"])[2] == {"region": "013"}  # M49 code when known
    assert F.region_relation(c["GTM"], c["BRA"])[:2] == (0.85, "region.same")
    assert F.region_relation(c["HTI"], c["FJI"]) == (
        0.4,
        "region.grouping",
        {"groupings": ["SIDS"]},
    )
    assert F.region_score(c["KGZ"], c["BRA"]) == F.OTHER_REGION
    assert F.region_score(None, c["BRA"]) == F.OTHER_REGION


def test_topic_levels_make_a_gap_between_addressing_and_not() -> None:
    assert F.topic_level(F.SAME_THEME) == 1.0
    assert F.topic_level(F.PARENT_CHILD) == F.ON_TOPIC_MIN == 0.9
    assert F.topic_level(F.SIBLING) == 0.3 and F.topic_level(F.COUSIN) == 0.15
    assert F.topic_level(0.0) == 0.0
    # the best offer that does not address a need: a sibling capacity or a fallback offer
    assert max(0.3, F.FALLBACK_SHARE) == F.OFF_TOPIC_MAX
    assert pytest.approx(0.5) == F.OFF_TOPIC_GAP


def test_subject_themes_leave_out_ways_of_cooperating() -> None:
    assert F.subject_themes(("peer-learning", "labour-inspection"), THEMES) == (
        "labour-inspection",
    )
    # a need only about cooperation keeps its themes
    assert F.subject_themes(("peer-learning",), THEMES) == ("peer-learning",)
    tx = F.Taxonomy.of(THEMES)
    assert F.best_similarity(("labour-inspection",), ("enforcement", "agriculture"), tx) == 0.7


def test_experience_and_text_scales() -> None:
    assert F.experience_score(0.0, 10.0) == 0.0
    assert F.experience_score(10.0, 10.0) == 1.0
    assert F.experience_score(20.0, 10.0) == 1.0  # capped
    assert F.experience_score(1.0, 10.0) == pytest.approx(math.log(2) / math.log(11))
    assert F.experience_score(3.0, 0.0) == 0.0
    assert F.text_relevance(0.1, 0.1, 0.6) == 0.0
    assert F.text_relevance(0.35, 0.1, 0.6) == pytest.approx(0.5)
    assert F.text_relevance(0.9, 0.1, 0.6) == 1.0


def test_maturity_follow_through_saturate_decay() -> None:
    assert [F.maturity_score(m) for m in ("pilot", "scaled", "institutionalised", None)] == [
        0.25,
        0.75,
        1.0,
        0.5,
    ]
    assert F.follow_through_score(0, 0) == 0.5  # neutral prior without evidence
    assert F.follow_through_score(2, 2) == pytest.approx(3 / 4)
    assert F.follow_through_score(0, 2) == pytest.approx(1 / 4)
    assert F.saturate(1.0) == 0.5 and F.saturate(2.0) == 0.75 and F.saturate(0.0) == 0.0
    ref = date(2020, 1, 1)
    assert F.decay(ref, ref, 5.0) == 1.0
    assert F.decay(date(2015, 1, 1), ref, 5.0) == pytest.approx(0.5, abs=1e-3)


def test_windows_overlap() -> None:
    d = date
    assert F.windows_overlap(None, None, d(2020, 1, 1), d(2020, 2, 1))
    assert F.windows_overlap(d(2020, 1, 1), d(2020, 12, 31), d(2020, 6, 1), None)
    assert not F.windows_overlap(d(2021, 1, 1), None, None, d(2020, 12, 31))
    assert not F.windows_overlap(None, d(2019, 1, 1), d(2020, 1, 1), None)
