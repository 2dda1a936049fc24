"""Exports of what the user is looking at: the needs, capacities and exchanges lists, the review
queue's proposals and the follow-up's commitments, as CSV or JSON, with the list's current
filters and nothing the reader may not see, and as a spreadsheet (.xlsx) for a person to read.

Each list page links ``…/export.csv`` and ``…/export.json`` with its own query string; the export
reads the filters the same way the page does, asks the same use case for every matching record
(at most :data:`MAX_ROWS`; visibility is the use case's, :mod:`sscmatch.workflow.visibility`), and
writes through the one CSV writer (:mod:`sscmatch.bundle.csvfile`: formula cells neutralised).
CSV and JSON are the machine formats: column codes and value codes (``pending``, ``GTM``, ISO
dates), the CSV in UTF-8 with a byte order mark, which spreadsheet programs need to read it as
UTF-8 (a bundle reader takes it: ``utf-8-sig``). The spreadsheet (``…/export.xlsx``) is the
reader's: the same rows through :mod:`sscmatch.web.spreadsheet` (headers and values in the
reader's language, numbers and dates as such). The file is named after the export, its path
arguments and what was filtered: ``sscmatch-needs-status-open-country-GTM-2026-12-02.csv``,
``sscmatch-match-run-run_id-7-2026-12-02.xlsx``.

An export of a whole list is seconds of work at full scale (40,000 commitments, 50,000 needs or
proposals), and a page links it on every visit: :func:`send_kept` keeps each body in the process
cache ``export bodies`` per version of the records (:func:`sscmatch.db.data_key`), address (path
and query), reader's visibility scope (:func:`sscmatch.workflow.visibility.scope`: two readers
share a body only when they see the same records) and the caller's key (the day, for what is
overdue), and a spreadsheet per reader's language; a JSON body gets its time of export at each
request.

The routes join the blueprints of the pages they export (registry, review, followup); this
module is imported before those are registered.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Hashable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from flask import Response, abort, current_app, request
from flask_login import current_user

from sscmatch import config
from sscmatch.bundle.csvfile import csv_bytes
from sscmatch.caches import Cache
from sscmatch.db import data_key
from sscmatch.schemas import moment_text
from sscmatch.web import spreadsheet
from sscmatch.web.access import SIGNED_IN, access
from sscmatch.web.db import get_session
from sscmatch.web.translate import current_lang
from sscmatch.web.translate import gettext as _
from sscmatch.workflow import visibility

MAX_ROWS = 50_000
FORMATS = ("csv", "json", "xlsx")
MEDIA = {"csv": "text/csv; charset=utf-8", "json": "application/json", "xlsx": spreadsheet.MEDIA}
BOM = "\ufeff".encode()
"""Starts every CSV export: without it Excel reads UTF-8 as the system's code page ("BÃ©lgica")."""
# Query arguments that say what a list shows (paging and empty values say nothing).
IGNORED = frozenset({"page", "per_page"})
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
EXPORT_CACHE_BYTES = 96_000_000
"""Bytes of export bodies kept per process (a full-scale export is 4-15 MB as CSV, up to 35 MB
as JSON); a body over a third of this is made each time instead."""
_BODIES: Cache[tuple[bytes, int | None]] = Cache(
    "export bodies",
    size=EXPORT_CACHE_BYTES,
    weight=lambda kept: len(kept[0]),
    largest=EXPORT_CACHE_BYTES // 3,
)
"""Each body with the rows it was cut at (:data:`MAX_ROWS`; None: whole): its download says so."""
TRUNCATED_HEADER = "X-Truncated"
"""Sent with an export cut at :data:`MAX_ROWS` (its value the rows it holds): the CSV has no
place of its own to say it without breaking its readers (a comment row is a row to them), so
the answer's header and the file's name (:func:`file_name`'s ``cut_at``) say it; the JSON says
``"truncated": true`` and the spreadsheet a line below its rows as well."""
# Stands for the time of export in a kept JSON body, found as the header's line (indent 1;
# the filters' values are nested deeper, and the app refuses NUL characters in input anyway).
_EXPORTED = "\x00exported\x00"
_EXPORTED_LINE = b'\n "exported": ' + json.dumps(_EXPORTED).encode()
Rows = tuple[Sequence[Mapping[str, Any]], Sequence[str], bool]


def file_name(
    kind: str,
    args: Mapping[str, Any],
    ext: str,
    today: str | None = None,
    cut_at: int | None = None,
) -> str:
    """``sscmatch-<kind>-<filter>-<value>…-<date>.<ext>``, plain ASCII for every browser;
    ``cut_at``: the export holds only the first rows that matched (:data:`MAX_ROWS`), said
    last (``…-first-50000.csv``), where a name cut for its length still says it.

    >>> file_name("needs", {"status": "open", "country": "GTM", "page": "2"}, "csv", "2026-12-02")
    'sscmatch-needs-status-open-country-GTM-2026-12-02.csv'
    >>> file_name("match-run", {"run_id": 7}, "xlsx", "2026-12-02")
    'sscmatch-match-run-run_id-7-2026-12-02.xlsx'
    >>> file_name("needs", {}, "csv", "2026-12-02", cut_at=50_000)
    'sscmatch-needs-2026-12-02-first-50000.csv'
    """
    parts = ["sscmatch", kind]
    for key, value in args.items():
        values = value if isinstance(value, list | tuple) else [value]
        values = [str(v).strip() for v in values if str(v).strip()]
        if key in IGNORED or not values:
            continue
        parts.append(key)
        parts.extend(values)
    parts.append(today or config.today(current_app.config).isoformat())  # TODAY when pinned
    name = "-".join(_UNSAFE.sub("_", p).strip("_") or "_" for p in parts)
    cut = "" if cut_at is None else f"-first-{cut_at}"
    return f"{name[:180]}{cut}.{ext}"


def query_args() -> dict[str, Any]:
    """The request's filters, a list where an argument repeats (statuses)."""
    out: dict[str, Any] = {}
    for key in request.args:
        values = request.args.getlist(key)
        out[key] = values if len(values) > 1 else values[0]
    return out


def name_args() -> dict[str, Any]:
    """What names an export's file: its path arguments (a run's id), then its filters."""
    path = {k: v for k, v in (request.view_args or {}).items() if k != "fmt"}
    return {**path, **query_args()}


def send(
    kind: str,
    fmt: str,
    rows: Sequence[Mapping[str, Any]],
    fields: Sequence[str],
    *,
    truncated: bool = False,
    name: str | None = None,
    said: Mapping[str, Any] | None = None,
) -> Response:
    """The rows as a CSV, JSON or spreadsheet download named after ``name`` (the export's
    name, ``kind`` by default: two exports of one kind of record have two names) and the
    filters; ``kind`` is the JSON's key of the rows. ``said``: the filters the rows were
    chosen by, where the export applies only some of the request's (the file says no other)."""
    if fmt not in FORMATS:
        abort(404)
    name = name or kind
    body = _body(kind, fmt, rows, fields, truncated, name=name, said=said)
    return _response(name, fmt, body, len(rows) if truncated else None, said=said)


def send_kept(
    kind: str,
    fmt: str,
    make: Callable[[], Rows],
    key: tuple[Hashable, ...] = (),
    name: str | None = None,
) -> Response:
    """:func:`send` of ``make()`` = (rows, fields, truncated), its body kept while the records
    are unchanged for this address, reader's visibility scope and ``key`` (and the reader's
    language, for a spreadsheet); ``make`` runs only when no kept body fits (and raises for a
    bad filter as it would without the cache)."""
    if fmt not in FORMATS:
        abort(404)
    name = name or kind
    version = data_key(get_session())  # None: this request wrote and has not committed
    full_key: Hashable | None = None
    if version is not None:
        scope = visibility.scope(viewer())
        said = current_lang() if fmt == "xlsx" else None
        full_key = (*version, kind, fmt, request.full_path, scope, said, *key)

    def made() -> tuple[bytes, int | None]:
        rows, fields, truncated = make()
        body = _body(kind, fmt, rows, fields, truncated, exported=_EXPORTED, name=name)
        return body, len(rows) if truncated else None

    body, cut_at = _BODIES.get_or_make(full_key, made)
    if fmt == "json":
        now = b'\n "exported": ' + json.dumps(_now()).encode()
        body = body.replace(_EXPORTED_LINE, now, 1)
    return _response(name, fmt, body, cut_at)


Listing = Callable[[int], tuple[Sequence[Any], int]]


def send_list(
    kind: str,
    fmt: str,
    listing: Listing,
    row: Callable[[Any], Mapping[str, Any]],
    fields: Sequence[str],
    *,
    kept: bool,
    name: str | None = None,
) -> Response:
    """A paged list's export, made by the page's own query: ``listing(size)`` gives the first
    ``size`` items under the request's filters and how many there are in all (it raises for a
    bad filter, as for the page); ``row`` makes each item a record of ``fields``.

    ``kept``: the body is kept by :func:`send_kept`, for lists of the tables whose changes move
    its key (:data:`sscmatch.db.CHANGE_TRACKED_TABLES`); a list of users, audit events, runs or
    calibrations is made at each request (a kept body would outlive their changes)."""

    def make() -> Rows:
        items, total = listing(MAX_ROWS)
        return [row(item) for item in items], fields, total > len(items)

    if kept:
        return send_kept(kind, fmt, make, name=name)
    if fmt not in FORMATS:
        abort(404)
    rows, _fields, truncated = make()
    return send(kind, fmt, rows, fields, truncated=truncated, name=name)


def moment(value: datetime | None) -> str | None:
    """A moment as every export writes it, None kept: ISO 8601 in UTC to the second with ``Z``
    (:func:`sscmatch.schemas.moment_text` of the moment's second, never the next one), what a
    spreadsheet reads as a time and what sorts as text; the API keeps its microseconds.

    >>> moment(datetime(2026, 12, 4, 21, 3, 7, 999_999, tzinfo=UTC))
    '2026-12-04T21:03:07Z'
    """
    return None if value is None else moment_text(value.replace(microsecond=0))


def _plain(value: Any) -> Any:
    """A value of a row as the files write it: a moment by :func:`moment` (a row maker that
    leaves a ``datetime`` in its row still exports it to the second), anything else as text."""
    return moment(value) if isinstance(value, datetime) else str(value)


def _now() -> str:
    """The time of export, written as every moment of an export (:func:`moment`)."""
    return str(moment(datetime.now(UTC)))


def _body(
    kind: str,
    fmt: str,
    rows: Sequence[Mapping[str, Any]],
    fields: Sequence[str],
    truncated: bool,
    exported: str | None = None,
    name: str | None = None,
    said: Mapping[str, Any] | None = None,
) -> bytes:
    if fmt == "csv":
        return BOM + csv_bytes([_flat(r) for r in rows], fields)
    if fmt == "xlsx":
        return spreadsheet.workbook([spreadsheet.Sheet(name or kind, fields, rows, truncated)])
    args = query_args() if said is None else said
    return json.dumps(
        {
            "kind": kind,
            "filters": {k: v for k, v in args.items() if k not in IGNORED},
            "exported": exported or _now(),
            "count": len(rows),
            "truncated": truncated,
            kind: [{f: r.get(f) for f in fields} for r in rows],
        },
        ensure_ascii=False,
        indent=1,
        default=_plain,
    ).encode("utf-8")


def _response(
    name: str,
    fmt: str,
    body: bytes,
    cut_at: int | None = None,
    said: Mapping[str, Any] | None = None,
) -> Response:
    """The download; ``cut_at``: the export was cut at that many rows, said by its name and
    the :data:`TRUNCATED_HEADER`; ``said``: the filters its name says (the request's)."""
    args = name_args() if said is None else said
    response = download(body, MEDIA[fmt], file_name(name, args, fmt, cut_at=cut_at))
    if cut_at is not None:
        response.headers[TRUNCATED_HEADER] = str(cut_at)
    return response


def download(body: bytes, media: str, name: str) -> Response:
    """``body`` as a file to save, ``name`` (ASCII: :func:`file_name`)."""
    return Response(
        body,
        mimetype=media.split(";")[0],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _flat(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row for CSV: lists joined with ``;``, None as empty, a moment by :func:`moment`, a
    mapping as its JSON (an audit event's ``note_code``)."""
    return {
        k: ";".join(str(_plain(x)) for x in v)
        if isinstance(v, list | tuple)
        else json.dumps(v, ensure_ascii=False, sort_keys=True)
        if isinstance(v, dict)
        else ("" if v is None else moment(v) if isinstance(v, datetime) else v)
        for k, v in row.items()
    }


def bad_filter(why: str | BaseException) -> Any:
    """A 400 for an export's filters: ``why`` a refusal (said in the reader's language by
    :func:`sscmatch.web.errors.error_text`) or a sentence already in it."""
    from sscmatch.web.errors import error_text

    said = error_text(why) if isinstance(why, BaseException) else why
    abort(400, description=_("These filters cannot be used: %(why)s", why=said))


def viewer() -> Any:
    return current_user


__all__ = [
    "SIGNED_IN",
    "access",
    "download",
    "file_name",
    "moment",
    "name_args",
    "send",
    "send_kept",
    "send_list",
]
