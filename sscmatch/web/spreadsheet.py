"""The spreadsheet (.xlsx) of every export: what the list shows, for a person to read.

CSV and JSON are the machine formats (stable column codes, stable value codes, documented and
re-importable); the spreadsheet is the reader's: each column has a header in the reader's
language and a way to show its values as the pages do (a status by its label, a country or a
region by its name, themes by their labels, yes or no), numbers stay numbers and full dates and
moments are real dates (the spreadsheet program writes them the reader's way: built-in formats
14 and 22 follow the reader's locale). Partial dates (``2014``, ``2014-03``) are written as the
pages write them (``marzo de 2014``).

One mechanism for every export: :data:`COLUMNS` says, for each column code, its header and how
its values show (:data:`SHOWS`), :data:`OVERRIDES` where one list's column means something else
(a node's ``id`` is a country); :func:`workbook` writes sheets of rows as the CSV has them
(``sscmatch.web.exports`` and the network and chart downloads call it). A column without a spec
raises :class:`KeyError`: ``tests/web/test_exports_spreadsheet.py`` walks every export.

Written with XlsxWriter in constant-memory mode (row by row, flushed to a temporary file), every
string with ``write_string``: a cell beginning with ``=``, ``+``, ``-`` or ``@`` is text, never
a formula (the "CSV injection" the CSV writer neutralises with an apostrophe).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import xlsxwriter

from sscmatch.dates import PartialDate, PartialDateError
from sscmatch.web.fieldnames import FIELD_LABELS
from sscmatch.web.registry import MODALITY_LABELS, PRIORITY_LABELS
from sscmatch.web.review import FIT_LABELS
from sscmatch.web.review_notes import note_text
from sscmatch.web.templating import (
    CONSTITUENCY_LABELS,
    ENTITY_LABELS,
    MATURITY_LABELS,
    ROLE_LABELS,
    STATUS_LABELS,
    action_label,
    country_name,
    institution_name,
    language_name,
    period,
    region_name,
    theme_label,
)
from sscmatch.web.translate import lazy_gettext as _l
from sscmatch.web.translate import ngettext

MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATE_FORMAT = 14  # Excel's built-in short date: shown in the reader's locale
MOMENT_FORMAT = 22  # built-in date and time, likewise
Cell = str | int | float | date | datetime | None

YES, NO = _l("yes"), _l("no")
DIRECTION_LABELS: dict[str, Any] = {
    "one_way": _l("one way"),
    "reciprocal": _l("reciprocal"),
    "multilateral": _l("multilateral"),
}
BASIS_LABELS: dict[str, Any] = {
    "capacity": _l("registered capacity"),
    "experience": _l("related experience"),
}
ORIGIN_LABELS: dict[str, Any] = {
    "documents": _l("Recorded from the documents"),
    "study_tour": _l("Planned in sscmatch"),
}
LINK_KIND_LABELS: dict[str, Any] = {"directed": _l("directed"), "joint": _l("joint")}
GIVES_AND_RECEIVES_LABELS: dict[str, Any] = {
    "both": YES,
    "reciprocal": _l("yes, in a reciprocal exchange"),
    "neither": NO,
}
"""A network country's "gives and receives" in the page's words (``gives_and_receives`` in
templates/_macros.html); the code is :func:`sscmatch.web.network.sheet_countries`'s."""
BROWSER_LANGUAGE_LABEL = _l("The browser's language")


def _labelled(labels: Mapping[str, Any]) -> Callable[[Any], Cell]:
    return lambda v: None if v in (None, "") else str(labels.get(v, v))


def _listed(one: Callable[[Any], Cell]) -> Callable[[Any], Cell]:
    """Many values (a list, or the CSV's ``;``-joined text) shown one by one, joined by ``, ``."""

    def show(value: Any) -> Cell:
        if value in (None, ""):
            return None
        items = value if isinstance(value, list | tuple) else str(value).split(";")
        return ", ".join(str(one(v)) for v in items if v not in (None, ""))

    return show


def _number(value: Any) -> Cell:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    try:
        found = float(value)
    except ValueError:
        return str(value)
    return int(found) if found.is_integer() and "." not in str(value) else found


def _yes_no(value: Any) -> Cell:
    if value in (None, ""):
        return None
    truth = value if isinstance(value, bool) else str(value).lower() in ("true", "1", "yes")
    return str(YES if truth else NO)


def _date(value: Any) -> Cell:
    """A full date as a date, a partial one as the pages write it."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        found = value if isinstance(value, PartialDate) else PartialDate.parse(str(value))
    except PartialDateError:
        return str(value)
    return found.first if found.precision == "day" else period(found)


def _moment(value: Any) -> Cell:
    """A moment (``2026-12-04T21:03:07Z``, UTC) as a date and time without a zone (the header
    says UTC): what a spreadsheet holds."""
    if value in (None, ""):
        return None
    found: datetime
    if isinstance(value, datetime):
        found = value
    else:
        try:
            found = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return str(value)
    if found.tzinfo is not None:
        found = found.astimezone(UTC)
    return found.replace(tzinfo=None, microsecond=0)


def _language(value: Any) -> Cell:
    if value is None:
        return None
    return str(BROWSER_LANGUAGE_LABEL) if value == "" else language_name(value)


def _text(value: Any) -> Cell:
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _community(value: Any) -> Cell:
    """A network community as the pages number it: from 1; none (``-1``) blank, where the
    page writes a dash. The machine formats keep networkx's 0-based index."""
    found = _number(value)
    return found + 1 if isinstance(found, int) and found >= 0 else None


def _field_names(value: Any) -> Cell:
    """Fields named by their codes (an audit event's changed fields), by their labels in the
    reader's language, as the audit page names them."""
    from sscmatch.web.auditfields import audit_field_label  # it reads COLUMNS

    return _listed(audit_field_label)(value)


SHOWS: dict[str, Callable[[Any], Cell]] = {
    "text": _text,
    "number": _number,
    "yes_no": _yes_no,
    "date": _date,
    "moment": _moment,
    "country": lambda v: country_name(v) or None,
    "countries": _listed(country_name),
    "institutions": _listed(institution_name),
    "region": lambda v: region_name(v) or None,
    "theme": lambda v: theme_label(v) if v else None,
    "themes": _listed(theme_label),
    "language": _language,
    "languages": _listed(language_name),
    "status": _labelled(STATUS_LABELS),
    "modality": _labelled(MODALITY_LABELS),
    "modalities": _listed(_labelled(MODALITY_LABELS)),
    "priority": _labelled(PRIORITY_LABELS),
    "maturity": _labelled(MATURITY_LABELS),
    "direction": _labelled(DIRECTION_LABELS),
    "basis": _labelled(BASIS_LABELS),
    "fit": _labelled(FIT_LABELS),
    "origin": _labelled(ORIGIN_LABELS),
    "link_kind": _labelled(LINK_KIND_LABELS),
    "gives_and_receives": _labelled(GIVES_AND_RECEIVES_LABELS),
    "community": _community,
    "role": _labelled(ROLE_LABELS),
    "constituency": _labelled(CONSTITUENCY_LABELS),
    "entity": _labelled(ENTITY_LABELS),
    "action": lambda v: action_label(v) if v else None,
    "note_code": lambda v: note_text(None, v) or None if v else None,
    "fields": _field_names,
}
"""How a column's values show: each takes the value as the CSV row has it (a code, a list or
``;``-joined text, ISO dates and moments)."""
CODED = frozenset(SHOWS) - {"text", "number", "date", "moment"}
"""The shows that turn a code into words (a test checks no code is left in a reader's sheet)."""


@dataclass(frozen=True)
class Column:
    """A column of a spreadsheet: its header in the reader's language, how its values show
    (a name of :data:`SHOWS`) and, for a number, its decimals (None: as it comes)."""

    header: Any
    show: str = "text"
    digits: int | None = None


def _field(code: str, show: str = "text") -> Column:
    return Column(FIELD_LABELS[code], show)


COLUMNS: dict[str, Column] = {
    "id": _field("id"),
    "country": _field("country", "country"),
    "institution": _field("institution"),
    "title": _field("title"),
    "description": _field("description"),
    "themes": _field("themes", "themes"),
    "languages": _field("languages", "languages"),
    "priority": _field("priority", "priority"),
    "modalities": _field("modalities", "modalities"),
    "maturity": _field("maturity", "maturity"),
    "max_per_year": _field("max_per_year", "number"),
    "available_from": _field("available_from", "date"),
    "available_to": _field("available_to", "date"),
    "desired_from": _field("desired_from", "date"),
    "desired_to": _field("desired_to", "date"),
    "status": _field("status", "status"),
    "created": _field("created", "date"),
    "source": _field("source"),
    "start": _field("start", "date"),
    "end": _field("end", "date"),
    "providers": _field("providers", "countries"),
    "recipients": _field("recipients", "countries"),
    "participants": _field("participants", "countries"),
    "partners": _field("partners", "institutions"),
    "modality": _field("modality", "modality"),
    "direction": _field("direction", "direction"),
    "exchange": _field("exchange"),
    "study_tour": _field("study_tour"),
    "owner_country": _field("owner_country", "country"),
    "owner_institution": _field("owner_institution"),
    "due": _field("due", "date"),
    "evidence": _field("evidence"),
    "note": _field("note"),
    "note_code": Column(_l("What the service noted"), "note_code"),
    "interpretation": _field("interpretation", "yes_no"),
    # proposals
    "run_id": Column(_l("Match run"), "number"),
    "need": Column(_l("Need"), "text"),
    "need_title": Column(_l("Title of the need")),
    "capacity": Column(_l("Capacity")),
    "capacity_title": Column(_l("Title of the capacity")),
    "basis": Column(_l("Proposed for"), "basis"),
    "provider": Column(_l("Provider"), "country"),
    "recipient": Column(_l("Recipient"), "country"),
    "rank": Column(_l("Rank"), "number"),
    "score": Column(_l("Score"), "number", 2),
    "recipient_fit": Column(_l("Recipient's answer"), "fit"),
    # commitments
    "overdue": Column(_l("Overdue"), "yes_no"),
    "days_left": Column(_l("Days left"), "number"),
    "recorded_from": Column(_l("Origin"), "origin"),
    # needs to review
    "candidates": Column(_l("Candidates"), "number"),
    "confirmed": Column(_l("Confirmed by the provider"), "number"),
    "declined": Column(_l("Declined by the provider"), "number"),
    "awaiting": Column(_l("Awaiting an answer"), "number"),
    "best": Column(_l("Best score"), "number", 2),
    "since": Column(_l("Waiting since (UTC)"), "moment"),
    # study tours
    "host_country": Column(_l("Host country"), "country"),
    "visiting_country": Column(_l("Visiting country"), "country"),
    "proposal_id": Column(_l("Proposal"), "number"),
    # background work (runs, calibrations, imports)
    "created_at": Column(_l("Created (UTC)"), "moment"),
    "created_by": Column(_l("Started by")),
    "finished_at": Column(_l("Finished (UTC)"), "moment"),
    "as_of": Column(_l("As of"), "date"),
    "top_k": Column(_l("Proposals per need"), "number"),
    "needs_total": Column(_l("Needs to match"), "number"),
    "needs_done": Column(_l("Needs matched"), "number"),
    "proposal_count": Column(_l("Proposals"), "number"),
    "error": Column(_l("Problem")),
    "window": Column(_l("Years held out"), "number"),
    "cases": Column(_l("Cases"), "number"),
    "projects": Column(_l("Projects"), "number"),
    "file": Column(_l("File")),
    "problem_count": Column(_l("Problems"), "number"),
    # users and the audit log
    "email": Column(_l("Email address")),
    "name": Column(_l("Name")),
    "role": Column(_l("Role"), "role"),
    "constituency": Column(_l("Constituency"), "constituency"),
    "language": Column(_l("Language"), "language"),
    "active": Column(_l("Active account"), "yes_no"),
    "last_login_at": Column(_l("Last signed in (UTC)"), "moment"),
    "at": Column(_l("When (UTC)"), "moment"),
    "user": Column(_l("Who")),
    "action": Column(_l("Action"), "action"),
    "entity": Column(_l("Record type"), "entity"),
    "entity_id": Column(_l("Record")),
    "changed": Column(_l("Fields changed"), "fields"),
    # notices
    "kind": Column(_l("Kind of notice")),
    "text": Column(_l("Text")),
    "read_at": Column(_l("Read (UTC)"), "moment"),
    # vetoes
    "reason": Column(_l("Reason")),
    # countries with activity
    "region": Column(_l("Region"), "region"),
    "capacities": Column(_l("Capacities"), "number"),
    "needs": Column(_l("Needs"), "number"),
    "open_needs": Column(_l("Open needs"), "number"),
    "provided": Column(_l("Exchanges as provider"), "number"),
    "received": Column(_l("Exchanges as recipient"), "number"),
    "joint": Column(_l("Joint exchanges"), "number"),
    "commitments": Column(_l("Commitments"), "number"),
    # the network's countries and links
    "label": Column(_l("Name")),
    "subregion": Column(_l("Sub-region"), "region"),
    "total": Column(_l("Exchanges in all"), "number"),
    "betweenness": Column(_l("Betweenness"), "number", 4),
    "pagerank": Column(_l("PageRank"), "number", 4),
    "community": Column(_l("Community"), "number"),
    "reciprocal": Column(_l("Reciprocal links"), "number"),
    "x": Column(_l("Position x"), "number", 1),
    "y": Column(_l("Position y"), "number", 1),
    "target": Column(_l("Partner country"), "country"),
    "exchanges": Column(_l("Exchanges"), "number"),
    "exchange_ids": Column(_l("Exchange ids")),
    "years": Column(_l("Years")),
    # the charts' tables
    "year": Column(_l("Year"), "number"),
    "theme": Column(_l("Theme"), "theme"),
    "family": Column(_l("Theme family"), "theme"),
    "published_capacities": Column(_l("Published capacities"), "number"),
    "gap": Column(_l("Gap"), "yes_no"),
}
"""Every export's columns by code: a code means one thing across the lists (``country`` is a
country's code everywhere), except where :data:`OVERRIDES` says otherwise."""

OVERRIDES: dict[str, dict[str, Column]] = {
    # the network's countries: the node's id is a country, a partner is a count
    "network-countries": {
        "id": Column(_l("Country code")),
        "partners": Column(_l("Partner countries"), "number"),
        "joint": Column(_l("Joint exchanges"), "number"),
        # as the page's table shows them (sscmatch.web.network.sheet_countries)
        "community": Column(_l("Community"), "community"),
        "reciprocal": Column(_l("Gives and receives"), "gives_and_receives"),
    },
    "network-links": {
        "source": Column(_l("Country"), "country"),
        "kind": Column(_l("Kind of link"), "link_kind"),
        "themes": _field("themes", "themes"),
    },
    # a run's page and the needs to review: "need" is a need's id, "title" its title
    "match-run": {"title": Column(_l("Title of the need"))},
    "charts-gaps": {"need": Column(_l("Need")), "country": _field("country", "country")},
}
"""Columns that mean something else in one export (by its sheet's name: :data:`TITLES`)."""

TITLES: dict[str, Any] = {
    "needs": _l("Needs"),
    "capacities": _l("Capacities"),
    "exchanges": _l("Exchanges"),
    "proposals": _l("Proposals"),
    "our-proposals": _l("Our proposals"),
    "proposals-awaiting": _l("Awaiting an answer"),
    "needs-to-review": _l("Needs to review"),
    "commitments": _l("Commitments"),
    "tours": _l("Study tours"),
    "match-runs": _l("Match runs"),
    "match-run": _l("Match run"),
    "calibrations": _l("Calibrations"),
    "users": _l("Users"),
    "audit": _l("Audit log"),
    "countries": _l("Countries"),
    "vetoes": _l("Vetoed pairs"),
    "notices": _l("Notices"),
    "imports": _l("Imports"),
    "network-countries": _l("Countries of the network"),
    "network-links": _l("Links of the network"),
    "charts-per-year": _l("Exchanges per year by theme"),
    "charts-supply": _l("Open needs and capacities per theme"),
    "charts-gaps": _l("Gaps"),
    "charts-tops": _l("Providers and recipients per theme"),
}
"""Each export's sheet name (the file's name says the export in codes), one per export."""


def columns(name: str, fields: Sequence[str]) -> list[Column]:
    """The columns of export ``name`` with codes ``fields``; KeyError for a code without one."""
    own = OVERRIDES.get(name, {})
    return [own[f] if f in own else COLUMNS[f] for f in fields]


@dataclass(frozen=True)
class Sheet:
    """A sheet of a workbook: export ``name`` (:data:`TITLES`), column codes, rows by code."""

    name: str
    fields: Sequence[str]
    rows: Sequence[Mapping[str, Any]]
    truncated: bool = False  # more rows matched than an export holds: said below the rows


_SHEET_UNSAFE = re.compile(r"[\[\]:*?/\\]")


def _sheet_title(name: str, taken: set[str]) -> str:
    title = _SHEET_UNSAFE.sub(" ", str(TITLES[name])).strip()[:31] or name[:31]
    while title in taken:  # two sheets of one name: Excel refuses the file
        title = f"{title[:28]} {len(taken) + 1}"
    taken.add(title)
    return title


def workbook(sheets: Sequence[Sheet]) -> bytes:
    """The ``sheets`` as an .xlsx file: a bold, frozen header row in the reader's language and
    an autofilter over it, each value shown by its column (:func:`columns`)."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(
        out,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    bold = book.add_format({"bold": True})
    day = book.add_format({"num_format": DATE_FORMAT})
    moment = book.add_format({"num_format": MOMENT_FORMAT})
    decimals: dict[int, Any] = {}
    taken: set[str] = set()
    for sheet in sheets:
        cols = columns(sheet.name, sheet.fields)
        ws = book.add_worksheet(_sheet_title(sheet.name, taken))
        headers = [str(c.header) for c in cols]
        for i, header in enumerate(headers):
            ws.set_column(i, i, min(max(len(header) + 2, 10), 48))
        for i, header in enumerate(headers):
            ws.write_string(0, i, header, bold)
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(len(sheet.rows), 1), max(len(cols) - 1, 0))
        shows = [(f, SHOWS[c.show], c.digits) for f, c in zip(sheet.fields, cols, strict=True)]
        for r, row in enumerate(sheet.rows, start=1):
            for i, (code, show, digits) in enumerate(shows):
                value = show(row.get(code))
                if value is None or value == "":
                    continue
                if isinstance(value, datetime):
                    ws.write_datetime(r, i, value, moment)
                elif isinstance(value, date):
                    ws.write_datetime(r, i, datetime(value.year, value.month, value.day), day)
                elif isinstance(value, int | float):
                    if digits is None or isinstance(value, int):
                        ws.write_number(r, i, value)
                    else:
                        if digits not in decimals:
                            decimals[digits] = book.add_format({"num_format": "0." + "0" * digits})
                        ws.write_number(r, i, value, decimals[digits])
                else:
                    ws.write_string(r, i, value)
        if sheet.truncated:  # below the rows (and the filter's range), a blank row apart
            ws.write_string(
                len(sheet.rows) + 2,
                0,
                ngettext(
                    "Only the first %(num)d row: narrow the filters to have them all.",
                    "Only the first %(num)d rows: narrow the filters to have them all.",
                    len(sheet.rows),
                ),
                bold,
            )
    book.close()
    return out.getvalue()


__all__ = ["COLUMNS", "MEDIA", "OVERRIDES", "SHOWS", "TITLES", "Column", "Sheet", "workbook"]
