"""Bundles an outsider would hand ``sscmatch import``: each refused at its file and line, in
one line a problem, nothing written, never a traceback.

Two classes, each walked in every container it can be written in:

- **A name given twice.** A CSV header naming a column twice, and a zip holding a table twice,
  were refused; in a JSON file a table given twice (``{"needs": [...], "needs": [...]}``) or a
  field given twice in one record was read as its last, the first dropped without a word.
- **What the reader meets below the format.** A JSON number of more than 4,300 digits (Python's
  reader raises ValueError, not JSONDecodeError: a traceback), anywhere in the file; a table of
  a CSV folder that is a folder, or a link to nothing (IsADirectoryError; the link passed over
  as if the table were absent).
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlmodel import SQLModel

NEED = {"id": "n-1", "country": "BRA", "title": "A need", "themes": ["labour-inspection"]}
NEED_CSV = "id,country,title,themes\nn-1,BRA,A need,labour-inspection\n"
PROBLEM_LINE = re.compile(r"^[^:\n]+:\d+: .+: .+$")


def _json(path: Path, text: str) -> Path:
    path = path / "bundle.json"
    path.write_text(text, encoding="utf-8")
    return path


def _folder(path: Path, make: Callable[[Path], None]) -> Path:
    folder = path / "bundle"
    folder.mkdir()
    (folder / "capacities.csv").write_text("id,country,title,themes\n", encoding="utf-8")
    make(folder)
    return folder


def _zip(path: Path, members: list[tuple[str, str]]) -> Path:
    path = path / "bundle.zip"
    with pytest.warns(UserWarning), zipfile.ZipFile(path, "w") as archive:
        for name, text in members:
            archive.writestr(name, text)
    return path


NEED_TEXT = json.dumps(NEED)
TWICE: dict[str, tuple[Callable[[Path], Path], str]] = {
    "csv-column": (
        lambda p: _folder(
            p,
            lambda f: (f / "needs.csv").write_text(
                "id,country,title,themes,title\nn-1,BRA,A,labour-inspection,B\n"
            ),
        ),
        "title",
    ),
    "zip-table": (
        lambda p: _zip(p, [("needs.csv", NEED_CSV), ("needs.csv", NEED_CSV)]),
        "needs.csv",
    ),
    "json-table": (lambda p: _json(p, f'{{"needs": [{NEED_TEXT}], "needs": []}}'), "needs"),
    "json-field": (
        lambda p: _json(p, '{"needs": [' + NEED_TEXT[:-1] + ', "title": "Another"}]}'),
        "title",
    ),
}
"""A name given twice, in every container, and the name the refusal must name."""

DIGITS = "9" * 5000
BELOW: dict[str, Callable[[Path], Path]] = {
    "json-number-in-a-record": lambda p: _json(
        p, '{"capacities": [' + json.dumps(NEED)[:-1] + f', "max_per_year": {DIGITS}}}]}}'
    ),
    "json-number-at-the-top": lambda p: _json(p, f'{{"needs": [], "n": {DIGITS}}}'),
    "csv-table-is-a-folder": lambda p: _folder(p, lambda f: (f / "needs.csv").mkdir()),
    "csv-table-links-to-nothing": lambda p: _folder(
        p, lambda f: (f / "needs.csv").symlink_to(f / "gone.csv")
    ),
}


def _rows(app: Flask) -> dict[str, int]:
    with app.extensions["sscmatch.engine"].connect() as connection:
        return {
            t.name: connection.execute(select(func.count()).select_from(t)).scalar_one()
            for t in SQLModel.metadata.sorted_tables
        }


def _import(app: Flask, runner: Any, path: Path) -> tuple[list[str], list[str]]:
    """(problem lines, failures) of importing ``path`` from the command line."""
    before = _rows(app)
    result = runner.invoke(args=["import", str(path)])
    said = f"{path.name} -> {result.exit_code}: {result.output[-600:]!r}"
    failures = []
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        failures.append(f"{said} raised {type(result.exception).__name__}")
    elif result.exit_code != 1 or "nothing was imported" not in result.output:
        failures.append(f"{said}: not refused")
    if _rows(app) != before:
        failures.append(f"{said}: rows changed")
    lines = [x for x in result.output.splitlines() if x and not x.startswith(("Error:", "Valid"))]
    failures += [
        f"{said}: {x!r} is not file:line: field: message"
        for x in lines
        if not PROBLEM_LINE.match(x)
    ]
    return lines, failures


@pytest.mark.parametrize("case", TWICE)
def test_a_name_given_twice_is_refused_naming_it(
    app: Flask, runner: Any, tmp_path: Path, case: str
) -> None:
    make, name = TWICE[case]
    lines, failures = _import(app, runner, make(tmp_path))
    assert not failures, "\n".join(failures)
    assert any(name in line and ("twice" in line or "more than once" in line) for line in lines), (
        lines
    )


def _nothing_but(path: Path, names: list[str]) -> Path:
    folder = path / "bundle"
    folder.mkdir()
    for name in names:
        (folder / name).write_text("id,country\n", encoding="utf-8")
    return folder


EMPTY: dict[str, Callable[[Path], Path]] = {
    "folder-empty": lambda p: _nothing_but(p, []),
    "folder-of-other-files": lambda p: _nothing_but(p, ["needs.txt", "README.md", ".DS_Store"]),
    "zip-empty": lambda p: _zip_quietly(p, []),
    "zip-of-a-folder": lambda p: _zip_quietly(p, [("bundle/", "")]),
    "json-empty-object": lambda p: _json(p, "{}"),
}
"""A bundle holding no table at all, in every container: the wrong folder or file chosen (the
web refused an empty zip; the command line said 'nothing to import', exit 0)."""


def _zip_quietly(path: Path, members: list[tuple[str, str]]) -> Path:
    path = path / "bundle.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in members:
            archive.writestr(name, text)
    return path


REFUSED = {
    **{k: (v, "") for k, v in BELOW.items()},
    **{k: (v, "no table") for k, v in EMPTY.items()},
}
"""Each bundle below the format or holding no table, and what its problem must say."""


@pytest.mark.parametrize("case", REFUSED)
def test_a_bundle_is_refused_for_what_it_is_made_of(
    app: Flask, runner: Any, tmp_path: Path, case: str
) -> None:
    make, saying = REFUSED[case]
    lines, failures = _import(app, runner, make(tmp_path))
    assert not failures, "\n".join(failures)
    assert any(saying in line for line in lines), lines


def test_a_table_without_rows_still_imports_as_nothing(
    app: Flask, runner: Any, tmp_path: Path
) -> None:
    """An export of an empty database: every table's header, no row. Nothing to import is
    what it says, and no problem."""
    folder = _nothing_but(tmp_path, [])
    (folder / "needs.csv").write_text("id,country,title,themes\n", encoding="utf-8")
    result = runner.invoke(args=["import", str(folder)])
    assert result.exit_code == 0 and "nothing to import" in result.output, result.output


ESCAPES = {
    "terminal-escape": "\x1b]0;owned\x07\x1b[2J",  # sets the window's title, clears the screen
    "line-break": "a\nsecond line",  # a problem that seems two
    "carriage-return": "a\rnothing wrong here",  # overwrites the line it is on
    "right-to-left": "a\u202ecsv.exe",  # reads backwards from here
}
"""Characters a terminal obeys instead of showing, in text a bundle writes itself."""

SAID_AS_IS: dict[str, Callable[[Path, str], Path]] = {
    "csv-header-cell": lambda p, t: _folder(
        p, lambda f: (f / "needs.csv").write_text(f'id,"{t}"\nn-1,x\n', encoding="utf-8")
    ),
    "zip-member-name": lambda p, t: _zip_quietly(p, [(f"{t}.csv", NEED_CSV)]),
    "json-table-name": lambda p, t: _json(p, json.dumps({t: []})),
    "json-field-name": lambda p, t: _json(p, json.dumps({"needs": [NEED | {t: 1}]})),
}
"""Every place a problem line says a bundle's own text as it was written (a column, a file of
an archive, a table or field nobody knows); values are quoted with their escapes already."""


@pytest.mark.parametrize("place", SAID_AS_IS)
def test_a_bundles_text_cannot_steer_the_terminal(
    app: Flask, runner: Any, tmp_path: Path, place: str
) -> None:
    failures = []
    for kind, text in ESCAPES.items():
        folder = tmp_path / kind
        folder.mkdir()
        result = runner.invoke(args=["import", str(SAID_AS_IS[place](folder, text))])
        shown = [c for c in "\x1b\x07\r\u202e" if c in result.output]
        lines = [x for x in result.output.splitlines() if x and not x.startswith("Error:")]
        if result.exit_code != 1 or shown:
            failures.append(f"{kind} -> {result.exit_code}: {shown} in {result.output!r}")
        elif any(not PROBLEM_LINE.match(x) for x in lines if not x.startswith("Valid")):
            failures.append(f"{kind}: a line that is no problem in {result.output!r}")
    assert not failures, "\n".join(failures)
