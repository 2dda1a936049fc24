"""The matching engine: explainable (need, capacity) scores, ranking and portfolio assignment.

Pure: frozen dataclasses in (``model.py``), proposals out; no Flask, database, clock, config
or files (the synthetic-data scripts read and write theirs through ``sscmatch.synthio``). The
use-case layer encodes records and vocabulary facts into a ``Corpus``.

Score of a pair = Σ w_i·c_i / Σ w_i over the factors (each c_i in [0, 1]):

- theme: ``(1 - s)·taxonomy + s·text`` (s = ``theme_text_share``). Taxonomy: mean over the need's
  themes of the best similarity to a capacity theme (same 1, ancestor 0.7, sibling 0.4, same
  family 0.2). Text: rapidfuzz token-set ratio of content words plus language-neutral tokens of
  the theme terms (labels in every language, synonyms) found in title and description.
- language: 1 if a working language is shared (record languages, else the country's), the
  intelligibility credit of the best pair, else ``interpretation`` (0.2); unknown 0.5.
- region: same intermediate region 1, sub-region 0.85, region 0.6, shared grouping (SIDS, LDC,
  LLDC) 0.4, other 0.1.
- experience: 1 - 2^-E, E = Σ over the provider's past exchanges of role (provider 1,
  participant 0.5) × decay (half-life 5 years before ``as_of``) × taxonomy similarity of the
  exchange's themes to the need theme; best need theme.
- relationship: 1 - (1 - direct)(1 - 0.6·indirect); direct = 1 - 2^-D, D = Σ decay × (1 if the
  provider helped the recipient, 0.5 for any other shared exchange); indirect = ½ Jaccard +
  ½ AA/(AA+1) with Adamic-Adar on the undirected simple country projection (``graph.py``).
- maturity: pilot 0.25, operational 0.5, scaled 0.75, institutionalised 1, unknown 0.5.
- follow_through: (fulfilled + 1) / (fulfilled + dropped + 2) over the provider's commitments.

Hard constraints, outside the score (``explain_exclusion`` says which one): open needs and
published capacities only, created before ``as_of``; never a country with itself; vetoes of a
(provider, recipient) country pair or a (capacity, need) pair; availability windows overlap;
at least one capacity theme in a theme family of the need.

Ranking: at most one proposal per provider country per need (its best capacity), ordered by
score, then provider code, then capacity id (scores rounded to 12 digits); ranks 2..K are the
alternates. Hub damping: with W_p the number of open needs provider p wins at rank 1 without
damping (not counting this need) and N the number of needs with a candidate, p's score for this
need is multiplied by 1 / (1 + λ·W_p / N) (λ = ``hub_damping``, 0 turns it off); so a hub loses
a need only to a provider within that margin. ``contributions`` include the damping and sum to
the score. ``as_of``: only exchanges and commitments that started before it, and capacities and
needs created before it (undated records are visible), exist.

Public API: ``prepare``, ``rank``, ``explain_exclusion``, ``assign`` (portfolio), the model
classes; ``reference.ReferenceScorer`` is the per-pair specification.
"""

from sscmatch.matching.engine import PreparedCorpus, explain_exclusion, prepare, rank
from sscmatch.matching.model import (
    DEFAULT_WEIGHTS,
    FACTORS,
    CapacityItem,
    CommitmentItem,
    Corpus,
    CountryInfo,
    ExchangeItem,
    NeedItem,
    Proposal,
    ThemeInfo,
    Weights,
)

__all__ = [
    "DEFAULT_WEIGHTS",
    "FACTORS",
    "CapacityItem",
    "CommitmentItem",
    "Corpus",
    "CountryInfo",
    "ExchangeItem",
    "NeedItem",
    "PreparedCorpus",
    "Proposal",
    "ThemeInfo",
    "Weights",
    "explain_exclusion",
    "prepare",
    "rank",
]
