"""The matching engine: explainable (need, offer) scores, ranking and portfolio assignment.

Pure: frozen dataclasses in (``model.py``), proposals out; no Flask, database, clock, config
or files (the synthetic-data scripts read and write theirs through ``sscmatch.synthio``). The
use-case layer encodes records, vocabulary facts and text vectors into a ``Corpus``.

**Offers.** A need is matched to *offers*: each published capacity of a southern country
(OECD DAC members are funders of triangular cooperation, not providers) with a theme in one of
the need's theme families, and each country's *fallback offer*, its record of provided
exchanges, for when no registered capacity of it fits. One proposal per country: its best
offer. ``subject`` themes say what is learnt; cooperation types (peer learning, triangular
cooperation...) never make an offer address a need.

**Score** = Σ w_k·c_k / Σ w_k (each c_k in [0, 1]; the contributions add up to the score):

- topic: the closest taxonomy relation between the need's and the offer's subject themes:
  same 1, broader/narrower 0.9 (the offer *addresses* the need), sibling 0.3, same family
  0.15, else 0; a fallback offer takes 0.4 × the level of the closest exchange it provided.
- text: the cosine of the text vectors of need and offer (a fallback: of the country's
  provided exchanges), mapped from the text model's (low, high) to [0, 1]; 0.4 × for a fallback.
- experience: log(1 + E) / log(1 + E_max), E = ½·(exchanges provided + ¼·taken part in) +
  ½·(the same weighted by closeness to the need's best theme), each decayed with a half-life
  (10 years), E_max the most any country provided.
- relationship: 1 - (1 - (1 - 2^-D))(1 - 0.3·indirect); D = Σ decay over shared exchanges,
  1 for one the provider gave the recipient, else 1 / (members - 1) (a 13-country meeting is
  not a bilateral tie); indirect = ½ Jaccard + ½ AA/(AA+1) on the country graph (``graph.py``).
- region: same intermediate region 1, sub-region 0.85, region 0.6, shared SIDS/LDC/LLDC 0.4,
  else 0.1. language: shared 1, intelligible partial, else ``interpretation`` (0.2); unknown
  0.5. maturity: pilot 0.25 … institutionalised 1 (fallback 0.5). follow-through:
  (fulfilled + 1) / (decided + 2).

A fallback offer keeps the topic weight and weighs the rest of its record alike
(``scoring.fallback_weights``): one unit each (the mean context weight; text, taken at 0.4,
1 / 0.4 units), never above a registered offer's weight, over the same Σw.

**Topical fit first.** An offer that addresses the need has a topic at least 0.5 above any
that does not (``factors.OFF_TOPIC_GAP``); with the default weights topic · 0.5 = 3.25 exceeds
relationship + region + language = 3, so closeness, language and ties alone never lift an
offer that does not address the need above one that does (``Weights.topic_guarantee``; a
property test states it). Experience may: a country with a long record on neighbouring themes
can outrank a newcomer's exact offer, and the reasons say so.

**Hard constraints** (``reference.exclusion`` says which): open needs and published
capacities, created before ``as_of``; never a country with itself; no donor provider; vetoes
of a country pair or an offer; availability windows overlap; a capacity theme in a theme
family of the need.

**Ranking**: countries by score (rounded to 12 digits), then code, save near-ties, which a
shared language then a closer region decide (``ties.py``); a country's offers by
score, then capacity id, a capacity before the fallback. Hub damping (λ, default 0) divides a
country's score by 1 + λ·(needs it wins elsewhere)/(needs ranked). ``as_of``: only exchanges and
commitments before it, and capacities and needs created before it, exist.

Public API: ``prepare``, ``rank``, ``explain_exclusion``, the model classes;
``reference.ReferenceScorer`` is the per-pair specification, ``calibration`` fits the weights
on the history, ``evaluation`` replays it against simple rules.
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
    Reason,
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
    "Reason",
    "ThemeInfo",
    "Weights",
    "explain_exclusion",
    "prepare",
    "rank",
]
