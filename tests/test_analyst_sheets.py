"""The network's spreadsheet is the reader's copy of the page's tables (README, *Exports*: "the
same rows under the same filters, headers in the reader's language, coded values as the pages
show them"): in every language and under every filter, each country's row of the countries'
sheet shows what the page's table shows for it (name, region, exchanges by role, partner
countries, betweenness, PageRank, community, gives and receives), and the links' sheet the
page's links."""

from __future__ import annotations

import io
import json
from typing import Any

import networkx as nx
import openpyxl
import pytest

from tests.test_analyst_fidelity import FILTERS, VOCAB, _csv, _query, _Tables
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


def test_every_network_file_names_countries_as_the_readme_says(
    as_user: Any, client: Any, world: dict[str, Any]
) -> None:
    """README, *Exports*: GraphML, GEXF and JSON keep the reader's names as labels, the CSV of
    countries English (one language a row, the same file for every reader): the page's files
    and the API's alike, the reader's language being the switcher's or Accept-Language."""
    analyst = as_user("analyst")
    bearer = {"Authorization": f"Bearer {world['token']}"}
    wrong = []
    for lang in LANGUAGES:
        analyst.post("/language", data={"lang": lang})
        for source, prefix, getter, headers in (
            ("page", "/network/download?", analyst, {}),
            ("api", "/api/v1/network?", client, {**bearer, "Accept-Language": lang}),
        ):
            for fmt in ("json", "graphml", "gexf", "csv-nodes"):
                body = getter.get(f"{prefix}format={fmt}", headers=headers).data
                said = "en" if fmt == "csv-nodes" else lang
                for code, label in _labels(fmt, body).items():
                    if label != VOCAB.countries[code].name(said):
                        wrong.append((source, lang, fmt, code, label))
    assert not wrong, wrong[:8]


def _labels(fmt: str, body: bytes) -> dict[str, str]:
    if fmt == "json":
        return {n["id"]: n["label"] for n in json.loads(body)["nodes"]}
    if fmt == "csv-nodes":
        return {r["id"]: r["label"] for r in _csv(body)}
    graph = (nx.read_graphml if fmt == "graphml" else nx.read_gexf)(io.BytesIO(body))
    return {n: d["label"] for n, d in graph.nodes(data=True)}
