"""The one CSV writer of every export (the network's nodes and edges, bundles), safe to open in a
spreadsheet.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to
Excel, LibreOffice and Google Sheets: a title such as ``=HYPERLINK("http://…","click")`` typed
into a record ran when an analyst opened the export (OWASP "CSV injection"). Such text cells are
written with a leading apostrophe, which spreadsheets show as text and do not display; numbers
stay numbers. Reading a bundle removes that apostrophe again (:func:`restore`), so an exported
bundle imports back unchanged.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutral(value: Any) -> Any:
    """``value`` as a spreadsheet will take it literally (text only; numbers are left alone).

    >>> neutral('=HYPERLINK("http://x")'), neutral("-1 bullet"), neutral("plain"), neutral(-1)
    ('\\'=HYPERLINK("http://x")', "'-1 bullet", 'plain', -1)
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def restore(value: str) -> str:
    """Undo :func:`neutral` on a cell read back from an exported file.

    >>> restore("'=1+1"), restore("'quoted"), restore("=1+1")
    ('=1+1', "'quoted", '=1+1')
    """
    if value.startswith("'") and value[1:2] and value[1] in FORMULA_STARTS:
        return value[1:]
    return value


def write_rows(handle: IO[str], header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Write ``header`` and ``rows`` to ``handle`` (opened with ``newline=""``)."""
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([neutral(cell) for cell in row])


def csv_bytes(rows: Iterable[Mapping[str, Any]], fields: Sequence[str]) -> bytes:
    """Rows of dictionaries as UTF-8 CSV with the ``fields`` columns (others are left out)."""
    buffer = io.StringIO()
    write_rows(buffer, fields, ([row.get(name, "") for name in fields] for row in rows))
    return buffer.getvalue().encode("utf-8")
