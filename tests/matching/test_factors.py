"""Hand-worked cases for each factor's building blocks."""

from __future__ import annotations

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
    names: dict[str, str] = {}
    assert F.language_reason(("es",), ("es",), intel, 0.2, names) == "shares Spanish"
    assert "mutually intelligible" in F.language_reason(("pt",), ("es",), intel, 0.2, names)
    assert F.language_reason(("ru",), ("en",), intel, 0.2, names) == (
        "needs interpretation (English to Russian)"
    )


def test_region_levels_and_reasons() -> None:
    c = COUNTRIES
    assert F.region_score(c["GTM"], c["CRI"]) == (1.0, "same region (Central America)")
    assert F.region_score(c["GTM"], c["BRA"]) == (
        0.85,
        "same sub-region (Latin America and the Caribbean)",
    )
    assert F.region_score(c["HTI"], c["FJI"]) == (0.4, "both SIDS")
    assert F.region_score(c["KGZ"], c["BRA"])[0] == F.OTHER_REGION
    assert F.region_score(None, c["BRA"])[0] == F.OTHER_REGION


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


def test_text_similarity_crosses_languages_through_theme_terms() -> None:
    terms = F.TermIndex(THEMES)
    es = F.text_key("Transferencias condicionadas", "", terms)
    pt = F.text_key("Transferências condicionadas", "", terms)
    en = F.text_key("Conditional cash transfers", "", terms)
    assert "t_conditional_cash_transfers" in es.split()
    assert "t_conditional_cash_transfers" in en.split()
    other = F.text_key("Labour inspection", "", terms)
    assert F.text_similarity(es, pt) == 1.0  # accents do not matter
    assert F.text_similarity(es, en) > F.text_similarity(es, other)
    assert F.text_similarity("", en) == 0.0
