"""Exports of what the user is looking at: each list's CSV and JSON carry its filters, name the
file after them, go through the shared CSV writer and show only what the reader may see; network
edge exports say which exchanges (ids, years, themes) each link stands for."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from flask import Flask
from sqlmodel import Session

from sscmatch.models import Need
from sscmatch.web.exports import BOM
from tests.web.test_authorization import _world


def _csv(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.data[:300]
    assert response.mimetype == "text/csv"
    assert response.data.startswith(BOM)  # spreadsheet programs read it as UTF-8
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))


def _name(response: Any) -> str:
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=")
    return disposition.split('filename="', 1)[1].rstrip('"')


def test_list_exports_follow_filters_name_and_visibility(
    app: Flask, users: dict[str, int], as_user: Any
) -> None:
    _world(app, users)
    with Session(app.extensions["sscmatch.engine"]) as s:
        s.add(
            Need(
                id="N-GTM-draft",
                country="GTM",
                title='=HYPERLINK("http://x")',
                themes=["labour-inspection"],
                status="draft",
            )
        )
        s.commit()
    gtm, bra = as_user("focal_gtm"), as_user("focal_bra")
    mine = gtm.get("/needs/export.csv?country=GTM&status=draft")
    rows = _csv(mine)
    assert [r["id"] for r in rows] == ["N-GTM-draft"]
    assert rows[0]["title"].startswith("'=HYPERLINK")  # the shared writer neutralised it
    assert _name(mine).startswith("sscmatch-needs-country-GTM-status-draft-")
    assert _name(mine).endswith(".csv")
    assert _csv(bra.get("/needs/export.csv?country=GTM&status=draft")) == []  # not theirs
    every = _csv(gtm.get("/needs/export.csv?country=GTM"))
    page = gtm.get("/needs?country=GTM").get_data(as_text=True)
    assert {r["id"] for r in every} >= {"N-GTM-1", "N-GTM-draft"}
    assert all(r["country"] == "GTM" for r in every) and "/needs/export.json?country=GTM" in page
    as_json = gtm.get("/needs/export.json?country=GTM&theme=labour-inspection")
    body = json.loads(as_json.data)
    assert body["filters"] == {"country": "GTM", "theme": "labour-inspection"}
    assert body["count"] == len(body["needs"]) and all(
        "labour-inspection" in n["themes"] for n in body["needs"]
    )
    assert _csv(gtm.get("/capacities/export.csv?country=BRA"))
    assert gtm.get("/needs/export.xml").status_code == 404
    assert gtm.get("/needs/export.csv?sort=nonsense").status_code == 400


def test_proposals_and_commitments_exports(app: Flask, users: dict[str, int], as_user: Any) -> None:
    world = _world(app, users)
    sec = as_user("secretariat")
    proposals = _csv(sec.get("/review/export.csv?country=GTM&status=proposed&status=accepted"))
    assert proposals and all("GTM" in (r["provider"], r["recipient"]) for r in proposals)
    assert str(world["values"]["proposal_id"]) in {r["id"] for r in proposals}
    name = _name(sec.get("/review/export.json?country=GTM"))
    assert name.startswith("sscmatch-proposals-country-GTM-") and name.endswith(".json")
    assert as_user("focal_gtm").get("/review/export.csv").status_code == 403
    gtm = as_user("focal_gtm")
    # a focal point exports "Our proposals": only those their country provides or receives
    mine = _csv(gtm.get("/review/mine/export.csv?status=proposed&status=accepted"))
    assert mine and all("GTM" in (r["provider"], r["recipient"]) for r in mine)
    assert {r["id"] for r in mine} <= {r["id"] for r in proposals}
    assert gtm.get("/review/mine/export.csv?status=nonsense").status_code == 400
    assert sec.get("/review/mine/export.csv").status_code == 403
    own = _csv(gtm.get("/followup/export.csv"))  # a focal point's own country by default
    assert own and {r["owner_country"] for r in own} == {"GTM"}
    assert "K-GTM-1" in {r["id"] for r in own}
    everyone = _csv(gtm.get("/followup/export.csv?country=all"))
    assert len({r["owner_country"] for r in everyone}) > 1
    assert {r["recorded_from"] for r in everyone} == {"documents", "study_tour"}


def test_network_edge_exports_carry_exchange_ids_years_and_themes(
    app: Flask, users: dict[str, int], as_user: Any
) -> None:
    _world(app, users)
    client = as_user("analyst")
    edges = _csv(client.get("/network/download?format=csv-edges&theme=labour-inspection"))
    assert edges
    for edge in edges:
        ids = edge["exchange_ids"].split(";")
        assert len(ids) == int(edge["exchanges"]) and all(ids)
        assert edge["years"] and edge["themes"]
    graph = json.loads(client.get("/network/download?format=json").data)
    link = graph["links"][0]
    assert len(link["exchange_ids"]) == link["exchanges"] and link["years"] and link["themes"]
    graphml = client.get("/network/download?format=graphml&year_from=2010")
    assert b'attr.name="exchange_ids"' in graphml.data
    assert _name(graphml).startswith("sscmatch-network-layout-geo-year_from-2010-")


def test_export_bodies_kept_per_version_and_scope(
    app: Flask, users: dict[str, int], as_user: Any
) -> None:
    """An export is made once per version of the records, address and reader's visibility scope
    (the process cache ``export bodies``): a reader of another scope never gets a kept body, a
    committed change shows at once, a JSON body gets its own time of export."""
    _world(app, users)
    with Session(app.extensions["sscmatch.engine"]) as s:
        s.add(Need(id="N-GTM-draft", country="GTM", title="draft of GTM", status="draft"))
        s.commit()
    sec, gtm, bra = as_user("secretariat"), as_user("focal_gtm"), as_user("focal_bra")
    drafts = "/needs/export.csv?status=draft"
    seen = {who: {r["id"] for r in _csv(c.get(drafts))} for who, c in [("gtm", gtm), ("bra", bra)]}
    assert "N-GTM-draft" in seen["gtm"] and "N-GTM-draft" not in seen["bra"]
    assert "N-GTM-draft" in {r["id"] for r in _csv(sec.get(drafts))}  # staff see every draft
    assert {r["id"] for r in _csv(bra.get(drafts))} == seen["bra"]  # still not GTM's
    # the follow-up: one address, a focal point's own country by default, everyone's for staff
    assert {r["owner_country"] for r in _csv(gtm.get("/followup/export.csv"))} == {"GTM"}
    assert len({r["owner_country"] for r in _csv(sec.get("/followup/export.csv"))}) > 1
    # kept: the same body; a committed change shows at once
    first = sec.get("/needs/export.json?country=GTM")
    again = sec.get("/needs/export.json?country=GTM")
    one, two = json.loads(first.data), json.loads(again.data)
    assert one["needs"] == two["needs"] and one["count"] == two["count"] >= 1
    assert one["exported"] and two["exported"] >= one["exported"]  # its own time of export
    with Session(app.extensions["sscmatch.engine"]) as s:
        s.add(Need(id="N-GTM-new", country="GTM", title="new", status="open"))
        s.commit()
    after = json.loads(sec.get("/needs/export.json?country=GTM").data)
    assert after["count"] == one["count"] + 1 and "N-GTM-new" in {n["id"] for n in after["needs"]}


def test_a_downloads_name_carries_the_services_day(
    app: Flask, users: dict[str, int], as_user: Any
) -> None:
    """The day in a file's name is the one the pages work on (TODAY when pinned): the name took
    the real date while the list it exported counted overdue commitments by the pinned one."""
    app.config["TODAY"] = "2026-07-15"
    analyst = as_user("analyst")
    for url in ("/needs/export.csv", "/network/download?format=graphml"):
        response = analyst.get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert _name(response).rsplit(".", 1)[0].endswith("2026-07-15"), _name(response)
