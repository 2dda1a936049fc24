"""The vocabularies' records: countries, languages, themes, and the outcome of resolving text.

Frozen dataclasses, read from ``data/vocab/*.csv`` by :mod:`sscmatch.vocab.loading` and the
languages' catalogue (:mod:`sscmatch.vocab.languages`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

INTERFACE_LANGUAGES = ("en", "es", "pt", "fr")
"""Languages the service speaks; every theme and country has a name in each."""
NAME_LANGUAGES = ("en", "es", "pt", "fr", "ru")
"""Languages the vocabulary files carry names in (Russian for the Central Asian partners)."""


Status = Literal["exact", "fuzzy", "ambiguous", "unknown"]
Relation = Literal["same", "parent", "child", "sibling", "unrelated"]


@dataclass(frozen=True)
class Country:
    """An ISO 3166-1 country or territory (plus Kosovo, ``XKX``), keyed by alpha-3 code."""

    code: str
    alpha2: str | None
    numeric: str | None
    names: Mapping[str, str] = field(hash=False)
    languages: tuple[str, ...]
    region: str
    region_code: str
    subregion: str
    subregion_code: str
    intermediate_region: str
    intermediate_region_code: str
    groupings: frozenset[str]
    capital: str
    latitude: float | None
    longitude: float | None
    aliases: tuple[str, ...] = ()
    dac_since: int | None = None
    """Year the country joined the OECD Development Assistance Committee (``oecd_dac.csv``):
    from then on it is a funder and partner of triangular cooperation, not a southern provider."""

    def name(self, lang: str = "en") -> str:
        """The country's name in ``lang``, falling back to English."""
        return self.names.get(lang) or self.names["en"]

    @property
    def is_sids(self) -> bool:
        return "SIDS" in self.groupings

    @property
    def is_ldc(self) -> bool:
        return "LDC" in self.groupings

    @property
    def is_lldc(self) -> bool:
        return "LLDC" in self.groupings


@dataclass(frozen=True)
class Language:
    """A language, keyed by its ISO 639-1 code where one exists, else its ISO 639-3 code."""

    code: str
    name: str
    names: Mapping[str, str] = field(default_factory=dict, hash=False)
    alpha3: str = ""
    aliases: tuple[str, ...] = ()

    def label(self, lang: str = "en") -> str:
        """The language's name in ``lang``, falling back to English."""
        return self.names.get(lang) or self.name


@dataclass(frozen=True)
class Theme:
    """A theme of the two-level tree in ``themes.csv``."""

    id: str
    parent: str | None
    labels: Mapping[str, str] = field(hash=False)
    synonyms: tuple[str, ...]
    sdg_targets: tuple[str, ...]
    description: str

    def label(self, lang: str = "en") -> str:
        """The theme's label in ``lang``, falling back to English."""
        return self.labels.get(lang) or self.labels["en"]


@dataclass(frozen=True)
class Resolution:
    """The outcome of resolving free text against a vocabulary.

    ``value`` is the resolved key (alpha-3 code, language code or theme id), set only when
    ``status`` is ``exact`` or ``fuzzy``. ``score`` is 0-100 (100 for exact hits).
    ``matched`` is the vocabulary string that matched best. ``candidates`` are
    ``(key, score)`` pairs, best first: the competing entries when ambiguous, the nearest
    entries when unknown.
    """

    query: str
    status: Status
    value: str | None
    score: float
    matched: str
    candidates: tuple[tuple[str, float], ...]

    @property
    def ok(self) -> bool:
        return self.status in ("exact", "fuzzy")

    def suggestion(self) -> str:
        """A short human hint: ``did you mean: A, B?`` (empty when nothing is near)."""
        if not self.candidates:
            return ""
        return "did you mean: " + ", ".join(key for key, _ in self.candidates) + "?"
