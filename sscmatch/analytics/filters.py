"""What the analyst chose to look at: theme (with its children), years, region, modality and
constituency, read from query arguments and checked against the vocabularies.

>>> from sscmatch.vocab import load_vocabulary
>>> f = parse_filters({"theme": "enforcement", "year_from": "2008"}, load_vocabulary())
>>> "labour-inspection" in f.themes, f.year_from
(True, 2008)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sscmatch.schemas import CONSTITUENCIES, MODALITIES, whole_number
from sscmatch.vocab import Vocabulary
from sscmatch.workflow.base import N_, BadParameter

FILTER_KEYS = ("theme", "year_from", "year_to", "region", "modality", "constituency")
YEAR_MIN, YEAR_MAX = 1900, 2100


class FilterError(BadParameter):
    """A filter value the service does not know; the message says what is expected."""

    code = "bad_filter"


@dataclass(frozen=True)
class Filters:
    """Chosen filters; empty fields mean "all". ``themes`` is the theme plus its children."""

    theme: str | None = None
    themes: frozenset[str] = field(default_factory=frozenset)
    year_from: int | None = None
    year_to: int | None = None
    region: str | None = None
    modality: str | None = None
    constituency: str | None = None

    def args(self) -> dict[str, str]:
        """The filters as query arguments (only the ones set), for links and downloads."""
        out: dict[str, str] = {}
        for key in FILTER_KEYS:
            value = getattr(self, key)
            if value is not None:
                out[key] = str(value)
        return out

    def key(self) -> tuple[object, ...]:
        return tuple(getattr(self, k) for k in FILTER_KEYS)

    @property
    def active(self) -> bool:
        return any(getattr(self, k) is not None for k in FILTER_KEYS)


def regions(vocab: Vocabulary) -> list[str]:
    """M49 regions that have countries (Antarctica aside), sorted."""
    return sorted({c.region for c in vocab.countries.values() if c.region} - {"Antarctica"})


def _year(raw: str, name: str) -> int:
    value = whole_number(raw)
    if value is None:
        raise FilterError(
            N_("%(name)s must be a year such as 2015, not %(value)s"),
            name=name,
            value=repr(raw[:20]),
        )
    if not YEAR_MIN <= value <= YEAR_MAX:
        raise FilterError(
            N_("%(name)s must be between %(low)s and %(high)s"),
            name=name,
            low=YEAR_MIN,
            high=YEAR_MAX,
        )
    return value


def parse_filters(args: Mapping[str, str], vocab: Vocabulary) -> Filters:
    """Read filters from query arguments; blank values are ignored. Raises FilterError."""

    def get(name: str) -> str | None:
        value = args.get(name)
        value = value.strip() if isinstance(value, str) else None
        return value or None

    theme = get("theme")
    themes: frozenset[str] = frozenset()
    if theme is not None:
        if theme not in vocab.themes:
            resolved = vocab.resolve_theme(theme)
            if not resolved.ok or resolved.value is None:
                names = ", ".join(key for key, _ in resolved.candidates)
                raise FilterError(
                    N_("unknown theme %(value)s; did you mean: %(names)s?")
                    if names
                    else N_("unknown theme %(value)s"),
                    value=repr(theme),
                    names=names,
                )
            theme = resolved.value
        themes = frozenset({theme, *vocab.children(theme)})
    raw_from, raw_to = get("year_from"), get("year_to")
    year_from = _year(raw_from, "year_from") if raw_from else None
    year_to = _year(raw_to, "year_to") if raw_to else None
    if year_from is not None and year_to is not None and year_from > year_to:
        raise FilterError(N_("year_from must not be after year_to"))
    region = get("region")
    known = regions(vocab)
    if region is not None and region not in known:
        raise FilterError(
            N_("unknown region %(value)s; expected one of %(known)s"),
            value=repr(region),
            known=", ".join(known),
        )
    modality = get("modality")
    if modality is not None and modality not in MODALITIES:
        raise FilterError(
            N_("unknown modality %(value)s; expected one of %(known)s"),
            value=repr(modality),
            known=", ".join(MODALITIES),
        )
    constituency = get("constituency")
    if constituency is not None and constituency not in CONSTITUENCIES:
        raise FilterError(
            N_("unknown constituency %(value)s; expected one of %(known)s"),
            value=repr(constituency),
            known=", ".join(CONSTITUENCIES),
        )
    return Filters(theme, themes, year_from, year_to, region, modality, constituency)
