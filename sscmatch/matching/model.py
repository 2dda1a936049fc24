"""The engine's inputs and outputs: frozen dataclasses, no behaviour beyond validation.

The use-case layer encodes stored records plus vocabulary facts into these; the engine never
reads the database, the vocabulary files, the clock or the configuration.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

FACTORS: tuple[str, ...] = (
    "theme",
    "language",
    "region",
    "experience",
    "relationship",
    "maturity",
    "follow_through",
)
"""The scoring factors, in the order they are reported."""


@dataclass(frozen=True, kw_only=True, slots=True)
class CountryInfo:
    """What the engine knows of a country: M49 geography, groupings and working languages."""

    code: str
    region: str = ""
    subregion: str = ""
    intermediate_region: str = ""
    groupings: frozenset[str] = frozenset()
    languages: tuple[str, ...] = ()
    name: str = ""
    dac_since: int | None = None
    """Year of joining the OECD DAC: a donor from then on (see ``southern``)."""

    @property
    def label(self) -> str:
        return self.name or self.code

    def southern(self, on: date | None) -> bool:
        """Whether the country may provide South-South cooperation on ``on`` (None: today):
        OECD DAC members fund and facilitate (triangular cooperation), they are not southern
        providers."""
        return self.dac_since is None or (on is not None and on.year < self.dac_since)


@dataclass(frozen=True, kw_only=True, slots=True)
class ThemeInfo:
    """A theme of the taxonomy. ``terms`` are its labels in every language plus its synonyms."""

    id: str
    parent: str | None = None
    terms: tuple[str, ...] = ()
    label: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class CapacityItem:
    id: str
    country: str
    title: str
    description: str = ""
    themes: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    institution: str | None = None
    maturity: str | None = None
    max_per_year: int | None = None
    available_from: date | None = None
    available_to: date | None = None
    status: str = "published"
    created: date | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class NeedItem:
    id: str
    country: str
    title: str
    description: str = ""
    themes: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    institution: str | None = None
    desired_from: date | None = None
    desired_to: date | None = None
    status: str = "open"
    created: date | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ExchangeItem:
    """A past exchange. ``participants`` are countries whose role the sources do not state;
    ``partners`` are funders and facilitators (institutions), which the country graph ignores."""

    id: str
    start: date
    providers: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()
    participants: tuple[str, ...] = ()
    partners: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    title: str = ""
    description: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class CommitmentItem:
    """A commitment; ``start`` is when it was made or recorded (None: always visible)."""

    id: str
    owner_country: str
    status: str
    exchange: str | None = None
    start: date | None = None


@dataclass(frozen=True, kw_only=True, eq=False)
class Corpus:
    """Everything the engine may look at.

    ``vetoes`` holds pairs the secretariat excluded: ``(provider country, recipient country)``
    or ``(capacity id, need id)``. ``intelligibility`` maps a pair of language codes to a partial
    credit in [0, 1] (looked up both ways). ``language_names`` gives readable names for reasons.
    """

    countries: Mapping[str, CountryInfo] = field(default_factory=dict)
    themes: Mapping[str, ThemeInfo] = field(default_factory=dict)
    capacities: Sequence[CapacityItem] = ()
    needs: Sequence[NeedItem] = ()
    exchanges: Sequence[ExchangeItem] = ()
    commitments: Sequence[CommitmentItem] = ()
    vetoes: frozenset[tuple[str, str]] = frozenset()
    intelligibility: Mapping[tuple[str, str], float] = field(default_factory=dict)
    language_names: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, slots=True)
class Weights:
    """Factor weights (any non-negative numbers; the score divides by their sum) and knobs.

    Defaults: theme 3, experience 2, language 1.5, relationship 1.5, region 1, maturity 0.5,
    follow-through 0.5. ``theme_text_share`` is the part of the theme factor that comes from
    text similarity (the rest is the taxonomy). ``interpretation`` is the language credit when
    no language is shared or intelligible. ``experience_half_life`` (years) decays past
    exchanges. ``hub_damping`` is λ in the rank-1 load penalty 1 / (1 + λ·share); 0 turns
    damping off.
    """

    theme: float = 3.0
    language: float = 1.5
    region: float = 1.0
    experience: float = 2.0
    relationship: float = 1.5
    maturity: float = 0.5
    follow_through: float = 0.5
    hub_damping: float = 0.5
    theme_text_share: float = 0.25
    interpretation: float = 0.2
    experience_half_life: float = 5.0

    def __post_init__(self) -> None:
        for name in (*FACTORS, "hub_damping", "interpretation", "theme_text_share"):
            value = getattr(self, name)
            if not value >= 0:
                raise ValueError(f"weight {name} must be >= 0, got {value!r}")
        if self.theme_text_share > 1 or self.interpretation > 1:
            raise ValueError("theme_text_share and interpretation must lie in [0, 1]")
        if not self.experience_half_life > 0:
            raise ValueError("experience_half_life must be > 0")
        if self.total <= 0:
            raise ValueError("at least one factor weight must be > 0")

    def factor(self, name: str) -> float:
        value: float = getattr(self, name)
        return value

    @property
    def total(self) -> float:
        return float(sum(getattr(self, name) for name in FACTORS))


DEFAULT_WEIGHTS = Weights()


@dataclass(frozen=True, kw_only=True, slots=True)
class Proposal:
    """One ranked provider for one need.

    ``components`` are the raw factors in [0, 1]; ``contributions`` are
    ``damping · w_i · c_i / Σw`` and sum to ``score``. ``damping`` is the hub-load multiplier
    (1.0 when the provider is not a hub or damping is off).
    """

    need_id: str
    recipient: str
    rank: int
    provider: str
    capacity_id: str
    institution: str | None
    score: float
    components: Mapping[str, float]
    contributions: Mapping[str, float]
    reasons: tuple[str, ...]
    damping: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        """The shape of one entry of ``sscmatch match --json`` (see interfaces.md)."""
        return {
            "need": self.need_id,
            "recipient": self.recipient,
            "rank": self.rank,
            "provider": self.provider,
            "capacity": self.capacity_id,
            "institution": self.institution,
            "score": round(self.score, 6),
            "components": {k: round(v, 6) for k, v in self.components.items()},
            "contributions": {k: round(v, 6) for k, v in self.contributions.items()},
            "damping": round(self.damping, 6),
            "reasons": list(self.reasons),
        }
