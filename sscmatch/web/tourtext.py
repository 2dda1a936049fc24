"""Study tour text in the reader's language: the generated draft, cost lines, and the use cases'
errors and field problems.

A drafted tour stores its generated text in English (the API, exports and the calendar read it),
written from the messages of :mod:`sscmatch.workflow.tours.programme`. A page shows such a text,
while nobody has edited it, in its reader's language: the text is matched against those messages
(each turned into a pattern), and its values are shown translated where they are ours (a country
name, a filler such as "the practice"); the practice's and the need's titles are data and stay as
written. What people wrote instead matches no message and is shown as they wrote it.
"""

from __future__ import annotations

import functools
import re
from datetime import date, datetime
from typing import Any

from sscmatch.dates import PartialDate, moment_words
from sscmatch.models import StudyTour
from sscmatch.vocab import Vocabulary, load_vocabulary
from sscmatch.web import filterwords
from sscmatch.web.messages import alone
from sscmatch.web.templating import (
    ROLE_LABELS,
    STATUS_LABELS,
    country_name,
    number,
    period,
    tour_status_label,
)
from sscmatch.web.translate import current_lang, gettext
from sscmatch.web.translate import lazy_gettext as _l
from sscmatch.workflow import tours as wf

MODALITY_LABELS = {
    "study_tour": _l("Study tour"),
    "technical_assistance": _l("Technical assistance"),
    "expert_exchange": _l("Expert exchange"),
    "virtual_exchange": _l("Virtual exchange"),
}
KIND_LABELS = {
    "opening": _l("Opening"),
    "presentation": _l("Presentation"),
    "discussion": _l("Discussion"),
    "field_visit": _l("Field visit"),
    "beneficiaries": _l("Meeting with beneficiaries"),
    "closing": _l("Closing session"),
    "travel": _l("Travel"),
    "other": _l("Other"),
}
COST_ITEM_LABELS: dict[str, Any] = {
    "travel": _l("Travel"),
    "per_diem": _l("Per diem"),
    "local_transport": _l("Local transport"),
    "interpretation": _l("Interpretation"),
}
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _pattern(message: str) -> re.Pattern[str]:
    parts = _PLACEHOLDER.split(message)
    regex = "".join(
        re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts)
    )
    return re.compile(f"^{regex}$", re.S)


@functools.cache
def _patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((m, _pattern(m)) for m in wf.GENERATED)


@functools.lru_cache(maxsize=4)
def _country_codes(vocab: Vocabulary) -> dict[str, str]:
    """English country name → code (the draft wrote English names)."""
    return {c.name(): code for code, c in vocab.countries.items()}


def _value(name: str, value: str) -> str:
    if name.endswith("_country"):
        code = _country_codes(load_vocabulary()).get(value)
        return country_name(code) if code else value
    if value in wf.FILLERS:
        return gettext(value)
    return value


def kind_label(kind: str) -> str:
    """A session kind's name in the reader's language (the page's and the calendar's)."""
    return str(KIND_LABELS.get(kind, kind))


def agenda_calendar(tour: StudyTour, domain: str) -> str:
    """The tour's agenda as an iCalendar file in the reader's language: the words the tour's
    page shows (:func:`tour_text`, :func:`kind_label`), not the stored English."""
    return wf.agenda_ics(tour, domain=domain, words=tour_text, kind_label=kind_label)


def tour_text(text: str | None) -> str:
    """``text`` in the reader's language if it is generated and unedited, else as written."""
    if not text:
        return text or ""
    for message, pattern in _patterns():
        found = pattern.match(text)
        if found is not None:
            values = {k: _value(k, v) for k, v in found.groupdict().items()}
            return gettext(message, **values)
    return text


_BASIS = {
    "travel": re.compile(
        r"^(?P<people>\d+) × return ticket (?P<ticket>\d+)(?: \((?P<km>\d+) km.*)?$"
    ),
    "per_diem": re.compile(r"^(?P<people>\d+) × (?P<nights>\d+) nights × (?P<rate>[\d.]+)$"),
    "local_transport": re.compile(r"^(?P<days>\d+) days × (?P<rate>[\d.]+)$"),
    "interpretation": re.compile(r"^(?P<days>\d+) days × (?P<rate>[\d.]+)$"),
}


def cost_item(item: dict[str, Any]) -> str:
    name = str(item.get("item", ""))
    return str(COST_ITEM_LABELS.get(name, name))


def _number(value: Any) -> str:
    """A figure of a cost line as the reader writes it (``2.339``, ``2 339``, ``220,50``)."""
    if isinstance(value, int) and not isinstance(value, bool):  # float() of 10**400 overflows
        return number(value, 0)
    figure = float(value)
    return number(figure, 0 if figure.is_integer() else 2)  # int(inf) would raise


def cost_basis(item: dict[str, Any]) -> str:
    """How a cost line was computed, in the reader's language (from the values it keeps; an
    older line, stored with its English basis only, is read back from that basis)."""
    name = str(item.get("item", ""))
    values = item.get("values")
    if not isinstance(values, dict):
        pattern = _BASIS.get(name)
        found = pattern.match(str(item.get("basis", ""))) if pattern else None
        if found is None:
            return str(item.get("basis", ""))
        values = {k: v for k, v in found.groupdict().items() if v is not None}
    try:
        if name == "travel":
            text = gettext(
                "%(people)s × return ticket %(ticket)s",
                people=_number(values["people"]),
                ticket=_number(values["ticket"]),
            )
            if values.get("km") is not None:
                text += " " + gettext("(%(km)s km between capitals)", km=_number(values["km"]))
            return text
        if name == "per_diem":
            return gettext(
                "%(people)s × %(nights)s nights × %(rate)s",
                people=_number(values["people"]),
                nights=_number(values["nights"]),
                rate=_number(values["rate"]),
            )
        if name in ("local_transport", "interpretation"):
            return gettext(
                "%(days)s days × %(rate)s",
                days=_number(values["days"]),
                rate=_number(values["rate"]),
            )
    except (KeyError, TypeError, ValueError):
        pass
    return str(item.get("basis", ""))


YEARS = ("low", "high", "year", "since", "latest")
"""Parameters that hold a year (the years a date may have, a filter's): a name, not a quantity,
so never grouped ("from 1900 to 2100", not "1,900")."""


def _param(name: str, value: Any, of_a_tour: bool = False) -> Any:
    if of_a_tour and name in ("status", "to", "known") and isinstance(value, str):
        return ", ".join(tour_status_label(code.strip()) for code in value.split(","))
    if name == "known" and isinstance(value, str):  # the codes a filter takes, as words
        return filterwords.value_words(value)  # (message: the named filter's own first)
    if name == "name" and value in filterwords.FILTER_LABELS:  # a filter, by its label
        return filterwords.filter_label(value)
    if name in ("status", "to") and isinstance(value, str):
        return STATUS_LABELS.get(value, value)
    if name.endswith("_country") and isinstance(value, str):  # a country's code, named
        return country_name(value)
    if name == "role" and isinstance(value, str):  # a role's code ("focal_point"), named
        return ROLE_LABELS.get(value, value)
    if isinstance(value, PartialDate) or (
        isinstance(value, date) and not isinstance(value, datetime)
    ):
        return period(value)  # a date as the reader writes it ("12 mars 2008"), never ISO
    if isinstance(value, datetime):  # a moment (in UTC, as the messages say): "6 déc. 2026, 04:36"
        return moment_words(value, current_lang())
    if isinstance(value, str):
        return gettext(value)  # the English of one of our messages ("the title"), else as is
    if isinstance(value, int | float) and not isinstance(value, bool) and name not in YEARS:
        return _number(value)  # a figure as the reader writes it ("20.001 caracteres")
    return value


def message(text: str, params: Any = None, *, on_its_own: bool = False) -> str:
    """A use case's English message of the catalogue with its values, in the reader's language;
    ``on_its_own``: shown alone (a flash, the error page), so starting a sentence
    (:func:`sscmatch.web.messages.alone`), not after a field's name."""
    # A message that names a study tour gives its statuses the forms that agree with the tour's
    # noun (fr "voyage d'étude proposé", not the shared "proposée"; TOUR_STATUS_LABELS).
    of_a_tour = "study tour" in text
    values = {k: _param(k, v, of_a_tour) for k, v in dict(params or {}).items()}
    if isinstance(values.get("known"), str) and not of_a_tour:  # the filter's own words first
        values["known"] = filterwords.value_words(params["known"], params.get("name"))
    template = gettext(text)
    if on_its_own:
        template = alone(template)
    try:
        return template % values if values else template
    except (KeyError, ValueError, TypeError):
        return text % dict(params or {}) if params else text
