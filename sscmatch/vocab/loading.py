"""Reading the vocabularies from ``<data>/vocab/*.csv``, checked line by line, into a
:class:`~sscmatch.vocab.vocabulary.Vocabulary` (kept per data directory)."""

from __future__ import annotations

import csv
import functools
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

from sscmatch.vocab.languages import build_languages
from sscmatch.vocab.records import NAME_LANGUAGES, Country, Language, Theme
from sscmatch.vocab.vocabulary import Vocabulary


class VocabularyError(ValueError):
    """A vocabulary file is missing or malformed (``file:line: what is wrong``)."""


def default_data_dir() -> Path:
    """``$SSCMATCH_DATA_DIR`` if set, else the repository's ``data/`` folder."""
    env = os.environ.get("SSCMATCH_DATA_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "data"


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
    languages, aliases, major = build_languages()
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
