"""API of matching and review: shapes, roles, errors, the same flow as the pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, col, select

from sscmatch.bundle.load import import_bundle
from sscmatch.db import session_scope
from sscmatch.models import AuditEvent, MatchRun, Need, User, Veto
from sscmatch.models import Proposal as StoredProposal
from sscmatch.vocab import load_vocabulary
from sscmatch.workflow.accounts import issue_api_token

ROOT = Path(__file__).resolve().parents[2]
NEED = "s002-n37"
OTHER_NEED = "s000-n01"


@pytest.fixture
def tokens(app: Flask, users: dict[str, int]) -> dict[str, str]:
    out = {}
    with session_scope(app.extensions["sscmatch.engine"]) as s:
        import_bundle(s, ROOT / "data", load_vocabulary())
        for key, uid in users.items():
            user = s.get(User, uid)
            assert user is not None
            out[key] = issue_api_token(s, user)
    return out


class Api:
    def __init__(self, client: Any, token: str) -> None:
        self.client, self.headers = client, {"Authorization": f"Bearer {token}"}

    def get(self, url: str) -> Any:
        return self.client.get(url, headers=self.headers)

    def post(self, url: str, body: Any) -> Any:
        return self.client.post(url, json=body, headers=self.headers)


@pytest.fixture
def api(client: Any, tokens: dict[str, str]) -> Any:
    return lambda who: Api(client, tokens[who])


def start(api: Any, needs: list[str] | None = None, top: int = 5) -> dict[str, Any]:
    response = api("secretariat").post(
        "/api/v1/match-runs", {"needs": [NEED, OTHER_NEED] if needs is None else needs, "top": top}
    )
    assert response.status_code == 201, response.get_json()
    data: dict[str, Any] = response.get_json()
    return data


def proposals_of(session: Session, need: str = NEED) -> list[StoredProposal]:
    session.expire_all()
    return list(
        session.exec(
            select(StoredProposal)
            .where(StoredProposal.need == need)
            .order_by(col(StoredProposal.rank))
        )
    )


def test_live_matches_of_a_need(api: Any, session: Session) -> None:
    response = api("focal_gtm").get(f"/api/v1/needs/{NEED}/matches?top=3")
    assert response.status_code == 200
    data = response.get_json()
    assert data["need"] == NEED and data["as_of"] is None
    assert [p["rank"] for p in data["proposals"]] == [1, 2, 3]
    first = data["proposals"][0]
    assert set(first) >= {
        "need",
        "recipient",
        "rank",
        "provider",
        "capacity",
        "score",
        "components",
        "reasons",
    }
    assert first["recipient"] == "GTM" and 0 <= first["score"] <= 1
    assert all(0 <= v <= 1 for v in first["components"].values())
    assert session.exec(select(MatchRun)).all() == []  # nothing stored
    assert api("analyst").get("/api/v1/needs/nope/matches").status_code == 404
    bad = api("analyst").get(f"/api/v1/needs/{NEED}/matches?top=0")
    assert bad.status_code == 400 and set(bad.get_json()) == {"error", "message"}
    closed = session.exec(select(Need).where(Need.status == "closed")).first()
    assert closed is not None
    assert api("analyst").get(f"/api/v1/needs/{closed.id}/matches").status_code == 409
    assert api("analyst").client.get(f"/api/v1/needs/{NEED}/matches").status_code == 401


def test_match_runs(api: Any, session: Session) -> None:
    run = start(api)
    assert run["status"] == "done" and run["needs_total"] == run["needs_done"] == 2
    assert run["proposals"] == 10 and run["needs"] == [NEED, OTHER_NEED] and run["top"] == 5
    again = api("analyst").get(f"/api/v1/match-runs/{run['id']}")
    assert again.status_code == 200 and again.get_json() == run
    assert api("analyst").get("/api/v1/match-runs/999").status_code == 404
    assert api("analyst").post("/api/v1/match-runs", {"needs": []}).status_code == 403
    for body, status in (
        ({"needs": ["nope"]}, 404),
        ({"top": 0}, 422),
        ({"top": "x"}, 422),
        ({"needs": "s002-n37"}, 422),
        ({"bogus": 1}, 422),
        ([], 400),
    ):
        response = api("secretariat").post("/api/v1/match-runs", body)
        assert response.status_code == status, (body, response.get_json())
        assert set(response.get_json()) == {"error", "message"}
    assert len(session.exec(select(MatchRun)).all()) == 1


def test_list_and_read_proposals(api: Any, session: Session) -> None:
    start(api)
    listing = api("secretariat").get("/api/v1/proposals?per_page=4&sort=score")
    data = listing.get_json()
    assert listing.status_code == 200
    assert (data["total"], data["pages"], data["page"], len(data["items"])) == (10, 3, 1, 4)
    scores = [p["score"] for p in data["items"]]
    assert scores == sorted(scores, reverse=True)
    assert api("secretariat").get("/api/v1/proposals?country=GTM").get_json()["total"] == 5
    assert api("secretariat").get("/api/v1/proposals?region=Africa").get_json()["total"] == 5
    assert (
        api("secretariat").get("/api/v1/proposals?status=all&min_score=0.99").get_json()["total"]
        == 0
    )
    for bad in ("status=x", "min_score=2", "sort=zzz", "page=-1", "per_page=0"):
        response = api("secretariat").get(f"/api/v1/proposals?{bad}")
        assert response.status_code == 400, bad
        assert set(response.get_json()) == {"error", "message"}
    # a focal point sees only their country's proposals
    bra = api("focal_bra").get("/api/v1/proposals").get_json()
    assert bra["total"] >= 1 and all("BRA" in (p["provider"], p["recipient"]) for p in bra["items"])
    one = proposals_of(session)[0]
    detail = api("analyst").get(f"/api/v1/proposals/{one.id}").get_json()
    assert detail["id"] == one.id and detail["version"] == 1 and detail["status"] == "proposed"
    assert set(detail["components"]) >= {"topic", "text", "language"} and detail["reasons"]
    assert all(set(r) == {"code", "params", "text"} and r["text"] for r in detail["reasons"])
    assert sum(detail["contributions"].values()) == pytest.approx(detail["score"], abs=1e-4)
    assert [a["rank"] for a in detail["alternates"]] == [2, 3, 4, 5]
    assert set(detail["evidence"]) == {"between", "on_themes"} and detail["reviews"] == []
    mex = next(p for p in proposals_of(session) if p.provider == "MEX")
    assert api("focal_bra").get(f"/api/v1/proposals/{mex.id}").status_code == 403
    assert api("focal_gtm").get(f"/api/v1/proposals/{mex.id}").status_code == 200
    assert api("analyst").get("/api/v1/proposals/99999").status_code == 404


def test_the_review_flow(api: Any, session: Session) -> None:
    start(api)
    # a proposal Brazil has no part in, for the 403 below
    first, second, *_ = [p for p in proposals_of(session) if p.provider != "BRA"]
    bra = next(p for p in proposals_of(session) if p.provider == "BRA")
    confirm = api("focal_bra").post(
        f"/api/v1/proposals/{bra.id}/response",
        {"response": "confirm", "note": "June", "version": 1},
    )
    assert confirm.status_code == 200
    assert (
        confirm.get_json()["status"] == "provider_confirmed" and confirm.get_json()["version"] == 2
    )
    fits = api("focal_gtm").post(
        f"/api/v1/proposals/{bra.id}/response", {"response": "fits", "version": 2}
    )
    assert fits.status_code == 200 and fits.get_json()["recipient_fit"] == "fits"
    # the other country's focal point: 403; a stale version: 409; bad body: 422
    assert (
        api("focal_bra")
        .post(f"/api/v1/proposals/{first.id}/response", {"response": "confirm", "version": 1})
        .status_code
        == 403
    )
    stale = api("focal_gtm").post(
        f"/api/v1/proposals/{bra.id}/response", {"response": "does_not_fit", "version": 1}
    )
    assert stale.status_code == 409 and stale.get_json()["error"] == "conflict"
    assert (
        api("focal_gtm")
        .post(f"/api/v1/proposals/{bra.id}/response", {"response": "maybe", "version": 3})
        .status_code
        == 422
    )
    empty = api("focal_bra").post(f"/api/v1/proposals/{first.id}/response", {})
    assert empty.status_code == 403  # not their proposal: refused before the body is read
    assert (
        api("secretariat")
        .post(f"/api/v1/proposals/{bra.id}/response", {"response": "fits", "version": 3})
        .status_code
        == 403
    )
    # reject needs a reason
    no_reason = api("secretariat").post(
        f"/api/v1/proposals/{second.id}/decision", {"decision": "reject", "version": 1}
    )
    assert no_reason.status_code == 422 and no_reason.get_json()["error"] == "reason_required"
    rejected = api("secretariat").post(
        f"/api/v1/proposals/{second.id}/decision",
        {"decision": "reject", "reason": "language", "version": 1},
    )
    assert rejected.status_code == 200
    assert rejected.get_json()["proposal"]["status"] == "rejected"
    assert rejected.get_json()["review"]["reason"] == "language"
    # accept: the others are superseded, the need matched
    accepted = api("secretariat").post(
        f"/api/v1/proposals/{bra.id}/decision", {"decision": "accept", "version": 3}
    )
    assert accepted.status_code == 200, accepted.get_json()
    body = accepted.get_json()
    assert body["proposal"]["status"] == "accepted" and body["accepted"] == bra.id
    assert sorted(body["superseded"]) == sorted(
        p.id for p in proposals_of(session) if p.id not in (bra.id, second.id)
    )
    assert session.get(Need, NEED).status == "matched"  # type: ignore[union-attr]
    # final: illegal transition is a 409 with a message
    illegal = api("admin").post(
        f"/api/v1/proposals/{first.id}/decision", {"decision": "accept", "version": 2}
    )
    assert illegal.status_code == 409 and illegal.get_json()["error"] == "illegal_transition"
    assert "superseded" in illegal.get_json()["message"]
    # focal points cannot decide
    assert (
        api("focal_gtm")
        .post(f"/api/v1/proposals/{first.id}/decision", {"decision": "accept", "version": 2})
        .status_code
        == 403
    )
    actions = session.exec(
        select(AuditEvent.action).where(
            AuditEvent.entity == "proposal", AuditEvent.entity_id == str(bra.id)
        )
    ).all()
    assert list(actions) == ["confirm", "fits", "accept"]


def test_alternate_and_veto(api: Any, session: Session) -> None:
    start(api)
    first, second, *_ = proposals_of(session)
    wrong = proposals_of(session, OTHER_NEED)[0]
    bad = api("secretariat").post(
        f"/api/v1/proposals/{first.id}/decision",
        {"decision": "alternate", "alternate": wrong.id, "version": 1},
    )
    assert bad.status_code == 422 and "not an alternate" in bad.get_json()["message"]
    # The reason says why this one is rejected; the alternate's provider has not confirmed, so
    # accepting it needs the override (tests/web/test_api_review_actions.py walks the refusals).
    ok = api("secretariat").post(
        f"/api/v1/proposals/{first.id}/decision",
        {
            "decision": "alternate",
            "alternate": second.id,
            "version": 1,
            "reason": "closer to the need",
            "override": True,
        },
    )
    assert ok.status_code == 200, ok.get_json()
    assert (
        ok.get_json()["accepted"] == second.id and ok.get_json()["proposal"]["status"] == "rejected"
    )
    assert ok.get_json()["review"]["reason"] == "closer to the need"
    veto = api("secretariat").post(
        f"/api/v1/proposals/{wrong.id}/decision",
        {"decision": "veto", "reason": "no agreement", "version": 1},
    )
    assert veto.status_code == 200
    assert veto.get_json()["veto"]["provider"] == wrong.provider
    assert veto.get_json()["veto"]["recipient"] == wrong.recipient
    assert session.exec(select(Veto)).one().reason == "no agreement"
    rerun = start(api, needs=[OTHER_NEED])
    providers = {p.provider for p in proposals_of(session, OTHER_NEED) if p.run_id == rerun["id"]}
    assert wrong.provider not in providers and providers


def test_two_decisions_at_once_only_one_wins(api: Any, session: Session) -> None:
    start(api)
    p = proposals_of(session)[0]
    one = api("secretariat").post(
        f"/api/v1/proposals/{p.id}/decision", {"decision": "reject", "reason": "a", "version": 1}
    )
    two = api("admin").post(
        f"/api/v1/proposals/{p.id}/decision", {"decision": "accept", "version": 1}
    )
    assert (one.status_code, two.status_code) == (200, 409)
    assert "meanwhile" in two.get_json()["message"]


def test_openapi_documents_every_review_route(client: Any) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    for path, method in (
        ("/needs/{need_id}/matches", "get"),
        ("/proposals", "get"),
        ("/proposals/{proposal_id}", "get"),
        ("/proposals/{proposal_id}/decision", "post"),
        ("/proposals/{proposal_id}/response", "post"),
        ("/match-runs", "post"),
        ("/match-runs/{run_id}", "get"),
    ):
        assert method in paths[path], path
    for name in ("Decision", "ProposalResponse", "MatchRunRequest"):
        assert name in spec["components"]["schemas"]
