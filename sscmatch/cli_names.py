"""The matcher's reasons as the command line writes them: English sentences with names.

The engine's reasons carry codes (``MEX``, ``013``, ``es``); a reviewer reading the command
line's output, or a script reading ``sscmatch match --json`` (whose ``reasons`` are sentences,
``../shared/spec/interfaces.md``), should read "Same region: Central America" and "Shares
Spanish", as the pages say it in English. Names come from the vocabulary (countries, themes,
languages) and CLDR (UN M49 regions), as the web's ``WebNames`` takes them, without a request.
"""

from __future__ import annotations

import babel

from sscmatch.matching.reasons import CodeNames
from sscmatch.vocab import Vocabulary, load_vocabulary

ENGLISH = babel.Locale.parse("en")


class EnglishNames(CodeNames):
    """``matching.reasons.Names`` in English, from the vocabulary; a code it does not know is
    shown as it is (never dropped)."""

    def __init__(self, vocabulary: Vocabulary | None = None) -> None:
        self.vocabulary = vocabulary or load_vocabulary()

    def country(self, code: str) -> str:
        found = self.vocabulary.countries.get(code)
        return found.name("en") if found else code

    def theme(self, theme_id: str) -> str:
        found = self.vocabulary.themes.get(theme_id)
        return found.label("en") if found else super().theme(theme_id)

    def language(self, code: str) -> str:
        found = self.vocabulary.languages.get(code)
        return found.label("en") if found else str(ENGLISH.languages.get(code) or code)

    def region(self, code: str) -> str:
        return str(ENGLISH.territories.get(code) or code)
