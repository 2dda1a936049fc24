"""Every export, as a class: walked from the URL map (every route with a ``fmt`` argument, and
the network's downloads), each has its CSV (a byte order mark first, so a spreadsheet reads
the accents), its JSON, and its spreadsheet (.xlsx), which opens, holds the CSV's rows, says
its headers in the reader's language (es, pt, fr: not the English ones, never the codes),
shows coded values as words (no status code or country code left in a Spanish sheet), and
stores numbers as numbers and moments as dates; every file name is its own.

The walk reads the shared world of ``test_every_list_page`` (more rows than a page in every
list); a formula in a record is written to a fresh database (``test_exports``)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any

import openpyxl
from flask import Flask, url_for
from sqlmodel import Session

from sscmatch.models import Need
from sscmatch.web import spreadsheet
from sscmatch.web.exports import BOM, FORMATS
from sscmatch.web.network import DOWNLOADS
from tests.web.test_authorization import _world
from tests.web.test_every_list_page import ROLES, _samples
from tests.web.test_every_list_page import seeded_world as seeded_world  # the shared world
from tests.web.world import Walk

LANGUAGES = ("en", "es", "pt", "fr")
# Headers that a language writes as English does (its catalogue says so), and values of coded
# columns that Spanish writes as the code (a region's name, a word).
SAME_IN = {
    "es": {"Id", "PageRank"},
    "pt": {"PageRank"},
    "fr": {"Description", "Source", "Action", "Institution", "Participants", "Score", "Note"}
    | {"PageRank", "Position x", "Position y"},
}
SAME_VALUES_ES = {"Asia", "multilateral"}


def _name(response: Any) -> str:
    return str(response.headers["Content-Disposition"].split('filename="', 1)[1].rstrip('"'))


def _exports(app: Flask, world: dict[str, Any]) -> list[tuple[str, dict[str, str]]]:
    """(endpoint, address of each format) of every export of the URL map: the routes with a
    ``fmt`` argument (path arguments at their samples) and the network's downloads."""
    samples = _samples(world)
    found = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "fmt" not in rule.arguments or rule.endpoint.startswith("api."):
                continue
            values = {a: samples[a] for a in rule.arguments if a != "fmt"}
            found.append(
                (rule.endpoint, {f: url_for(rule.endpoint, fmt=f, **values) for f in FORMATS})
            )
        addresses = {f: url_for("network.download", format=f) for f in DOWNLOADS}
        found.append(("network.download", {"csv": addresses["csv-nodes"], **addresses}))
    return sorted(found)


def _reader(walk: Walk, address: str) -> str:
    for who in ROLES:
        if walk.client(who).get(address).status_code == 200:
            return who
    raise AssertionError(f"{address}: no role reads it")


def _sheets(body: bytes) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """The workbook's sheets: (title, rows of cell values)."""
    book = openpyxl.load_workbook(io.BytesIO(body))
    return [(ws.title, [tuple(c.value for c in row) for row in ws.iter_rows()]) for ws in book]


def _shows(title: str, codes: list[str]) -> list[str]:
    """How each column of the English sheet ``title`` shows its values (its spec)."""
    with_title = [n for n, t in spreadsheet.TITLES.items() if str(t)[:31] == title]
    assert len(with_title) == 1, f"sheet {title!r}: {with_title}"
    return [c.show for c in spreadsheet.columns(with_title[0], codes)]


def _tables(endpoint: str, files: dict[str, Any]) -> dict[str, list[list[str]]]:
    """The CSV tables of an export by format (a list's ``csv``; the network's nodes and edges)."""
    wanted = ("csv-nodes", "csv-edges") if endpoint == "network.download" else ("csv",)
    return {
        fmt: list(csv.reader(io.StringIO(files[fmt].data.decode("utf-8-sig")))) for fmt in wanted
    }


def test_every_export_has_csv_with_bom_json_and_a_readers_spreadsheet(
    seeded_world: Walk,
) -> None:
    app, world = seeded_world.app, seeded_world.world.built
    wrong: list[str] = []
    names: dict[str, str] = {}
    walked = 0
    exports = _exports(app, world)
    for endpoint, address in exports:
        who = _reader(seeded_world, address["csv"])
        client = seeded_world.client(who)
        files = {fmt: client.get(link) for fmt, link in address.items()}
        for fmt, response in files.items():
            if response.status_code != 200:
                wrong.append(f"{address[fmt]}: {response.status_code}")
                continue
            name = _name(response)
            if name in names and names[name] != address[fmt]:
                wrong.append(f"{address[fmt]} and {names[name]}: one file name {name}")
            names[name] = address[fmt]
            if "run_id" in endpoint and f"run_id-{world['run_id']}-" not in name:
                wrong.append(f"{address[fmt]}: {name} does not say the run")
        if any(r.status_code != 200 for r in files.values()):
            continue
        walked += 1
        xlsx = address["xlsx"]
        for fmt in ("csv", "csv-nodes", "csv-edges"):
            if fmt in files and not files[fmt].data.startswith(BOM):
                wrong.append(f"{address[fmt]}: no byte order mark")
        tables = list(_tables(endpoint, files).values())
        if endpoint != "network.download":
            count = files["json"].get_json()["count"]
            if count != len(tables[0]) - 1:
                wrong.append(f"{address['json']}: {count} rows, the CSV {len(tables[0]) - 1}")
        english = _sheets(files["xlsx"].data)
        if len(english) != len(tables):
            wrong.append(f"{xlsx}: {len(english)} sheets for {len(tables)} CSV tables")
            continue
        shows = [
            _shows(title, table[0]) for (title, _rows), table in zip(english, tables, strict=True)
        ]
        for (title, sheet), table, kinds in zip(english, tables, shows, strict=True):
            if len(sheet) != len(table):
                wrong.append(f"{xlsx} {title}: {len(sheet) - 1} rows, CSV {len(table) - 1}")
                continue
            for row, raw_row in zip(sheet[1:], table[1:], strict=True):
                for value, raw, code, show in zip(row, raw_row, table[0], kinds, strict=True):
                    if raw == "":
                        continue
                    if show == "number" and not isinstance(value, int | float):
                        wrong.append(f"{xlsx} {code}={value!r}: not a number")
                    if show == "moment" and not isinstance(value, datetime):
                        wrong.append(f"{xlsx} {code}={value!r}: not a date and time")
                    if show == "date" and len(raw) == 10 and not isinstance(value, date):
                        wrong.append(f"{xlsx} {code}={value!r}: not a date")
        for language in LANGUAGES[1:]:  # the reader's language
            client.post("/language", data={"lang": language, "next": "/"})
            said = _sheets(client.get(xlsx).data)
            for (_t, sheet), (_e, eng), table, kinds in zip(
                said, english, tables, shows, strict=True
            ):
                for header, in_english, code in zip(sheet[0], eng[0], table[0], strict=True):
                    if header == code:
                        wrong.append(f"{xlsx} ({language}): header {code!r} is the code")
                    elif header == in_english and header not in SAME_IN.get(language, ()):
                        wrong.append(f"{xlsx} ({language}): header {header!r} in English")
                if language != "es":
                    continue
                for row, raw_row in zip(sheet[1:], table[1:], strict=True):
                    for value, raw, code, show in zip(row, raw_row, table[0], kinds, strict=True):
                        if show in spreadsheet.CODED and value == raw not in SAME_VALUES_ES:
                            wrong.append(f"{xlsx} (es) {code}: the code {raw!r} left")
        client.post("/language", data={"lang": "en", "next": "/"})
    assert not wrong, "\n".join(sorted(set(wrong)))
    assert walked == len(exports) >= 22, (walked, len(exports))  # 18 lists, 3 charts, the network


def test_a_formula_in_a_record_is_text_in_the_spreadsheet(
    app: Flask, users: dict[str, int], as_user: Any
) -> None:
    """A title typed as ``=HYPERLINK(…)`` is a string cell in the spreadsheet (the CSV writes
    it with an apostrophe), and so are ``+``, ``-`` and ``@``."""
    _world(app, users)
    titles = ['=HYPERLINK("http://x","click")', "+1+1", "-2+3", "@SUM(A1)"]
    with Session(app.extensions["sscmatch.engine"]) as s:
        for n, title in enumerate(titles):
            s.add(Need(id=f"N-GTM-f{n}", country="GTM", title=title, status="open"))
        s.commit()
    client = as_user("secretariat")
    answer = client.get("/needs/export.xlsx?country=GTM&q=")
    assert answer.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(answer.data))
    ws = book.worksheets[0]
    header = [c.value for c in next(ws.iter_rows())]
    column = header.index("Title")
    cells = {row[column].value: row[column] for row in ws.iter_rows(min_row=2)}
    for title in titles:
        assert title in cells, title
        assert cells[title].data_type == "s", (title, cells[title].data_type)
    as_csv = client.get("/needs/export.csv?country=GTM").data.decode("utf-8-sig")
    rows = {r["id"]: r["title"] for r in csv.DictReader(io.StringIO(as_csv))}
    assert rows["N-GTM-f0"] == "'" + titles[0]


def test_a_spreadsheet_cut_at_the_limit_says_so(
    app: Flask, users: dict[str, int], as_user: Any, monkeypatch: Any
) -> None:
    """An export holds at most ``MAX_ROWS`` rows (the JSON says ``truncated``); the spreadsheet
    says it below its rows, in the reader's language, and holds no such line when whole."""
    from sscmatch.web import export_routes, exports

    _world(app, users)
    client = as_user("secretariat")
    client.post("/language", data={"lang": "es", "next": "/"})

    def last_line(answer: Any) -> str:
        ws = openpyxl.load_workbook(io.BytesIO(answer.data)).worksheets[0]
        return str([row for row in ws.iter_rows(values_only=True) if any(row)][-1][0])

    whole = client.get("/needs/export.xlsx")
    assert "acote los filtros" not in last_line(whole)
    monkeypatch.setattr(exports, "MAX_ROWS", 2)
    monkeypatch.setattr(export_routes, "MAX_ROWS", 2)  # the registry lists read it there
    cut = client.get("/needs/export.xlsx?page_size=2")
    assert last_line(cut) == "Solo las primeras 2 filas: acote los filtros para tenerlas todas."


def test_every_export_cut_at_the_limit_says_so_in_every_format(
    seeded_world: Walk, monkeypatch: Any
) -> None:
    """Every export of the URL map, with a limit of 2 rows (every list of the shared world has
    more): a CSV cut at the limit says so without a row its readers would take for data (the
    README's "Exports"): the ``X-Truncated`` header (the rows it holds) and a file name ending
    ``-first-2``, as do the JSON (``"truncated": true`` besides) and the spreadsheet; an export
    that is whole (the charts' tables and the network's files have no limit) carries neither.
    The CSV holds the rows the JSON holds, no more."""
    from sscmatch.web import export_routes, exports

    monkeypatch.setattr(exports, "MAX_ROWS", 2)
    monkeypatch.setattr(export_routes, "MAX_ROWS", 2)
    app, world = seeded_world.app, seeded_world.world.built
    wrong: list[str] = []
    cut: set[str] = set()
    exports_found = _exports(app, world)
    for endpoint, address in exports_found:
        client = seeded_world.client(_reader(seeded_world, address["csv"]))
        files = {fmt: client.get(link) for fmt, link in address.items()}
        truncated = endpoint != "network.download" and files["json"].get_json()["truncated"]
        for fmt, response in files.items():
            header = response.headers.get(exports.TRUNCATED_HEADER)
            named = _name(response).rsplit(".", 1)[0].endswith("-first-2")
            if truncated and (header != "2" or not named):
                wrong.append(f"{address[fmt]}: cut, but header {header!r}, {_name(response)}")
            if not truncated and (header is not None or named):
                wrong.append(f"{address[fmt]}: whole, but header {header!r}, {_name(response)}")
        if truncated:
            cut.add(endpoint)
            rows = next(iter(_tables(endpoint, files).values()))[1:]
            if len(rows) != 2:
                wrong.append(f"{address['csv']}: {len(rows)} rows, cut at 2")
    assert not wrong, "\n".join(wrong)
    # every list's export is cut here: all but the charts' tables and the network's files
    whole = {e for e, _ in exports_found} - cut
    assert {e for e in whole if not e.startswith("network.charts_")} == {"network.download"}, whole
    assert len(cut) >= 18, sorted(cut)
