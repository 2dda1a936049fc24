"""A study tour drafted because a proposal was accepted is drafted as one drafted from the tours'
page: on the service's day (``TODAY``, which demos and tests pin) and with the instance's cost
rates (``TOUR_RATES``). Every way of accepting is walked: the proposal's page, an alternate
chosen there, the queue's bulk action, and the same three in the API. Before, an acceptance
drafted with the clock's date and the documented rates, whatever the instance said: a tour
numbered and dated by the real year on a pinned demo, costed at rates the secretariat had
replaced."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, select

from sscmatch.models import StudyTour
from sscmatch.workflow.tours.drafting import LEAD_DAYS
from tests.web import test_api_review
from tests.web.test_api_review import NEED, proposals_of, start

tokens = test_api_review.tokens  # the fixtures: the knowledge base and a token per role
api = test_api_review.api

PINNED = date(2031, 3, 3)  # far from the clock's year, so a tour drafted by the clock shows
PER_DIEM = 123.0  # not the documented default (220)
WHY = "the ministry asked us to go ahead"


def _page(client: Any, proposal_id: int, data: dict[str, Any]) -> None:
    done = client.post(
        f"/review/proposals/{proposal_id}/decision",
        data={**data, "confirmed": "y", "override": "y", "reason": WHY},
    )
    assert done.status_code in (302, 303), done.get_data(as_text=True)[:2000]


def _accept_on_page(sec: Any, api: Any, first: Any, second: Any) -> int:
    _page(sec, first.id, {"decision": "accept", "version": first.version})
    return int(first.id)


def _alternate_on_page(sec: Any, api: Any, first: Any, second: Any) -> int:
    data = {"decision": "alternate", "alternate": second.id, "version": first.version}
    _page(sec, first.id, data)
    return int(second.id)


def _bulk_on_page(sec: Any, api: Any, first: Any, second: Any) -> int:
    done = sec.post(
        "/review/bulk",
        data={
            "decision": "accept",
            "item": f"{first.id}:{first.version}",
            "confirmed": "y",
            "override": "y",
            "reason": WHY,
        },
    )
    assert done.status_code in (302, 303), done.get_data(as_text=True)[:2000]
    return int(first.id)


def _decide_by_api(api: Any, proposal: Any, **decision: Any) -> None:
    body = {"version": proposal.version, "override": True, "reason": WHY, **decision}
    done = api("secretariat").post(f"/api/v1/proposals/{proposal.id}/decision", body)
    assert done.status_code == 200, done.get_json()


def _accept_by_api(sec: Any, api: Any, first: Any, second: Any) -> int:
    _decide_by_api(api, first, decision="accept")
    return int(first.id)


def _alternate_by_api(sec: Any, api: Any, first: Any, second: Any) -> int:
    _decide_by_api(api, first, decision="alternate", alternate=second.id)
    return int(second.id)


def _bulk_by_api(sec: Any, api: Any, first: Any, second: Any) -> int:
    body = {
        "decision": "accept",
        "items": [{"id": first.id, "version": first.version}],
        "override": True,
        "reason": WHY,
    }
    done = api("secretariat").post("/api/v1/proposals/bulk-decision", body)
    assert done.status_code == 200 and done.get_json()["done"] == [first.id], done.get_json()
    return int(first.id)


WAYS = {
    "page accept": _accept_on_page,
    "page alternate": _alternate_on_page,
    "page bulk": _bulk_on_page,
    "API accept": _accept_by_api,
    "API alternate": _alternate_by_api,
    "API bulk": _bulk_by_api,
}


@pytest.mark.one_case_on_postgresql(way="page accept")
@pytest.mark.parametrize("way", list(WAYS))
def test_a_tour_drafted_on_acceptance_keeps_the_services_day_and_rates(
    app: Flask, api: Any, as_user: Any, session: Session, way: str
) -> None:
    app.config.update(TODAY=PINNED.isoformat(), TOUR_RATES={"per_diem": PER_DIEM})
    start(api)
    first, second = proposals_of(session, NEED)[:2]
    accepted = WAYS[way](as_user("secretariat"), api, first, second)
    session.expire_all()
    tour = session.exec(select(StudyTour).where(StudyTour.proposal_id == accepted)).one()
    assert tour.id.startswith(f"T-{PINNED.year}-"), tour.id
    assert tour.start is not None and tour.start.first >= PINNED + timedelta(days=LEAD_DAYS), (
        tour.start
    )
    assert tour.cost["rates"]["per_diem"] == PER_DIEM, tour.cost["rates"]
