"""A list's filters and their values as the page shows them, for its refusals: a refused filter
names the filter by its label and the values it takes by their words, in the reader's language,
never by their codes (``min_score``, ``score_asc``, ``in_progress``, ``Americas``).

The use cases refuse a filter in English with the argument's code (``%(name)s``) and the codes
it takes (``%(known)s``); :func:`sscmatch.web.tourtext.message` and
:func:`sscmatch.web.messages.translated` say both through here.
``tests/web/test_filter_refusals.py`` walks every list page's filters in es, pt and fr.
"""

from __future__ import annotations

from typing import Any

from sscmatch.web.translate import lazy_gettext as _l

FILTER_LABELS: dict[str, Any] = {
    "min_score": _l("Score from"),
    "max_score": _l("Score up to"),
    "year": _l("Year"),
    "year_from": _l("From year"),
    "year_to": _l("To year"),
    "sort": _l("Sort"),
    "status": _l("Status"),
    "theme": _l("Theme"),
    "region": _l("Region"),
    "country": _l("Country"),
    "language": _l("Language"),
    "when": _l("Due"),
    "origin": _l("Origin"),
    "unread": _l("Only those not read yet"),
    "entity": _l("About"),
    "modality": _l("Modality"),
    "by": _l("Started by"),
}
"""A list's query argument → the filter's label."""

YES_NO: dict[str, Any] = {"1": _l("yes"), "true": _l("yes"), "0": _l("no"), "false": _l("no")}


def _value_labels() -> list[dict[str, Any]]:
    """The maps of coded filter values to their words, first match wins (read when asked: they
    live with their pages)."""
    from sscmatch.web import followup_list, registry, review
    from sscmatch.web.templating import (
        CONSTITUENCY_LABELS,
        ENTITY_LABELS,
        ROLE_LABELS,
        STATUS_LABELS,
    )

    return [
        STATUS_LABELS,
        review.SORT_LABELS,
        registry.SORT_LABELS,
        followup_list.WHEN_LABELS,
        followup_list.ORIGIN_LABELS,
        ENTITY_LABELS,
        ROLE_LABELS,
        CONSTITUENCY_LABELS,
        {"queued": _l("waiting")},
        YES_NO,
    ]


def filter_label(code: str) -> str:
    """The label of the filter ``code`` in the reader's language (the code if it has none)."""
    label = FILTER_LABELS.get(code)
    return code if label is None else str(label)


def _own_labels(name: str | None) -> list[dict[str, Any]]:
    """The words of the filter ``name``'s own values, where a code means something else in
    another filter ("overdue": a commitment's state, or the "due" filter's choice)."""
    from sscmatch.web import followup_list

    own = {"when": followup_list.WHEN_LABELS, "origin": followup_list.ORIGIN_LABELS}
    return [own[name]] if name in own else []


def value_word(code: str, name: str | None = None) -> str:
    """A filter's coded value as the page says it: a status, an order, a region's name…
    (``name``: the filter's argument, whose own words come first)."""
    from sscmatch.web.templating import region_name

    for labels in [*_own_labels(name), *_value_labels()]:
        if code in labels:
            return str(labels[code])
    named = region_name(code)
    return named or code


def value_words(known: str, name: str | None = None) -> str:
    """``known``, the codes a filter takes joined with ``, ``, as words: "borrador, propuesta"
    (``name``: the filter's argument)."""
    words = (value_word(code.strip(), name) for code in str(known).split(","))
    return ", ".join(dict.fromkeys(words))  # 1 and true both say "yes": once
