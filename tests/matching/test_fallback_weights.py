"""A fallback offer (a country's record, no registered offer) weighs its evidence alike."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sscmatch.matching import FACTORS, Weights
from sscmatch.matching import factors as F
from sscmatch.matching.model import CONTEXT_FACTORS
from sscmatch.matching.scoring import SHARED, fallback_weights, offer_weights

positive = st.floats(0.01, 10)
weights_st = st.builds(Weights, **{k: positive for k in FACTORS})


def raw(weights: dict[str, float]) -> dict[str, float]:
    """Weights on the evidence itself: a fallback's text is shared at 0.4."""
    return {k: v * (F.FALLBACK_SHARE if k in SHARED else 1.0) for k, v in weights.items()}


def test_with_the_defaults_topic_leads_and_the_rest_of_a_record_counts_one_unit() -> None:
    got = raw(dict(fallback_weights(Weights())))
    assert got["topic"] == Weights().topic
    for k in ("text", "experience", *CONTEXT_FACTORS):
        assert got[k] == pytest.approx(1.0), k
    for k in ("maturity", "follow_through"):
        assert got[k] == Weights().factor(k)


@settings(max_examples=200, deadline=None)
@given(weights=weights_st)
def test_no_fallback_weight_is_above_the_registered_offers_weight(weights: Weights) -> None:
    """So the topic guarantee holds against fallbacks: they gain nothing a capacity would not."""
    on, fb = offer_weights(weights), fallback_weights(weights)
    assert all(0.0 <= fb[k] <= on[k] for k in FACTORS)


@settings(max_examples=100, deadline=None)
@given(weights=weights_st, scale=st.floats(0.1, 10))
def test_fallback_weights_scale_with_the_weights(weights: Weights, scale: float) -> None:
    """Scores divide by Σw, so scaling every weight must not change a ranking."""
    scaled = dataclasses.replace(weights, **{k: weights.factor(k) * scale for k in FACTORS})
    fb, fb_scaled = fallback_weights(weights), fallback_weights(scaled)
    assert all(fb_scaled[k] == pytest.approx(fb[k] * scale) for k in FACTORS)


def test_without_context_weights_the_unit_is_the_mean_weight() -> None:
    w = Weights(relationship=0.0, region=0.0, language=0.0)
    fb = fallback_weights(w)
    assert fb["experience"] == pytest.approx(w.total / len(FACTORS))
    assert all(fb[k] == 0.0 for k in CONTEXT_FACTORS)
