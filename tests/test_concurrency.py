"""Concurrent edits: exactly one of two simultaneous writers wins, the other gets a clear 409.

Real concurrent connections: two threads, each with its own test client (so its own request,
session and database connection from the pool), synchronised with a ``threading.Barrier`` after
both have read the same version and before either writes. Run on SQLite and, when
``SSCMATCH_TEST_DATABASE_URL`` is set, on PostgreSQL. Each race is repeated a few times.

- two secretariat members decide (reject, with a reason) the same proposal through the API;
- the secretariat (API) and Guatemala's focal point (the web form) edit the same need;
- two focal points of Guatemala (web forms) edit the same need.

Afterwards the record holds one writer's values entirely (nothing half-written), its version moved
by exactly one, and exactly one decision or audit event was written.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import Any

from flask import Flask
from sqlmodel import Session, col, func, select

from sscmatch.models import AuditEvent, Need, Proposal, Review, User
from sscmatch.workflow.accounts import issue_api_token
from sscmatch.workflow.users import create_user
from tests.conftest import PASSWORD, sign_in
from tests.web.test_fuzz_api import build_world

ROUNDS = 4


def _race(first: Callable[[], Any], second: Callable[[], Any]) -> list[Any]:
    """Run both writers at once; each reads, waits at the barrier, then writes."""
    results: list[Any] = [None, None]
    errors: list[BaseException] = []

    def worker(index: int, action: Callable[[], Any]) -> None:
        try:
            results[index] = action()
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=worker, args=(0, first)),
        threading.Thread(target=worker, args=(1, second)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a writer hung"
    assert errors == [], errors
    return results


def _second_staff(app: Flask) -> dict[str, str]:
    """Tokens of two secretariat members."""
    with Session(app.extensions["sscmatch.engine"], expire_on_commit=False) as s:
        other = create_user(s, "sec-b@test.org", PASSWORD, "secretariat", name="sec-b")
        s.flush()
        first = s.exec(select(User).where(User.email == "sec@test.org")).one()
        tokens = {"a": issue_api_token(s, first), "b": issue_api_token(s, other)}
        s.commit()
    return tokens


def test_two_secretariat_members_decide_the_same_proposal(
    app: Flask, users: dict[str, int]
) -> None:
    world = build_world(app, users)
    engine = app.extensions["sscmatch.engine"]
    tokens = _second_staff(app)
    proposal_id = world["proposal_id"]
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash must show as a 500, not kill the thread
    for round_ in range(ROUNDS):
        with Session(engine) as s:
            proposal = s.get(Proposal, proposal_id)
            assert proposal is not None
            proposal.status = "proposed"  # open it again for the next round
            s.add(proposal)
            s.commit()
        barrier = threading.Barrier(2, timeout=30)

        def decide(who: str, barrier: threading.Barrier = barrier, round_: int = round_) -> Any:
            client = app.test_client()
            headers = {"Authorization": f"Bearer {tokens[who]}"}
            seen = client.get(f"/api/v1/proposals/{proposal_id}", headers=headers)
            assert seen.status_code == 200
            version = seen.get_json()["version"]
            barrier.wait()
            response = client.post(
                f"/api/v1/proposals/{proposal_id}/decision",
                headers=headers,
                json={
                    "decision": "reject",
                    "reason": f"round {round_} by {who}",
                    "version": version,
                },
            )
            return version, response.status_code, response.get_json()

        with Session(engine) as s:
            reviews_before = s.exec(select(func.count()).select_from(Review)).one()
        (va, sa, ba), (vb, sb, bb) = _race(lambda: decide("a"), lambda: decide("b"))
        assert va == vb, "both must have read the same version"
        assert sorted((sa, sb)) == [200, 409], (sa, ba, sb, bb)
        loser = ba if sa == 409 else bb
        assert loser["error"] == "conflict" and loser["message"], loser
        winner = "a" if sa == 200 else "b"
        with Session(engine) as s:
            proposal = s.get(Proposal, proposal_id)
            assert proposal is not None
            assert proposal.status == "rejected"
            assert proposal.version == va + 1
            reviews = s.exec(
                select(Review).where(Review.proposal_id == proposal_id).order_by(col(Review.id))
            ).all()
            assert len(reviews) == reviews_before + 1
            assert reviews[-1].reason == f"round {round_} by {winner}"


def _need(app: Flask, need_id: str = "N-RACE-1") -> None:
    with Session(app.extensions["sscmatch.engine"]) as s:
        s.add(
            Need(
                id=need_id,
                country="GTM",
                title="Labour inspection in agriculture",
                description="original",
                themes=["labour-inspection"],
                languages=["es"],
                status="open",
            )
        )
        s.commit()


def _read_need(app: Flask, need_id: str) -> Need:
    with Session(app.extensions["sscmatch.engine"], expire_on_commit=False) as s:
        need = s.get(Need, need_id)
        assert need is not None
        return need


def _form_edit(client: Any, need_id: str, barrier: threading.Barrier, text: str) -> tuple[int, str]:
    page = client.get(f"/needs/{need_id}/edit")
    assert page.status_code == 200
    need_version = page.get_data(as_text=True).split('name="version"', 1)[1]
    version = need_version.split('value="', 1)[1].split('"', 1)[0]
    barrier.wait()
    response = client.post(
        f"/needs/{need_id}/edit",
        data={
            "title": f"title by {text}",
            "description": f"description by {text}",
            "themes": ["labour-inspection"],
            "languages": "es",
            "priority": "",
            "desired_from": "",
            "desired_to": "",
            "version": version,
            # a focal point's change of an endorsed need is confirmed first (39223aa): the race
            # is between two confirmed saves
            "confirmed": "y",
        },
    )
    return response.status_code, response.get_data(as_text=True)


def _api_edit(
    client: Any, headers: dict[str, str], need_id: str, barrier: threading.Barrier, text: str
) -> tuple[int, str]:
    seen = client.get(f"/api/v1/needs/{need_id}", headers=headers)
    version = seen.get_json()["version"]
    barrier.wait()
    response = client.patch(
        f"/api/v1/needs/{need_id}",
        headers=headers,
        json={
            "title": f"title by {text}",
            "description": f"description by {text}",
            "version": version,
        },
    )
    return response.status_code, response.get_data(as_text=True)


def _check_need_race(
    app: Flask,
    need_id: str,
    before: Need,
    results: list[Any],
    names: tuple[str, str],
    ok: tuple[int, int],
) -> None:
    (sa, ta), (sb, tb) = results
    statuses = (sa, sb)
    assert statuses.count(409) == 1, (sa, ta[:300], sb, tb[:300])
    assert statuses in ((ok[0], 409), (409, ok[1])), statuses
    loser_text = ta if sa == 409 else tb
    assert "changed by someone else" in loser_text, loser_text[:2000]
    winner = names[0] if sa != 409 else names[1]
    after = _read_need(app, need_id)
    assert after.version == before.version + 1
    assert (after.title, after.description) == (f"title by {winner}", f"description by {winner}")
    with Session(app.extensions["sscmatch.engine"]) as s:
        events = s.exec(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.entity == "need",
                AuditEvent.entity_id == need_id,
                AuditEvent.action == "update",
            )
        ).one()
    assert events == after.version - 1


def test_focal_point_and_secretariat_edit_the_same_need(app: Flask, users: dict[str, int]) -> None:
    _need(app)
    with Session(app.extensions["sscmatch.engine"]) as s:
        secretariat = s.get(User, users["secretariat"])
        assert secretariat is not None
        token = issue_api_token(s, secretariat)
        s.commit()
    headers = {"Authorization": f"Bearer {token}"}
    app.config["PROPAGATE_EXCEPTIONS"] = False
    focal = sign_in(app.test_client(), "focal_gtm")
    api = app.test_client()
    for _round in range(ROUNDS):
        before = _read_need(app, "N-RACE-1")
        barrier = threading.Barrier(2, timeout=30)
        results = _race(
            partial(_form_edit, focal, "N-RACE-1", barrier, "focal"),
            partial(_api_edit, api, headers, "N-RACE-1", barrier, "secretariat"),
        )
        _check_need_race(app, "N-RACE-1", before, results, ("focal", "secretariat"), (302, 200))


def test_two_focal_points_edit_the_same_need(app: Flask, users: dict[str, int]) -> None:
    _need(app)
    with Session(app.extensions["sscmatch.engine"]) as s:
        create_user(
            s,
            "gtm2@test.org",
            PASSWORD,
            "focal_point",
            country="GTM",
            constituency="workers",
            name="gtm2",
        )
        s.commit()
    app.config["PROPAGATE_EXCEPTIONS"] = False
    first = sign_in(app.test_client(), "focal_gtm")
    second = app.test_client()
    assert (
        second.post("/login", data={"email": "gtm2@test.org", "password": PASSWORD}).status_code
        == 302
    )
    for _round in range(ROUNDS):
        before = _read_need(app, "N-RACE-1")
        barrier = threading.Barrier(2, timeout=30)
        results = _race(
            partial(_form_edit, first, "N-RACE-1", barrier, "first"),
            partial(_form_edit, second, "N-RACE-1", barrier, "second"),
        )
        _check_need_race(app, "N-RACE-1", before, results, ("first", "second"), (302, 302))
