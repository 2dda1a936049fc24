"""The registry in the JSON API: tokens, reads with filters and paging, writes, errors."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session

from sscmatch.bundle.load import import_bundle
from sscmatch.db import session_scope
from sscmatch.models import AuditEvent, Capacity, Need, User
from sscmatch.schemas import MAX_DESCRIPTION
from sscmatch.vocab import load_vocabulary
from sscmatch.web.fieldnames import FIELD_LABELS
from sscmatch.workflow.accounts import issue_api_token
from tests.conftest import audit_trail

ROOT = Path(__file__).resolve().parents[2]
YEAR = date.today().year
NEED = {
    "title": "Labour inspection in coffee farms",
    "description": "Inspectors need methods for the harvest season.",
    "themes": ["labour-inspection"],
    "languages": ["es"],
    "priority": "high",
}
CAPACITY = {
    "title": "Rural inspection teams",
    "themes": ["labour-inspection"],
    "languages": "pt",
    "modalities": ["study_tour"],
    "max_per_year": 2,
    "status": "published",
}


def issue_tokens(app: Flask, users: dict[str, int]) -> dict[str, str]:
    """An API token for each of ``users`` (key → id)."""
    out = {}
    with session_scope(app.extensions["sscmatch.engine"]) as s:
        for who, user_id in users.items():
            user = s.get(User, user_id)
            assert user is not None
            out[who] = issue_api_token(s, user)
    return out


@pytest.fixture
def tokens(app: Flask, users: dict[str, int]) -> dict[str, str]:
    return issue_tokens(app, users)


class Api:
    def __init__(self, client: Any, token: str | None) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def __getattr__(self, method: str) -> Any:
        def call(url: str, **kwargs: Any) -> Any:
            return getattr(self.client, method)("/api/v1" + url, headers=self.headers, **kwargs)

        return call


@pytest.fixture
def api(app: Flask, tokens: dict[str, str]) -> Any:
    return lambda who: Api(app.test_client(), tokens.get(who))


@pytest.fixture
def kb(app: Flask) -> None:
    with session_scope(app.extensions["sscmatch.engine"]) as s:
        import_bundle(s, ROOT / "data", load_vocabulary())


def assert_error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    # ``fields``: input refused field by field (each field's code and its problem)
    assert {"error", "message"} <= set(body) <= {"error", "message", "fields"} and body["message"]
    return dict(body)


def test_token_is_required(api: Any, as_user: Any) -> None:
    anonymous = api("nobody")
    for url in ("/needs", "/capacities", "/exchanges", "/institutions", "/needs/x"):
        assert_error(anonymous.get(url), 401)
    assert_error(anonymous.post("/needs", json=NEED), 401)
    bad = Api(anonymous.client, "ssc_not-a-token")
    assert_error(bad.get("/needs"), 401)
    # the browser's session cookie does not count
    browser = as_user("focal_gtm")
    assert_error(browser.get("/api/v1/needs"), 401)


def test_create_read_update_need(api: Any, app: Flask) -> None:
    gtm = api("focal_gtm")
    response = gtm.post("/needs", json=NEED)
    assert response.status_code == 201
    need = response.get_json()
    assert need["id"] == f"N-{YEAR}-0001" and need["country"] == "GTM"
    assert need["status"] == "draft" and need["version"] == 1
    assert response.headers["Location"] == f"/api/v1/needs/{need['id']}"
    assert gtm.get(f"/needs/{need['id']}").get_json()["title"] == NEED["title"]

    patched = gtm.patch(f"/needs/{need['id']}", json={"priority": "low", "version": 1})
    assert patched.status_code == 200
    assert patched.get_json()["priority"] == "low" and patched.get_json()["version"] == 2
    assert patched.get_json()["title"] == NEED["title"]  # PATCH keeps what it leaves out

    stale = gtm.put(f"/needs/{need['id']}", json={**NEED, "title": "Stale", "version": 1})
    assert assert_error(stale, 409)["error"] == "conflict"
    replaced = gtm.put(f"/needs/{need['id']}", json={**NEED, "title": "Replaced", "version": 2})
    assert replaced.status_code == 200 and replaced.get_json()["priority"] == "high"

    with Session(app.extensions["sscmatch.engine"]) as s:
        stored = s.get(Need, need["id"])
        assert stored is not None and stored.title == "Replaced" and stored.version == 3
        actions = [e.action for e in audit_trail(s, AuditEvent.entity == "need")]
        assert actions == ["create", "update", "update"]


def test_capacity_create_and_roles(api: Any) -> None:
    bra = api("focal_bra")
    created = bra.post("/capacities", json=CAPACITY)
    assert created.status_code == 201
    body = created.get_json()
    assert body["id"] == f"C-{YEAR}-0001" and body["languages"] == ["pt"]
    # another country's focal point may not change it
    refused = api("focal_gtm").patch(f"/capacities/{body['id']}", json={"title": "x", "version": 1})
    assert assert_error(refused, 403)["error"] == "forbidden"
    # nor register for another country
    assert_error(api("focal_gtm").post("/capacities", json={**CAPACITY, "country": "BRA"}), 403)
    # analysts read only
    assert_error(api("analyst").post("/capacities", json={**CAPACITY, "country": "BRA"}), 403)
    assert api("analyst").get(f"/capacities/{body['id']}").status_code == 200
    # the secretariat registers for any country (and must name it)
    sec = api("secretariat")
    assert_error(sec.post("/capacities", json=CAPACITY), 422)
    assert sec.post("/capacities", json={**CAPACITY, "country": "CRI"}).status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**NEED, "title": 12}, "title"),
        ({**NEED, "themes": []}, "themes"),
        ({**NEED, "themes": ["not-a-theme"]}, "themes"),
        ({**NEED, "languages": ["zz-top"]}, "languages"),
        ({**NEED, "desired_from": "2026-02-30"}, "desired_from"),
        ({**NEED, "desired_from": "2027", "desired_to": "2026"}, "desired_to"),
        ({**NEED, "priority": "urgent"}, "priority"),
        ({**NEED, "colour": "blue"}, "colour"),
        ({**NEED, "title": "x" * 100_000}, "title"),
        ({**NEED, "modalities": {"a": 1}}, "modalities"),
        ({**NEED, "institution": "no-such-institution"}, "institution"),
        ({**NEED, "id": "bad id with spaces"}, "id"),
    ],
)
def test_invalid_input_is_422_never_500(api: Any, body: dict[str, Any], field: str) -> None:
    """Refused input names each field at fault by its code in ``fields``; the message names it
    by its label (``Wanted until: …``), never by its code."""
    error = assert_error(api("focal_gtm").post("/needs", json=body), 422)
    assert error["error"] == "invalid" and list(error["fields"]) == [field], error
    label = str(FIELD_LABELS.get(field, field))
    assert error["message"].startswith(f"{label}: ") and error["fields"][field] in error["message"]


def test_bad_requests_are_4xx(api: Any) -> None:
    gtm = api("focal_gtm")
    assert_error(gtm.post("/needs", data="not json", content_type="application/json"), 400)
    assert_error(gtm.post("/needs", json=[1, 2]), 400)
    assert_error(gtm.get("/needs/N-unknown"), 404)
    assert_error(gtm.patch("/needs/N-unknown", json={"version": 1}), 404)
    created = gtm.post("/needs", json=NEED).get_json()
    assert_error(gtm.patch(f"/needs/{created['id']}", json={"title": "x"}), 422)  # no version
    assert_error(gtm.patch(f"/needs/{created['id']}", json={"version": "one"}), 422)
    assert_error(gtm.patch(f"/needs/{created['id']}", json={"id": "other", "version": 1}), 422)
    assert_error(gtm.post("/needs", json={**NEED, "id": created["id"]}), 409)
    for query in ("per_page=500", "per_page=x", "page=0", "year=19", "theme=nope", "colour=1"):
        assert_error(gtm.get(f"/needs?{query}"), 400)


def test_lists_filter_and_page(api: Any, kb: None) -> None:
    reader = api("analyst")
    everything = reader.get("/needs?per_page=200").get_json()
    assert everything["total"] > 100 and len(everything["items"]) <= 200
    page1 = reader.get("/needs?per_page=5&sort=title").get_json()
    page2 = reader.get("/needs?per_page=5&page=2&sort=title").get_json()
    assert page1["total"] == everything["total"] and page1["pages"] == -(-page1["total"] // 5)
    ids1, ids2 = {n["id"] for n in page1["items"]}, {n["id"] for n in page2["items"]}
    assert len(ids1) == 5 and not ids1 & ids2
    bra = reader.get("/capacities?country=BRA&per_page=200").get_json()
    assert bra["total"] > 0 and all(c["country"] == "BRA" for c in bra["items"])
    es = reader.get("/capacities", query_string={"q": "inspección laboral"}).get_json()
    assert es["total"] > 0
    exchanges = reader.get("/exchanges?country=BRA&year=2008").get_json()
    assert exchanges["total"] > 0
    for e in exchanges["items"]:
        assert "BRA" in e["providers"] + e["recipients"] + e["participants"]
        assert e["start"].startswith("2008")
    inst = reader.get("/institutions?country=BRA").get_json()
    assert inst["total"] > 0 and all(i["country"] == "BRA" for i in inst["items"])
    one = reader.get(f"/institutions/{inst['items'][0]['id']}")
    assert one.status_code == 200


def test_endorsement_through_the_api(api: Any) -> None:
    gtm, sec = api("focal_gtm"), api("secretariat")
    need_id = gtm.post("/needs", json=NEED).get_json()["id"]
    assert_error(sec.post(f"/needs/{need_id}/endorse"), 409)  # not submitted yet
    submitted = gtm.post(f"/needs/{need_id}/submit", json={"version": 1})
    assert submitted.status_code == 200 and submitted.get_json()["submitted_at"]
    assert_error(gtm.post(f"/needs/{need_id}/endorse"), 403)
    queue = sec.get("/needs?submitted=1").get_json()
    assert [n["id"] for n in queue["items"]] == [need_id]
    assert_error(sec.post(f"/needs/{need_id}/return", json={}), 422)
    assert_error(sec.post(f"/needs/{need_id}/return", json={"note": 5}), 422)
    returned = sec.post(f"/needs/{need_id}/return", json={"note": "Add the region."})
    assert returned.get_json()["review_note"] == "Add the region."
    assert returned.get_json()["status"] == "draft"
    gtm.post(f"/needs/{need_id}/submit")
    assert_error(sec.post(f"/needs/{need_id}/endorse", json={"version": 1}), 409)
    endorsed = sec.post(f"/needs/{need_id}/endorse")
    assert endorsed.status_code == 200 and endorsed.get_json()["status"] == "open"


def test_exchanges_are_written_by_the_secretariat(api: Any) -> None:
    body = {
        "start": "2025-03",
        "providers": ["BRA"],
        "recipients": ["GTM"],
        "themes": ["education"],
    }
    assert_error(api("focal_gtm").post("/exchanges", json=body), 403)
    created = api("secretariat").post("/exchanges", json=body)
    assert created.status_code == 201
    exchange = created.get_json()
    changed = api("admin").patch(
        f"/exchanges/{exchange['id']}", json={"outcomes": "A new inspection protocol", "version": 1}
    )
    assert changed.status_code == 200 and changed.get_json()["version"] == 2
    assert_error(api("secretariat").post("/exchanges", json={**body, "providers": ["XXX"]}), 422)
    assert_error(api("secretariat").post("/exchanges", json={**body, "start": "yesterday"}), 422)


EXCHANGE = {"start": "2019", "providers": ["PER"], "recipients": ["DOM"], "themes": ["education"]}


def test_an_exchanges_date_note_is_written_read_and_checked_as_its_outcomes(api: Any) -> None:
    """``date_note`` (how the dates were read from the sources) is text of the same bounds as
    ``outcomes``: trimmed, blank is none, anything but text or too long refused beside the
    field, a NUL refused, nothing written by a refused request."""
    sec = api("secretariat")
    note = "No date is given; the reporting year is used."
    created = sec.post("/exchanges", json={**EXCHANGE, "date_note": f"  {note} "})
    assert created.status_code == 201, created.get_data(as_text=True)
    exchange_id = created.get_json()["id"]
    assert created.get_json()["date_note"] == note
    assert sec.get(f"/exchanges/{exchange_id}").get_json()["date_note"] == note
    for field in ("date_note", "outcomes"):
        for bad in (12, [note], "x" * (MAX_DESCRIPTION + 1)):
            for response in (
                sec.post("/exchanges", json={**EXCHANGE, field: bad}),
                sec.patch(f"/exchanges/{exchange_id}", json={field: bad, "version": 1}),
            ):
                error = assert_error(response, 422)
                assert list(error["fields"]) == [field], error
                assert error["message"].startswith(f"{FIELD_LABELS[field]}: "), error
        nul = sec.patch(f"/exchanges/{exchange_id}", json={field: "a\x00b", "version": 1})
        assert assert_error(nul, 400)["error"] == "bad_text"
    stored = sec.get(f"/exchanges/{exchange_id}").get_json()
    assert (stored["version"], stored["date_note"]) == (1, note)
    assert sec.get("/exchanges").get_json()["total"] == 1
    cleared = sec.patch(f"/exchanges/{exchange_id}", json={"date_note": "  ", "version": 1})
    assert cleared.status_code == 200 and cleared.get_json()["date_note"] is None


def test_openapi_lists_the_registry_routes(client: Any) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path, methods in {
        "/needs": {"get", "post"},
        "/needs/{need_id}": {"get", "put", "patch"},
        "/capacities": {"get", "post"},
        "/capacities/{capacity_id}": {"get", "put", "patch"},
        "/exchanges": {"get", "post"},
        "/exchanges/{exchange_id}": {"get", "put", "patch"},
        "/institutions": {"get"},
        "/needs/{need_id}/submit": {"post"},
        "/needs/{need_id}/endorse": {"post"},
        "/needs/{need_id}/return": {"post"},
    }.items():
        assert methods <= set(paths[path]), path


def test_every_new_record_takes_the_services_day(api: Any, as_user: Any, app: Flask) -> None:
    """A record's ``created`` day and its id's year are the day the service works on (TODAY when
    pinned, as every page's), by every way one is created: the registry read the clock itself,
    so with TODAY pinned to 2025 a need made that day was N-2026-… created 2026-12-06."""
    from tests.web.test_registry import CAPACITY_FORM, NEED_FORM

    app.config["TODAY"] = "2025-03-14"
    gtm, sec = api("focal_gtm"), api("secretariat")
    page = as_user("focal_gtm")
    made = [
        ("need", gtm.post("/needs", json=NEED).get_json()["id"]),
        ("capacity", gtm.post("/capacities", json=CAPACITY).get_json()["id"]),
        ("exchange", sec.post("/exchanges", json=EXCHANGE).get_json()["id"]),
    ]
    for path, form, kind in (
        ("/needs/new", NEED_FORM, "need"),
        ("/capacities/new", CAPACITY_FORM, "capacity"),
    ):
        response = page.post(path, data=form)
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        made.append((kind, response.headers["Location"].rstrip("/").rsplit("/", 1)[1]))
    assert all(record_id.split("-")[1] == "2025" for _, record_id in made), made
    models = {"need": Need, "capacity": Capacity}
    with Session(app.extensions["sscmatch.engine"]) as s:
        for kind, record_id in made:
            if kind in models:
                record = s.get(models[kind], record_id)
                assert record is not None and record.created == "2025-03-14", (kind, record_id)
