"""A study tour is agreed when both countries have agreed (or the secretariat records it): a
focal point's "agreed" records their country's agreement, the page says who has agreed and who is
awaited, and the API answers 202 until the other side agrees. Both sides, the secretariat, a
side that agrees twice and stale versions, on the pages and in the API."""

from __future__ import annotations

import html
import re
from typing import Any

from flask import Flask
from sqlmodel import Session

from sscmatch.models import StudyTour
from tests.web import test_tour_files_language as tour_files
from tests.web import test_tour_steps
from tests.web.test_api_registry import Api, issue_tokens

tour_id = tour_files.tour_id  # the fixture: a drafted tour, Guatemala visits Brazil (host)
FLASH = re.compile(r'<p class="flash flash-(\w+)"[^>]*>([^<]*)</p>')


def _tour(app: Flask, tid: str) -> StudyTour:
    with Session(app.extensions["sscmatch.engine"], expire_on_commit=False) as s:
        tour = s.get(StudyTour, tid)
        assert tour is not None
        return tour


def _proposed(app: Flask, tid: str) -> int:
    app.config["TODAY"] = test_tour_steps.TODAY
    test_tour_steps._set(app, tid, "draft", "dates to come")
    sec = tour_files.reader(app, "secretariat", "en")
    moved = sec.post(
        f"/tours/{tid}/status", data={"version": _tour(app, tid).version, "to": "proposed"}
    )
    assert moved.status_code == 302
    return _tour(app, tid).version


def _agreed_line(page: str) -> str:
    found = re.search(r'<p class="agreement"[^>]*>(.*?)</p>', page, re.S)
    assert found is not None, page[page.find("<main") :][:2000]
    return " ".join(re.sub(r"<[^>]+>", "", html.unescape(found.group(1))).split())


def _flashes(page: str, kind: str) -> list[str]:
    return [html.unescape(t) for k, t in FLASH.findall(page) if k == kind]


def test_each_side_agrees_and_the_tour_is_agreed_when_both_have(app: Flask, tour_id: str) -> None:
    version = _proposed(app, tour_id)
    gtm = tour_files.reader(app, "focal_gtm", "en")
    bra = tour_files.reader(app, "focal_bra", "es")
    assert _agreed_line(gtm.get(f"/tours/{tour_id}").get_data(as_text=True)) == (
        "Both countries agree before the tour is agreed: Brazil: awaited · Guatemala: awaited"
    )
    # Guatemala (visiting) agrees: recorded, the tour stays proposed, Brazil awaited.
    said = gtm.post(
        f"/tours/{tour_id}/status", data={"version": version, "to": "agreed"}, follow_redirects=True
    ).get_data(as_text=True)
    assert _tour(app, tour_id).status == "proposed" and _tour(app, tour_id).version == version
    assert _flashes(said, "info") == [
        "The agreement of Guatemala is recorded. The study tour becomes agreed when Brazil "
        "agrees too, or when the secretariat records it."
    ]
    assert _agreed_line(said).endswith("Brazil: awaited · Guatemala: has agreed")
    # Guatemala's "agreed" is now disabled, the reason beside it; posted anyway: refused.
    steps = test_tour_steps._steps(said)
    assert steps["agreed"] is not None and "Guatemala has already agreed" in steps["agreed"]
    again = gtm.post(
        f"/tours/{tour_id}/status", data={"version": version, "to": "agreed"}, follow_redirects=True
    ).get_data(as_text=True)
    assert _flashes(again, "error") == [steps["agreed"]]
    # Brazil (host, reading Spanish) sees Guatemala's agreement; a stale version is refused.
    page = bra.get(f"/tours/{tour_id}").get_data(as_text=True)
    assert "Guatemala: ha aceptado" in _agreed_line(page), _agreed_line(page)
    stale = bra.post(f"/tours/{tour_id}/status", data={"version": version - 1, "to": "agreed"})
    assert stale.status_code == 303 and _tour(app, tour_id).status == "proposed"
    stale_page = bra.get(f"/tours/{tour_id}").get_data(as_text=True)
    assert any("otra persona" in m for m in _flashes(stale_page, "error")), stale_page[:500]
    assert "Brasil: pendiente" in _agreed_line(stale_page)
    done = bra.post(
        f"/tours/{tour_id}/status", data={"version": version, "to": "agreed"}, follow_redirects=True
    ).get_data(as_text=True)
    assert _tour(app, tour_id).status == "agreed"
    assert _flashes(done, "info") == ["Nuevo estado de la visita de estudio: acordada."], _flashes(
        done, "info"
    )
    assert 'class="agreement"' not in done  # agreed: nobody awaited


def test_the_secretariat_records_it_for_both_and_its_undo_waits_for_both_again(
    app: Flask, tour_id: str
) -> None:
    version = _proposed(app, tour_id)
    gtm = tour_files.reader(app, "focal_gtm", "en")
    gtm.post(f"/tours/{tour_id}/status", data={"version": version, "to": "agreed"})
    sec = tour_files.reader(app, "secretariat", "fr")
    page = sec.post(
        f"/tours/{tour_id}/status", data={"version": version, "to": "agreed"}, follow_redirects=True
    ).get_data(as_text=True)
    assert _tour(app, tour_id).status == "agreed"
    assert "Annuler (retour à proposée)" in page, page[page.find("<main") :][:1500]
    undone = sec.post(
        f"/tours/{tour_id}/status",
        data={"version": _tour(app, tour_id).version, "to": "proposed"},
    )
    assert undone.status_code == 302 and _tour(app, tour_id).status == "proposed"
    line = _agreed_line(gtm.get(f"/tours/{tour_id}").get_data(as_text=True))
    assert line.endswith("Brazil: awaited · Guatemala: awaited"), line


def test_the_api_follows_the_same_rule(app: Flask, users: dict[str, int], tour_id: str) -> None:
    version = _proposed(app, tour_id)
    tokens = issue_tokens(app, users)

    def api(who: str) -> Any:
        return Api(app.test_client(), tokens[who])

    url = f"/tours/{tour_id}/transition"
    first = api("focal_gtm").post(url, json={"to": "agreed", "version": version})
    assert first.status_code == 202, first.get_json()
    assert first.get_json()["status"] == "proposed" and first.get_json()["agreed_by"] == ["GTM"]
    twice = api("focal_gtm").post(url, json={"to": "agreed", "version": version})
    assert twice.status_code == 409 and twice.get_json()["error"] == "already_agreed"
    assert "Brazil" in twice.get_json()["message"]
    stale = api("focal_bra").post(url, json={"to": "agreed", "version": version - 1})
    assert stale.status_code == 409 and stale.get_json()["error"] == "conflict"
    both = api("focal_bra").post(url, json={"to": "agreed", "version": version})
    assert both.status_code == 200, both.get_json()
    assert both.get_json()["status"] == "agreed"
    assert sorted(both.get_json()["agreed_by"]) == ["BRA", "GTM"]
    back = api("secretariat").post(
        url, json={"to": "proposed", "version": _tour(app, tour_id).version}
    )
    assert back.status_code == 200 and back.get_json()["agreed_by"] == []
    at_once = api("secretariat").post(
        url, json={"to": "agreed", "version": _tour(app, tour_id).version}
    )
    assert at_once.status_code == 200 and at_once.get_json()["status"] == "agreed"
