"""The engine on hand-built corpora: the score's structure (topical fit first), fallback offers,
hard constraints, time travel, damping, reasons, and the fast engine against the reference."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from sscmatch.matching import (
    FACTORS,
    CapacityItem,
    ExchangeItem,
    NeedItem,
    Weights,
    explain_exclusion,
    prepare,
    rank,
)
from sscmatch.matching import factors as F
from sscmatch.matching.reference import ReferenceScorer
from sscmatch.matching.synth import SynthSize, generate
from tests.matching.helpers import small_corpus


def by_need(props: list) -> dict[str, list]:  # type: ignore[type-arg]
    out: dict[str, list] = {}  # type: ignore[type-arg]
    for p in props:
        out.setdefault(p.need_id, []).append(p)
    return out


def codes(p) -> list[str]:  # type: ignore[no-untyped-def]
    return [r.code for r in p.reasons]


def test_guatemala_ranking_with_reason_codes() -> None:
    gtm = by_need(rank(small_corpus()))["N-GTM-1"]
    assert [p.provider for p in gtm][:2] == ["BRA", "CRI"]
    bra, cri = gtm[0], gtm[1]
    assert bra.basis == "capacity" and bra.capacity_id == "C-BRA-1" and bra.addresses
    assert bra.components["topic"] == 1.0  # the need's own theme
    assert cri.components["maturity"] == 0.75
    assert cri.components["follow_through"] == pytest.approx(3 / 5)
    assert bra.components["language"] == 0.7  # Portuguese for a Spanish-speaking need
    assert cri.components["region"] == 1.0  # Central America
    for p in gtm:
        assert sum(p.contributions.values()) == pytest.approx(p.score)
        assert 0.0 <= p.score <= 1.0
    assert "topic.same" in codes(bra)
    helped = next(r for r in cri.reasons if r.code.startswith("relationship."))
    assert helped.code == "relationship.helped"
    assert helped.params == {
        "provider": "CRI",
        "recipient": "GTM",
        "partners": [],
        "partner_count": 0,
        "count": 1,
    }
    follow = next(r for r in cri.reasons if r.code.startswith("follow_through"))
    assert follow.params == {"country": "CRI", "fulfilled": 2, "count": 3}
    region = next(r for r in cri.reasons if r.code.startswith("region"))
    assert (region.code, region.params) == ("region.same", {"region": "Central America"})
    d = bra.to_dict()
    assert d["basis"] == "capacity" and d["addresses"] is True
    assert d["reasons"][0]["code"] in {r.code for r in bra.reasons}
    # the factors' reasons come by decreasing contribution
    shown = [r.code.split(".")[0] for r in bra.reasons]
    assert shown == sorted(shown, key=lambda k: (-bra.contributions[k], FACTORS.index(k)))


def coffee_corpus(**weights: float):  # type: ignore[no-untyped-def]
    """Guatemala needs labour inspection on coffee farms. Costa Rica (next door, Spanish, with
    ties to Guatemala) offers work on commercial sexual exploitation; Argentina (further away,
    no ties) offers labour inspection training."""
    base = small_corpus()
    caps = [
        CapacityItem(
            id="C-CRI-CSE",
            country="CRI",
            title="Prosecution of commercial sexual exploitation of children",
            themes=("commercial-sexual-exploitation",),
            maturity="institutionalised",
        ),
        CapacityItem(
            id="C-ARG-LI",
            country="ARG",
            title="Labour inspection training for other countries",
            themes=("labour-inspection",),
            maturity="pilot",
        ),
    ]
    needs = [
        NeedItem(
            id="N-COFFEE",
            country="GTM",
            title="Inspección del trabajo en fincas de café",
            themes=("labour-inspection", "agriculture"),
        )
    ]
    return replace(base, capacities=caps, needs=needs)


def test_an_offer_that_addresses_the_need_outranks_a_closer_better_connected_one() -> None:
    ranked = rank(coffee_corpus(), need_ids=["N-COFFEE"])
    first = {p.provider: p for p in ranked}
    assert first["ARG"].addresses and not first["CRI"].addresses
    assert first["ARG"].rank < first["CRI"].rank
    cri = first["CRI"]
    assert cri.components["region"] > first["ARG"].components["region"]
    assert cri.components["relationship"] > first["ARG"].components["relationship"]
    assert "topic.sibling" in codes(cri)  # said plainly: it does not address the need


def test_guarantee_needs_topic_to_outweigh_the_context_factors() -> None:
    assert Weights().topic_guarantee(F.OFF_TOPIC_GAP)
    weak = Weights(topic=1.0)
    assert not weak.topic_guarantee(F.OFF_TOPIC_GAP)


def test_fallback_to_related_experience_when_no_capacity_addresses_the_need() -> None:
    corpus = small_corpus(
        needs=[
            NeedItem(
                id="N-HTI-LI", country="HTI", title="Inspection", themes=("labour-inspection",)
            )
        ],
        capacities=[c for c in small_corpus().capacities if c.id != "C-CRI-2"],
        exchanges=[
            *small_corpus().exchanges,
            ExchangeItem(
                id="E9",
                start=date(2019, 1, 1),
                providers=("BRA",),
                recipients=("CRI",),
                themes=("labour-inspection",),
            ),
        ],
    )
    ranked = rank(corpus, need_ids=["N-HTI-LI"])
    bra = next(p for p in ranked if p.provider == "BRA")
    assert bra.basis == "experience" and bra.capacity_id is None
    assert bra.reasons[0].code == "fallback.no_capacity"
    assert "topic.fallback_same" in codes(bra)
    topic = next(r for r in bra.reasons if r.code == "topic.fallback_same")
    assert topic.params["count"] == 1 and topic.params["latest"] == 2019
    assert bra.components["topic"] == pytest.approx(F.FALLBACK_SHARE)
    assert bra.rank == 1  # the only related experience; no registered offer fits


def test_experience_and_its_reason_agree() -> None:
    ranked = rank(small_corpus(), as_of=date(2009, 1, 1))
    for p in ranked:
        exp = next(r for r in p.reasons if r.code.startswith("experience"))
        if exp.code == "experience.none":
            assert p.components["experience"] == 0.0
        else:
            assert p.components["experience"] > 0.0


def test_a_large_meeting_is_not_a_bilateral_tie() -> None:
    members = ("CRI", "GTM", "BRA", "HTI", "FJI", "KGZ", "ARG")
    meeting = ExchangeItem(id="M", start=date(2020, 1, 1), participants=members, themes=())
    visit = ExchangeItem(
        id="V", start=date(2020, 1, 1), providers=("CRI",), recipients=("GTM",), themes=()
    )
    need = NeedItem(id="N", country="GTM", title="x", themes=("labour-inspection",))
    cap = CapacityItem(id="C", country="CRI", title="y", themes=("labour-inspection",))

    def relationship(exchanges: list[ExchangeItem]) -> float:
        corpus = small_corpus(exchanges=exchanges, capacities=[cap], needs=[need], commitments=[])
        got = prepare(corpus).score_pair("N", "C")
        assert got is not None
        return got[1]["relationship"]

    assert relationship([visit]) > 3 * relationship([meeting])


def test_hard_constraints_and_their_reason_codes() -> None:
    corpus = small_corpus(vetoes=frozenset({("BRA", "HTI"), ("C-FJI-1", "N-GTM-1")}))
    props = by_need(rank(corpus))
    assert "N-KGZ-1" not in props  # closed need
    assert all(p.provider != p.recipient for ps in props.values() for p in ps)
    assert "BRA" not in [p.provider for p in props["N-HTI-1"]]
    assert all(p.capacity_id != "C-FJI-1" for p in props["N-GTM-1"])

    def why(need: str, cap: str) -> str | None:
        got = explain_exclusion(corpus, need, cap)
        return got.code if got else None

    assert why("N-GTM-1", "C-GTM-1") == "excluded.capacity_not_published"
    assert why("N-GTM-1", "C-CRI-2") == "excluded.family"
    assert why("N-GTM-1", "C-FJI-1") == "excluded.veto_offer"
    assert why("N-GTM-1", "C-CRI-1") is None
    assert why("N-HTI-1", "C-BRA-1") == "excluded.veto_pair"
    assert why("N-KGZ-1", "C-CRI-2") == "excluded.need_not_open"


def test_oecd_dac_members_are_not_proposed_as_providers() -> None:
    donor = CapacityItem(
        id="C-ESP", country="ESP", title="Cash transfers", themes=("conditional-cash-transfers",)
    )
    corpus = small_corpus(capacities=[*small_corpus().capacities, donor])
    assert "ESP" not in {p.provider for p in rank(corpus)}
    why = explain_exclusion(corpus, "N-GTM-1", "C-ESP")
    assert why is not None and why.code == "excluded.donor"
    # before it joined the DAC (1991) it could provide
    before = replace(corpus, exchanges=[])
    assert explain_exclusion(before, "N-GTM-1", "C-ESP", as_of=date(1990, 1, 1)) is None


def test_availability_window_excludes_a_capacity() -> None:
    caps = list(small_corpus().capacities)
    cri = next(c for c in caps if c.id == "C-CRI-1")
    late = replace(cri, available_from=date(2030, 1, 1))
    needs = [
        NeedItem(
            id="N-GTM-1",
            country="GTM",
            title="CCT",
            themes=("conditional-cash-transfers",),
            desired_from=date(2025, 1, 1),
            desired_to=date(2026, 1, 1),
        )
    ]
    corpus = small_corpus(capacities=[late if c.id == cri.id else c for c in caps], needs=needs)
    assert all(p.capacity_id != "C-CRI-1" for p in rank(corpus))
    why = explain_exclusion(corpus, "N-GTM-1", "C-CRI-1")
    assert why is not None and why.code == "excluded.window"


def test_as_of_hides_later_exchanges_and_records() -> None:
    corpus = small_corpus()
    later = by_need(rank(corpus))
    early = by_need(rank(corpus, as_of=date(2010, 1, 1)))
    bra_now = next(p for p in later["N-GTM-1"] if p.provider == "BRA")
    bra_then = next(p for p in early["N-GTM-1"] if p.provider == "BRA")
    assert bra_now.components["experience"] > 0
    assert bra_then.components["experience"] == 0  # E3, E5 are in the future in 2010
    assert bra_then.components["relationship"] == 0
    dated = small_corpus(
        needs=[
            NeedItem(
                id="N-NEW",
                country="GTM",
                title="x",
                themes=("labour-inspection",),
                created=date(2021, 1, 1),
            ),
        ]
    )
    assert rank(dated, as_of=date(2021, 1, 1)) == []
    assert rank(dated, as_of=date(2021, 1, 2)) != []


def test_hub_damping_lets_a_close_competitor_through_and_zero_turns_it_off() -> None:
    needs = [
        NeedItem(
            id=f"N{i}",
            country="GTM",
            title="Transferencias condicionadas",
            themes=("conditional-cash-transfers",),
        )
        for i in range(4)
    ]
    corpus = small_corpus(needs=needs)
    off = rank(corpus, Weights(hub_damping=0), top_k=2)
    assert {p.provider for p in off if p.rank == 1} == {"BRA"}
    assert all(p.damping == 1.0 for p in off)
    on = rank(corpus, Weights(hub_damping=50), top_k=3)
    assert {p.provider for p in on if p.rank == 1} == {"CRI"}
    bra = next(p for p in on if p.provider == "BRA")
    assert bra.damping < 1 and "damped" in codes(bra)
    assert sum(bra.contributions.values()) == pytest.approx(bra.score)


def test_one_proposal_per_provider_and_deterministic_order() -> None:
    corpus = generate(SynthSize(countries=20, capacities=120, needs=30, exchanges=300, seed=5))
    props = rank(corpus, top_k=4)
    seen = set()
    for p in props:
        assert (p.need_id, p.provider) not in seen
        seen.add((p.need_id, p.provider))
    assert rank(corpus, top_k=4) == props
    single = rank(prepare(corpus), need_ids=[props[0].need_id], top_k=4)
    assert single == [p for p in props if p.need_id == props[0].need_id]


@pytest.mark.parametrize(
    ("seed", "as_of", "weights", "top_k"),
    [
        (3, None, Weights(), 5),
        (3, date(2015, 1, 1), Weights(hub_damping=0.5), 5),
        (4, date(2020, 6, 1), Weights(hub_damping=3, text=5), 3),
        (5, None, Weights(region=0, experience=4, interpretation=0.0), 2),
        (6, None, Weights(text=20), 1),
        (7, date(2018, 1, 1), Weights(language=3, region=0.2), 8),
    ],
)
def test_fast_engine_equals_reference(
    seed: int, as_of: date | None, weights: Weights, top_k: int
) -> None:
    corpus = generate(SynthSize(countries=25, capacities=120, needs=30, exchanges=500, seed=seed))
    prepared = prepare(corpus, as_of)
    ref = ReferenceScorer(corpus, weights, as_of)
    fast = prepared.rank(weights, top_k=top_k)
    slow = ref.rank(top_k=top_k)
    assert [(p.need_id, p.rank, p.provider, p.capacity_id) for p in fast] == [r[:4] for r in slow]
    assert [p.score for p in fast] == pytest.approx([r[4] for r in slow], abs=1e-12)
    compared = 0
    for need in corpus.needs[:12]:
        for cap in corpus.capacities:
            got = prepared.score_pair(need.id, cap.id, weights)
            assert (got is None) == (ref.exclusion(need, cap) is not None)
            if got is None:
                continue
            compared += 1
            assert got[0] == pytest.approx(ref.score(need, cap), abs=1e-12)
            want = ref.components(need, cap)
            assert [got[1][k] for k in FACTORS] == pytest.approx([want[k] for k in FACTORS])
    assert compared > 20
