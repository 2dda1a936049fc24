"""The lower layers' English messages in the reader's language.

Schema validation (:mod:`sscmatch.schemas`, pydantic's own messages), partial dates, the
registry's and the analytics' filters say what is wrong in English sentences built from a fixed
shape and some values. Each shape is listed here once, as a message of the catalogue with its
values as placeholders; :func:`translated` recognises a sentence by its shape and says it again
in the reader's language, values kept (a value that is itself one of our words is translated
too). A sentence of no known shape is returned as it is (the crawl in
``tests/web/test_every_word_translated.py`` fails on one that reaches a page). Messages that
carry their template and values already (study tours, commitments) go through
:mod:`sscmatch.web.tourtext` instead.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from sscmatch import dates
from sscmatch.web import filterwords
from sscmatch.web.fieldnames import FIELD_LABELS
from sscmatch.web.templating import STATUS_LABELS, number, period
from sscmatch.web.translate import gettext
from sscmatch.workflow.base import N_
from sscmatch.workflow.registry.records import SET_BY_THE_SERVICE

DATE_VALUES = ("start", "end")
"""Values that are dates: shown as the reader writes a date (``mai 2027``), never in ISO."""

SHAPES = (
    # partial dates: every refusal of sscmatch.dates, the one rule (never Python's own reasons)
    *dates.MESSAGES,
    # record schemas (sscmatch.schemas) and the registry's reading of them
    N_("unknown country code %(value)s (expected ISO 3166-1 alpha-3, e.g. BRA)"),
    N_("unknown language code %(value)s (expected ISO 639-1, e.g. es)"),
    N_("an exchange needs at least one country (providers, recipients or participants)"),
    N_("a one_way exchange needs both providers and recipients"),
    N_(
        "not a valid id (expected up to 80 letters, digits, '.', '_', ':' or '-', starting "
        "with a letter or digit)"
    ),
    N_(
        "%(what)s is required (only a record held by an international or regional body, "
        "named as its institution, has no country)"
    ),
    N_("unknown field"),
    N_("unknown institution %(value)s"),
    # the registry's references (sscmatch.workflow.registry.records._check_references)
    N_("unknown theme %(value)s (did you mean %(hint)s?)"),
    N_("institution %(value)s belongs to %(country)s, not %(other)s"),
    N_(
        "country is required (only a record held by an international or regional body has "
        "none, and %(value)s is not one)"
    ),
    N_("this field is required"),
    N_("choose at least one theme"),
    N_("a title is required"),
    N_("too long (%(n)s characters; at most %(limit)s)"),
    N_("too long (at most %(limit)s characters)"),
    N_("too many items (at most %(n)s)"),
    N_("item %(n)s: %(rest)s"),
    # a version an edit carries that cannot be read (sscmatch.db.BadVersion)
    N_("version is required (the version you read, for conflict checks)"),
    N_("version must be a whole number"),
    # the registry's own refusals of a field (sscmatch.workflow.registry)
    N_("the id of a record cannot change"),
    N_("say what the focal point should change (a note is required)"),
    SET_BY_THE_SERVICE,
    # pydantic's own
    N_("Input should be greater than or equal to %(n)s"),
    N_("Input should be less than or equal to %(n)s"),
    N_("Input should be greater than %(n)s"),
    N_("Input should be a valid integer, unable to parse string as an integer"),
    N_("Input should be a valid integer"),
    N_("Input should be a valid number, unable to parse string as a number"),
    N_("Input should be a valid number"),
    N_("Field required"),
    N_("Extra inputs are not permitted"),
    N_("String should have at most %(n)s characters"),
    N_("Input should be %(known)s"),
    N_("Input should be %(known)s or %(last)s"),  # a literal's values: "'a', 'b' or 'c'"
    N_("Input should be a valid string"),
    N_("Input should be a valid string, unable to parse raw data as a unicode string"),
    N_("Input should be a valid list"),
    N_("Input should be a valid dictionary"),
    N_("Input should be a valid dictionary or instance of %(model)s"),
    N_("Input should be a valid boolean"),
    N_("Input should be a valid boolean, unable to interpret input"),
    N_("Input should be a valid integer, got a number with a fractional part"),
    N_("Unable to parse input string as an integer, exceeded maximum size"),
    N_("String should have at least %(n)s character"),
    N_("String should have at least %(n)s characters"),
    N_("Value should have at least %(n)s item after validation, not %(got)s"),
    N_("Value should have at least %(n)s items after validation, not %(got)s"),
    # list filters (sscmatch.workflow.registry)
    N_("unknown region %(value)s (expected an M49 region or sub-region name)"),
    N_("unknown theme %(value)s"),
    N_("unknown country %(value)s (expected an ISO alpha-3 code such as GTM)"),
    N_("unknown language %(value)s (expected an ISO 639-1 code such as es)"),
    N_("year must be four digits, e.g. 2019 (got %(value)s)"),
    N_("sort must be one of %(known)s (got %(value)s)"),
    N_("page must be 1 or more"),
    N_("status must be draft, published or archived (got %(value)s)"),
    N_("status must be draft, open, matched or closed (got %(value)s)"),
    N_("exchanges have no status to filter on"),
    # network filters (sscmatch.analytics.filters)
    N_("unknown theme %(value)s; %(hint)s"),
    N_("did you mean: %(names)s?"),
    N_("%(name)s must be a year such as 2015, not %(value)s"),
    N_("%(name)s must be between %(low)s and %(high)s"),
    N_("year_from must not be after year_to"),
    N_("unknown region %(value)s; expected one of %(known)s"),
    N_("unknown modality %(value)s; expected one of %(known)s"),
    N_("unknown constituency %(value)s; expected one of %(known)s"),
    # the review queue's filters (sscmatch.workflow.proposals)
    N_("unknown status %(value)s (expected one of %(known)s)"),
    N_("unknown sort %(value)s (expected one of %(known)s)"),
    N_("unknown country code %(value)s (expected e.g. GTM)"),
    N_("page must be a whole number from 1 to %(n)s"),
    N_("min_score must be a number between 0 and 1"),
    N_("max_score must be a number between 0 and 1"),
    N_("min_score must not be above max_score"),
)
# The placeholders that hold a count or a bound (characters, items, a maximum), written the
# reader's way ("au plus 20 000"); a value someone typed or a year stays as it was given.
COUNTS = frozenset({"n", "limit", "got"})
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@functools.cache
def _patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    out = []
    for message in SHAPES:
        parts = _PLACEHOLDER.split(message)
        regex = "".join(
            re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts)
        )
        out.append((message, re.compile(f"^{regex}$", re.S)))
    # the most specific shape first: more fixed text wins over a shape made mostly of values
    out.sort(key=lambda item: -len(_PLACEHOLDER.sub("", item[0])))
    return tuple(out)


def alone(template: str) -> str:
    """A message's template (in the reader's language) as it reads on its own, before its values
    are filled in: a flash, the error page, the API's ``message`` start with a capital ("la gira
    empieza el %(day)s…" → "La gira empieza el %(day)s…"). The catalogue's messages begin in
    lower case so that they can follow a field's name ("Fin: el plazo…"), and there they stay.
    Only a lower-case letter opening the template changes: a message that opens with a value
    (``%(value)s no es una fecha``, a code someone typed) keeps the value as it was given."""
    return template[:1].upper() + template[1:] if template[:1].islower() else template


def translated(text: str | None, *, on_its_own: bool = False) -> str:
    """``text`` in the reader's language if it has a known shape, else as it is; ``on_its_own``:
    shown alone, so starting a sentence (:func:`alone`)."""
    if not text:
        return text or ""
    text = str(text)
    for message, pattern in _patterns():
        found = pattern.match(text)
        if found is None:
            continue
        values: dict[str, Any] = {}
        for name, value in found.groupdict().items():
            if name in ("rest", "why", "hint"):
                values[name] = translated(value)  # a sentence of its own
            elif name == "what" and value in FIELD_LABELS:  # a field, named by its label
                values[name] = str(FIELD_LABELS[value])
            elif name == "known":  # the codes a filter takes, as words
                values[name] = filterwords.value_words(value, found.groupdict().get("name"))
            elif name == "name" and value in filterwords.FILTER_LABELS:  # a filter's label
                values[name] = filterwords.filter_label(value)
            elif name in DATE_VALUES:
                values[name] = period(value)
            elif name in COUNTS and value.isascii() and value.isdigit():
                values[name] = number(int(value), 0)  # "20 000" in French, as every figure
            elif value in STATUS_LABELS:
                values[name] = str(STATUS_LABELS[value])
            else:
                values[name] = value
        template = gettext(message)
        template = alone(template) if on_its_own else template
        return template % values if values else template
    return text
