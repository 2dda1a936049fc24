"""The network's spreadsheet is the reader's copy of the page's tables (README, *Exports*: "the
same rows under the same filters, headers in the reader's language, coded values as the pages
show them"): in every language and under every filter, each country's row of the countries'
sheet shows what the page's table shows for it (name, region, exchanges by role, partner
countries, betweenness, PageRank, community, gives and receives), and the links' sheet the
page's links."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
import pytest

from tests.test_analyst_fidelity import FILTERS, _query, _Tables
from tests.test_analyst_fidelity import world as world
from tests.web.test_network import _fresh_cache  # noqa: F401 (an autouse fixture)

LANGUAGES = ("en", "es", "pt", "fr")
SHEET_COLUMNS = {  # the sheet's column (by position) of each of the page's, in the page's order
    "name": 1,
    "region": 2,
    "provided": 4,
    "received": 5,
    "joint": 6,
    "partners": 8,
    "betweenness": 9,
    "pagerank": 10,
    "community": 11,
    "gives": 12,
}
PAGE_COLUMNS = tuple(SHEET_COLUMNS)


def _number(text: str) -> float:
    """A number as the page writes it in the reader's language (``0,288`` in French)."""
    return float("".join(ch for ch in text if ch.isdigit() or ch in ",.-").replace(",", "."))


def _same(column: str, page: str, sheet: Any) -> bool:
    if column in ("betweenness", "pagerank"):
        return abs(_number(page) - float(sheet)) <= 0.0005
    if column == "community" and sheet is None:
        return page == "–"  # the page's mark for a country in no community
    return page == str(sheet)


@pytest.mark.parametrize("f", FILTERS[:8], ids=lambda f: _query(f) or "all")
def test_the_network_spreadsheet_shows_what_the_page_shows(
    as_user: Any, world: dict[str, Any], f: dict[str, str]
) -> None:
    analyst = as_user("analyst")
    wrong = []
    for lang in LANGUAGES:
        analyst.post("/language", data={"lang": lang})
        page = _Tables()
        page.feed(analyst.get(f"/network?{_query(f)}").get_data(as_text=True))
        shown = {row[0]: dict(zip(PAGE_COLUMNS, row, strict=False)) for row in page.tables[0][1:]}
        shown = {name: row for name, row in shown.items() if len(row) == len(PAGE_COLUMNS)}
        got = analyst.get(f"/network/download?{_query(f, format='xlsx')}")
        book = openpyxl.load_workbook(io.BytesIO(got.data))
        nodes, links = (list(ws.iter_rows(values_only=True)) for ws in book.worksheets[:2])
        sheet = {row[1]: row for row in nodes[1:] if row[0]}
        assert set(sheet) == set(shown), lang
        for name, row in shown.items():
            for column, text in row.items():
                value = sheet[name][SHEET_COLUMNS[column]]
                if not _same(column, text, value):
                    wrong.append((lang, name, column, text, value))
        page_links = {(r[0], r[2], r[3]) for r in page.tables[1][1:] if len(r) == 4}
        sheet_links = {(r[0], r[1], str(r[3])) for r in links[1:] if r[0]}
        assert sheet_links == page_links, lang
    assert not wrong, wrong
