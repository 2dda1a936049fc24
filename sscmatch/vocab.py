"""Controlled vocabularies: countries, languages and themes, and how free text resolves to them.

The base layer of sscmatch: it reads ``data/vocab/*.csv`` and uses pycountry, Babel and
rapidfuzz, nothing else from the project. Everything here is immutable once loaded.

>>> vocab = load_vocabulary()
>>> vocab.resolve_country("Brasil").value
'BRA'
>>> vocab.resolve_theme("inspección laboral").value
'labour-inspection'
>>> vocab.theme_relation("enforcement", "labour-inspection")
'child'

Resolution never guesses silently: a text is ``exact`` when its normalised form (case,
accents, spacing and punctuation ignored) names exactly one entry, ``fuzzy`` when one entry
is a clear best near-match, ``ambiguous`` when two or more entries fit equally well, and
``unknown`` otherwise; ``ambiguous`` and ``unknown`` carry the candidates for a
"did you mean ..." message.
"""

from __future__ import annotations

import csv
import functools
import math
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Literal

import babel
import pycountry
from rapidfuzz import fuzz, process

__all__ = [
    "FUZZY_THRESHOLD",
    "INTERFACE_LANGUAGES",
    "NAME_LANGUAGES",
    "Country",
    "Language",
    "Resolution",
    "Theme",
    "Vocabulary",
    "VocabularyError",
    "default_data_dir",
    "load_vocabulary",
    "normalise",
]

INTERFACE_LANGUAGES = ("en", "es", "pt", "fr")
"""Languages the service speaks; every theme and country has a name in each."""
NAME_LANGUAGES = ("en", "es", "pt", "fr", "ru")
"""Languages the vocabulary files carry names in (Russian for the Central Asian partners)."""

FUZZY_THRESHOLD = 85.0
"""Lowest fuzzy score (0-100) that counts as a match."""
AMBIGUITY_MARGIN = 3.0
"""Two entries whose best fuzzy scores are this close are ambiguous."""
MIN_FUZZY_LENGTH = 4
"""Shorter queries (codes, acronyms) must match exactly; fuzzy only suggests candidates."""
_CANDIDATES = 5

Status = Literal["exact", "fuzzy", "ambiguous", "unknown"]
Relation = Literal["same", "parent", "child", "sibling", "unrelated"]


class VocabularyError(ValueError):
    """A vocabulary file is missing or malformed (``file:line: what is wrong``)."""


# --------------------------------------------------------------------------- records


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


# --------------------------------------------------------------------------- matching

_NON_WORD = re.compile(r"[\W_]+")


def normalise(text: str) -> str:
    """Case-fold, strip accents, turn punctuation into spaces and collapse spaces.

    >>> normalise("  Côte d’Ivoire ")
    'cote d ivoire'
    """
    folded = text.casefold()
    if not folded.isascii():
        decomposed = unicodedata.normalize("NFKD", folded)
        folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_NON_WORD.sub(" ", folded).split())


Scorer = Callable[..., float]


def _words_agree(a: str, b: str, floor: float = 75.0) -> bool:
    """Every word of three letters or more on either side has a close word on the other."""
    wa, wb = a.split(), b.split()
    for mine, theirs in ((wa, wb), (wb, wa)):
        for word in mine:
            if len(word) >= 3 and max(fuzz.ratio(word, other) for other in theirs) < floor:
                return False
    return True


class _Index:
    """Normalised lookup table for one kind of entry (built once per Vocabulary).

    Every string is added with a tier: codes are looked up first and only exactly; among
    names, an exact hit in a lower tier (a country's name, a widely used language's CLDR
    name) wins over one in a higher tier (an alias, an obscure ISO 639-3 name).
    """

    def __init__(self) -> None:
        self._exact: dict[str, dict[str, int]] = {}
        self._shown: dict[tuple[str, str], str] = {}
        self._fuzzy: dict[str, set[str]] = {}
        self._codes: dict[str, set[str]] = {}
        self._fuzzy_keys: list[str] = []
        self._code_keys: list[str] = []

    def add(
        self, value: str, text: str, *, tier: int = 1, fuzzy: bool = True, code: bool = False
    ) -> None:
        key = normalise(text)
        if not key:
            return
        if code:
            # Codes come before names, so "ron" is Romanian's code and not the name of
            # another language; they are never matched fuzzily.
            self._codes.setdefault(key, set()).add(value)
        else:
            tiers = self._exact.setdefault(key, {})
            tiers[value] = min(tier, tiers.get(value, tier))
            if fuzzy and len(key) >= MIN_FUZZY_LENGTH:
                self._fuzzy.setdefault(key, set()).add(value)
        self._shown.setdefault((key, value), text)

    def freeze(self) -> None:
        self._fuzzy_keys = list(self._fuzzy)
        self._code_keys = list(self._codes)

    def collisions(self) -> dict[str, set[str]]:
        """Normalised names (codes apart) that name more than one entry, whatever the tier."""
        return {key: set(tiers) for key, tiers in self._exact.items() if len(tiers) > 1}

    def code_collisions(self) -> dict[str, set[str]]:
        """Codes that name more than one entry."""
        return {key: values for key, values in self._codes.items() if len(values) > 1}

    def _exact_hits(self, key: str) -> set[str]:
        codes = self._codes.get(key)
        if codes:
            return codes
        tiers = self._exact.get(key)
        if not tiers:
            return set()
        top = min(tiers.values())
        return {value for value, tier in tiers.items() if tier == top}

    def resolve(self, query: str) -> Resolution:
        key = normalise(query)
        if not key:
            return Resolution(query, "unknown", None, 0.0, "", ())
        hits = self._exact_hits(key)
        if hits:
            if len(hits) == 1:
                (value,) = hits
                return Resolution(
                    query, "exact", value, 100.0, self._shown[(key, value)], ((value, 100.0),)
                )
            candidates = tuple((value, 100.0) for value in sorted(hits))
            return Resolution(query, "ambiguous", None, 100.0, key, candidates)

        if len(key) < MIN_FUZZY_LENGTH:
            # Too short to tell a typo from another code: suggest, never resolve.
            ranked = self._rank(key, self._code_keys, self._codes, (fuzz.ratio,), cutoff=50)
            return self._unknown(query, ranked)

        ranked = self._rank(
            key,
            self._fuzzy_keys,
            self._fuzzy,
            (fuzz.ratio, fuzz.token_sort_ratio),
            cutoff=40,
        )
        if not ranked or ranked[0][1] < FUZZY_THRESHOLD:
            return self._unknown(query, ranked)
        best_value, best_score, best_key = ranked[0]
        rivals = [
            r for r in ranked if r[1] >= FUZZY_THRESHOLD and best_score - r[1] <= AMBIGUITY_MARGIN
        ]
        candidates = tuple((value, round(score, 1)) for value, score, _ in ranked[:_CANDIDATES])
        if len(rivals) > 1:
            close = tuple((value, round(score, 1)) for value, score, _ in rivals)
            return Resolution(query, "ambiguous", None, round(best_score, 1), best_key, close)
        return Resolution(
            query,
            "fuzzy",
            best_value,
            round(best_score, 1),
            self._shown[(best_key, best_value)],
            candidates,
        )

    @staticmethod
    def _unknown(query: str, ranked: list[tuple[str, float, str]]) -> Resolution:
        candidates = tuple((value, round(score, 1)) for value, score, _ in ranked[:3])
        return Resolution(
            query, "unknown", None, candidates[0][1] if candidates else 0.0, "", candidates
        )

    @staticmethod
    def _rank(
        key: str,
        choices: list[str],
        values: Mapping[str, set[str]],
        scorers: Iterable[Scorer],
        cutoff: float,
    ) -> list[tuple[str, float, str]]:
        """Best score per entry, best first: ``[(value, score, matched key), ...]``."""
        # Plain edit distance (typos) and the same on sorted words (word order). Subset
        # scorers (token_set_ratio, partial_ratio) are left out on purpose: they give 100 to
        # "trabajo infantil" against "trabajo infantil rural", a silent guess.
        best: dict[str, tuple[float, str]] = {}
        for scorer in scorers:
            for choice, raw, _ in process.extract(
                key, choices, scorer=scorer, limit=15, score_cutoff=cutoff
            ):
                score = float(raw)
                if score >= FUZZY_THRESHOLD and not _words_agree(key, choice):
                    # "trabajo infantil" is not "trata infantil": a high overall score
                    # that hides a different word is not a match.
                    score = min(score, FUZZY_THRESHOLD - 1.0)
                for value in values[choice]:
                    previous = best.get(value)
                    if previous is None or score > previous[0]:
                        best[value] = (score, choice)
        ranked = [(value, score, choice) for value, (score, choice) in best.items()]
        ranked.sort(key=lambda r: (-r[1], r[0]))
        return ranked


# --------------------------------------------------------------------------- vocabulary


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

        self._country_index = _Index()
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
        self._language_index = _Index()
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

        self._theme_index = _Index()
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


# --------------------------------------------------------------------------- loading


def default_data_dir() -> Path:
    """``$SSCMATCH_DATA_DIR`` if set, else the repository's ``data/`` folder."""
    env = os.environ.get("SSCMATCH_DATA_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1] / "data"


def load_vocabulary(directory: Path | None = None) -> Vocabulary:
    """Load the vocabularies from ``<directory>/vocab/*.csv`` (``directory`` defaults to
    :func:`default_data_dir`). Cached per resolved directory."""
    if directory is None:
        return _load_default(os.environ.get("SSCMATCH_DATA_DIR"))
    return _load(Path(directory).resolve())


@functools.lru_cache(maxsize=4)
def _load_default(_env: str | None) -> Vocabulary:
    # Keyed by the environment variable, not the resolved path: pages call this for every
    # country name they show, and resolving paths each time costs more than the lookup.
    return _load(default_data_dir().resolve())


@functools.lru_cache(maxsize=8)
def _load(base: Path) -> Vocabulary:
    vocab_dir = base / "vocab"
    themes = _read_themes(vocab_dir / "themes.csv")
    countries = _read_countries(vocab_dir / "countries.csv")
    for code, since in _read_dac(vocab_dir / "oecd_dac.csv", countries).items():
        countries[code] = replace(countries[code], dac_since=since)
    languages, aliases, major = _build_languages()
    table = _read_intelligibility(vocab_dir / "intelligibility.csv", languages)
    for country in countries.values():
        unknown = [code for code in country.languages if code not in languages]
        if unknown:
            raise VocabularyError(f"countries.csv: {country.code}: unknown languages {unknown}")
    return Vocabulary(
        countries, languages, themes, table, language_aliases=aliases, major_languages=major
    )


def _rows(path: Path, required: tuple[str, ...]) -> Iterable[tuple[int, dict[str, str]]]:
    if not path.is_file():
        raise VocabularyError(f"{path}: missing vocabulary file")
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [col for col in required if col not in (reader.fieldnames or ())]
        if missing:
            raise VocabularyError(f"{path.name}:1: missing columns {missing}")
        for row in reader:
            yield reader.line_num, {k: (v or "").strip() for k, v in row.items() if k}


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(";") if part.strip())


_THEME_COLUMNS = (
    "id",
    "parent",
    *(f"label_{lang}" for lang in NAME_LANGUAGES),
    "synonyms",
    "sdg_targets",
    "description",
)


def _read_themes(path: Path) -> dict[str, Theme]:
    themes: dict[str, Theme] = {}
    for line, row in _rows(path, _THEME_COLUMNS):
        tid = row["id"]
        if not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", tid):
            raise VocabularyError(f"{path.name}:{line}: id: {tid!r} is not a lower-case slug")
        if tid in themes:
            raise VocabularyError(f"{path.name}:{line}: id: duplicate {tid!r}")
        labels = {lang: row[f"label_{lang}"] for lang in NAME_LANGUAGES if row[f"label_{lang}"]}
        if "en" not in labels:
            raise VocabularyError(f"{path.name}:{line}: label_en: required")
        themes[tid] = Theme(
            id=tid,
            parent=row["parent"] or None,
            labels=MappingProxyType(labels),
            synonyms=_split(row["synonyms"]),
            sdg_targets=_split(row["sdg_targets"]),
            description=row["description"],
        )
    for theme in themes.values():
        if theme.parent is None:
            continue
        parent = themes.get(theme.parent)
        if parent is None:
            raise VocabularyError(f"{path.name}: {theme.id}: unknown parent {theme.parent!r}")
        if parent.parent is not None:
            raise VocabularyError(f"{path.name}: {theme.id}: the tree has two levels only")
    return themes


_COUNTRY_COLUMNS = (
    "code",
    "alpha2",
    "numeric",
    *(f"name_{lang}" for lang in NAME_LANGUAGES),
    "languages",
    "region",
    "region_code",
    "subregion",
    "subregion_code",
    "intermediate_region",
    "intermediate_region_code",
    "groupings",
    "capital",
    "latitude",
    "longitude",
)
_GROUPINGS = frozenset({"SIDS", "LDC", "LLDC"})


def _float(value: str, where: str) -> float | None:
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise VocabularyError(f"{where}: {value!r} is not a number") from None


def _read_dac(path: Path, countries: Mapping[str, Country]) -> dict[str, int]:
    """OECD DAC members and the year each joined (an absent file: none)."""
    if not path.exists():
        return {}
    out: dict[str, int] = {}
    for line, row in _rows(path, ("code", "member_since", "source")):
        where = f"{path.name}:{line}"
        code, since = row["code"], row["member_since"]
        if code not in countries or code in out:
            raise VocabularyError(f"{where}: code: {code!r} is not a new country code")
        if not re.fullmatch(r"(19|20)[0-9]{2}", since):
            raise VocabularyError(f"{where}: member_since: {since!r} is not a year")
        out[code] = int(since)
    return out


def _read_countries(path: Path) -> dict[str, Country]:
    countries: dict[str, Country] = {}
    for line, row in _rows(path, _COUNTRY_COLUMNS):
        where = f"{path.name}:{line}"
        code = row["code"]
        if not re.fullmatch(r"[A-Z]{3}", code) or code in countries:
            raise VocabularyError(f"{where}: code: {code!r} is not a new alpha-3 code")
        names = {lang: row[f"name_{lang}"] for lang in NAME_LANGUAGES if row[f"name_{lang}"]}
        if "en" not in names:
            raise VocabularyError(f"{where}: name_en: required")
        groupings = frozenset(_split(row["groupings"]))
        if not groupings <= _GROUPINGS:
            raise VocabularyError(f"{where}: groupings: unknown {sorted(groupings - _GROUPINGS)}")
        countries[code] = Country(
            code=code,
            alpha2=row["alpha2"] or None,
            numeric=row["numeric"] or None,
            names=MappingProxyType(names),
            languages=_split(row["languages"]),
            region=row["region"],
            region_code=row["region_code"],
            subregion=row["subregion"],
            subregion_code=row["subregion_code"],
            intermediate_region=row["intermediate_region"],
            intermediate_region_code=row["intermediate_region_code"],
            groupings=groupings,
            capital=row["capital"],
            latitude=_float(row["latitude"], f"{where}: latitude"),
            longitude=_float(row["longitude"], f"{where}: longitude"),
            aliases=_split(row.get("aliases", "")),
        )
    return countries


def _read_intelligibility(
    path: Path, languages: Mapping[str, Language]
) -> dict[frozenset[str], float]:
    table: dict[frozenset[str], float] = {}
    for line, row in _rows(path, ("language_a", "language_b", "score")):
        where = f"{path.name}:{line}"
        a, b = row["language_a"], row["language_b"]
        for code in (a, b):
            if code not in languages:
                raise VocabularyError(f"{where}: {code!r} is not a language code")
        if a == b:
            raise VocabularyError(f"{where}: a language is fully intelligible with itself")
        score = _float(row["score"], f"{where}: score")
        if score is None or not 0.0 <= score <= 1.0:
            raise VocabularyError(f"{where}: score: expected a number in [0, 1]")
        pair = frozenset((a, b))
        if pair in table:
            raise VocabularyError(f"{where}: the pair {a}-{b} is listed twice")
        table[pair] = score
    return table


# Everyday names that CLDR does not list (autonyms and older English names).
_LANGUAGE_NAMES: dict[str, tuple[str, ...]] = {
    "es": ("castellano", "castelhano", "castillan", "Castilian"),
    "ht": ("kreyòl", "kreyòl ayisyen", "créole haïtien", "criollo haitiano", "crioulo haitiano"),
    "pt": ("português", "portugués"),
    "fa": ("Farsi",),
    "id": ("Bahasa Indonesia",),
    "ms": ("Bahasa Melayu", "Bahasa Malaysia"),
    "sw": ("Kiswahili",),
    "tet": ("Tetun", "tétum"),
    "gn": ("avañeʼẽ", "guaraní"),
    "qu": ("runasimi", "quechua"),
    "ky": ("кыргызча", "кыргыз тили"),
    "kk": ("қазақ тілі",),
    "tg": ("тоҷикӣ",),
    "uz": ("oʻzbekcha",),
}


def _build_languages() -> tuple[dict[str, Language], dict[str, str], set[str]]:
    """Every ISO 639-3 language (pycountry), named in the vocabulary languages by CLDR.

    Returns the languages by key, extra code aliases (ISO 639-2/B codes such as ``fre``)
    and the keys of the "major" languages (a 639-1 code or a CLDR name), the only ones
    whose names take part in fuzzy matching.
    """
    cldr: dict[str, dict[str, str]] = {}
    for lang in NAME_LANGUAGES:
        for code, name in babel.Locale(lang).languages.items():
            if "_" not in code:
                cldr.setdefault(code, {})[lang] = name
    languages: dict[str, Language] = {}
    aliases: dict[str, str] = {}
    major: set[str] = set()
    for entry in pycountry.languages:
        alpha3 = str(entry.alpha_3)
        alpha2 = getattr(entry, "alpha_2", None)
        key = str(alpha2) if alpha2 else alpha3
        names = dict(cldr.get(key, {}))
        if not names and alpha2:
            names = dict(cldr.get(alpha3, {}))
        english = names.get("en") or str(entry.name)
        names.setdefault("en", english)
        iso_names = (entry.name, getattr(entry, "inverted_name", None))
        other = tuple(str(n) for n in iso_names if n and n != english)
        other += _LANGUAGE_NAMES.get(key, ())
        languages[key] = Language(
            code=key, name=english, names=MappingProxyType(names), alpha3=alpha3, aliases=other
        )
        if alpha2 or key in cldr:
            major.add(key)
        bibliographic = getattr(entry, "bibliographic", None)
        if bibliographic:
            aliases[str(bibliographic)] = key
    return languages, aliases, major
