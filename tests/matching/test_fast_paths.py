"""The fast engine's shortcuts against their plain definitions: exact rounding, term finding,
ranking in blocks of needs, and the engine staying free of files."""

from __future__ import annotations

import ast
import random
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from sscmatch.matching import FACTORS, Weights, prepare
from sscmatch.matching import engine as E
from sscmatch.matching import factors as F
from sscmatch.matching.model import ThemeInfo
from sscmatch.matching.reference import RANK_DIGITS, ReferenceScorer
from sscmatch.matching.synth import SynthSize, generate
from tests.matching.helpers import THEMES

ENGINE = Path(E.__file__).resolve().parent


def test_round_keys_is_pythons_round() -> None:
    rng = random.Random(7)
    values = [rng.random() for _ in range(20_000)]
    values += [rng.uniform(0, 3) * 10.0 ** -rng.randint(0, 14) for _ in range(5_000)]
    # values next to a half at the 12th digit, where the product v·10^12 rounds either way
    for _ in range(5_000):
        m = rng.randint(0, 10**12)
        half = (m + 0.5) / 10**12
        values += [half, float(np.nextafter(half, 0.0)), float(np.nextafter(half, 1.0))]
    values += [0.0, 1.0, 0.5, 1e-13, 123456.7890123456785, 2.0**60, float("inf")]
    x = np.array(values, dtype=np.float64)
    want = [round(v, RANK_DIGITS) for v in values]
    assert E._round_keys(x).tolist() == want


def _find_plain(index: F.TermIndex, words: list[str]) -> set[str]:
    """The definition: a term is found where its words follow one another in ``words``."""
    found: set[str] = set()
    for i, w in enumerate(words):
        for term, theme_id in index._by_first.get(w, ()):
            if tuple(words[i : i + len(term)]) == term:
                found.add(theme_id)
    return found


def test_term_index_finds_whole_word_sequences_only() -> None:
    themes = {
        **THEMES,
        "cash": ThemeInfo(id="cash", label="Cash", terms=("cash", "cash plus")),
    }
    index = F.TermIndex(themes)
    cases = [
        "conditional cash transfers for families",
        "transfers conditional cash",  # the phrase out of order: only "cash"
        "conditional cashtransfers",
        "CCT y protección social",
        "cash plus conditional cash",
        "",
        "labour inspection inspection labour",
    ]
    for text in cases:
        words = F.normalise(text).split()
        assert index.find(words) == _find_plain(index, words), text
    assert "conditional-cash-transfers" in index.find(F.normalise(cases[0]).split())
    assert "conditional-cash-transfers" not in index.find(F.normalise(cases[1]).split())
    key = F.text_key("Conditional cash", "transfers for the poor", index)
    assert "t_conditional_cash_transfers" not in key.split()  # title and text apart
    assert key == "cash conditional poor t_cash transfers"


def _rows(props: list) -> list:  # type: ignore[type-arg]
    return [
        (p.need_id, p.rank, p.provider, p.capacity_id, p.score, p.reasons, p.damping) for p in props
    ]


@pytest.mark.parametrize("cells", [1, 37, 10**9])
def test_blocks_of_any_size_rank_the_same(cells: int, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = generate(SynthSize(countries=20, capacities=150, needs=40, exchanges=300, seed=9))
    want = _rows(prepare(corpus).rank(Weights(), top_k=3))
    monkeypatch.setattr(E, "BLOCK_CELLS", cells)
    got = prepare(corpus).rank(Weights(), top_k=3)
    assert _rows(got) == want
    # one need at a time, after the full ranking (the winners and their texts are reused)
    prepared = prepare(corpus)
    prepared.rank(Weights(), top_k=3)
    one = [
        p
        for nid in sorted({p.need_id for p in got})
        for p in prepared.rank(Weights(), need_ids=[nid], top_k=3)
    ]
    assert _rows(one) == want


@pytest.mark.parametrize("extra", [0, 1, 50])
def test_windows_vetoes_and_round_one_width_keep_the_reference_ranking(
    extra: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(E, "ROUND1_EXTRA", extra)
    corpus = generate(SynthSize(countries=18, capacities=140, needs=35, exchanges=400, seed=11))
    rng = random.Random(extra)
    caps = list(corpus.capacities)
    for i in rng.sample(range(len(caps)), 40):  # many windows, some disjoint from the needs'
        start = date(2024 + rng.randint(0, 3), rng.randint(1, 12), 1)
        caps[i] = replace(caps[i], available_from=start, available_to=date(start.year + 1, 6, 1))
    needs = list(corpus.needs)
    vetoes = set(corpus.vetoes)
    for need in rng.sample(needs, 8):  # pair vetoes of (capacity, need)
        for cap in rng.sample(caps, 15):
            vetoes.add((cap.id, need.id))
    corpus = replace(corpus, capacities=caps, vetoes=frozenset(vetoes))
    for weights in (Weights(), Weights(hub_damping=2.0, theme_text_share=0.7)):
        fast = prepare(corpus).rank(weights, top_k=4)
        slow = ReferenceScorer(corpus, weights).rank(top_k=4)
        assert [(p.need_id, p.rank, p.provider, p.capacity_id) for p in fast] == [
            r[:4] for r in slow
        ]
        assert [p.score for p in fast] == pytest.approx([r[4] for r in slow], abs=1e-9)


def test_components_of_many_pairs_equal_one_at_a_time() -> None:
    corpus = generate(SynthSize(countries=15, capacities=80, needs=20, exchanges=200, seed=2))
    prepared = prepare(corpus)
    weights = Weights(theme_text_share=0.4, interpretation=0.1)
    props = prepared.rank(weights, top_k=3)
    st = prepared.scoring(weights)
    for p in props:
        n, c = prepared.need_pos[p.need_id], prepared.cap_pos[p.capacity_id]
        text = float(prepared._texts(n, np.array([c], dtype=np.int64))[0])
        one = prepared.components(st, n, c, text)
        assert [one[k] for k in FACTORS] == [p.components[k] for k in FACTORS]


def test_the_engine_touches_no_files() -> None:
    banned_modules = {"csv", "io", "os", "pathlib", "shutil", "tempfile", "glob"}
    for path in sorted(ENGINE.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                names = {(node.module or "").split(".")[0]}
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id != "open", f"{path.name} opens a file"
                continue
            else:
                continue
            assert not names & banned_modules, f"{path.name} imports {names & banned_modules}"
