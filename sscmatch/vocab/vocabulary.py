"""The vocabulary: countries, languages and themes with their lookup tables and relations."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from sscmatch.vocab.index import NameIndex
from sscmatch.vocab.records import Country, Language, Relation, Resolution, Theme


class Vocabulary:
    """Countries, languages and themes, with resolution of free text to their keys.

    Build it with :func:`load_vocabulary`; the lookup tables are built once here.
    """

    def __init__(
        self,
        countries: Mapping[str, Country],
        languages: Mapping[str, Language],
        themes: Mapping[str, Theme],
        intelligibility: Mapping[frozenset[str], float],
        *,
        language_aliases: Mapping[str, str] | None = None,
        major_languages: Iterable[str] | None = None,
    ) -> None:
        self.countries: Mapping[str, Country] = MappingProxyType(dict(countries))
        self.languages: Mapping[str, Language] = MappingProxyType(dict(languages))
        self.themes: Mapping[str, Theme] = MappingProxyType(dict(themes))
        self._intelligibility = dict(intelligibility)
        self._children: dict[str, tuple[str, ...]] = {tid: () for tid in self.themes}
        for theme in self.themes.values():
            if theme.parent is not None:
                self._children[theme.parent] = (*self._children[theme.parent], theme.id)

        self._country_index = NameIndex()
        for country in self.countries.values():
            idx = self._country_index
            for code in (country.code, country.alpha2, country.numeric):
                if code:
                    idx.add(country.code, code, code=True)
            if country.numeric:
                idx.add(country.code, str(int(country.numeric)), code=True)
            for text in country.names.values():
                idx.add(country.code, text)
            for text in country.aliases:
                idx.add(country.code, text, tier=2)
        self._country_index.freeze()

        self._language_codes: dict[str, str] = {}
        major = set(major_languages) if major_languages is not None else set(self.languages)
        self._language_index = NameIndex()
        for language in self.languages.values():
            idx = self._language_index
            for code in (language.code, language.alpha3):
                if code:
                    idx.add(language.code, code, code=True)
                    self._language_codes[code.lower()] = language.code
            fuzzy = language.code in major
            tier = 1 if fuzzy else 2
            idx.add(language.code, language.name, fuzzy=fuzzy, tier=tier)
            for text in (*language.names.values(), *language.aliases):
                idx.add(language.code, text, fuzzy=fuzzy, tier=tier)
        for alias, code in (language_aliases or {}).items():
            self._language_index.add(code, alias, code=True)
            self._language_codes[alias.lower()] = code
        self._language_index.freeze()

        self._theme_index = NameIndex()
        for theme in self.themes.values():
            idx = self._theme_index
            idx.add(theme.id, theme.id)
            for text in theme.labels.values():
                idx.add(theme.id, text)
            for text in theme.synonyms:
                idx.add(theme.id, text, tier=2)
        self._theme_index.freeze()

    # resolution ---------------------------------------------------------------------

    def resolve_country(self, text: str) -> Resolution:
        """Resolve an ISO code (alpha-2, alpha-3 or numeric, any case) or a country name in
        English, Spanish, Portuguese, French or Russian, an official name or a common short
        form, to an alpha-3 code."""
        return self._country_index.resolve(text)

    def resolve_theme(self, text: str) -> Resolution:
        """Resolve a theme id, a label in any vocabulary language or a synonym to a theme id."""
        return self._theme_index.resolve(text)

    def resolve_language(self, text: str) -> Resolution:
        """Resolve an ISO 639-1/639-2/639-3 code or a language name (English, Spanish,
        Portuguese, French or Russian) to the language's key (639-1 where one exists)."""
        return self._language_index.resolve(text)

    # relations ----------------------------------------------------------------------

    def language_code(self, code: str) -> str | None:
        """The canonical key of a language code (``spa`` -> ``es``), or None if unknown."""
        return self._language_codes.get(code.strip().lower())

    def intelligibility(self, a: str, b: str) -> float:
        """How well speakers of ``a`` and ``b`` understand each other: 1.0 for the same
        language, the table's score for a partially intelligible pair, else 0.0.
        Symmetric; accepts any code form of a language (``es``, ``spa``)."""
        ca = self.language_code(a) or a.strip().lower()
        cb = self.language_code(b) or b.strip().lower()
        if ca == cb:
            return 1.0
        return self._intelligibility.get(frozenset((ca, cb)), 0.0)

    def intelligible_pairs(self) -> Mapping[frozenset[str], float]:
        """The partial-intelligibility table (each unordered pair once)."""
        return MappingProxyType(self._intelligibility)

    def theme_relation(self, a: str, b: str) -> Relation:
        """The relation of theme ``b`` to theme ``a``: ``parent`` when b is a's parent,
        ``child`` when b is a's child, ``sibling`` when both share a parent (two top-level
        themes are ``unrelated``). Raises KeyError for an unknown id."""
        ta, tb = self.themes[a], self.themes[b]
        if ta.id == tb.id:
            return "same"
        if ta.parent == tb.id:
            return "parent"
        if tb.parent == ta.id:
            return "child"
        if ta.parent is not None and ta.parent == tb.parent:
            return "sibling"
        return "unrelated"

    def children(self, theme_id: str) -> tuple[str, ...]:
        """Ids of the theme's children, in file order (empty for a leaf). KeyError if unknown."""
        return self._children[theme_id]

    def roots(self) -> tuple[str, ...]:
        """Ids of the top-level themes, in file order."""
        return tuple(t.id for t in self.themes.values() if t.parent is None)

    def distance_km(self, a: str, b: str) -> float | None:
        """Great-circle distance between the capitals of two countries (alpha-3 or alpha-2
        codes), or None when either has no capital coordinates. KeyError if unknown."""
        ca, cb = self._country(a), self._country(b)
        if None in (ca.latitude, ca.longitude, cb.latitude, cb.longitude):
            return None
        assert ca.latitude is not None and ca.longitude is not None
        assert cb.latitude is not None and cb.longitude is not None
        return haversine_km(ca.latitude, ca.longitude, cb.latitude, cb.longitude)

    def _country(self, code: str) -> Country:
        key = code.strip().upper()
        country = self.countries.get(key)
        if country is None and len(key) == 2:
            country = next((c for c in self.countries.values() if c.alpha2 == key), None)
        if country is None:
            raise KeyError(code)
        return country

    # quality checks -----------------------------------------------------------------

    def collisions(self) -> dict[str, dict[str, set[str]]]:
        """Normalised names/labels that point at more than one entry, per vocabulary."""
        return {
            "country codes": self._country_index.code_collisions(),
            "language codes": self._language_index.code_collisions(),
            "countries": self._country_index.collisions(),
            "languages": self._language_index.collisions(),
            "themes": self._theme_index.collisions(),
        }


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km on a sphere of the Earth's mean radius.

    >>> round(haversine_km(0, 0, 0, 1), 1)
    111.2
    """
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(h)))
