"""Every reason the matcher gives on the knowledge base, fallback ones included, reads in the
reader's language: a code the renderer knows, its template translated, names instead of ids, no
English template text on a Spanish, Portuguese or French page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlmodel import Session

from sscmatch.bundle.load import import_bundle
from sscmatch.matching import Reason
from sscmatch.matching.reasons import TEMPLATES, render
from sscmatch.vocab import load_vocabulary
from sscmatch.web import reasons as web_reasons
from sscmatch.workflow import matchruns
from tests.web.test_fallback_proposals import add_fallback_case

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def ranked(session: Session) -> list[Reason]:
    import_bundle(session, ROOT / "data", load_vocabulary())
    add_fallback_case(session)
    session.commit()
    proposals = matchruns.compute(session, load_vocabulary(), top_k=5)
    found: dict[tuple[str, str], Reason] = {}
    for p in proposals:
        for r in p.reasons:
            found.setdefault((r.code, repr(sorted(r.params.items()))), r)
    return list(found.values())


def english_pieces(code: str) -> Iterator[str]:
    """The fixed words of a code's English templates (between placeholders), 12+ characters."""
    message = TEMPLATES[code].message
    for text in message if isinstance(message, tuple) else (message,):
        for piece in re.split(r"%\(\w+\)[sd]|%%", text):
            if len(piece.strip()) >= 12:
                yield piece.strip()


def test_every_reason_in_every_language(app: Flask, ranked: list[Reason]) -> None:
    vocab = load_vocabulary()
    codes = {r.code for r in ranked}
    assert "fallback.no_capacity" in codes and any(c.startswith("topic.fallback") for c in codes)
    assert codes <= set(TEMPLATES), sorted(codes - set(TEMPLATES))
    country_codes = set(vocab.countries)
    theme_ids = {t for t in vocab.themes if "-" in t}
    problems = []
    for lang in ("es", "pt", "fr"):
        with app.test_request_context(headers={"Accept-Language": lang}):
            for reason in ranked:
                text = web_reasons.text_of(reason.to_dict())
                english = render(reason)
                where = f"{lang} {reason.code} {dict(reason.params)}: {text!r}"
                if "%(" in text or text == reason.code:
                    problems.append(f"not rendered: {where}")
                for piece in english_pieces(reason.code):
                    if piece in text:
                        problems.append(f"English {piece!r}: {where}")
                words = set(re.findall(r"[\w-]+", text))
                if words & country_codes:
                    problems.append(f"country code {sorted(words & country_codes)}: {where}")
                if words & theme_ids:
                    problems.append(f"theme id {sorted(words & theme_ids)}: {where}")
                if text == english:
                    problems.append(f"same as English: {where}")
    assert problems == [], "\n".join(problems[:40])
