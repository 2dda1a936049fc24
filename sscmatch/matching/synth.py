"""Synthetic corpora of realistic shape, for benchmarks and tests (not used by the engine).

``generate`` returns an engine ``Corpus``: countries in M49-like regions with working languages
and groupings, Zipf-like theme popularity, a few hub providers, an exchange history over years
(regional bias, providers sharing what they offer), capacities, needs and commitments.
Pure, like the rest of the engine: reading the theme vocabulary and writing a CSV bundle live in
``sscmatch.synthio`` (used by ``scripts/synth`` and ``scripts/bench_match``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from sscmatch.matching.model import (
    CapacityItem,
    CommitmentItem,
    Corpus,
    CountryInfo,
    ExchangeItem,
    NeedItem,
    ThemeInfo,
)
from sscmatch.text import quantise

# (region, sub-region, intermediate region, language pools, SIDS-prone)
AREAS: tuple[tuple[str, str, str, tuple[tuple[str, ...], ...], bool], ...] = (
    ("Africa", "Northern Africa", "", (("ar", "fr"), ("ar",)), False),
    ("Africa", "Sub-Saharan Africa", "Eastern Africa", (("en", "sw"), ("fr",), ("en",)), False),
    ("Africa", "Sub-Saharan Africa", "Middle Africa", (("fr",), ("pt",)), False),
    ("Africa", "Sub-Saharan Africa", "Southern Africa", (("en",),), False),
    ("Africa", "Sub-Saharan Africa", "Western Africa", (("fr",), ("en",), ("pt",)), False),
    (
        "Americas",
        "Latin America and the Caribbean",
        "Caribbean",
        (("en",), ("es",), ("fr", "ht")),
        True,
    ),
    ("Americas", "Latin America and the Caribbean", "Central America", (("es",),), False),
    ("Americas", "Latin America and the Caribbean", "South America", (("es",), ("pt",)), False),
    ("Asia", "Central Asia", "", (("ru", "ky"), ("ru", "uz")), False),
    ("Asia", "Eastern Asia", "", (("zh",),), False),
    ("Asia", "South-eastern Asia", "", (("id",), ("ms", "en"), ("en",)), False),
    ("Asia", "Southern Asia", "", (("hi", "en"), ("en",)), False),
    ("Asia", "Western Asia", "", (("ar",), ("tr",)), False),
    ("Europe", "Eastern Europe", "", (("ru",),), False),
    ("Europe", "Southern Europe", "", (("es",), ("pt",)), False),
    ("Oceania", "Melanesia", "", (("en",), ("fr",)), True),
    ("Oceania", "Polynesia", "", (("en",),), True),
)

INTELLIGIBILITY: dict[tuple[str, str], float] = {
    ("es", "pt"): 0.7,
    ("fr", "ht"): 0.5,
    ("ms", "id"): 0.8,
    ("ru", "ky"): 0.4,
    ("ru", "uz"): 0.4,
}

MATURITIES = ("pilot", "operational", "scaled", "institutionalised")
WORDS = [
    "national",
    "programme",
    "strengthening",
    "capacity",
    "system",
    "model",
    "approach",
    "tools",
    "training",
    "network",
    "community",
    "schools",
    "rural",
    "urban",
    "agriculture",
    "mining",
    "domestic",
    "workers",
    "families",
    "youth",
    "municipal",
    "integrated",
    "pilot",
    "platform",
    "methodology",
    "guide",
    "protocol",
    "registry",
]


@dataclass(frozen=True)
class SynthSize:
    countries: int = 200
    capacities: int = 50_000
    needs: int = 20_000
    exchanges: int = 200_000
    seed: int = 1
    text_dims: int = 32
    """Dimensions of the synthetic text vectors (0: none)."""


def default_themes() -> list[ThemeInfo]:
    """A small built-in taxonomy for when no skeleton file is at hand."""
    tree = {
        "policy-governance": ["legislation", "national-action-plans", "local-government"],
        "knowledge-data": ["child-labour-statistics", "research", "monitoring-evaluation"],
        "enforcement": ["labour-inspection", "occupational-safety-health"],
        "social-protection": ["conditional-cash-transfers", "social-assistance", "livelihoods"],
        "education": ["school-retention", "vocational-training"],
    }
    out: list[ThemeInfo] = []
    for root, kids in tree.items():
        out.append(ThemeInfo(id=root, label=root.replace("-", " ").title(), terms=(root,)))
        for k in kids:
            out.append(
                ThemeInfo(id=k, parent=root, label=k.replace("-", " ").capitalize(), terms=())
            )
    return out


def _country_codes(n: int) -> list[str]:
    try:
        import pycountry

        codes = sorted(c.alpha_3 for c in pycountry.countries)
    except ImportError:  # pragma: no cover - pycountry is a dependency
        codes = []
    if len(codes) < n:
        extra = [f"Q{chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(n - len(codes))]
        codes = codes + extra
    return codes


def _zipf(rng: np.random.Generator, n: int, s: float = 1.0) -> npt.NDArray[Any]:
    w = 1.0 / np.arange(1, n + 1) ** s
    rng.shuffle(w)
    out: npt.NDArray[Any] = w / w.sum()
    return out


def generate(size: SynthSize, themes: Sequence[ThemeInfo] | None = None) -> Corpus:
    rng = np.random.default_rng(size.seed)
    theme_list = list(themes) if themes else default_themes()
    theme_map = {t.id: t for t in theme_list}
    leaves = [t.id for t in theme_list if t.parent is not None] or [t.id for t in theme_list]
    family: dict[str, list[str]] = {}
    for t in leaves:
        family.setdefault(theme_map[t].parent or t, []).append(t)
    theme_p = _zipf(rng, len(leaves), 1.1)

    # countries
    all_codes = _country_codes(size.countries)
    codes = sorted(rng.choice(all_codes, size=size.countries, replace=False).tolist())
    countries: dict[str, CountryInfo] = {}
    area_of: list[int] = []
    for i, code in enumerate(codes):
        a = i % len(AREAS) if i < len(AREAS) else int(rng.integers(len(AREAS)))
        region, sub, inter, pools, sids = AREAS[a]
        langs = pools[int(rng.integers(len(pools)))]
        groups = set()
        if sids and rng.random() < 0.7:
            groups.add("SIDS")
        if rng.random() < 0.2:
            groups.add("LDC")
        if not sids and rng.random() < 0.1:
            groups.add("LLDC")
        countries[code] = CountryInfo(
            code=code,
            name=f"Country {code}",
            region=region,
            subregion=sub,
            intermediate_region=inter,
            groupings=frozenset(groups),
            languages=langs,
        )
        area_of.append(a)
    area = np.array(area_of)
    activity = rng.pareto(1.2, size.countries) + 0.05
    activity[rng.choice(size.countries, size=min(5, size.countries), replace=False)] *= 25
    prov_p = activity / activity.sum()
    rec_w = 1.0 / (activity + 0.5)
    rec_p = rec_w / rec_w.sum()
    nc = size.countries

    def pick_theme(k: int) -> npt.NDArray[Any]:
        out: npt.NDArray[Any] = rng.choice(len(leaves), size=k, p=theme_p)
        return out

    def themes_for(primary: int) -> tuple[str, ...]:
        t = leaves[primary]
        if rng.random() < 0.3:
            fam = family[theme_map[t].parent or t]
            other = fam[int(rng.integers(len(fam)))]
            return tuple(dict.fromkeys((t, other)))
        return (t,)

    def text(theme_id: str) -> tuple[str, str]:
        label = theme_map[theme_id].label or theme_id
        w = rng.choice(WORDS, size=6)
        title = f"{label}: {w[0]} {w[1]}"
        desc = f"A {w[2]} {w[3]} on {label.lower()} with {w[4]} {w[5]}."
        return title, desc

    def day(lo: int, hi: int) -> date:
        return date(lo, 1, 1) + timedelta(days=int(rng.integers(0, (hi - lo) * 365)))

    # capacities
    capacities: list[CapacityItem] = []
    cap_country = rng.choice(nc, size=size.capacities, p=0.5 * prov_p + 0.5 / nc)
    cap_theme = pick_theme(size.capacities)
    offered: dict[int, list[int]] = {}
    for i in range(size.capacities):
        c = int(cap_country[i])
        offered.setdefault(c, []).append(int(cap_theme[i]))
        ts = themes_for(int(cap_theme[i]))
        title, desc = text(ts[0])
        window = rng.random() < 0.2
        start = day(2012, 2026) if window else None
        status = rng.choice(("published", "draft", "archived"), p=(0.9, 0.05, 0.05))
        code = codes[c]
        capacities.append(
            CapacityItem(
                id=f"C-{i:06d}",
                country=code,
                institution=f"{code.lower()}-ministry",
                title=title,
                description=desc,
                themes=ts,
                languages=() if rng.random() < 0.1 else countries[code].languages,
                maturity=None if rng.random() < 0.15 else MATURITIES[int(rng.integers(4))],
                max_per_year=int(rng.integers(1, 6)),
                available_from=start,
                available_to=start + timedelta(days=int(rng.integers(200, 2000)))
                if start
                else None,
                status=str(status),
                created=day(2005, 2025),
            )
        )

    # needs
    needs: list[NeedItem] = []
    need_country = rng.choice(nc, size=size.needs, p=rec_p)
    need_theme = pick_theme(size.needs)
    for i in range(size.needs):
        code = codes[int(need_country[i])]
        ts = themes_for(int(need_theme[i]))
        title, desc = text(ts[0])
        window = rng.random() < 0.3
        start = day(2012, 2026) if window else None
        needs.append(
            NeedItem(
                id=f"N-{i:06d}",
                country=code,
                institution=f"{code.lower()}-ministry",
                title=title,
                description=desc,
                themes=ts,
                languages=() if rng.random() < 0.1 else countries[code].languages,
                desired_from=start,
                desired_to=start + timedelta(days=int(rng.integers(100, 1500))) if start else None,
                status=str(
                    rng.choice(("open", "draft", "matched", "closed"), p=(0.85, 0.05, 0.05, 0.05))
                ),
                created=day(2005, 2025),
            )
        )

    # exchanges: more recent years are busier
    years = np.arange(1995, 2025)
    year_p = np.linspace(1.0, 4.0, len(years))
    year_p /= year_p.sum()
    ex_year = rng.choice(years, size=size.exchanges, p=year_p)
    ex_prov = rng.choice(nc, size=size.exchanges, p=prov_p)
    ex_rec = rng.choice(nc, size=size.exchanges, p=rec_p)
    kind = rng.random(size.exchanges)
    exchanges: list[ExchangeItem] = []
    by_area: dict[int, npt.NDArray[Any]] = {a: np.flatnonzero(area == a) for a in range(len(AREAS))}
    for i in range(size.exchanges):
        p = int(ex_prov[i])
        r = int(ex_rec[i])
        if rng.random() < 0.5:
            same = by_area[int(area[p])]
            r = int(same[int(rng.integers(len(same)))])
        if r == p:
            r = (p + 1 + int(rng.integers(nc - 1))) % nc
        own = offered.get(p)
        theme_i: int = (
            own[int(rng.integers(len(own)))]
            if own and rng.random() < 0.7
            else int(pick_theme(1)[0])
        )
        start = date(int(ex_year[i]), int(rng.integers(1, 13)), int(rng.integers(1, 29)))
        provs: tuple[str, ...]
        recs: tuple[str, ...]
        parts: tuple[str, ...]
        if kind[i] < 0.85:
            provs, recs, parts = (codes[p],), (codes[r],), ()
        elif kind[i] < 0.92:
            q = int(rng.integers(nc))
            provs = tuple(dict.fromkeys((codes[p], codes[q])))
            recs = (codes[r],) if codes[r] not in provs else ()
            parts = ()
        else:
            many = rng.choice(nc, size=int(rng.integers(3, 7)), replace=False)
            provs, recs, parts = (), (), tuple(codes[int(x)] for x in many)
        exchanges.append(
            ExchangeItem(
                id=f"E-{i:06d}",
                start=start,
                providers=provs,
                recipients=recs,
                participants=parts,
                partners=("ilo",) if rng.random() < 0.3 else (),
                themes=themes_for(theme_i),
            )
        )

    # commitments: a share of exchanges, reliability varies by country
    reliability = rng.beta(4, 2, nc)
    commitments: list[CommitmentItem] = []
    n_com = size.exchanges // 5
    chosen: list[int] = (
        rng.choice(size.exchanges, size=n_com, replace=False).tolist() if n_com else []
    )
    code_pos = {c: i for i, c in enumerate(codes)}
    for k, j in enumerate(chosen):
        e = exchanges[int(j)]
        owner = (e.providers or e.participants or e.recipients)[0]
        u = rng.random()
        rel = reliability[code_pos[owner]]
        status = "pending" if u < 0.2 else "fulfilled" if rng.random() < rel else "dropped"
        commitments.append(
            CommitmentItem(
                id=f"K-{k:06d}",
                owner_country=owner,
                status=status,
                exchange=e.id,
                start=e.start,
            )
        )
    vetoes = (
        frozenset({(codes[0], codes[1]), (capacities[0].id, needs[0].id)})
        if (nc > 1 and capacities and needs)
        else frozenset()
    )
    return Corpus(
        countries=countries,
        themes=theme_map,
        capacities=capacities,
        needs=needs,
        exchanges=exchanges,
        commitments=commitments,
        vetoes=vetoes,
        intelligibility=INTELLIGIBILITY,
        vectors=text_vectors([*capacities, *needs, *exchanges], size),
    )


def text_vectors(
    records: Sequence[CapacityItem | NeedItem | ExchangeItem], size: SynthSize
) -> dict[str, npt.NDArray[np.int8]]:
    """Stored (int8) vectors standing for the records' texts: a direction per primary theme
    plus noise, so that records on one theme are alike (drawn from a generator of their own, so
    that the records themselves do not depend on ``text_dims``)."""
    if size.text_dims <= 0 or not records:
        return {}
    rng = np.random.default_rng(size.seed + 7919)
    themes = sorted({r.themes[0] for r in records if r.themes})
    direction = {t: rng.standard_normal(size.text_dims) for t in themes}
    noise = rng.standard_normal((len(records), size.text_dims))
    unit = np.stack(
        [
            noise[i] * 0.9 + (direction[r.themes[0]] if r.themes else 0.0)
            for i, r in enumerate(records)
        ]
    )
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    stored = quantise(unit)
    return {r.id: stored[i] for i, r in enumerate(records)}
