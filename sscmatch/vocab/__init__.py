"""Controlled vocabularies: countries, languages and themes, and how free text resolves to them.

The base layer of sscmatch: it reads ``data/vocab/*.csv`` and uses pycountry, Babel and
rapidfuzz, nothing else from the project. Everything here is immutable once loaded.

>>> vocab = load_vocabulary()
>>> vocab.resolve_country("Brasil").value
'BRA'
>>> vocab.resolve_theme("inspección laboral").value
'labour-inspection'
>>> vocab.theme_relation("enforcement", "labour-inspection")
'child'

Resolution never guesses silently: a text is ``exact`` when its normalised form (case,
accents, spacing and punctuation ignored) names exactly one entry, ``fuzzy`` when one entry
is a clear best near-match, ``ambiguous`` when two or more entries fit equally well, and
``unknown`` otherwise; ``ambiguous`` and ``unknown`` carry the candidates for a
"did you mean ..." message.

The package holds one concept per module: :mod:`~sscmatch.vocab.records` (the frozen records),
:mod:`~sscmatch.vocab.index` (normalising text and the lookup table that resolves it),
:mod:`~sscmatch.vocab.vocabulary` (the vocabulary and its relations),
:mod:`~sscmatch.vocab.languages` (the languages' catalogue) and :mod:`~sscmatch.vocab.loading`
(reading ``data/vocab/*.csv``). Import the public names from ``sscmatch.vocab``.
"""

from __future__ import annotations

from sscmatch.vocab.index import FUZZY_THRESHOLD, normalise
from sscmatch.vocab.loading import VocabularyError, default_data_dir, load_vocabulary
from sscmatch.vocab.records import (
    INTERFACE_LANGUAGES,
    NAME_LANGUAGES,
    Country,
    Language,
    Resolution,
    Theme,
)
from sscmatch.vocab.vocabulary import Vocabulary, haversine_km

__all__ = [
    "FUZZY_THRESHOLD",
    "INTERFACE_LANGUAGES",
    "NAME_LANGUAGES",
    "Country",
    "Language",
    "Resolution",
    "Theme",
    "Vocabulary",
    "VocabularyError",
    "default_data_dir",
    "haversine_km",
    "load_vocabulary",
    "normalise",
]
