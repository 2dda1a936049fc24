"""Scalar building blocks of the factors, shared by the fast engine and the reference.

Everything here works on one pair at a time and is deliberately plain; the fast engine
tabulates these functions into numpy arrays, so both implementations use the same numbers.
The formulas are stated in ``sscmatch/matching/__init__.py`` and the README.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date

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
INDIRECT_SHARE = 0.3
"""At most this much of the relationship factor comes from indirect (link-prediction) ties."""

PARTICIPANT_ROLE = 0.25
"""Weight of an exchange a country took part in (role not stated) in its experience, against 1
for one it provided."""

TOPIC_LEVELS: Mapping[float, float] = {
    SAME_THEME: 1.0,
    PARENT_CHILD: 0.9,
    SIBLING: 0.3,
    COUSIN: 0.15,
    0.0: 0.0,
}
"""Topic component of an offer from the taxonomy relation of its best theme to the need's:
the same theme or a broader/narrower one *addresses* the need; a sibling or a theme of the
same family is only related."""
ADDRESSES = PARENT_CHILD
"""Taxonomy similarity from which an offer addresses the need."""
FALLBACK_SHARE = 0.4
"""A fallback offer (related experience, no registered capacity) scales its topic and text by
this: it never counts as much as a registered offer of the same relation."""
ON_TOPIC_MIN = TOPIC_LEVELS[PARENT_CHILD]
OFF_TOPIC_MAX = max(TOPIC_LEVELS[SIBLING], FALLBACK_SHARE * TOPIC_LEVELS[SAME_THEME])
OFF_TOPIC_GAP = ON_TOPIC_MIN - OFF_TOPIC_MAX
"""The least topic advantage of a registered offer that addresses the need over any offer that
does not (0.5); see ``Weights.topic_guarantee``."""
FALLBACK_MATURITY = 0.5
"""Maturity of a fallback offer (no capacity states one): neutral."""

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


def subject_themes(themes: Iterable[str], info: Mapping[str, ThemeInfo]) -> tuple[str, ...]:
    """The themes that say what is learnt (``ThemeInfo.subject``); all of them when none do
    (a need about cooperation itself)."""
    own = tuple(dict.fromkeys(themes))
    subject = tuple(t for t in own if t not in info or info[t].subject)
    return subject or own


def best_similarity(
    need_themes: Iterable[str], offer_themes: Iterable[str], taxonomy: Taxonomy
) -> float:
    """The closest taxonomy relation between any need theme and any offer theme."""
    offers = list(offer_themes)
    return max((taxonomy.similarity(t, u) for t in need_themes for u in offers), default=0.0)


def topic_level(similarity: float) -> float:
    """``TOPIC_LEVELS`` of a taxonomy similarity."""
    return TOPIC_LEVELS.get(similarity, 0.0)


def text_relevance(cosine: float, low: float, high: float) -> float:
    """A text-model cosine mapped to [0, 1]: 0 at or below ``low`` (what unrelated texts reach),
    1 at or above ``high``."""
    return min(1.0, max(0.0, (cosine - low) / (high - low)))


def experience_score(evidence: float, reference: float) -> float:
    """log(1 + E) / log(1 + E_ref), capped at 1: the track record relative to the corpus's most
    active provider (``reference``), so that one more exchange counts less the more there are."""
    if reference <= 0 or evidence <= 0:
        return 0.0
    return min(1.0, math.log1p(evidence) / math.log1p(reference))


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


# ----------------------------------------------------------------------------- language
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


def language_relation(
    need_langs: Iterable[str],
    offer_langs: Iterable[str],
    intelligibility: Mapping[tuple[str, str], float],
    floor: float,
) -> tuple[str, dict[str, object]]:
    """The reason code and parameters of the language factor (see ``reasons.py``)."""
    la, lb = list(dict.fromkeys(need_langs)), list(dict.fromkeys(offer_langs))
    if not la or not lb:
        return "language.unknown", {}
    shared = [a for a in la if a in lb]
    if shared:
        return "language.shared", {"languages": shared[:2]}
    best = max(
        ((language_pair_score(a, b, intelligibility, floor), a, b) for a in la for b in lb),
        key=lambda x: x[0],
    )
    if best[0] > floor:
        return "language.intelligible", {"need_language": best[1], "offer_language": best[2]}
    return "language.interpretation", {"need_language": best[1], "offer_language": best[2]}


# ----------------------------------------------------------------------------- region
def region_relation(
    rec: CountryInfo | None, prov: CountryInfo | None
) -> tuple[float, str, dict[str, object]]:
    """(score, reason code, parameters): same intermediate region 1, sub-region 0.85, region
    0.6, shared grouping (SIDS, LDC, LLDC) 0.4, else 0.1. Regions are named by M49 code when
    known (a reader's language has a name for each), else by their English name."""
    if rec is None or prov is None:
        return OTHER_REGION, "region.unknown", {}
    codes = rec.region_codes
    if rec.intermediate_region and rec.intermediate_region == prov.intermediate_region:
        return SAME_INTERMEDIATE, "region.same", {"region": codes[2] or rec.intermediate_region}
    if rec.subregion and rec.subregion == prov.subregion:
        return SAME_SUBREGION, "region.same", {"region": codes[1] or rec.subregion}
    if rec.region and rec.region == prov.region:
        return SAME_REGION, "region.same", {"region": codes[0] or rec.region}
    shared = sorted(rec.groupings & prov.groupings)
    if shared:
        return SHARED_GROUPING, "region.grouping", {"groupings": shared}
    return OTHER_REGION, "region.different", {}


def region_score(rec: CountryInfo | None, prov: CountryInfo | None) -> float:
    return region_relation(rec, prov)[0]


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
