"""Records created at the same moment (issue 13, class 2): every kind gets distinct ids and no
request fails with a 5xx, on SQLite and (with ``SSCMATCH_TEST_DATABASE_URL``) PostgreSQL.

Several threads, each with its own test client (its own request, session and pooled connection),
create records of one kind at once through the API (needs, capacities, exchanges, study tours,
commitments) or the admin form (users). A :class:`GatheringGate` holds each request at the flush
that inserts its record until the others got there too (or two seconds passed, for a request
that waits on another's lock): with ids chosen as "highest in use + 1" every request had then
chosen the same id, and all but one failed. Two requests giving the same id (or e-mail) by hand
get one 201 and one 409, never a 500.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, SQLModel, select

from sscmatch.models import Capacity, Commitment, Exchange, Need, StudyTour, User
from sscmatch.workflow.accounts import issue_api_token
from tests.conftest import PASSWORD
from tests.test_concurrent_edits import run_together
from tests.web.test_fuzz_api import build_world

WRITERS = 4


class GatheringGate:
    """Holds each armed thread at its next flush that inserts a ``model`` row until all armed
    threads reached theirs, or ``patience`` seconds passed (a thread queued on another's lock
    never gets there: the others then go on)."""

    def __init__(self, model: type[SQLModel], parties: int, patience: float = 1.0) -> None:
        self.model = model
        self.barrier = threading.Barrier(parties)
        self.patience = patience
        self.local = threading.local()

    def arm(self) -> None:
        self.local.waiting = True

    def __call__(self, session: OrmSession, _flush: Any, _objects: Any) -> None:
        if getattr(self.local, "waiting", False) and any(
            isinstance(record, self.model) for record in session.new
        ):
            self.local.waiting = False
            with suppress(threading.BrokenBarrierError):  # the others wait on our lock
                self.barrier.wait(timeout=self.patience)

    @contextmanager
    def installed(self) -> Iterator[GatheringGate]:
        event.listen(OrmSession, "before_flush", self)
        try:
            yield self
        finally:
            event.remove(OrmSession, "before_flush", self)


def _token(app: Flask, users: dict[str, int]) -> str:
    with Session(app.extensions["sscmatch.engine"], expire_on_commit=False) as s:
        user = s.get(User, users["secretariat"])
        assert user is not None
        token = issue_api_token(s, user)
        s.commit()
    return token


def _scheduled_tour(app: Flask, tour_id: str) -> None:
    """Commitments are recorded once a tour is scheduled."""
    with Session(app.extensions["sscmatch.engine"]) as s:
        tour = s.get(StudyTour, tour_id)
        assert tour is not None
        tour.status, tour.start, tour.end = "scheduled", "2026-03-02", "2026-03-04"
        s.add(tour)
        s.commit()


def _second_capacity(app: Flask) -> str:
    """A capacity of another country than the world's Guatemalan need, for new tours."""
    with Session(app.extensions["sscmatch.engine"]) as s:
        found = s.exec(
            select(Capacity.id).where(Capacity.country == "BRA").order_by(Capacity.id)
        ).first()
        assert found is not None
        return found


# kind → (model, the request a writer numbered i sends, given the world)
def _requests(world: dict[str, Any]) -> dict[str, tuple[type[SQLModel], Any]]:
    return {
        "need": (
            Need,
            lambda i: (
                "/api/v1/needs",
                {"country": "GTM", "title": f"need {i}", "themes": ["labour-inspection"]},
            ),
        ),
        "capacity": (
            Capacity,
            lambda i: (
                "/api/v1/capacities",
                {"country": "BRA", "title": f"capacity {i}", "themes": ["labour-inspection"]},
            ),
        ),
        "exchange": (
            Exchange,
            lambda i: (
                "/api/v1/exchanges",
                {
                    "title": f"exchange {i}",
                    "start": "2020-05",
                    "providers": ["BRA"],
                    "recipients": ["GTM"],
                    "themes": ["labour-inspection"],
                },
            ),
        ),
        "study_tour": (
            StudyTour,
            lambda i: ("/api/v1/tours", {"need": "N-GTM-1", "capacity": world["capacity"]}),
        ),
        "commitment": (
            Commitment,
            lambda i: (
                f"/api/v1/tours/{world['tour_id']}/commitments",
                {"owner_country": "GTM", "description": f"commitment {i}"},
            ),
        ),
    }


KINDS = ("need", "capacity", "exchange", "study_tour", "commitment")


@pytest.mark.parametrize("kind", KINDS)
def test_simultaneous_creates_all_succeed_with_distinct_ids(
    app: Flask, users: dict[str, int], kind: str
) -> None:
    world = build_world(app, users)
    world["capacity"] = _second_capacity(app)
    _scheduled_tour(app, world["tour_id"])
    token = _token(app, users)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash must show as a 500, not kill a thread
    model, request_of = _requests(world)[kind]
    gate = GatheringGate(model, WRITERS)

    def create(i: int) -> tuple[int, Any]:
        client = app.test_client()
        url, body = request_of(i)
        gate.arm()
        response = client.post(url, headers={"Authorization": f"Bearer {token}"}, json=body)
        return response.status_code, response.get_json()

    with gate.installed():
        results = run_together(*(lambda i=i: create(i) for i in range(WRITERS)))
    assert [status for status, _ in results] == [201] * WRITERS, results
    made = [body["id"] for _, body in results]
    assert len(set(made)) == WRITERS, made
    with Session(app.extensions["sscmatch.engine"]) as s:
        stored = s.exec(select(model.id).where(model.id.in_(made))).all()  # type: ignore[attr-defined]
    assert sorted(stored) == sorted(made)


def test_the_same_id_given_twice_at_once_is_one_201_and_one_409(
    app: Flask, users: dict[str, int]
) -> None:
    build_world(app, users)
    token = _token(app, users)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    gate = GatheringGate(Need, 2)

    def create(title: str) -> tuple[int, Any]:
        client = app.test_client()
        body = {"id": "N-SAME-1", "country": "GTM", "title": title, "themes": ["labour-inspection"]}
        gate.arm()
        response = client.post(
            "/api/v1/needs", headers={"Authorization": f"Bearer {token}"}, json=body
        )
        return response.status_code, response.get_json()

    with gate.installed():
        results = run_together(lambda: create("first"), lambda: create("second"))
    assert sorted(status for status, _ in results) == [201, 409], results
    refused = next(body for status, body in results if status == 409)
    assert refused["error"] == "conflict" and refused["message"], refused
    with Session(app.extensions["sscmatch.engine"]) as s:
        stored = s.get(Need, "N-SAME-1")
        assert stored is not None
        winner = next(body for status, body in results if status == 201)
        assert stored.title == winner["title"]


def test_users_created_at_once_by_admins(app: Flask, users: dict[str, int]) -> None:
    """Distinct e-mails: every one is created; the same e-mail twice: one account, one refusal."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    clients: list[Callable[[dict[str, str]], int]] = []
    for _ in range(WRITERS):
        client = app.test_client()
        signed = client.post("/login", data={"email": "admin@test.org", "password": PASSWORD})
        assert signed.status_code == 302
        clients.append(lambda data, c=client: c.post("/admin/users/new", data=data).status_code)
    gate = GatheringGate(User, WRITERS)

    def form(email: str) -> dict[str, str]:
        return {
            "email": email,
            "name": email,
            "role": "analyst",
            "country": "",
            "constituency": "",
            "language": "en",
            "password": PASSWORD,
            "confirm": PASSWORD,
        }

    def create(i: int, email: str) -> int:
        gate.arm()
        return clients[i](form(email))

    with gate.installed():
        statuses = run_together(
            *(lambda i=i: create(i, f"new{i}@test.org") for i in range(WRITERS))
        )
    assert statuses == [302] * WRITERS, statuses
    gate = GatheringGate(User, 2)
    with gate.installed():
        statuses = run_together(
            lambda: create(0, "twice@test.org"), lambda: create(1, "twice@test.org")
        )
    assert sorted(statuses)[0] == 302 and sorted(statuses)[1] in (400, 409), statuses
    with Session(app.extensions["sscmatch.engine"]) as s:
        emails = s.exec(select(User.email).where(User.email.like("%@test.org"))).all()  # type: ignore[attr-defined]
    assert emails.count("twice@test.org") == 1
    assert {f"new{i}@test.org" for i in range(WRITERS)} <= set(emails)
