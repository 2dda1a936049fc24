"""Scalar building blocks of the factors, shared by the fast engine and the reference.

Everything here works on one pair at a time and is deliberately plain; the fast engine
tabulates these functions into numpy arrays, so both implementations use the same numbers.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date

from rapidfuzz import fuzz

from sscmatch.matching.model import CountryInfo, ThemeInfo

MATURITY: Mapping[str, float] = {
    "pilot": 0.25,
    "operational": 0.5,
    "scaled": 0.75,
    "institutionalised": 1.0,
    "institutionalized": 1.0,
}
MATURITY_UNKNOWN = 0.5

SAME_THEME = 1.0
PARENT_CHILD = 0.7
SIBLING = 0.4
COUSIN = 0.2

SAME_INTERMEDIATE = 1.0
SAME_SUBREGION = 0.85
SAME_REGION = 0.6
SHARED_GROUPING = 0.4
OTHER_REGION = 0.1

LANGUAGE_UNKNOWN = 0.5
FOLLOW_THROUGH_PRIOR = 0.5
FOLLOW_THROUGH_PRIOR_WEIGHT = 2.0
INDIRECT_SHARE = 0.6
"""At most this much of the relationship factor comes from indirect (link-prediction) ties."""

PROVIDER_ROLE = 1.0
PARTICIPANT_ROLE = 0.5
DIRECTED_TIE = 1.0
SHARED_TIE = 0.5

LANGUAGE_NAMES: Mapping[str, str] = {
    "ar": "Arabic",
    "en": "English",
    "es": "Spanish",
    "fr": "French",
    "ht": "Haitian Creole",
    "pt": "Portuguese",
    "ru": "Russian",
    "zh": "Chinese",
    "sw": "Swahili",
    "hi": "Hindi",
    "id": "Indonesian",
    "ms": "Malay",
    "ky": "Kyrgyz",
    "uz": "Uzbek",
    "tr": "Turkish",
}

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "the",
        "of",
        "for",
        "in",
        "on",
        "to",
        "with",
        "by",
        "from",
        "at",
        "as",
        "or",
        "is",
        "are",
        "be",
        "its",
        "their",
        "this",
        "that",
        "de",
        "del",
        "la",
        "las",
        "el",
        "los",
        "y",
        "en",
        "para",
        "por",
        "con",
        "un",
        "una",
        "al",
        "o",
        "e",
        "do",
        "da",
        "das",
        "dos",
        "em",
        "ao",
        "no",
        "na",
        "nos",
        "nas",
        "um",
        "uma",
        "des",
        "du",
        "le",
        "les",
        "et",
        "pour",
        "dans",
        "sur",
        "avec",
        "au",
        "aux",
        "une",
        "est",
    ]
)


# ----------------------------------------------------------------------------- taxonomy
class Taxonomy:
    """Parent links of the theme tree and the theme-to-theme similarity.

    >>> t = Taxonomy({"a": None, "a1": "a", "a2": "a", "b": None})
    >>> t.similarity("a1", "a1"), t.similarity("a", "a1"), t.similarity("a1", "a2")
    (1.0, 0.7, 0.4)
    >>> t.similarity("a1", "b")
    0.0
    """

    def __init__(self, parents: Mapping[str, str | None]) -> None:
        self.parents: dict[str, str | None] = dict(parents)

    @classmethod
    def of(cls, themes: Mapping[str, ThemeInfo]) -> Taxonomy:
        return cls({t.id: t.parent for t in themes.values()})

    def parent(self, theme: str) -> str | None:
        return self.parents.get(theme)

    def ancestors(self, theme: str) -> list[str]:
        out: list[str] = []
        seen = {theme}
        cur = self.parents.get(theme)
        while cur is not None and cur not in seen:
            out.append(cur)
            seen.add(cur)
            cur = self.parents.get(cur)
        return out

    def root(self, theme: str) -> str:
        anc = self.ancestors(theme)
        return anc[-1] if anc else theme

    def similarity(self, a: str, b: str) -> float:
        """1 same theme, 0.7 one is an ancestor of the other, 0.4 siblings, 0.2 same family."""
        if a == b:
            return SAME_THEME
        if a in self.ancestors(b) or b in self.ancestors(a):
            return PARENT_CHILD
        pa, pb = self.parents.get(a), self.parents.get(b)
        if pa is not None and pa == pb:
            return SIBLING
        if self.root(a) == self.root(b):
            return COUSIN
        return 0.0

    def relation(self, a: str, b: str) -> str:
        sim = self.similarity(a, b)
        return {
            SAME_THEME: "same theme",
            PARENT_CHILD: "broader/narrower theme",
            SIBLING: "sibling theme",
            COUSIN: "same theme family",
        }.get(sim, "unrelated")


def taxonomy_score(
    need_themes: Iterable[str], capacity_themes: Iterable[str], taxonomy: Taxonomy
) -> float:
    """Mean over the need's themes of the best similarity to any of the capacity's themes."""
    needs = list(dict.fromkeys(need_themes))
    caps = list(dict.fromkeys(capacity_themes))
    if not needs or not caps:
        return 0.0
    total = 0.0
    for t in needs:
        total += max(taxonomy.similarity(t, u) for u in caps)
    return total / len(needs)


# ----------------------------------------------------------------------------- text
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def normalise(text: str) -> str:
    """Lower case, accents stripped, anything but letters and digits turned into spaces."""
    low = text.lower()
    if low.isascii():
        return " ".join(_NON_ALNUM.sub(" ", low).split())
    decomposed = unicodedata.normalize("NFKD", low)
    chars = [c if c.isalnum() else " " for c in decomposed if not unicodedata.combining(c)]
    return " ".join("".join(chars).split())


class TermIndex:
    """Finds theme terms (labels in any language, synonyms) in a text, by whole words."""

    def __init__(self, themes: Mapping[str, ThemeInfo]) -> None:
        self._by_first: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for theme in sorted(themes.values(), key=lambda t: t.id):
            for term in dict.fromkeys((*theme.terms, theme.label, theme.id.replace("-", " "))):
                words = tuple(normalise(term).split())
                if words:
                    self._by_first.setdefault(words[0], []).append((words, theme.id))
        for entries in self._by_first.values():
            entries.sort(key=lambda e: (-len(e[0]), e[1]))
        # the same entries split for speed: one-word terms by word, longer ones (as padded
        # phrases, so that a substring test is a whole-word test) by first word
        self._single: dict[str, set[str]] = {}
        self._multi: dict[str, list[tuple[str, str]]] = {}
        for first, entries in self._by_first.items():
            for words, theme_id in entries:
                if len(words) == 1:
                    self._single.setdefault(first, set()).add(theme_id)
                else:
                    self._multi.setdefault(first, []).append((f" {' '.join(words)} ", theme_id))

    def find(self, words: list[str]) -> set[str]:
        return self._find(words, f" {' '.join(words)} ")

    def _find(self, words: list[str], padded: str) -> set[str]:
        found: set[str] = set()
        present = set(words)
        for w in present.intersection(self._single):
            found.update(self._single[w])
        for w in present.intersection(self._multi):
            for phrase, theme_id in self._multi[w]:
                if phrase in padded:
                    found.add(theme_id)
        return found


def text_parts(text: str, terms: TermIndex) -> frozenset[str]:
    """The tokens one text contributes to a text key: its content words (longer than two
    letters, not a stop word) and ``t_<theme>`` for every theme term it mentions."""
    norm = normalise(text)
    words = norm.split()
    out = {w for w in words if len(w) > 2}
    out.difference_update(STOPWORDS)
    out.update("t_" + c.replace("-", "_") for c in terms._find(words, f" {norm} "))
    return frozenset(out)


def text_key(title: str, description: str, terms: TermIndex) -> str:
    """What text similarity compares: the sorted distinct content words of the title and
    description, plus a language-neutral token for every theme whose term (a label in any
    language or a synonym) the text mentions, so that texts in different languages meet.
    (Terms are found in the title and in the description separately.)"""
    return " ".join(sorted(text_parts(title, terms) | text_parts(description, terms)))


def text_similarity(key_a: str, key_b: str) -> float:
    """rapidfuzz normalised Indel similarity (``fuzz.ratio``) of two text keys, in [0, 1]; on
    sorted token keys this is the token-sort ratio. 0 when either key is empty."""
    if not key_a or not key_b:
        return 0.0
    return float(fuzz.ratio(key_a, key_b)) / 100.0


# ----------------------------------------------------------------------------- language
def language_name(code: str, names: Mapping[str, str]) -> str:
    return names.get(code) or LANGUAGE_NAMES.get(code) or code


def language_pair_score(
    a: str, b: str, intelligibility: Mapping[tuple[str, str], float], floor: float
) -> float:
    if a == b:
        return 1.0
    partial = max(intelligibility.get((a, b), 0.0), intelligibility.get((b, a), 0.0))
    return max(floor, min(1.0, float(partial)))


def language_score(
    need_langs: Iterable[str],
    capacity_langs: Iterable[str],
    intelligibility: Mapping[tuple[str, str], float],
    floor: float,
) -> float:
    """1 for a shared language, partial credit for intelligible ones, else ``floor``;
    0.5 when either side's languages are unknown."""
    la, lb = list(dict.fromkeys(need_langs)), list(dict.fromkeys(capacity_langs))
    if not la or not lb:
        return LANGUAGE_UNKNOWN
    return max(language_pair_score(a, b, intelligibility, floor) for a in la for b in lb)


def language_reason(
    need_langs: Iterable[str],
    capacity_langs: Iterable[str],
    intelligibility: Mapping[tuple[str, str], float],
    floor: float,
    names: Mapping[str, str],
) -> str:
    la, lb = list(dict.fromkeys(need_langs)), list(dict.fromkeys(capacity_langs))
    if not la or not lb:
        return "working languages unknown"
    shared = [a for a in la if a in lb]
    if shared:
        return "shares " + " and ".join(language_name(x, names) for x in shared[:2])
    best = max(
        ((language_pair_score(a, b, intelligibility, floor), a, b) for a in la for b in lb),
        key=lambda x: x[0],
    )
    a, b = language_name(best[1], names), language_name(best[2], names)
    if best[0] > floor:
        return f"{a} and {b} are mutually intelligible"
    return f"needs interpretation ({b} to {a})"


# ----------------------------------------------------------------------------- region
def region_score(rec: CountryInfo | None, prov: CountryInfo | None) -> tuple[float, str]:
    """Same intermediate region 1, sub-region 0.85, region 0.6, shared grouping 0.4, else 0.1."""
    if rec is None or prov is None:
        return OTHER_REGION, "region unknown"
    if rec.intermediate_region and rec.intermediate_region == prov.intermediate_region:
        return SAME_INTERMEDIATE, f"same region ({rec.intermediate_region})"
    if rec.subregion and rec.subregion == prov.subregion:
        return SAME_SUBREGION, f"same sub-region ({rec.subregion})"
    if rec.region and rec.region == prov.region:
        return SAME_REGION, f"same region ({rec.region})"
    shared = sorted(rec.groupings & prov.groupings)
    if shared:
        return SHARED_GROUPING, "both " + " and ".join(shared)
    if rec.region and prov.region:
        return OTHER_REGION, f"different regions ({prov.region} to {rec.region})"
    return OTHER_REGION, "different regions"


# ----------------------------------------------------------------------------- others
def maturity_score(maturity: str | None) -> float:
    if maturity is None:
        return MATURITY_UNKNOWN
    return MATURITY.get(maturity, MATURITY_UNKNOWN)


def follow_through_score(fulfilled: int, decided: int) -> float:
    """Fulfilled share of decided commitments, smoothed towards 0.5 by a prior of 2."""
    return (fulfilled + FOLLOW_THROUGH_PRIOR * FOLLOW_THROUGH_PRIOR_WEIGHT) / (
        decided + FOLLOW_THROUGH_PRIOR_WEIGHT
    )


def saturate(x: float) -> float:
    """1 - 2^-x: 1 unit of (decayed) evidence gives 0.5, 2 give 0.75, 3 give 0.875."""
    return 1.0 - float(0.5 ** max(0.0, x))


def decay(start: date, reference: date, half_life_years: float) -> float:
    """Weight of an event that happened at ``start`` seen from ``reference``."""
    age_years = max(0, (reference - start).days) / 365.25
    return float(0.5 ** (age_years / half_life_years))


def visible(created: date | None, as_of: date | None) -> bool:
    return as_of is None or created is None or created < as_of


def windows_overlap(
    a_from: date | None, a_to: date | None, b_from: date | None, b_to: date | None
) -> bool:
    """Two windows overlap unless one ends before the other starts (missing ends are open)."""
    if a_from is not None and b_to is not None and a_from > b_to:
        return False
    return not (a_to is not None and b_from is not None and a_to < b_from)
