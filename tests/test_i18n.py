"""The interface catalogues are complete, compiled and used: every string marked for translation
has a Spanish, Portuguese and French translation with the same placeholders."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
CATALOGUES = ROOT / "sscmatch" / "translations"
PLACEHOLDER = re.compile(r"%\(\w+\)s|%s")


@pytest.fixture(scope="module")
def marked(tmp_path_factory: pytest.TempPathFactory) -> set[Any]:
    """Every string marked in the code and templates, extracted afresh."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run(
        [str(pybabel), "-q", "extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext",
         "-o", str(pot), "."],
        cwd=ROOT, check=True,
    )
    with pot.open("rb") as handle:
        return {m.id for m in read_po(handle) if m.id}


@pytest.mark.parametrize("lang", ["es", "pt", "fr"])
def test_catalogue_is_complete(marked: set[Any], lang: str) -> None:
    with (CATALOGUES / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    translated = {
        m.id: m.string
        for m in catalogue
        if m.id and m.string and all(_key(m.string)) and not m.fuzzy  # every plural form too
    }
    # Plain ids are strings and plural ids (singular, plural) tuples: sort them as text, so a
    # missing entry is listed rather than the comparison of a str with a tuple failing.
    missing = sorted(marked - set(translated), key=str)
    assert missing == [], f"{lang}: {len(missing)} untranslated (run scripts/i18n update): {missing[:5]}"
    for msgid, text in translated.items():
        assert sorted(PLACEHOLDER.findall(str(msgid))) == sorted(PLACEHOLDER.findall(str(text))), msgid


def _key(value: Any) -> Any:
    """A plural entry's forms come as a list from .mo files and a tuple from .po files."""
    return tuple(value) if isinstance(value, list | tuple) else value


@pytest.mark.parametrize("lang", ["es", "pt", "fr"])
def test_compiled_catalogue_matches_the_source(lang: str) -> None:
    folder = CATALOGUES / lang / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as po, (folder / "messages.mo").open("rb") as mo:
        source = {_key(m.id): _key(m.string) for m in read_po(po) if m.id and m.string}
        compiled = {_key(m.id): _key(m.string) for m in read_mo(mo) if m.id}
    assert compiled == source, f"{lang}: run scripts/i18n compile"


@pytest.mark.parametrize(
    ("lang", "words"),
    [("es", "Iniciar sesión"), ("pt", "Entrar"), ("fr", "Se connecter")],
)
def test_pages_are_served_translated(client: Any, lang: str, words: str) -> None:
    page = client.get("/login", headers={"Accept-Language": lang})
    assert f'<html lang="{lang}">' in page.get_data(as_text=True)
    assert words in page.get_data(as_text=True)
