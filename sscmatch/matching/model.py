"""The engine's inputs and outputs: frozen dataclasses, no behaviour beyond validation.

The use-case layer encodes stored records plus vocabulary facts into these; the engine never
reads the database, the vocabulary files, the clock or the configuration.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

FACTORS: tuple[str, ...] = (
    "topic",
    "text",
    "experience",
    "relationship",
    "region",
    "language",
    "maturity",
    "follow_through",
)
"""The scoring factors, in the order they are reported."""

CONTEXT_FACTORS: tuple[str, ...] = ("relationship", "region", "language")
"""The factors that must never lift an offer that does not address a need above one that does
(see ``Weights.topic_guarantee``)."""


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
    region_codes: tuple[str, str, str] = ("", "", "")
    """UN M49 codes of (region, sub-region, intermediate region), for reasons in any language."""

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
    """A theme of the taxonomy. ``terms`` are its labels in every language plus its synonyms.

    ``subject`` is False for themes that name a way of cooperating (peer learning, triangular
    cooperation...) rather than what is learnt: they do not make an offer address a need."""

    id: str
    parent: str | None = None
    terms: tuple[str, ...] = ()
    label: str = ""
    subject: bool = True


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


Vector = npt.NDArray[np.int8]
"""A stored text vector: the unit vector × 127, rounded (``scoring.quantise``)."""


@dataclass(frozen=True, kw_only=True, eq=False)
class Corpus:
    """Everything the engine may look at.

    ``vetoes`` holds pairs the secretariat excluded: ``(provider country, recipient country)``
    or ``(capacity id, need id)``. ``intelligibility`` maps a pair of language codes to a partial
    credit in [0, 1] (looked up both ways). ``language_names`` gives readable names.
    ``vectors`` maps a need, capacity or exchange id to the stored (int8) vector of its text
    (title and description) under one text model (``sscmatch.text``); records without one have
    no text factor (0, said in the reasons).
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
    vectors: Mapping[str, Vector] = field(default_factory=dict)
    text_scale: tuple[float, float] = (0.1, 0.6)
    """(low, high) of the text model's cosines: unrelated texts reach ``low``, texts about the
    same thing ``high`` (``factors.text_relevance``)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Weights:
    """Factor weights (non-negative; the score divides by their sum) and knobs.

    Defaults (see the README): topic 6.5, experience 6, text 3, relationship 1, region 1,
    language 1, maturity 0.25, follow-through 0.25. ``interpretation`` is the language credit
    when no language is shared or intelligible; ``half_life`` (years) decays past exchanges;
    ``hub_damping`` is λ in the rank-1 load penalty 1 / (1 + λ·share) (0: off).

    ``topic_guarantee``: an offer that addresses a need has a topic component at least
    ``factors.ON_TOPIC_MIN`` above any offer that does not (``factors.OFF_TOPIC_GAP``), so when
    ``topic · gap > relationship + region + language`` no offer that does not address the need
    can outrank one that does by being closer, better spoken or better connected alone.
    """

    topic: float = 6.5
    text: float = 3.0
    experience: float = 6.0
    relationship: float = 1.0
    region: float = 1.0
    language: float = 1.0
    maturity: float = 0.25
    follow_through: float = 0.25
    hub_damping: float = 0.0
    interpretation: float = 0.2
    half_life: float = 10.0

    def __post_init__(self) -> None:
        for name in (*FACTORS, "hub_damping", "interpretation"):
            value = getattr(self, name)
            if not value >= 0 or value == float("inf"):
                raise ValueError(f"weight {name} must be a finite number >= 0, got {value!r}")
        if self.interpretation > 1:
            raise ValueError("interpretation must lie in [0, 1]")
        if not self.half_life > 0:
            raise ValueError("half_life must be > 0")
        if self.total <= 0:
            raise ValueError("at least one factor weight must be > 0")

    def factor(self, name: str) -> float:
        value: float = getattr(self, name)
        return value

    @property
    def total(self) -> float:
        return float(sum(getattr(self, name) for name in FACTORS))

    def topic_guarantee(self, gap: float) -> bool:
        """Whether topic outweighs every context factor together (see the class docstring)."""
        return self.topic * gap > sum(self.factor(k) for k in CONTEXT_FACTORS)

    def as_dict(self) -> dict[str, float]:
        return {f.name: float(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Weights:
        """Weights from stored values; unknown keys are ignored, missing ones take defaults."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: float(v) for k, v in values.items() if k in known})


DEFAULT_WEIGHTS = Weights()


@dataclass(frozen=True, slots=True)
class Reason:
    """One sentence of an explanation, as a code and its parameters (country and theme ids,
    language and M49 region codes, counts, years): each interface renders it in its reader's
    language (``sscmatch.matching.reasons``)."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "params": dict(self.params)}


@dataclass(frozen=True, kw_only=True, slots=True)
class Proposal:
    """One ranked provider for one need.

    ``basis`` is ``capacity`` (a registered offer, ``capacity_id``) or ``experience`` (a
    fallback: no registered offer of the country fits, but it has provided related exchanges;
    ``capacity_id`` is None). ``addresses`` says whether the offer addresses the need's subject.
    ``components`` are the raw factors in [0, 1]; ``contributions`` are
    ``damping · w_i · c_i / Σw`` and sum to ``score``.
    """

    need_id: str
    recipient: str
    rank: int
    provider: str
    capacity_id: str | None
    institution: str | None
    score: float
    components: Mapping[str, float]
    contributions: Mapping[str, float]
    reasons: tuple[Reason, ...]
    basis: str = "capacity"
    addresses: bool = True
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
            "basis": self.basis,
            "addresses": self.addresses,
            "score": round(self.score, 6),
            "components": {k: round(v, 6) for k, v in self.components.items()},
            "contributions": {k: round(v, 6) for k, v in self.contributions.items()},
            "damping": round(self.damping, 6),
            "reasons": [r.to_dict() for r in self.reasons],
        }
