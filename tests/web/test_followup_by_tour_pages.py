"""The follow-up dashboard's table by study tour pages like every list: with more tours than a
page holds it showed them all, a table without end (an outside tester). A page of tours, the
pager below it (its words in the reader's language) linking the next page and back to the
table, every tour on one page and one only; the figures beside it (by country) stay whole."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from sqlmodel import Session

from sscmatch.models import Commitment, StudyTour

PAGE = 3
TOURS = 2 * PAGE + 1  # three pages, the last of one tour


def _seed(app: Flask) -> list[str]:
    """:data:`TOURS` study tours with a commitment each (one of Brazil's, the others of
    Guatemala's): their ids."""
    ids = [f"T-PAGED-{n}" for n in range(TOURS)]
    with Session(app.extensions["sscmatch.engine"]) as s:
        for n, tour in enumerate(ids):
            owner = "BRA" if n == 0 else "GTM"
            s.add(
                StudyTour(
                    id=tour,
                    title=f"Paged tour {n}",
                    host_country="BRA",
                    visiting_country="GTM",
                    status="draft",
                )
            )
            s.flush()
            s.add(
                Commitment(
                    id=f"K-PAGED-{n}",
                    study_tour=tour,
                    owner_country=owner,
                    description=f"Paged commitment {n}",
                )
            )
        s.commit()
    return ids


def _by_tour(html: str) -> str:
    """The section of the table by study tour."""
    start = html.index('id="by-tour"')
    return html[start : html.index("</section>", start)]


def test_the_table_by_study_tour_pages(app: Flask, as_user: Any) -> None:
    app.config["PAGE_SIZE"] = PAGE
    ids = _seed(app)
    secretariat = as_user("secretariat")
    seen: list[str] = []
    address = "/followup?country=all"
    pages = 0
    while address:
        pages += 1
        answer = secretariat.get(address)
        assert answer.status_code == 200, address
        html = answer.get_data(as_text=True)
        section = _by_tour(html)
        shown = re.findall(r'href="/tours/(T-PAGED-\d+)"', section)
        assert 0 < len(shown) <= PAGE, (address, shown)
        seen += shown
        assert '<nav class="pager"' in section, address
        assert f"Page {pages} of 3" in section
        # the figures by country stay whole: both owners on every page
        assert "Brazil" in html.split('id="by-country"')[1].split("</section>")[0]
        following = re.search(r'<a href="([^"]+)" rel="next"', section)
        if following is None:
            break
        address = following.group(1).replace("&amp;", "&")
        assert "country=all" in address and address.endswith("#by-tour"), address
        address = address.split("#")[0]
    assert pages == 3
    assert sorted(seen) == sorted(ids)  # each tour once


def test_its_pager_speaks_the_readers_language_and_refuses_odd_pages(
    app: Flask, as_user: Any
) -> None:
    app.config["PAGE_SIZE"] = PAGE
    _seed(app)
    focal = as_user("focal_gtm")  # their own country's commitments by default: six tours
    focal.post("/language", data={"lang": "es", "next": "/"})
    section = _by_tour(focal.get("/followup").get_data(as_text=True))
    assert "Página 1 de 2" in section and "Siguiente" in section, section
    assert 'href="/followup?page=2#by-tour"' in section  # no country: their own still
    past = focal.get("/followup?page=99").get_data(as_text=True)
    assert "No hay página 99" in _by_tour(past)
    odd = focal.get("/followup?page=abc")
    assert odd.status_code == 400 and "número entero" in odd.get_data(as_text=True)
