"""The simple rules the matcher must beat: each orders a case's pool by a tuple of keys,
larger first; equal keys form a tie (counted at its expected value by the metrics).

- popularity: exchanges provided before the cut-off;
- repeat-pair → theme: exchanges the country provided to this recipient, then whether it
  offered or provided one of the need's themes, then popularity;
- sub-region → theme: same sub-region (or intermediate region), then theme, then popularity;
- theme → language → region: theme, then a shared working language, then the region level
  (the engine's region factor), then popularity ("same theme, shared language, same region");
- same-region: the region level, then popularity.

"Theme" here is exact: one of the need's theme ids among the themes of the country's visible
capacities or of the exchanges it provided.
"""

from __future__ import annotations

from collections.abc import Callable

from sscmatch.matching import factors as F
from sscmatch.matching.replay import Case, Snapshot

Ranking = tuple[tuple[str, ...], ...]
"""Tie groups, best first; the countries inside one group have equal scores."""
Key = Callable[[Snapshot, Case, str], tuple[float, ...]]


def rule(key: Key) -> Callable[[Snapshot], dict[str, Ranking]]:
    """A method ranking every case's pool by ``key``."""

    def run(snap: Snapshot) -> dict[str, Ranking]:
        out: dict[str, Ranking] = {}
        for case in snap.cases:
            keyed: dict[tuple[float, ...], list[str]] = {}
            for x in snap.pool(case):
                keyed.setdefault(key(snap, case, x), []).append(x)
            out[case.id] = tuple(tuple(keyed[k]) for k in sorted(keyed, reverse=True))
        return out

    return run


def _theme(snap: Snapshot, case: Case, x: str) -> float:
    return 1.0 if snap.themes_of.get(x, set()) & set(case.need.themes) else 0.0


def _region(snap: Snapshot, case: Case, x: str) -> float:
    countries = snap.corpus.countries
    return F.region_score(countries.get(case.recipient), countries.get(x))


def _shared_language(snap: Snapshot, case: Case, x: str) -> float:
    info = snap.corpus.countries.get(x)
    return 1.0 if info and set(info.languages) & set(case.need.languages) else 0.0


def popularity(snap: Snapshot, case: Case, x: str) -> tuple[float, ...]:
    return (float(snap.provided[x]),)


def repeat_pair_theme(snap: Snapshot, case: Case, x: str) -> tuple[float, ...]:
    return (
        float(snap.directed[(x, case.recipient)]),
        _theme(snap, case, x),
        float(snap.provided[x]),
    )


def subregion_theme(snap: Snapshot, case: Case, x: str) -> tuple[float, ...]:
    near = 1.0 if _region(snap, case, x) >= F.SAME_SUBREGION else 0.0
    return near, _theme(snap, case, x), float(snap.provided[x])


def theme_language_region(snap: Snapshot, case: Case, x: str) -> tuple[float, ...]:
    return (
        _theme(snap, case, x),
        _shared_language(snap, case, x),
        _region(snap, case, x),
        float(snap.provided[x]),
    )


def same_region(snap: Snapshot, case: Case, x: str) -> tuple[float, ...]:
    return _region(snap, case, x), float(snap.provided[x])


RULES: dict[str, Key] = {
    "popularity": popularity,
    "repeat-pair → theme": repeat_pair_theme,
    "sub-region → theme": subregion_theme,
    "theme → language → region": theme_language_region,
    "same-region": same_region,
}
