"""A country's name where French or Portuguese would want an article before it: no message puts
``%(country)s`` (or the provider, the recipient) right after a preposition that contracts with
the article ("de Brésil" for "du Brésil", "a Brasil" for "ao Brasil", "pour Brésil", "para Brasil"); the names are plain CLDR
names without an article, so a message puts them in parentheses or after a colon instead. Walks
every message of the French and Portuguese catalogues."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
COUNTRY_PLACEHOLDERS = (
    "country",
    "provider",
    "recipient",
    "own",
    "given",
    "other",
    "a",
    "b",
    "host",
    "visiting",
    "host_country",
    "visiting_country",
    "side_country",
    "awaited_country",
)
"""Every placeholder the messages fill with a country's name (the network's "%(a)s gave to
%(b)s", a tour's host and visitors, an institution's "belongs to %(country)s, not %(other)s"):
the walk once read the first four only, and French messages put "en %(host)s", "à %(b)s"."""
NAMES = r"%\((?:" + "|".join(COUNTRY_PLACEHOLDERS) + r")\)s"
BEFORE = {
    "fr": r"(?:\bde|\bà|\bdu|\bau|\bpour|\ben|\bavec|\bpar|\bsur|\bvers|\bque)\s+$",
    "pt": r"(?:\bde|\ba|\bdo|\bao|\bà|\bpara|\bem|\bcom|\bpor)\s+$",
}


def _messages(lang: str) -> list[str]:
    path = ROOT / "sscmatch" / "translations" / lang / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as f:
        catalogue = read_po(f)
    out: list[str] = []
    for message in catalogue:
        if message.id:
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            out += [s for s in strings if s]
    return out


@pytest.mark.parametrize("lang", sorted(BEFORE))
def test_no_country_name_after_a_preposition_that_wants_an_article(lang: str) -> None:
    messages = _messages(lang)
    assert sum(bool(re.search(NAMES, m)) for m in messages) > 10  # the walk reads them
    bad = [
        m
        for m in messages
        for found in re.finditer(NAMES, m)
        if re.search(BEFORE[lang], m[: found.start()])
    ]
    assert bad == []


def test_the_check_finds_such_a_message() -> None:
    assert re.search(BEFORE["fr"], "les besoins de ") and re.search(BEFORE["pt"], "pede a ")
    assert not re.search(BEFORE["fr"], "Besoins (") and not re.search(BEFORE["pt"], "entre ")
