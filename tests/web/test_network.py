"""The network pages, the API and the export command, on the knowledge base."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from flask import Flask
from sqlmodel import Session, select

from sscmatch.bundle import import_bundle
from sscmatch.caches import clear_all
from sscmatch.models import Commitment, Exchange, User
from sscmatch.vocab import load_vocabulary
from sscmatch.workflow.accounts import issue_api_token

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    clear_all()
    yield
    clear_all()


@pytest.fixture
def kb(app: Flask) -> list[Exchange]:
    """The knowledge base loaded; returns its exchanges."""
    with Session(app.extensions["sscmatch.engine"], expire_on_commit=False) as s:
        import_bundle(s, ROOT / "data", load_vocabulary())
        s.commit()
        return list(s.exec(select(Exchange)).all())


def brazil_ids(exchanges: list[Exchange]) -> set[str]:
    return {e.id for e in exchanges if "BRA" in (*e.providers, *e.recipients, *e.participants)}


@pytest.fixture
def token(app: Flask, users: dict[str, int]) -> str:
    with Session(app.extensions["sscmatch.engine"]) as s:
        user = s.get(User, users["analyst"])
        assert user is not None
        value = issue_api_token(s, user)
        s.commit()
    return value


def api(client: Any, token: str, query: str) -> Any:
    return client.get(f"/api/v1/network{query}", headers={"Authorization": f"Bearer {token}"})


def test_pages_need_sign_in(client: Any) -> None:
    for url in ("/network", "/network/data", "/countries", "/countries/BRA", "/network/charts"):
        assert client.get(url).status_code == 302
    assert client.get("/api/v1/network").status_code == 401


def test_network_page_renders_the_knowledge_base(as_user: Any, kb: list[Exchange]) -> None:
    page = as_user("focal_gtm").get("/network")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f"{len(kb)} exchanges" in html
    assert 'id="net"' in html and "js/network.js" in html  # the drawing, from our own static
    assert "<script>" not in html and "onclick" not in html  # CSP: no inline script
    assert "/countries/BRA" in html  # the table version links countries to their profiles
    for fmt in ("graphml", "gexf", "json", "csv-nodes", "csv-edges"):
        assert f"format={fmt}" in html


def test_theme_filter_changes_what_is_shown(as_user: Any, kb: list[Exchange]) -> None:
    client = as_user("analyst")
    everything = client.get("/network/data").get_json()
    education = client.get("/network/data?theme=education-skills").get_json()
    wanted = {
        e.id
        for e in kb
        if any(
            t == "education-skills" or load_vocabulary().themes[t].parent == "education-skills"
            for t in e.themes
            if t in load_vocabulary().themes
        )
    }
    assert education["graph"]["exchanges"] == len(wanted) > 0
    assert education["graph"]["exchanges"] < everything["graph"]["exchanges"] == len(kb)
    assert len(education["nodes"]) < len(everything["nodes"])
    assert education["graph"]["filters"] == {"theme": "education-skills"}
    page = client.get("/network?theme=education-skills").get_data(as_text=True)
    assert f"{len(wanted)} exchanges" in page
    assert "theme=education-skills" in page  # downloads keep the filter
    assert everything["graph"]["links_total"] == len(everything["links"])  # all drawn here
    node = everything["nodes"][0]
    assert {"x", "y", "r", "region", "betweenness", "pagerank", "community"} <= set(node)


def test_clicking_brazil_lists_its_exchanges(as_user: Any, kb: list[Exchange]) -> None:
    client = as_user("analyst")
    found = client.get("/network/exchanges?node=BRA&format=json").get_json()
    assert found["node"] == "BRA" and found["total"] == len(brazil_ids(kb))
    assert {e["id"] for e in found["exchanges"]} == brazil_ids(kb)
    assert all(e["role"] in ("provider", "recipient", "participant") for e in found["exchanges"])
    html = client.get("/network/exchanges?node=BRA").get_data(as_text=True)
    assert "Brazil" in html and found["exchanges"][0]["id"] in html
    bad = client.get("/network/exchanges?node=ZZZ&format=json")
    assert bad.status_code == 400 and "Unknown country" in bad.get_json()["message"]


def test_unknown_country_or_link_answers_in_the_readers_language(
    as_user: Any, kb: list[Exchange]
) -> None:
    """The use case's refusals (an unknown country, a link named wrongly) reach the page, its
    side panel and the API through the one error handler, with their status and in the
    reader's language."""
    client = as_user("analyst")
    english = client.get("/countries/ZZZ")
    assert english.status_code == 404
    assert "No country with code &#39;ZZZ&#39;." in english.get_data(as_text=True)
    client.post("/language", data={"lang": "es"})
    spanish = client.get("/countries/zzz")
    assert spanish.status_code == 404
    assert "No hay ningún país con el código &#39;ZZZ&#39;." in spanish.get_data(as_text=True)
    panel = client.get("/network/exchanges?source=BRA&target=MOZ&kind=sideways&format=json")
    assert panel.status_code == 400
    assert panel.get_json() == {
        "error": "bad_parameter",
        "message": "Kind debe ser 'directed' o 'joint'",  # on its own: a sentence
    }
    page = client.get("/network/exchanges?node=ZZZ")
    assert page.status_code == 400
    assert "País desconocido &#39;ZZZ&#39;" in page.get_data(as_text=True)


def test_link_details_match_the_link_count(as_user: Any, kb: list[Exchange]) -> None:
    client = as_user("analyst")
    data = client.get("/network/data").get_json()
    link = data["links"][0]
    found = client.get(
        f"/network/exchanges?format=json&source={link['source']}&target={link['target']}"
        f"&kind={link['kind']}"
    ).get_json()
    assert found["total"] == link["exchanges"]


def test_bad_filters_give_a_message_not_an_error(as_user: Any, kb: list[Exchange]) -> None:
    client = as_user("analyst")
    page = client.get("/network?year_from=abc")
    said = page.get_data(as_text=True)
    assert page.status_code == 400 and "From year must be a year" in said  # by its label
    data = client.get("/network/data?theme=nothing-like-this")
    assert data.status_code == 400 and data.get_json()["error"] == "bad_filter"
    assert client.get("/network/download?format=pdf").status_code == 400
    assert client.get("/countries?region=Atlantis").status_code == 400


def test_charts_page_has_labelled_svg_charts_and_the_gaps(as_user: Any, kb: list[Exchange]) -> None:
    html = as_user("analyst").get("/network/charts").get_data(as_text=True)
    assert html.count('<svg class="chart-svg"') >= 3
    assert "Exchanges per year by theme" in html and "Year the exchange started" in html
    assert "Open needs and capacities per theme" in html
    assert "Birth registration" in html  # a gap of the knowledge base, with its needs listed
    assert 'id="gaps"' in html


@pytest.mark.parametrize(
    ("lang", "title", "axis"),
    [
        ("es", "Intercambios por año y tema", "Año de inicio del intercambio"),
        ("pt", "Intercâmbios por ano e por tema", "Ano de início do intercâmbio"),
        ("fr", "Échanges par an et par thème", "Année de début de l'échange"),
    ],
)
def test_charts_are_translated(
    as_user: Any, kb: list[Exchange], lang: str, title: str, axis: str
) -> None:
    client = as_user("analyst")
    client.post("/language", data={"lang": lang, "next": "/network/charts"})
    html = client.get("/network/charts").get_data(as_text=True).replace("&#39;", "'")
    assert f'<html lang="{lang}">' in html
    assert title in html and axis in html  # chart titles and axes from the catalogues
    themes = load_vocabulary().themes
    # theme names in legends, bars and the gap list come from the vocabulary, in that language
    assert themes["birth-registration"].label(lang) in html
    assert themes["education-skills"].label("en") not in html


def test_countries_list_and_region_filter(as_user: Any, kb: list[Exchange]) -> None:
    client = as_user("analyst")
    html = client.get("/countries").get_data(as_text=True)
    assert "Brazil" in html  # by name: a page of them (the rest on the next pages)
    everyone = client.get("/countries/export.json").get_json()["countries"]
    assert {"BRA", "MOZ"} <= {c["country"] for c in everyone}
    if len(everyone) > 25:
        assert '<nav class="pager"' in html and 'href="/countries?page=2"' in html
    africa = client.get("/countries?region=Africa").get_data(as_text=True)
    assert "Mozambique" in africa and "/countries/BRA" not in africa
    exported = client.get("/countries/export.json?region=Africa").get_json()["countries"]
    assert "MOZ" in {c["country"] for c in exported}
    assert {c["region"] for c in exported} == {"Africa"}


def test_country_profile(as_user: Any, kb: list[Exchange]) -> None:
    client = as_user("focal_gtm")
    html = client.get("/countries/BRA").get_data(as_text=True)
    assert "Brazil" in html and "Capacities" in html and "Commitments" in html
    assert "Exchanges given" in html and "Partner countries" in html and "Betweenness" in html
    some = sorted(brazil_ids(kb))[0]
    assert some in html or any(e.title and e.title in html for e in kb if e.id == some)
    assert client.get("/countries/bra").status_code == 200
    assert client.get("/countries/QQQ").status_code == 404


@pytest.mark.parametrize(
    ("pinned", "state"), [("2026-02-10", "pending"), ("2026-05-01", "overdue")]
)
def test_the_country_page_counts_overdue_by_the_services_day(
    app: Flask, as_user: Any, pinned: str, state: str
) -> None:
    """A commitment due in March 2026 is overdue on the country page from April on, by the day
    the service works on (TODAY when pinned, as the follow-up pages): the page read the real
    date, so with TODAY pinned before March it said overdue where follow-up said pending."""
    with Session(app.extensions["sscmatch.engine"]) as s:
        s.add(Commitment(id="k-due", owner_country="BRA", description="Report", due="2026-03"))
        s.commit()
    app.config["TODAY"] = pinned
    html = as_user("analyst").get("/countries/BRA").get_data(as_text=True)
    row = html[html.index("Report") :].split("</tr>")[0]
    assert f"badge-{state}" in row, row


def test_page_download_is_graphml_that_loads_back(as_user: Any, kb: list[Exchange]) -> None:
    client = as_user("analyst")
    data = client.get("/network/data").get_json()
    resp = client.get("/network/download?format=graphml")
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    g = nx.read_graphml(io.BytesIO(resp.data))
    assert set(g.nodes) == {n["id"] for n in data["nodes"]}
    assert g.number_of_edges() == len(data["links"])


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_api_exports_round_trip(client: Any, token: str, kb: list[Exchange], fmt: str) -> None:
    listed = api(client, token, "").get_json()
    nodes = {n["id"] for n in listed["nodes"]}
    edges = {(e["source"], e["target"], e["kind"], e["exchanges"]) for e in listed["links"]}
    resp = api(client, token, f"?format={fmt}")
    assert resp.status_code == 200
    reader = nx.read_graphml if fmt == "graphml" else nx.read_gexf
    g = reader(io.BytesIO(resp.data))
    assert set(g.nodes) == nodes
    assert {(u, v, d["kind"], int(d["exchanges"])) for u, v, d in g.edges(data=True)} == edges


def test_api_json_is_node_link_and_filters_apply(
    client: Any, token: str, kb: list[Exchange]
) -> None:
    payload = api(client, token, "?format=json").get_json()
    g = nx.node_link_graph(payload, edges="links")
    assert g.number_of_nodes() == len(payload["nodes"]) > 20
    africa = api(client, token, "?region=Africa").get_json()
    assert africa["graph"]["exchanges"] < payload["graph"]["exchanges"]
    csv_nodes = api(client, token, "?format=csv-nodes").get_data(as_text=True).splitlines()
    assert len(csv_nodes) == len(payload["nodes"]) + 1
    csv_edges = api(client, token, "?format=csv-edges").get_data(as_text=True).splitlines()
    assert len(csv_edges) == len(payload["links"]) + 1


def test_api_node_details_and_errors(client: Any, token: str, kb: list[Exchange]) -> None:
    found = api(client, token, "?node=BRA").get_json()
    assert {e["id"] for e in found["exchanges"]} == brazil_ids(kb)
    for query, code in (
        ("?format=pdf", "bad_format"),
        ("?year_from=1990&year_to=1980", "bad_filter"),
        ("?modality=teleport", "bad_filter"),
        ("?node=XYZ", "bad_parameter"),
        ("?layout=circle", "bad_parameter"),
        ("?source=BRA&target=MOZ&kind=sideways", "bad_parameter"),
        ("?source=BRA", "bad_parameter"),
    ):
        resp = api(client, token, query)
        assert resp.status_code == 400, query
        body = resp.get_json()
        assert body["error"] == code and body["message"]


def test_api_is_documented(client: Any) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    op = spec["paths"]["/network"]["get"]
    names = {p["name"] for p in op["parameters"]}
    assert {
        "format",
        "theme",
        "year_from",
        "year_to",
        "region",
        "modality",
        "constituency",
    } <= names


def test_cli_export_network(runner: Any, kb: list[Exchange], tmp_path: Path) -> None:
    out = tmp_path / "net.gexf"
    result = runner.invoke(args=["export-network", str(out), "--theme", "education-skills"])
    assert result.exit_code == 0, result.output
    g = nx.read_gexf(out)
    assert g.number_of_nodes() > 0 and "exchanges" in result.output
    folder = tmp_path / "csv"
    result = runner.invoke(args=["export-network", str(folder), "--format", "csv"])
    assert result.exit_code == 0 and (folder / "nodes.csv").exists()
    assert (folder / "edges.csv").read_text().startswith("source,target,kind,exchanges")
    js = tmp_path / "net.json"
    assert runner.invoke(args=["export-network", str(js)]).exit_code == 0
    assert json.loads(js.read_text())["multigraph"] is True
    bad = runner.invoke(args=["export-network", str(out), "--region", "Atlantis"])
    assert bad.exit_code != 0 and "unknown region" in bad.output


def test_country_page_shows_the_first_records_and_links_to_all(
    as_user: Any, kb: list[Exchange], app: Flask
) -> None:
    from sscmatch.analytics.profile import LIST_LIMIT
    from sscmatch.models import Capacity

    with Session(app.extensions["sscmatch.engine"]) as s:
        for n in range(LIST_LIMIT + 5):
            s.add(Capacity(id=f"many-{n:03d}", country="TLS", title=f"Many capacity {n:03d}"))
        s.commit()
    html = as_user("analyst").get("/countries/TLS").get_data(as_text=True)
    assert f"The first {LIST_LIMIT} of {LIST_LIMIT + 5}" in html
    assert 'href="/capacities?country=TLS"' in html
    assert "Many capacity 000" in html and f"Many capacity {LIST_LIMIT + 4:03d}" not in html
