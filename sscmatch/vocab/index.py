"""Free text to a vocabulary's keys: normalising text, and the lookup table of one kind of entry.

A text is ``exact`` when its normalised form (case, accents, spacing and punctuation ignored)
names exactly one entry, ``fuzzy`` when one entry is a clear best near-match, ``ambiguous`` when
two or more entries fit equally well, and ``unknown`` otherwise.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping

from rapidfuzz import fuzz, process

from sscmatch.vocab.records import Resolution

FUZZY_THRESHOLD = 85.0
"""Lowest fuzzy score (0-100) that counts as a match."""
AMBIGUITY_MARGIN = 3.0
"""Two entries whose best fuzzy scores are this close are ambiguous."""
MIN_FUZZY_LENGTH = 4
"""Shorter queries (codes, acronyms) must match exactly; fuzzy only suggests candidates."""
_CANDIDATES = 5


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


class NameIndex:
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
