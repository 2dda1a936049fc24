"""API counterparts of issue 14's review work: the override, dry runs, reverts, vetoes lifted,
needs reopened, bulk decisions, comments, notices and the worklist, with the API's conventions
(Bearer tokens, roles, ``version`` and 409 on a stale one, ``{"error", "message"}`` 4xx)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from sscmatch.models import (
    AuditEvent,
    Need,
    Notice,
    ProposalComment,
    Review,
    StudyTour,
    User,
    Veto,
)
from tests.conftest import ACCOUNTS
from tests.web import test_api_review
from tests.web.english_text import Detector
from tests.web.test_api_review import NEED, OTHER_NEED, proposals_of, start

tokens = test_api_review.tokens  # the fixtures: the knowledge base and a token per role
api = test_api_review.api


def _error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.get_json()
    body: dict[str, Any] = response.get_json()
    assert set(body) == {"error", "message"} and body["message"], body
    if code is not None:
        assert body["error"] == code, body
    return body


def _by(session: Session, provider: str, need: str = NEED) -> Any:
    return next(p for p in proposals_of(session, need) if p.provider == provider)


def test_accept_without_confirmation_needs_the_override(api: Any, session: Session) -> None:
    start(api)
    mex = _by(session, "MEX")
    url = f"/api/v1/proposals/{mex.id}/decision"
    refused = _error(
        api("secretariat").post(url, {"decision": "accept", "version": 1}),
        409,
        "override_required",
    )
    assert "confirmed" in refused["message"]
    _error(
        api("secretariat").post(url, {"decision": "accept", "version": 1, "override": True}),
        422,
        "reason_required",
    )
    # A dry run says what would change and changes nothing.
    dry = api("secretariat").post(
        url, {"decision": "accept", "version": 1, "override": True, "reason": "x", "dry_run": True}
    )
    assert dry.status_code == 200, dry.get_json()
    plan = dry.get_json()
    assert plan["dry_run"] is True and plan["override"] is True
    assert plan["proposal"]["status"] == "accepted" and plan["need"]["status"] == "matched"
    assert len(plan["superseded"]) == 4 and plan["tour"]
    session.expire_all()
    assert {p.status for p in proposals_of(session)} == {"proposed"}
    assert session.exec(select(Review)).all() == [] and session.exec(select(StudyTour)).all() == []
    assert session.get(Need, NEED).status == "open"  # type: ignore[union-attr]
    # The real one.
    done = api("secretariat").post(
        url,
        {"decision": "accept", "version": 1, "override": True, "reason": "visit already agreed"},
    )
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert body["dry_run"] is False and body["override"] is True
    assert body["review"]["override"] is True and body["need"] == {"id": NEED, "status": "matched"}
    assert sorted(body["superseded"]) == sorted(plan["superseded"])
    assert session.get(StudyTour, body["tour"]) is not None


def test_choosing_an_alternate_needs_a_reason(api: Any, session: Session) -> None:
    start(api)
    first, second, *_ = proposals_of(session)
    url = f"/api/v1/proposals/{first.id}/decision"
    body = {"decision": "alternate", "alternate": second.id, "version": 1}
    _error(api("secretariat").post(url, body), 422, "reason_required")
    _error(api("secretariat").post(url, {**body, "reason": "closer"}), 409, "override_required")
    done = api("secretariat").post(url, {**body, "reason": "closer", "override": True})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["accepted"] == second.id and done.get_json()["override"] is True


def test_revert_through_the_api(api: Any, session: Session) -> None:
    start(api)
    bra = _by(session, "BRA")
    assert (
        api("focal_bra")
        .post(f"/api/v1/proposals/{bra.id}/response", {"response": "confirm", "version": 1})
        .status_code
        == 200
    )
    accepted = api("secretariat").post(
        f"/api/v1/proposals/{bra.id}/decision", {"decision": "accept", "version": 2}
    )
    assert accepted.status_code == 200 and accepted.get_json()["override"] is False
    tour = accepted.get_json()["tour"]
    url = f"/api/v1/proposals/{bra.id}/revert"
    _error(api("secretariat").post(url, {"version": 3}), 422, "reason_required")
    _error(api("secretariat").post(url, {"version": 2, "reason": "x"}), 409, "conflict")
    _error(api("secretariat").post(url, {"reason": "x"}), 422, "invalid")  # version is required
    _error(api("analyst").post(url, {"version": 3, "reason": "x"}), 403, "forbidden")
    _error(api("focal_bra").post(url, {"version": 3, "reason": "x"}), 403, "forbidden")
    dry = api("secretariat").post(url, {"version": 3, "reason": "wrong need", "dry_run": True})
    assert dry.status_code == 200, dry.get_json()
    plan = dry.get_json()
    assert plan["dry_run"] and plan["proposal"]["status"] == "provider_confirmed"
    assert plan["need"]["status"] == "open" and plan["tour"] == {"id": tour, "status": "cancelled"}
    assert {p["status"] for p in plan["proposals"]} == {"proposed"} and len(plan["proposals"]) == 4
    session.expire_all()
    assert _by(session, "BRA").status == "accepted"  # the dry run changed nothing
    done = api("secretariat").post(url, {"version": 3, "reason": "wrong need"})
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert body["review"]["decision"] == "revert" and body["reverted"]["decision"] == "accept"
    assert body["reverted"]["reverted_at"] and body["proposals"] == plan["proposals"]
    session.expire_all()
    assert session.get(Need, NEED).status == "open"  # type: ignore[union-attr]
    assert session.get(StudyTour, tour).status == "cancelled"  # type: ignore[union-attr]
    # nothing left to revert: not possible
    again = _error(api("secretariat").post(url, {"version": 4, "reason": "x"}), 409, "not_possible")
    assert "no decision" in again["message"]
    _error(api("secretariat").post("/api/v1/proposals/99999/revert", {"version": 1}), 404)


def test_vetoes_listed_and_lifted(api: Any, session: Session) -> None:
    start(api)
    angola = proposals_of(session, OTHER_NEED)[0]
    api("secretariat").post(
        f"/api/v1/proposals/{angola.id}/decision",
        {"decision": "veto", "reason": "no agreement", "version": 1},
    )
    listing = api("analyst").get("/api/v1/vetoes")
    assert listing.status_code == 200
    items = listing.get_json()["items"]
    assert len(items) == 1 and items[0]["reason"] == "no agreement"
    veto_id = items[0]["id"]
    assert api("analyst").get("/api/v1/vetoes?country=AGO").get_json()["total"] == 1
    assert api("analyst").get("/api/v1/vetoes?country=GTM").get_json()["total"] == 0
    _error(api("focal_gtm").get("/api/v1/vetoes"), 403)
    _error(api("analyst").get("/api/v1/vetoes?page=0"), 400, "bad_parameter")
    url = f"/api/v1/vetoes/{veto_id}/lift"
    _error(api("analyst").post(url, {"reason": "x"}), 403)
    _error(api("secretariat").post(url, {}), 422, "reason_required")
    _error(api("secretariat").post(url, {"reason": "x", "bogus": 1}), 422, "invalid")
    lifted = api("secretariat").post(url, {"reason": "new government"})
    assert lifted.status_code == 200 and lifted.get_json()["provider"] == angola.provider
    assert lifted.get_json()["restored"] == []  # the pair had no other proposal
    assert session.exec(select(Veto)).all() == []
    _error(api("secretariat").post(url, {"reason": "again"}), 404, "not_found")
    assert (
        session.exec(
            select(AuditEvent).where(AuditEvent.entity == "veto", AuditEvent.action == "lift")
        )
        .one()
        .note
        == "new government"
    )


def test_reopen_a_need_through_the_api(api: Any, session: Session) -> None:
    need = session.get(Need, NEED)
    assert need is not None
    url = f"/api/v1/needs/{NEED}/reopen"
    _error(
        api("secretariat").post(url, {"version": need.version, "reason": "x"}), 409, "not_possible"
    )
    need.status = "matched"
    session.add(need)
    session.commit()
    _error(api("secretariat").post(url, {"version": need.version}), 422, "reason_required")
    _error(api("secretariat").post(url, {"version": need.version - 1, "reason": "x"}), 409)
    _error(api("focal_gtm").post(url, {"version": need.version, "reason": "x"}), 403)
    _error(api("secretariat").post("/api/v1/needs/nope/reopen", {"version": 1, "reason": "x"}), 404)
    done = api("secretariat").post(url, {"version": need.version, "reason": "still needed"})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["status"] == "open" and done.get_json()["version"] == need.version + 1


def test_bulk_decision(api: Any, session: Session) -> None:
    start(api)
    a, b, c = proposals_of(session)[:3]
    items = [{"id": p.id, "version": 1} for p in (a, b, c)]
    url = "/api/v1/proposals/bulk-decision"
    _error(api("secretariat").post(url, {"decision": "reject", "items": items}), 422)
    _error(api("secretariat").post(url, {"decision": "reject", "items": [], "reason": "x"}), 422)
    _error(api("secretariat").post(url, {"decision": "veto", "items": items, "reason": "x"}), 422)
    _error(api("analyst").post(url, {"decision": "reject", "items": items, "reason": "x"}), 403)
    dry = api("secretariat").post(
        url, {"decision": "reject", "items": items, "reason": "budget", "dry_run": True}
    )
    assert dry.status_code == 200 and dry.get_json()["done"] == [a.id, b.id, c.id]
    assert session.exec(select(Review)).all() == []
    # meanwhile b is rejected by someone else; an unknown one is refused
    api("admin").post(
        f"/api/v1/proposals/{b.id}/decision", {"decision": "reject", "reason": "one", "version": 1}
    )
    done = api("secretariat").post(
        url,
        {
            "decision": "reject",
            "items": [*items, {"id": 99999, "version": 1}],
            "reason": "budget",
        },
    )
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert body["done"] == [a.id, c.id] and body["conflicted"] == [b.id]
    assert [r["id"] for r in body["refused"]] == [99999] and body["dry_run"] is False
    # accepting unconfirmed proposals in bulk: refused each, unless overridden with a reason
    rest = [p for p in proposals_of(session) if p.status == "proposed"]
    first = {"id": rest[0].id, "version": 1}
    refused = api("secretariat").post(url, {"decision": "accept", "items": [first]}).get_json()
    assert refused["done"] == [] and "confirmed" in refused["refused"][0]["message"]
    # each refusal is said in the reviewer's language (their account's), as every API error
    _speaks(session, ACCOUNTS["secretariat"][0], "es")
    said = api("secretariat").post(url, {"decision": "accept", "items": [first]}).get_json()
    spanish = said["refused"][0]["message"]
    assert said["done"] == [] and spanish != refused["refused"][0]["message"]
    assert not list(Detector("es", (), ()).findings([spanish])), spanish
    _speaks(session, ACCOUNTS["secretariat"][0], "en")
    accepted = api("secretariat").post(
        url, {"decision": "accept", "items": [first], "override": True, "reason": "agreed"}
    )
    assert accepted.get_json()["done"] == [rest[0].id]


def test_comments_through_the_api(api: Any, session: Session) -> None:
    start(api)
    mex = _by(session, "MEX")  # Mexico → Guatemala
    url = f"/api/v1/proposals/{mex.id}/comments"
    made = api("focal_gtm").post(url, {"body": "Can they come in May?"})
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["body"] == "Can they come in May?"
    assert made.get_json()["author_role"] == "focal_point"
    _error(api("focal_bra").post(url, {"body": "x"}), 403)
    _error(api("focal_bra").get(url), 403)
    _error(api("analyst").post(url, {"body": "x"}), 403)
    _error(api("secretariat").post(url, {"body": ""}), 422)
    _error(api("secretariat").post(url, {"body": "   "}), 422)
    _error(api("secretariat").post(url, {"text": "x"}), 422)
    _error(api("secretariat").post("/api/v1/proposals/99999/comments", {"body": "x"}), 404)
    assert api("secretariat").post(url, {"body": "Yes, in May."}).status_code == 201
    listing = api("analyst").get(url).get_json()
    assert [c["body"] for c in listing["items"]] == ["Can they come in May?", "Yes, in May."]
    assert listing["total"] == 2
    assert len(session.exec(select(ProposalComment)).all()) == 2


def test_notices_and_worklist(api: Any, session: Session) -> None:
    start(api)  # the run tells each country's focal points
    mine = api("focal_bra").get("/api/v1/notices")
    assert mine.status_code == 200
    body = mine.get_json()
    assert body["unread"] == body["total"] >= 1
    first = body["items"][0]
    assert first["kind"] == "proposals.to_answer" and "Brazil" in first["text"]
    assert first["read_at"] is None and first["entity"] == "match_run"
    # in the account's language
    user = session.exec(select(User).where(User.email == "bra@test.org")).one()
    user.language = "es"
    session.add(user)
    session.commit()
    spanish = api("focal_bra").get("/api/v1/notices").get_json()["items"][0]["text"]
    assert spanish.startswith("Una ejecución de emparejamiento pide a Brasil"), spanish
    _error(api("focal_gtm").post(f"/api/v1/notices/{first['id']}/read", {}), 404, "not_found")
    read = api("focal_bra").post(f"/api/v1/notices/{first['id']}/read", {})
    assert read.status_code == 200 and read.get_json()["read_at"]
    assert api("focal_bra").get("/api/v1/notices?unread=true").get_json()["total"] == (
        body["total"] - 1
    )
    _error(api("focal_bra").get("/api/v1/notices?unread=maybe"), 400, "bad_parameter")
    everything = api("focal_gtm").post("/api/v1/notices/read", {})
    assert everything.status_code == 200 and everything.get_json()["marked"] >= 1
    session.expire_all()
    gtm_notices = [n for n in session.exec(select(Notice)) if n.params.get("country") == "GTM"]
    assert gtm_notices and all(n.read_at is not None for n in gtm_notices)
    assert api("focal_gtm").get("/api/v1/notices").get_json()["unread"] == 0
    assert api("focal_gtm").client.get("/api/v1/notices").status_code == 401
    # the worklists
    bra = api("focal_bra").get("/api/v1/worklist").get_json()
    assert bra["role"] == "focal_point" and set(bra["lists"]) == {"to_answer", "returned", "due"}
    asked = bra["lists"]["to_answer"]
    assert asked["total"] == 2 and {i["provider"] for i in asked["items"]} == {"BRA"}
    sec = api("secretariat").get("/api/v1/worklist").get_json()
    assert set(sec["lists"]) == {"to_endorse", "to_decide", "tours", "overdue"}
    assert api("analyst").get("/api/v1/worklist").get_json() == {"role": "analyst", "lists": {}}


def test_openapi_documents_the_new_routes(client: Any) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    for path, method in (
        ("/proposals/{proposal_id}/revert", "post"),
        ("/proposals/bulk-decision", "post"),
        ("/proposals/{proposal_id}/comments", "get"),
        ("/proposals/{proposal_id}/comments", "post"),
        ("/vetoes", "get"),
        ("/vetoes/{veto_id}/lift", "post"),
        ("/needs/{need_id}/reopen", "post"),
        ("/notices", "get"),
        ("/notices/{notice_id}/read", "post"),
        ("/notices/read", "post"),
        ("/worklist", "get"),
    ):
        assert method in spec["paths"][path], path
    schemas = spec["components"]["schemas"]
    for name in ("Revert", "LiftVeto", "Reopen", "BulkDecision", "Comment"):
        assert name in schemas
    assert {"override", "dry_run"} <= set(schemas["Decision"]["properties"])


def _speaks(session: Session, email: str, lang: str) -> None:
    user = session.exec(select(User).where(User.email == email)).one()
    user.language = lang
    session.add(user)
    session.commit()
