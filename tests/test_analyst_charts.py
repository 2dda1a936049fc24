"""The charts page as a report uses it: under every filter, each chart's figures on the page
(its table, the text alternative of the picture) and its downloads (CSV, JSON, spreadsheet)
equal what the records say: exchanges per start year and theme family (an exchange once in each
family it touches), and what each country provided and received per family."""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from html import unescape
from typing import Any

import openpyxl
import pytest
from flask import Flask
from sqlmodel import Session

from sscmatch.models import Capacity, Need
from tests.test_analyst_fidelity import (
    FILTERS,
    RECORDS,
    VOCAB,
    _csv,
    _found,
    _passes,
    _query,
    _Tables,
)
from tests.test_analyst_fidelity import world as world  # a fixture
from tests.web.test_network import _fresh_cache  # noqa: F401 (an autouse fixture)


def _family(theme: str) -> str:
    found = VOCAB.themes.get(theme)
    return found.parent if found is not None and found.parent else theme


def reference(
    f: dict[str, str],
) -> tuple[Counter[tuple[int, str]], Counter[tuple[str, str, str]]]:
    """Per (year, family) the exchanges; per (family, country) provided and received."""
    per_year: Counter[tuple[int, str]] = Counter()
    tops: Counter[tuple[str, str, str]] = Counter()
    for record in RECORDS:
        if not _passes(record, f):
            continue
        families = {_family(t) for t in record.get("themes") or ()} or {"(none)"}
        for fam in families:
            per_year[(int(record["start"][:4]), fam)] += 1
            if fam == "(none)":
                continue
            for role in ("providers", "recipients"):
                for code in set(record.get(role) or ()):
                    tops[(fam, code, role)] += 1
    return per_year, tops


def _label(family: str, lang: str = "en") -> str:
    return VOCAB.themes[family].label(lang) if family in VOCAB.themes else family


@pytest.mark.parametrize("f", FILTERS, ids=lambda f: _query(f) or "all")
def test_every_chart_on_the_page_and_in_its_downloads_equals_the_records(
    as_user: Any, world: dict[str, Any], f: dict[str, str]
) -> None:
    per_year, tops = reference(f)
    analyst = as_user("analyst")
    wrong: list[Any] = []

    # per year: the downloads
    want = {(y, fam): n for (y, fam), n in per_year.items()}
    base = "/network/charts/per-year/export"
    got_csv = {
        (int(r["year"]), r["theme"]): int(r["exchanges"])
        for r in _csv(analyst.get(f"{base}.csv?{_query(f)}").data)
    }
    got_json = {
        (r["year"], r["theme"]): r["exchanges"]
        for r in json.loads(analyst.get(f"{base}.json?{_query(f)}").data)["per-year"]
    }
    book = openpyxl.load_workbook(io.BytesIO(analyst.get(f"{base}.xlsx?{_query(f)}").data))
    sheet = [r for r in book.worksheets[0].iter_rows(values_only=True)][1:]
    got_xlsx = {(int(r[0]), r[1]): r[2] for r in sheet if r[0] is not None and r[2] is not None}
    want_xlsx = {(y, _label(fam)): n for (y, fam), n in want.items()}
    for name, got, expected in (
        ("csv", got_csv, want),
        ("json", got_json, want),
        ("xlsx", got_xlsx, want_xlsx),
    ):
        if got != expected:
            wrong.append(("per-year", name, got, expected))

    # tops: the downloads (every country, not the chart's first five)
    want_tops = {
        (fam, code): (tops[(fam, code, "providers")], tops[(fam, code, "recipients")])
        for fam, code, _role in tops
    }
    rows = _csv(analyst.get(f"/network/charts/tops/export.csv?{_query(f)}").data)
    got_tops = {(r["theme"], r["country"]): (int(r["provided"]), int(r["received"])) for r in rows}
    if got_tops != want_tops:
        wrong.append(("tops", "csv", got_tops, want_tops))

    # the page: its lead, and each chart's figures as the page gives them in words or a table
    html = analyst.get(f"/network/charts?{_query(f)}").get_data(as_text=True)
    count = sum(1 for r in RECORDS if _passes(r, f))
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    if f"{count} exchange" not in text:
        wrong.append(("lead", count))
    page = _Tables()
    page.feed(html)
    shown_years = {}
    for table in page.tables:
        header = table[0] if table else []
        if header[:1] == ["Year"]:
            for row in table[1:]:
                for fam_label, cell in zip(header[1:], row[1:], strict=False):
                    if cell and cell != "0":
                        shown_years[(int(row[0]), fam_label)] = int(cell)
    if shown_years != {k: v for k, v in want_xlsx.items()}:
        wrong.append(("per-year", "page table", shown_years, want_xlsx))
    # each family's top providers and recipients, as its table writes them
    by_name = {VOCAB.countries[c].name("en"): c for c in VOCAB.countries}
    by_label = {_label(fam): fam for fam in VOCAB.roots()}
    tables = re.findall(
        r'<table class="net-table top-table"><caption>(.*?)</caption>(.*?)</table>', html, re.S
    )
    for caption, body in tables:
        fam = by_label[unescape(caption)]
        for row in re.findall(
            r"<tr><td>(.*?)</td><td[^>]*>(.*?)</td><td>(.*?)</td><td[^>]*>(.*?)</td></tr>", body
        ):
            for name, value, role in (
                (row[0], row[1], "providers"),
                (row[2], row[3], "recipients"),
            ):
                if name and int(value) != tops[(fam, by_name[unescape(name)], role)]:
                    wrong.append(("tops", "page table", fam, name, role, value))
    families = {fam for fam, _code, _role in tops}
    if len(tables) != len(families):
        wrong.append(("tops", "page tables", [c for c, _b in tables], families))
    assert not wrong, wrong


THEMES = ["education", "labour-inspection", "knowledge-management"]


@pytest.fixture
def needs(app: Flask, world: dict[str, Any]) -> None:
    """Open needs in two regions and themes, and a published capacity covering one."""
    with Session(app.extensions["sscmatch.engine"]) as s:
        s.add(
            Capacity(
                id="c-1", country="BRA", title="Inspection", status="published", themes=THEMES[1:2]
            )
        )
        for key, code, theme in (
            ("n-1", "GTM", 0),
            ("n-2", "MOZ", 1),
            ("n-3", "HTI", 2),
            ("n-4", "KEN", 0),
        ):
            s.add(
                Need(
                    id=key,
                    country=code,
                    title=f"Need {key}",
                    status="open",
                    themes=THEMES[theme : theme + 1],
                )
            )
        s.commit()


@pytest.mark.parametrize("table", ["per-year", "tops", "supply", "gaps"])
def test_every_chart_export_says_only_the_filters_its_rows_were_chosen_by(
    as_user: Any, needs: None, table: str
) -> None:
    """A chart's file says (in its name and, for JSON, its ``filters``) the filters its rows
    were chosen by, and only those: each filter it says changes its rows here (the records
    differ on every filter), so a file saying a year its rows were not chosen by is caught."""
    analyst = as_user("analyst")
    base = f"/network/charts/{table}/export"

    def rows(args: dict[str, str]) -> Any:
        return json.loads(analyst.get(f"{base}.json?{_query(args)}").data)[table]

    wrong = []
    for f in FILTERS[1:]:
        answer = analyst.get(f"{base}.json?{_query(f)}")
        said = json.loads(answer.data)["filters"]
        name = _found(r'filename="([^"]+)"', answer.headers["Content-Disposition"]).group(1)
        for key in f:
            if (key in said) != (f"-{key}-" in name):
                wrong.append((f, key, "name and JSON differ", name, said))
        for key in said:
            if rows(said) == rows({k: v for k, v in said.items() if k != key}):
                wrong.append((f, key, "said, but the rows are the same without it"))
    assert not wrong, wrong
