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
import os
import stat
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
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


@contextmanager
def replacing(path: Path) -> Iterator[IO[bytes]]:
    """A file to write ``path``'s new content into, whole or not at all: a hidden file beside
    it, renamed over it once written. A write the disk stops half-way (full, a quota) leaves
    the file that was there, not a truncated one in its place: a nightly backup over the last
    one, an export over the previous. The :class:`OSError` names ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        with part.open("wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if path.is_file():  # a backup kept private (chmod 600) stays so
            part.chmod(stat.S_IMODE(path.stat().st_mode))
        os.replace(part, path)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    except BaseException:
        part.unlink(missing_ok=True)
        raise


def replace_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all (:func:`replacing`)."""
    with replacing(path) as handle:
        handle.write(data)


def replace_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Write a CSV file (:func:`write_rows`) to ``path`` whole or not at all, row by row."""
    with replacing(path) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        write_rows(text, header, rows)
        text.flush()
        text.detach()  # the bytes' file is closed by replacing, once synced
