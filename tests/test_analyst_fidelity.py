"""An analyst's figures, checked the way a report would use them: every number the network
page, its drawing data, every download (CSV of countries and links, node-link JSON, GraphML,
GEXF, the spreadsheet), the API and the country profiles give equals what the database holds
under the same filters, counted here from the records themselves (not through the analytics).

The records are made for the edge cases: several providers and recipients with participants
beside them, a reciprocal exchange, partners (an international body, a donor named as text)
that are never countries, a start on the last day of a year and one on the first, a country
listed twice, a country with no exchange at all, and filters that leave nothing.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from datetime import date
from html import unescape as html_unescape
from html.parser import HTMLParser
from itertools import combinations
from typing import Any

import networkx as nx
import openpyxl
import pytest
from flask import Flask
from sqlmodel import Session

from sscmatch.models import Exchange, Institution, User
from sscmatch.vocab import load_vocabulary
from sscmatch.workflow.accounts import issue_api_token
from tests.web.test_network import _fresh_cache  # noqa: F401 (an autouse fixture)

VOCAB = load_vocabulary()

ROLES = ("providers", "recipients", "participants")
FIELDS = ("id", "start", *ROLES, "partners", "themes", "modality", "direction")
ROWS: tuple[tuple[Any, ...], ...] = (
    # a bilateral one on the last day of 2015, a funder that is an international body
    (
        "x-bilateral",
        "2015-12-31",
        ["BRA"],
        ["MOZ"],
        [],
        ["f-ilo"],
        ["labour-inspection"],
        "study_tour",
    ),
    # two providers, two recipients and a participant; a donor named as text
    (
        "x-many",
        "2016",
        ["BRA", "ARG"],
        ["GTM", "HTI"],
        ["MEX"],
        ["f-ilo", "Japan (JICA)"],
        ["conditional-cash-transfers"],
        "training",
        "multilateral",
    ),
    (
        "x-meeting",
        "2016-01-01",
        [],
        [],
        ["IND", "BRA", "ZAF"],
        [],
        ["knowledge-management"],
        "conference",
        "multilateral",
    ),
    (
        "x-mutual",
        "2017-06",
        [],
        [],
        ["MAR", "MLI"],
        ["f-union"],
        ["education"],
        "expert_exchange",
        "reciprocal",
    ),
    # a provider listed twice
    ("x-twice", "2018", ["CHL", "CHL"], ["PER"], [], [], ["labour-inspection", "education"]),
    ("x-old", "2009-03", ["IND"], ["AFG"], [], [], ["education"]),
    # two providers and no participant: they gave together, but no link joins them
    ("x-coprov", "2012", ["KEN", "UGA"], ["ZMB", "BRA"]),
    # a country in two roles of one exchange (the schema allows it): one exchange still
    ("x-roles", "2013", ["IND"], ["ARG", "IND"], ["IND", "BRA"], [], ["education"]),
)
RECORDS = [dict(zip(FIELDS, values, strict=False)) for values in ROWS]
NO_EXCHANGE = "TLS"

FILTERS: list[dict[str, str]] = [
    {},
    {"year_from": "2016"},
    {"year_to": "2015"},
    {"year_from": "2016", "year_to": "2016"},
    {"theme": "enforcement"},
    {"theme": "education"},
    {"region": "Africa"},
    {"region": "Americas", "year_to": "2016"},
    {"modality": "training"},
    {"constituency": "other"},
    {"constituency": "workers"},
    {"year_from": "2090"},  # nothing matches
]


# --------------------------------------------------------------------------- the reference


def _year(record: dict[str, Any]) -> int:
    return int(record["start"][:4])


def _passes(record: dict[str, Any], f: dict[str, str]) -> bool:
    themes = set(record.get("themes", ()))
    if "theme" in f:
        wanted = {f["theme"], *VOCAB.children(f["theme"])}
        if not wanted & themes:
            return False
    if "year_from" in f and _year(record) < int(f["year_from"]):
        return False
    if "year_to" in f and _year(record) > int(f["year_to"]):
        return False
    if "modality" in f and record.get("modality") != f["modality"]:
        return False
    if "constituency" in f:
        bodies = {b["id"]: b["constituency"] for b in BODIES}
        if f["constituency"] not in {bodies.get(p) for p in record.get("partners", ())}:
            return False
    if "region" in f:
        countries = _countries(record)
        if not any(VOCAB.countries[c].region == f["region"] for c in countries):
            return False
    return True


def _countries(record: dict[str, Any]) -> set[str]:
    return {
        *record.get("providers", ()),
        *record.get("recipients", ()),
        *record.get("participants", ()),
    }


def reference(f: dict[str, str]) -> dict[str, Any]:
    """What the records say under ``f``: exchanges, per country its exchanges by role and its
    partner countries, per link its exchanges."""
    chosen = [r for r in RECORDS if _passes(r, f)]
    roles: dict[str, Counter[str]] = {
        "provided": Counter(),
        "received": Counter(),
        "joint": Counter(),
    }
    links: dict[tuple[str, str, str], set[str]] = {}
    for r in chosen:
        provs, recs, parts = (
            set(r.get(k, ())) for k in ("providers", "recipients", "participants")
        )
        for name, members in (("provided", provs), ("received", recs), ("joint", parts)):
            roles[name].update(members)
        directed = {(p, q) for p in provs for q in recs if p != q}
        for p, q in directed:
            links.setdefault((p, q, "directed"), set()).add(r["id"])
        if parts:
            for a, b in combinations(sorted(_countries(r)), 2):
                if (a, b) not in directed and (b, a) not in directed:
                    links.setdefault((a, b, "joint"), set()).add(r["id"])
    partners: dict[str, set[str]] = {}
    for a, b, _kind in links:
        partners.setdefault(a, set()).add(b)
        partners.setdefault(b, set()).add(a)
    codes = set(roles["provided"]) | set(roles["received"]) | set(roles["joint"])
    nodes = {
        c: {
            "provided": roles["provided"][c],
            "received": roles["received"][c],
            "joint": roles["joint"][c],
            "partners": len(partners.get(c, ())),
            "exchanges": sum(1 for r in chosen if c in _countries(r)),
            # exchanges in all: each once, whatever roles the country has in it
            "total": sum(1 for r in chosen if c in _countries(r)),
        }
        for c in codes
    }
    return {"exchanges": {r["id"] for r in chosen}, "nodes": nodes, "links": links}


BODIES: list[dict[str, Any]] = [
    {
        "id": "f-ilo",
        "name": "ILO",
        "country": "CHE",
        "constituency": "other",
        "international": True,
    },
    {
        "id": "f-union",
        "name": '=HYPERLINK("http://x")',
        "country": "MAR",
        "constituency": "workers",
    },
]


# --------------------------------------------------------------------------- the world


@pytest.fixture
def world(app: Flask, users: dict[str, int]) -> dict[str, Any]:
    engine = app.extensions["sscmatch.engine"]
    with Session(engine) as s:
        for body in BODIES:
            s.add(Institution(**body))
        s.commit()
        for record in RECORDS:
            s.add(Exchange(title=f"Exchange {record['id']}", **record))
        s.commit()
        user = s.get(User, users["analyst"])
        assert user is not None
        token = issue_api_token(s, user)
        s.commit()
    return {"token": token}


class _Tables(HTMLParser):
    """The page's tables as lists of rows of cell texts, by caption."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.lead = ""
        self._cell: list[str] | None = None
        self._in_lead = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th") and self.tables:
            self._cell = []
        elif tag == "p" and ("class", "lead") in attrs:
            self._in_lead = True

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "p":
            self._in_lead = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._in_lead:
            self.lead += data


def _query(f: dict[str, str], **extra: str) -> str:
    from urllib.parse import urlencode

    return urlencode({**f, **extra})


def _csv(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def _edges_of(rows: list[dict[str, Any]], ids_joined: bool) -> dict[tuple[str, str, str], set[str]]:
    out = {}
    for row in rows:
        ids = row["exchange_ids"]
        ids = [i for i in ids.split(";") if i] if ids_joined else list(ids)
        assert int(row["exchanges"]) == len(ids), row
        out[(row["source"], row["target"], row["kind"])] = set(ids)
    return out


EXPORT_FORMATS = ("json", "graphml", "gexf", "csv-nodes", "csv-edges")
FIGURES = ("provided", "received", "joint", "partners", "total")


def _nodes_of(rows: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    return {str(row["id"]): {k: int(row[k]) for k in FIGURES} for row in rows}


def _graph_edges(g: Any) -> dict[tuple[str, str, str], set[str]]:
    out = {}
    for u, v, d in g.edges(data=True):
        ids = [i for i in str(d.get("exchange_ids", "")).split(";") if i]
        assert int(d["exchanges"]) == len(ids)
        out[(u, v, d["kind"])] = set(ids)
    return out


def _graph_nodes(g: Any) -> dict[str, dict[str, int]]:
    return {n: {k: int(d[k]) for k in FIGURES} for n, d in g.nodes(data=True)}


@pytest.mark.parametrize("f", FILTERS, ids=lambda f: _query(f) or "all")
def test_every_figure_and_export_equals_the_records(
    as_user: Any, client: Any, world: dict[str, Any], f: dict[str, str]
) -> None:
    want = reference(f)
    want_nodes = {
        c: {k: v for k, v in n.items() if k != "exchanges"} for c, n in want["nodes"].items()
    }
    analyst = as_user("analyst")
    q = _query(f)
    seen: dict[str, Any] = {}

    # the page: the lead sentence and the countries' and links' tables
    page = analyst.get(f"/network?{q}")
    assert page.status_code == 200
    parser = _Tables()
    parser.feed(page.get_data(as_text=True))
    seen["page lead"] = parser.lead
    countries, links = parser.tables[0], parser.tables[1]
    body_rows = [r for r in countries[1:] if len(r) > 2]
    page_nodes = {}
    for row in body_rows:
        code = next(c for c, n in VOCAB.countries.items() if n.name("en") == row[0])
        page_nodes[code] = dict(
            zip(("provided", "received", "joint", "partners"), map(int, row[2:6]), strict=True)
        )
    assert page_nodes == {
        c: {k: v for k, v in n.items() if k != "total"} for c, n in want_nodes.items()
    }, "page's countries"
    n, c = len(want["exchanges"]), len(want_nodes)
    said = (
        ("1 exchange matches" if n == 1 else f"{n} exchanges match")
        + " the filters. "
        + ("1 country took part" if c == 1 else f"{c} countries took part")
    )
    assert said in " ".join(parser.lead.split()), parser.lead
    page_links = {(r[0], r[2], int(r[3])) for r in links[1:] if len(r) == 4}
    names = {c: VOCAB.countries[c].name("en") for c in VOCAB.countries}
    assert page_links == {
        (names[a], names[b], len(ids)) for (a, b, _k), ids in want["links"].items()
    }

    # the drawing's data
    data = analyst.get(f"/network/data?{q}").get_json()
    assert data["graph"]["exchanges"] == len(want["exchanges"])
    assert _nodes_of(data["nodes"]) == want_nodes
    assert {(e["source"], e["target"], e["kind"]): e["exchanges"] for e in data["links"]} == {
        k: len(v) for k, v in want["links"].items()
    }

    # every download of the page, and the API's
    for source, prefix, headers in (
        ("page", "/network/download?", {}),
        ("api", "/api/v1/network?", {"Authorization": f"Bearer {world['token']}"}),
    ):
        getter = analyst if source == "page" else client
        for fmt in ("csv-nodes", "csv-edges", "json", "graphml", "gexf"):
            got = getter.get(f"{prefix}{_query(f, format=fmt)}", headers=headers)
            assert got.status_code == 200, (source, fmt, got.data[:300])
            if fmt == "csv-nodes":
                rows = _csv(got.data)
                assert got.data.decode("utf-8-sig").splitlines()[0].startswith("id,label"), (
                    source,
                    fmt,
                )
                assert _nodes_of(rows) == want_nodes, (source, fmt)
            elif fmt == "csv-edges":
                rows = _csv(got.data)
                assert got.data.decode("utf-8-sig").splitlines()[0].startswith("source,"), (
                    source,
                    fmt,
                )
                assert _edges_of(rows, True) == want["links"], (source, fmt)
            elif fmt == "json":
                payload = json.loads(got.data)
                assert payload["graph"]["exchanges"] == len(want["exchanges"])
                assert _nodes_of(payload["nodes"]) == want_nodes, (source, fmt)
                assert _edges_of(payload["links"], False) == want["links"], (source, fmt)
                nx.node_link_graph(payload, edges="links")
            else:
                reader = nx.read_graphml if fmt == "graphml" else nx.read_gexf
                g = reader(io.BytesIO(got.data))
                assert _graph_nodes(g) == want_nodes, (source, fmt)
                assert _graph_edges(g) == want["links"], (source, fmt)

    book = openpyxl.load_workbook(
        io.BytesIO(analyst.get(f"/network/download?{_query(f, format='xlsx')}").data)
    )
    nodes_sheet, links_sheet = book.worksheets[0], book.worksheets[1]
    node_rows = list(nodes_sheet.iter_rows(values_only=True))
    link_rows = list(links_sheet.iter_rows(values_only=True))
    assert {r[0]: r[7] for r in node_rows[1:] if r[0]} == {
        c: n["total"] for c, n in want_nodes.items()
    }, node_rows
    assert len([r for r in link_rows[1:] if r[0]]) == len(want["links"]), link_rows

    # each country's and each link's exchanges, as the side panel and the API list them
    for code, figures in want["nodes"].items():
        panel = analyst.get(f"/network/exchanges?{_query(f, node=code, format='json')}").get_json()
        assert panel["total"] == figures["exchanges"], code
        api = client.get(
            f"/api/v1/network?{_query(f, node=code)}",
            headers={"Authorization": f"Bearer {world['token']}"},
        ).get_json()
        assert api["total"] == figures["exchanges"], code
    for (a, b, kind), ids in want["links"].items():
        panel = analyst.get(
            f"/network/exchanges?{_query(f, source=a, target=b, kind=kind, format='json')}"
        ).get_json()
        assert {e["id"] for e in panel["exchanges"]} == ids, (a, b, kind)


def _found(pattern: str, text: str) -> re.Match[str]:
    match = re.search(pattern, text)
    assert match is not None, (pattern, text[:2000])
    return match


def _section(html: str, heading_id: str) -> str:
    start = html.index(f'id="{heading_id}"')
    return html[start : html.index("</section>", start)]


@pytest.mark.parametrize("code", [*sorted(reference({})["nodes"]), NO_EXCHANGE])
def test_every_country_profile_equals_its_row_in_the_network_and_the_records(
    as_user: Any, world: dict[str, Any], code: str
) -> None:
    """A country's page: its exchanges by role, its partner countries (how many, which, and
    the exchanges with each) are the network's row for it and what the records say."""
    want = reference({})
    node = want["nodes"].get(code)
    together: dict[str, set[str]] = {}
    for (a, b, _kind), ids in want["links"].items():
        if code in (a, b):
            together.setdefault(b if a == code else a, set()).update(ids)
    html = as_user("analyst").get(f"/countries/{code}").get_data(as_text=True)
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    by_name = {VOCAB.countries[c].name("en"): c for c in VOCAB.countries}
    partners = _section(html, "partners-h")
    listed = {}
    for item in re.findall(r"<li>(.*?)</li>", partners, re.S):
        words = " ".join(re.sub(r"<[^>]+>", " ", item).split())
        if words == "None":
            continue
        name, count = _found(r"^(.+?) · (\d+) exchanges? together$", words).groups()
        listed[by_name[name]] = int(count)
        # the count's link lists those exchanges
        href = html_unescape(_found(r'href="([^"]*/network/exchanges[^"]*)"', item).group(1))
        behind = as_user("analyst").get(href).get_data(as_text=True)
        shown = set(re.findall(r'<span class="id">([^<]+)</span>', behind))
        assert shown == together.get(by_name[name]), (name, href)
    heading = int(_found(r"Partner countries \((\d+)\)", text).group(1))
    assert listed == {other: len(ids) for other, ids in together.items()}, "partner list"
    assert heading == len(together), "partner heading"
    for role, title in (
        ("provided", "Exchanges given"),
        ("received", "Exchanges received"),
        ("joint", "Took part (no direction recorded)"),
    ):
        total = int(_found(re.escape(title) + r" \((\d+)\)", text).group(1))
        assert total == (node[role] if node else 0), role
    if node is None:
        assert "No exchange recorded." in text
        return
    stats = [int(n) for n in re.findall(r'<div class="stat"><span class="num">(\d+)</span>', html)]
    assert stats == [node["provided"], node["received"], node["joint"], node["partners"]]
    assert node["partners"] == len(together)


def test_every_network_download_is_named_by_its_filters_and_day(
    as_user: Any, client: Any, world: dict[str, Any]
) -> None:
    """README, *Exports*: a file name says the export, its filters and the day, so two files
    of different filters saved side by side stay apart; the page's and the API's alike."""
    analyst = as_user("analyst")
    bearer = {"Authorization": f"Bearer {world['token']}"}
    today = date.today().isoformat()
    seen: dict[str, str] = {}
    wrong = []
    for f in FILTERS:
        for source, prefix, getter, formats in (
            ("page", "/network/download?", analyst, (*EXPORT_FORMATS, "xlsx")),
            ("api", "/api/v1/network?", client, EXPORT_FORMATS[1:]),
        ):
            for fmt in formats:
                answer = getter.get(f"{prefix}{_query(f, format=fmt)}", headers=bearer)
                disposition = answer.headers.get("Content-Disposition", "")
                name = _found(r'filename="([^"]+)"', disposition).group(1)
                said = all(f"{k}-{v}" in name for k, v in f.items()) and today in name
                if not said or seen.get(name, str(f)) != str(f):
                    wrong.append((source, fmt, f, name))
                seen[name] = str(f)
    assert not wrong, wrong
