"""Every reason the engine can give has a sentence, in every interface language, with every
parameter filled in; stored sentences from before reason codes still show."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from pathlib import Path

from babel.messages.pofile import read_po

from sscmatch.matching import ExchangeItem, Reason, Weights, rank
from sscmatch.matching.reasons import TEMPLATES, render
from sscmatch.matching.synth import SynthSize, generate
from tests.matching.helpers import small_corpus

TRANSLATIONS = Path(__file__).resolve().parents[2] / "sscmatch" / "translations"
CODE = re.compile(r"""Reason\(\s*(?:f?"([a-z_.{}]+)")""")


def produced_codes() -> set[str]:
    """Reason codes that engine runs over varied corpora produce."""
    out: set[str] = set()
    corpora = [
        small_corpus(),
        small_corpus(
            exchanges=[
                *small_corpus().exchanges,
                ExchangeItem(
                    id="X",
                    start=date(2019, 1, 1),
                    participants=("ARG", "GTM"),
                    themes=("agriculture",),
                ),
            ]
        ),
        generate(SynthSize(countries=25, capacities=80, needs=30, exchanges=400, seed=2)),
    ]
    for corpus in corpora:
        for w in (Weights(), Weights(hub_damping=5)):
            for p in rank(corpus, w, top_k=len(corpus.countries)):
                out.update(r.code for r in p.reasons)
    return out


def test_every_code_the_engine_gives_has_a_template() -> None:
    codes = produced_codes()
    assert len(codes) > 15
    assert codes <= set(TEMPLATES), codes - set(TEMPLATES)


def test_every_template_renders_with_typical_parameters() -> None:
    params = {
        "country": "BRA",
        "provider": "BRA",
        "recipient": "GTM",
        "need_theme": "labour-inspection",
        "offer_theme": "agriculture",
        "count": 2,
        "latest": 2019,
        "since": 2001,
        "on_theme": 1,
        "percent": 42,
        "partners": ["CRI", "HTI"],
        "partner_count": 2,
        "region": "013",
        "groupings": ["SIDS"],
        "languages": ["es"],
        "need_language": "es",
        "offer_language": "pt",
        "level": "scaled",
        "fulfilled": 1,
        "need": "N-1",
        "capacity": "C-1",
        "status": "draft",
    }
    for code in TEMPLATES:
        text = render(Reason(code, params))
        assert "%(" not in text and text.strip(), code


def test_templates_are_translated_in_every_language() -> None:
    for lang in ("es", "pt", "fr"):
        with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as fh:
            catalog = read_po(fh)
        for code, template in TEMPLATES.items():
            key = template.message if isinstance(template.message, str) else template.message[0]
            entry = catalog.get(key)
            assert entry is not None, f"{lang}: {code} not in the catalogue"
            strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
            assert all(strings), f"{lang}: {code} untranslated"
            # the same placeholders as the English
            want = set(re.findall(r"%\\((\\w+)\\)", key))
            for s in strings:
                assert set(re.findall(r"%\\((\\w+)\\)", s)) <= want | {"num"}, (lang, code, s)


def test_plural_choice_and_names() -> None:
    one = render(
        Reason(
            "relationship.helped",
            {"provider": "BRA", "recipient": "GTM", "count": 1, "partner_count": 0},
        )
    )
    many = render(
        Reason(
            "relationship.helped",
            {"provider": "BRA", "recipient": "GTM", "count": 3, "partner_count": 0},
        )
    )
    assert one.endswith("(1 exchange)") and many.endswith("(3 exchanges)")
    with_partners = render(
        {
            "code": "relationship.none",
            "params": {
                "provider": "BRA",
                "recipient": "GTM",
                "partners": ["CRI"],
                "partner_count": 1,
            },
        }
    )
    assert with_partners == "No past exchanges between BRA and GTM; 1 shared partner: CRI"


def test_legacy_sentences_and_unknown_codes_show_as_they_are() -> None:
    assert render("shares Spanish") == "shares Spanish"
    assert render(Reason("future.code", {})) == "future.code"
    assert replace(Reason("a", {"x": 1})).to_dict() == {"code": "a", "params": {"x": 1}}
