"""``sscmatch match`` as ``../shared/spec/interfaces.md`` states it, for every proposal of the
knowledge base's open needs: the JSON document's shape (rank from 1 within each need, score and
components in [0, 1]) and ``reasons`` as sentences a reviewer can read, with names, not the
engine's codes (``MEX``, ``013``, ``es``); the codes are the extension ``reason_codes``. The
plain output says why a rank leaves the scores' order (a near-tie) beside it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from sscmatch.bundle.load import import_bundle
from sscmatch.vocab import load_vocabulary

ROOT = Path(__file__).resolve().parents[1]
CONTRACT_KEYS = {"need", "recipient", "rank", "provider", "capacity", "score", "components"}


@pytest.fixture
def document(runner: Any, session: Session) -> dict[str, Any]:
    import_bundle(session, ROOT / "data", load_vocabulary())
    session.commit()
    result = runner.invoke(args=["match", "--top", "5", "--json", "--no-save"])
    assert result.exit_code == 0, result.output
    parsed: dict[str, Any] = json.loads(result.output)
    return parsed


def codes_in(proposal: dict[str, Any]) -> set[str]:
    """The codes the engine put in this proposal's reasons that a sentence must name instead."""
    out: set[str] = set()
    for reason in proposal["reason_codes"]:
        params = reason["params"]
        for key in ("country", "provider", "recipient", "region"):
            if isinstance(params.get(key), str):
                out.add(params[key])
        for key in ("languages", "partners"):
            out.update(x for x in params.get(key) or () if isinstance(x, str))
    return out - {""}


def test_every_proposal_keeps_the_documented_shape_and_names_what_it_speaks_of(
    document: dict[str, Any],
) -> None:
    """Before, ``reasons`` were the codes' objects, not sentences, and every sentence the plain
    output printed carried the codes ("Same region: 013", "Shares es", "MEX took part in 7
    exchanges")."""
    proposals = document["proposals"]
    assert len({p["need"] for p in proposals}) > 100  # the knowledge base's open needs
    by_need: dict[str, list[int]] = {}
    for p in proposals:
        assert p.keys() >= CONTRACT_KEYS
        by_need.setdefault(p["need"], []).append(p["rank"])
        assert 0.0 <= p["score"] <= 1.0
        assert all(0.0 <= v <= 1.0 for v in p["components"].values())
        assert p["reasons"] and all(isinstance(r, str) and r.strip() for r in p["reasons"])
        assert [r["code"] for r in p["reason_codes"]] and len(p["reason_codes"]) == len(
            p["reasons"]
        )
    assert all(ranks == list(range(1, len(ranks) + 1)) for ranks in by_need.values())
    raw = []
    for p in proposals:
        for code in codes_in(p):
            pattern = re.compile(rf"(?<![\w-]){re.escape(code)}(?![\w-])")
            raw += [(p["need"], p["provider"], s) for s in p["reasons"] if pattern.search(s)]
    assert not raw, raw[:5]


def test_the_plain_output_says_why_a_rank_leaves_the_scores_order(
    document: dict[str, Any], runner: Any
) -> None:
    tied = [
        p
        for p in document["proposals"]
        if any(r["code"].startswith("near_tie.") for r in p["reason_codes"])
    ]
    assert tied, "the knowledge base has near-ties (README, How a match is scored)"
    need = tied[0]["need"]
    text = runner.invoke(args=["match", "--need", need, "--top", "5", "--no-save"]).output
    sentence = next(
        s for p in tied if p["need"] == need for s in p["reasons"] if "nearly level" in s
    )
    assert sentence in text
