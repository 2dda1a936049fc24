"""The follow-up's list of commitments: it pages (overdue first, then by due date), filters by
country, status, origin and time, opens on a focal point's own country, exports what it lists;
the dashboard shows the first of each group and links to the rest."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from flask import Flask
from sqlmodel import Session, select

from sscmatch.models import Commitment
from tests.web.test_followup import tour_id  # noqa: F401  (a scheduled world, today 2026-07-15)

# id: (owner, due, status, of the tour?) — today is 2026-07-15 (the tour_id fixture)
ROWS = {
    "K-a": ("GTM", "2026-06", "pending", True),  # overdue by 15 days
    "K-b": ("BRA", "2026-07-01", "in_progress", True),  # overdue by 14 days
    "K-c": ("GTM", "2026-07-20", "pending", True),  # due in 5 days
    "K-d": ("BRA", "2026-08", "pending", True),  # due in 47 days
    "K-e": ("GTM", "2026-07-30", "fulfilled", True),  # decided
    "K-f": ("GTM", None, "pending", True),  # no due date: last
    "K-g": ("GTM", "2011", "pending", False),  # from the documents, long overdue
    "K-h": ("BRA", "2012-05", "dropped", False),
    "K-i": ("BRA", "2026-07-25", "pending", False),  # from the documents, due in 10 days
}
# overdue first (most overdue first), then by days left (a decided one past its date among them)
ORDER = ["K-g", "K-a", "K-b", "K-h", "K-c", "K-i", "K-e", "K-d", "K-f"]


def _add(app: Flask, tour: str) -> None:
    with Session(app.extensions["sscmatch.engine"]) as s:
        for key, (owner, due, status, live) in ROWS.items():
            s.add(
                Commitment(
                    id=key,
                    owner_country=owner,
                    description=f"Promise {key}",
                    due=due,
                    status=status,
                    evidence="https://example.org/e" if status == "fulfilled" else None,
                    study_tour=tour if live else None,
                )
            )
        s.commit()


def _ids(html: str) -> list[str]:
    return re.findall(r'href="/followup/commitments/(K-[a-z])"', html)


def _walk(client: Any, url: str) -> tuple[list[str], int]:
    """Every id the list shows, following its "next" links, and how many pages it took."""
    seen: list[str] = []
    pages = 0
    while url:
        page = client.get(url)
        assert page.status_code == 200, page.data[:300]
        html = page.get_data(as_text=True)
        seen += _ids(html)
        pages += 1
        found = re.search(r'<a href="([^"]+)" rel="next">', html)
        url = found.group(1).replace("&amp;", "&") if found else ""
        assert pages < 20
    return seen, pages


def test_the_list_walks_its_pages_in_order(app: Flask, as_user: Any, tour_id: str) -> None:  # noqa: F811
    _add(app, tour_id)
    app.config["PAGE_SIZE"] = 4
    analyst = as_user("analyst")
    seen, pages = _walk(analyst, "/followup/commitments")
    assert seen == ORDER  # each once, overdue first, no due date last
    with Session(app.extensions["sscmatch.engine"]) as s:
        total = len(s.exec(select(Commitment)).all())  # ours and the world's (one of a tour)
    first = analyst.get("/followup/commitments").get_data(as_text=True)
    assert f"Page 1 of {-(-total // 4)}" in first and f"{total} commitments found" in first
    assert "15 days overdue" in first and "/followup/export.csv" in first
    last = analyst.get(f"/followup/commitments?page={pages}").get_data(as_text=True)
    assert _ids(last)[-1] == "K-f" and 'rel="prev"' in last and 'rel="next"' not in last
    beyond = analyst.get("/followup/commitments?page=9").get_data(as_text=True)
    assert _ids(beyond) == []


def test_the_list_filters_and_exports_what_it_shows(
    app: Flask,
    as_user: Any,
    tour_id: str,  # noqa: F811
) -> None:
    _add(app, tour_id)
    sec = as_user("secretariat")
    cases = {
        "status=fulfilled": ["K-e"],
        "status=open": ["K-g", "K-a", "K-b", "K-c", "K-i", "K-d", "K-f"],
        "origin=documents": ["K-g", "K-h", "K-i"],
        "origin=live&when=overdue": ["K-a", "K-b"],
        "when=overdue": ["K-g", "K-a", "K-b"],
        "when=soon": ["K-c", "K-i"],
        "country=BRA&status=open": ["K-b", "K-i", "K-d"],
        "country=all&origin=live&status=dropped": [],
    }
    for query, expected in cases.items():
        listed = sec.get(f"/followup/commitments?{query}").get_data(as_text=True)
        assert _ids(listed) == expected, query
        exported = sec.get(f"/followup/export.csv?{query}")
        assert exported.status_code == 200
        rows = list(csv.DictReader(io.StringIO(exported.data.decode("utf-8-sig"))))
        assert [r["id"] for r in rows if re.fullmatch("K-[a-z]", r["id"])] == expected, query
    assert "No commitment matches these filters." in sec.get(
        "/followup/commitments?country=all&origin=live&status=dropped"
    ).get_data(as_text=True)
    for bad in ("status=nope", "origin=elsewhere", "when=later", "page=0", "page=%C2%B2"):
        answer = sec.get(f"/followup/commitments?{bad}")
        assert answer.status_code == 400, bad
    refused = sec.get("/followup/commitments?when=later").get_data(as_text=True)
    assert "Due: unknown choice &#39;later&#39; (expected Overdue, Due in" in refused  # labels
    assert sec.get("/followup/export.csv?when=later").status_code == 400


def test_a_focal_point_opens_on_their_country(
    app: Flask,
    as_user: Any,
    tour_id: str,  # noqa: F811
) -> None:
    _add(app, tour_id)
    gtm = as_user("focal_gtm")
    own = gtm.get("/followup/commitments").get_data(as_text=True)
    assert _ids(own) == ["K-g", "K-a", "K-c", "K-e", "K-f"]
    assert "your country" in own
    assert 'href="/followup/commitments?country=all&amp;page=1"' in own
    everyone = gtm.get("/followup/commitments?country=all").get_data(as_text=True)
    assert _ids(everyone) == ORDER and "your country" not in everyone
    analyst = as_user("analyst").get("/followup/commitments").get_data(as_text=True)
    assert _ids(analyst) == ORDER and "your country" not in analyst
    spanish = as_user("focal_gtm")
    spanish.post("/language", data={"lang": "es", "next": "/"})
    page = spanish.get("/followup/commitments?when=overdue").get_data(as_text=True)
    assert "su país" in page and "Compromisos" in page


def test_the_dashboard_shows_the_first_of_a_group_and_links_to_all(
    app: Flask,
    as_user: Any,
    tour_id: str,  # noqa: F811
) -> None:
    with Session(app.extensions["sscmatch.engine"]) as s:
        for n in range(12):
            s.add(
                Commitment(
                    id=f"K-{n:02d}",
                    owner_country="GTM",
                    description=f"Late promise {n}",
                    due="2026-01",
                    study_tour=tour_id,
                )
            )
        s.commit()
    html = as_user("analyst").get("/followup").get_data(as_text=True)
    overdue = html[html.index('id="overdue"') : html.index('id="due-soon"')]
    assert len(re.findall(r'href="/followup/commitments/K-\d\d"', overdue)) == 10
    link = re.search(r'<a href="([^"]+)">See all 12', overdue)
    assert link is not None
    url = link.group(1).replace("&amp;", "&")
    assert url == "/followup/commitments?country=all&origin=live&when=overdue"
    listed = as_user("analyst").get(url).get_data(as_text=True)
    assert re.findall(r'href="/followup/commitments/(K-\d\d)"', listed) == [
        f"K-{n:02d}" for n in range(12)
    ]
    assert 'href="/followup/commitments?country=all"' in html  # every commitment, one click
