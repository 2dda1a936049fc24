"""Study tour pages and API: list, page, edit (versions, rights, errors), status, brief, .ics."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, select

from sscmatch.models import AuditEvent, Proposal, StudyTour
from sscmatch.workflow import tours as wf
from tests.conftest import audit_trail
from tests.workflow.test_tours import make_world


@pytest.fixture
def tour_id(app: Flask, users: dict[str, int]) -> str:
    app.config["TODAY"] = "2026-04-01"
    with Session(app.extensions["sscmatch.engine"], expire_on_commit=False) as s:
        proposal = make_world(s)
        tour = wf.draft_from_proposal(s, proposal, users["secretariat"], today=date(2026, 1, 5))
        s.commit()
        return tour.id


def _tour(app: Flask, tour_id: str) -> StudyTour:
    with Session(app.extensions["sscmatch.engine"]) as s:
        t = s.get(StudyTour, tour_id)
        assert t is not None
        return t


def test_list_and_filters(as_user: Any, tour_id: str) -> None:
    client = as_user("analyst")
    page = client.get("/tours")
    assert page.status_code == 200 and tour_id.encode() in page.data
    assert b"Study tours" in page.data
    assert tour_id.encode() not in client.get("/tours?country=ARG").data
    assert tour_id.encode() in client.get("/tours?country=GTM&status=draft").data
    assert client.get("/tours?status=bogus").status_code == 400
    assert client.get("/tours?page=x").status_code == 400


def test_tour_page_shows_the_plan(as_user: Any, tour_id: str) -> None:
    page = as_user("focal_gtm").get(f"/tours/{tour_id}")
    assert page.status_code == 200
    for text in (
        b"Closing session: agree commitments",
        b"Field visit",
        b"interpretation needed",
        b"Brazilian Cooperation Agency (ABC)",
        b"March 2, 2026",  # the start day, as an English reader writes it
        b"Cost estimate",
    ):
        assert text in page.data, text
    assert f"/tours/{tour_id}/edit".encode() in page.data
    assert as_user("focal_bra").get("/tours/nope").status_code == 404


def test_brief_and_ics(as_user: Any, tour_id: str) -> None:
    client = as_user("secretariat")
    brief = client.get(f"/tours/{tour_id}/brief")
    assert brief.status_code == 200 and b"briefing note" in brief.data
    assert b"css/tours.css" in brief.data
    ics = client.get(f"/tours/{tour_id}/agenda.ics")
    assert ics.status_code == 200 and ics.mimetype == "text/calendar"
    assert ics.data.startswith(b"BEGIN:VCALENDAR\r\n")
    assert b"DTSTART:20260302T090000" in ics.data
    assert "attachment" in ics.headers["Content-Disposition"]


def _rows(prefix: str, rows: list[dict[str, str]]) -> dict[str, str]:
    return {f"{prefix}-{i}-{k}": v for i, row in enumerate(rows) for k, v in row.items()}


GOOD_EDIT = {
    "version": "1",
    "title": "Guatemala visits Brazil's inspection",
    "modality": "study_tour",
    "objective": "Train inspectors",
    "expected_change": "A national protocol",
    "start": "2026-03-09",
    "end": "2026-03-10",
    "interpretation": "y",
    **_rows(
        "delegation",
        [
            {"side": "visiting", "name": "Ana", "role": "Head", "institution": "Ministerio",
             "constituency": "government"},
            {"side": "visiting", "name": "Luis", "role": "Delegate", "institution": "CACIF",
             "constituency": "employers"},
            {"side": "visiting", "name": "Rosa", "role": "Delegate", "institution": "Sindicato",
             "constituency": "workers"},
            {"side": "visiting", "name": "", "role": "", "institution": "",
             "constituency": "government"},  # an empty row: left out
        ],
    ),
    **_rows(
        "agenda",
        [
            {"day": "1", "start": "09:00", "end": "12:00", "kind": "presentation",
             "title": "Inspection system", "place": "Brasília"},
            {"day": "2", "start": "11:00", "end": "12:00", "kind": "closing",
             "title": "Agree commitments", "place": ""},
        ],
    ),
    "recalculate_cost": "y",
}  # fmt: skip


def test_edit_form_saves_with_version_and_audits(app: Flask, as_user: Any, tour_id: str) -> None:
    client = as_user("focal_bra")
    form = client.get(f"/tours/{tour_id}/edit")
    assert form.status_code == 200 and b'name="version"' in form.data
    # rows with fields of their own, funders and languages from lists
    for name in (b'name="delegation-0-constituency"', b'name="agenda-0-kind"', b'name="funders"'):
        assert name in form.data, name
    assert b'value="bra-abc"' in form.data and b'name="languages"' in form.data
    data = {**GOOD_EDIT}
    body = "&".join(f"{k}={v}" for k, v in data.items())  # two funders, two languages
    body += "&funders=bra-abc&languages=pt&languages=es"
    saved = client.post(
        f"/tours/{tour_id}/edit",
        data=body.encode(),
        content_type="application/x-www-form-urlencoded",
    )
    assert saved.status_code == 302, saved.data[:400]
    t = _tour(app, tour_id)
    assert (t.version, t.title, str(t.start), str(t.end)) == (
        2,
        data["title"],
        "2026-03-09",
        "2026-03-10",
    )
    assert [m["name"] for m in t.delegation] == ["Ana", "Luis", "Rosa"]
    assert t.agenda[1]["sessions"][0]["kind"] == "closing"
    assert t.funders == ["bra-abc"] and t.languages == ["pt", "es"]
    assert t.cost is not None and t.cost["people"] == 3 and t.cost["days"] == 2
    stale = client.post(f"/tours/{tour_id}/edit", data=data)  # still says version 1
    # the save above was this person's own: said so, not as someone else's
    assert stale.status_code == 409 and b"yourself meanwhile" in stale.data
    with Session(app.extensions["sscmatch.engine"]) as s:
        actions = [e.action for e in audit_trail(s, AuditEvent.entity_id == tour_id)]
    assert actions == ["draft", "update"]


def test_edit_form_shows_every_error_at_once_beside_its_field(
    app: Flask, as_user: Any, tour_id: str
) -> None:
    """A constituency "martians", an agenda day outside the tour, an unknown funder, dates
    outside the need's window and a session ending before it starts: all refused at once, each
    beside its own field, nothing written; in Spanish for a Spanish reader."""
    with Session(app.extensions["sscmatch.engine"]) as s:
        t = s.get(StudyTour, tour_id)
        assert t is not None and t.need
        from sscmatch.models import Need

        need = s.get(Need, t.need)
        assert need is not None
        need.desired_from, need.desired_to = "2026-03", "2026-06"
        s.add(need)
        s.commit()
    client = as_user("secretariat")
    bad = {
        **GOOD_EDIT,
        "start": "2026-07-06",
        "end": "2026-07-07",
        "delegation-1-constituency": "martians",
        "agenda-1-day": "5",
        "agenda-0-end": "08:00",
        "funders": "no-such-agency",
    }
    page = client.post(f"/tours/{tour_id}/edit", data=bad)
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    expected = {
        "delegation-1-constituency-err": "Unknown constituency: 'martians'.",
        "agenda-1-day-err": "Day 5 is after the tour's last day (it lasts 2 days).",
        "agenda-0-end-err": "The session ends before it starts.",
        "end-err": "The need asks for dates until June 30, 2026; the tour ends after.",
        "funders-err": "Unknown institution(s): 'no-such-agency'.",
    }
    for error_id, text in expected.items():
        assert f'id="{error_id}">{text.replace(chr(39), "&#39;")}' in html, (error_id, text)
    assert 'aria-invalid="true"' in html
    assert 'value="martians"' in html  # what was typed comes back
    assert _tour(app, tour_id).version == 1
    client.post("/language", data={"lang": "es", "next": "/"})
    spanish = client.post(f"/tours/{tour_id}/edit", data=bad).get_data(as_text=True)
    assert "Constituyente desconocido" in spanish or "desconocid" in spanish
    assert "Unknown constituency" not in spanish and "is after the tour" not in spanish


def test_edit_form_adds_rows_without_script(as_user: Any, tour_id: str) -> None:
    client = as_user("secretariat")
    form = client.get(f"/tours/{tour_id}/edit").get_data(as_text=True)
    members = form.count('name="delegation-') // 6
    more = client.post(f"/tours/{tour_id}/edit", data={**GOOD_EDIT, "add_member": "1"}).get_data(
        as_text=True
    )
    assert 'name="delegation-4-name"' in more and 'value="Rosa"' in more
    assert members >= 1
    removed = client.post(f"/tours/{tour_id}/edit", data={**GOOD_EDIT, "delegation-2-remove": "y"})
    assert removed.status_code == 302


def test_edit_rights(as_user: Any, tour_id: str, app: Flask, users: dict[str, int]) -> None:
    assert as_user("analyst").get(f"/tours/{tour_id}/edit").status_code == 403
    from sscmatch.db import session_scope
    from sscmatch.workflow.users import create_user
    from tests.conftest import PASSWORD

    with session_scope(app.extensions["sscmatch.engine"]) as s:
        create_user(
            s,
            "arg@test.org",
            PASSWORD,
            "focal_point",
            country="ARG",
            constituency="government",
            name="arg",
        )
    client = app.test_client()
    client.post("/login", data={"email": "arg@test.org", "password": PASSWORD})
    assert client.get(f"/tours/{tour_id}/edit").status_code == 403


def test_status_buttons_and_illegal_move(app: Flask, as_user: Any, tour_id: str) -> None:
    sec = as_user("secretariat")
    page = sec.get(f"/tours/{tour_id}")
    assert b'value="proposed"' in page.data and b'value="cancelled"' in page.data
    bad = sec.post(
        f"/tours/{tour_id}/status", data={"version": "1", "to": "completed"}, follow_redirects=True
    )
    assert b"A draft study tour cannot become completed" in bad.data  # a flash starts a sentence
    for n, to in enumerate(("proposed", "agreed", "scheduled", "completed"), 1):
        data = {"version": str(n), "to": to}
        if to == "completed":  # confirmed first (tests/web/test_consequential_steps.py)
            data["confirmed"] = "y"
        r = sec.post(f"/tours/{tour_id}/status", data=data)
        assert r.status_code == 302, (to, r.data[:300])
    assert _tour(app, tour_id).status == "completed"
    page = sec.get(f"/tours/{tour_id}")
    assert b"Record a commitment" in page.data


def test_commitment_recorded_from_the_tour_page(app: Flask, as_user: Any, tour_id: str) -> None:
    sec = as_user("secretariat")
    for n, to in enumerate(("proposed", "agreed", "scheduled"), 1):
        sec.post(f"/tours/{tour_id}/status", data={"version": str(n), "to": to})
    gtm = as_user("focal_gtm")
    refused = gtm.post(
        f"/tours/{tour_id}/commitments",
        data={"owner_country": "BRA", "description": "x", "status": "pending"},
    )
    assert refused.status_code == 403
    empty = gtm.post(
        f"/tours/{tour_id}/commitments",
        data={"owner_country": "GTM", "description": "", "status": "pending"},
    )
    assert empty.status_code == 400
    ok = gtm.post(
        f"/tours/{tour_id}/commitments",
        data={
            "owner_country": "GTM",
            "owner_institution": "gtm-mintrab",
            "description": "Train 40 inspectors",
            "due": "2026-09",
            "status": "pending",
        },
    )
    assert ok.status_code == 302
    page = gtm.get(f"/tours/{tour_id}")
    assert b"Train 40 inspectors" in page.data and f"{tour_id}-k01".encode() in page.data


def test_draft_from_accepted_proposal_page(app: Flask, as_user: Any, tour_id: str) -> None:
    with Session(app.extensions["sscmatch.engine"]) as s:
        p = s.exec(select(Proposal)).one()
        pid = p.id
    sec = as_user("secretariat")
    r = sec.post(f"/tours/from-proposal/{pid}")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/tours/{tour_id}")
    assert sec.post("/tours/from-proposal/999").status_code == 404
    assert as_user("focal_gtm").post(f"/tours/from-proposal/{pid}").status_code == 403


# ------------------------------------------------------------------ API


def token_for(app: Flask, user_id: int) -> dict[str, str]:
    from sscmatch.db import session_scope
    from sscmatch.models import User
    from sscmatch.workflow.accounts import issue_api_token

    with session_scope(app.extensions["sscmatch.engine"]) as s:
        user = s.get(User, user_id)
        assert user is not None
        token = issue_api_token(s, user)
    return {"Authorization": f"Bearer {token}"}


def test_api_tours(app: Flask, users: dict[str, int], tour_id: str) -> None:
    h = token_for(app, users["secretariat"])
    api = app.test_client()
    listed = api.get("/api/v1/tours?country=GTM", headers=h)
    assert listed.status_code == 200 and listed.json["items"][0]["id"] == tour_id
    assert api.get("/api/v1/tours?status=x", headers=h).status_code == 400
    assert api.get("/api/v1/tours?page=0", headers=h).status_code == 400
    one = api.get(f"/api/v1/tours/{tour_id}", headers=h).json
    assert one["cost"]["total"] > 0 and one["delegation_problems"] == []
    assert api.get("/api/v1/tours/nope", headers=h).status_code == 404
    assert api.get("/api/v1/tours").status_code == 401
    bad = api.patch(f"/api/v1/tours/{tour_id}", headers=h, json={"title": "x"})
    assert bad.status_code == 422 and bad.json["error"] == "invalid"
    assert api.patch(f"/api/v1/tours/{tour_id}", headers=h, data="x").status_code == 400
    ok = api.patch(
        f"/api/v1/tours/{tour_id}",
        headers=h,
        json={
            "version": 1,
            "delegation": [{"side": "visiting", "role": "Head", "constituency": "government"}],
        },
    )
    assert ok.status_code == 200 and ok.json["version"] == 2
    assert "employers, workers" in ok.json["delegation_problems"][0]
    stale = api.patch(f"/api/v1/tours/{tour_id}", headers=h, json={"version": 1, "title": "y"})
    assert stale.status_code == 409 and stale.json["error"] == "conflict"
    illegal = api.post(
        f"/api/v1/tours/{tour_id}/transition", headers=h, json={"to": "closed", "version": 2}
    )
    assert illegal.status_code == 409 and "cannot become closed" in illegal.json["message"]
    for v, to in enumerate(("proposed", "agreed", "scheduled"), 2):
        r = api.post(
            f"/api/v1/tours/{tour_id}/transition", headers=h, json={"to": to, "version": v}
        )
        assert r.status_code == 200, r.json
    k = api.post(
        f"/api/v1/tours/{tour_id}/commitments",
        headers=h,
        json={"owner_country": "GTM", "description": "Adopt the list", "due": "2026-03"},
    )
    assert k.status_code == 201 and k.json["overdue"] is True  # TODAY is 2026-04-01
    kid = k.json["id"]
    assert (
        api.post(
            f"/api/v1/tours/{tour_id}/commitments", headers=h, json={"owner_country": "GTM"}
        ).status_code
        == 422
    )
    assert api.get("/api/v1/commitments?overdue=true", headers=h).json["items"][0]["id"] == kid
    assert api.get("/api/v1/commitments?overdue=maybe", headers=h).status_code == 400
    upd = api.post(
        f"/api/v1/commitments/{kid}/updates",
        headers=h,
        json={"version": 1, "status": "fulfilled", "evidence": "https://example.org/list"},
    )
    assert upd.status_code == 201 and [x["status"] for x in upd.json["history"]] == [
        "pending",
        "fulfilled",
    ]
    no_ev = api.post(
        f"/api/v1/commitments/{kid}/updates", headers=h, json={"version": 2, "status": "dropped"}
    )
    assert no_ev.status_code == 422 and "say why" in no_ev.json["message"]
    assert api.get(f"/api/v1/commitments/{kid}", headers=h).json["status"] == "fulfilled"
    assert api.get(f"/api/v1/tours/{tour_id}/commitments", headers=h).json["items"][0]["id"] == kid
    created = api.post("/api/v1/tours", headers=h, json={"need": "N-1", "capacity": "C-1"})
    assert created.status_code == 201 and created.json["proposal_id"] is None
    assert api.post("/api/v1/tours", headers=h, json={}).status_code == 422
    assert api.post("/api/v1/tours", headers=h, json={"proposal_id": 999}).status_code == 404
    spec = api.get("/api/v1/openapi.json").json["paths"]
    assert {
        "/tours",
        "/tours/{tour_id}",
        "/tours/{tour_id}/transition",
        "/commitments/{commitment_id}/updates",
    } <= set(spec)


def test_api_focal_point_limits(app: Flask, users: dict[str, int], tour_id: str) -> None:
    h = token_for(app, users["focal_gtm"])
    api = app.test_client()
    assert (
        api.post("/api/v1/tours", headers=h, json={"need": "N-1", "capacity": "C-1"}).status_code
        == 403
    )
    r = api.post(
        f"/api/v1/tours/{tour_id}/transition", headers=h, json={"to": "proposed", "version": 1}
    )
    assert r.status_code == 200
    r = api.post(
        f"/api/v1/tours/{tour_id}/transition", headers=h, json={"to": "cancelled", "version": 2}
    )
    assert r.status_code == 403 and r.json["error"] == "forbidden"
