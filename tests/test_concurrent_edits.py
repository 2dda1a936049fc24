"""Lost updates, for every row people edit (issue 13, class 1): of two writers who read the same
version, exactly one wins and the other gets a 409, whatever the entity.

Two walks, each on SQLite and (with ``SSCMATCH_TEST_DATABASE_URL``) PostgreSQL:

- **the mechanism**, for every table whose rows carry a ``version`` (found from the mappers, so a
  new one is walked too): two threads, each with its own session and connection, read the same
  row, change it, and commit after both have read it;
- **the edit paths**, for every entity with an edit route (needs, capacities, exchanges,
  proposals, study tours, commitments through the API; users through the admin form): two
  threads, each with its own test client (its own request, session and pooled connection), read
  the record's version and send conflicting changes. A :class:`FlushGate` holds each request at its
  first write of the record until both got there, so both have read and checked the record before
  either writes: the interleaving where a check done in Python first lets both through (a
  cancelled tour came back to "proposed") happens on every run, not by luck.

Afterwards the row holds one writer's change entirely and its version moved by exactly one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, SQLModel, select
from sqlmodel.main import default_registry
from sqlmodel.sql.sqltypes import AutoString

from sscmatch.db import StaleVersion, VersionedSession
from sscmatch.models import Commitment, Exchange, Need, Proposal, Review, StudyTour, User
from sscmatch.workflow.accounts import issue_api_token
from sscmatch.workflow.users import create_user
from tests.conftest import PASSWORD
from tests.web.test_fuzz_api import build_world

EDITED_BY_PEOPLE = {
    "need",
    "capacity",
    "exchange",
    "institution",
    "proposal",
    "study_tour",
    "commitment",
    "user",
}
VERSIONED = {
    mapper.local_table.name: mapper.class_
    for mapper in default_registry.mappers
    if mapper.version_id_col is not None
}


def run_together(*actions: Callable[[], Any]) -> list[Any]:
    """Run each action in its own thread; return their results in order (errors re-raised)."""
    results: list[Any] = [None] * len(actions)
    errors: list[BaseException] = []

    def worker(index: int, action: Callable[[], Any]) -> None:
        try:
            results[index] = action()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not any(t.is_alive() for t in threads), "a writer hung"
    assert errors == [], errors
    return results


class FlushGate:
    """Holds each armed thread at its next flush that writes a ``model`` row until every racer
    reached its own: all have read (and checked) the row before any writes it."""

    def __init__(self, model: type[SQLModel], parties: int = 2) -> None:
        self.model = model
        self.barrier = threading.Barrier(parties, timeout=30)
        self.local = threading.local()

    def arm(self) -> None:
        """The calling thread's next flush that writes a ``model`` row waits for the others'."""
        self.local.waiting = True

    def __call__(self, session: OrmSession, _flush: Any, _objects: Any) -> None:
        if getattr(self.local, "waiting", False) and any(
            isinstance(record, self.model) for record in session.dirty
        ):
            self.local.waiting = False
            self.barrier.wait()

    @contextmanager
    def installed(self) -> Iterator[FlushGate]:
        event.listen(OrmSession, "before_flush", self)
        try:
            yield self
        finally:
            event.remove(OrmSession, "before_flush", self)


# --------------------------------------------------------------------------- the mechanism


def test_every_row_people_edit_is_versioned() -> None:
    """Every table with a ``version`` column checks it on write, and the rows people edit have
    one: a new editable table cannot be left out of the walks below."""
    with_column = {t.name for t in SQLModel.metadata.sorted_tables if "version" in t.c}
    assert set(VERSIONED) == with_column
    assert set(VERSIONED) >= EDITED_BY_PEOPLE


def _text_column(model: type[SQLModel]) -> str:
    """A plain text column of ``model`` to write conflicting values into."""
    unversioned = getattr(model, "__unversioned_fields__", frozenset())
    for name in ("title", "name", "description", "note"):
        column = model.__table__.c.get(name)  # type: ignore[attr-defined]
        if column is not None and isinstance(column.type, AutoString) and name not in unversioned:
            return name
    raise AssertionError(f"no text column to race on in {model.__name__}")


@dataclass(frozen=True)
class Edited:
    """A row of ``table`` in the built world, and the text column to change in it."""

    engine: Engine
    model: type[SQLModel]
    column: str
    key: Any
    version: int


def _edited(app: Flask, users: dict[str, int], table: str) -> Edited:
    build_world(app, users)
    engine = app.extensions["sscmatch.engine"]
    model = VERSIONED[table]
    with Session(engine) as s:
        row = s.exec(select(model)).first()
        assert row is not None, f"the world has no {table}"
        key, version = row.id, row.version  # type: ignore[attr-defined]
    return Edited(engine, model, _text_column(model), key, version)


@pytest.mark.parametrize("table", sorted(EDITED_BY_PEOPLE))
def test_two_sessions_writing_one_row_one_wins(
    app: Flask, users: dict[str, int], table: str
) -> None:
    edited = _edited(app, users, table)
    engine, model, column, key = edited.engine, edited.model, edited.column, edited.key
    before = edited.version
    barrier = threading.Barrier(2, timeout=30)

    def write(value: str) -> str:
        with VersionedSession(engine) as s:
            record = s.get(model, key)
            assert record is not None
            setattr(record, column, value)
            barrier.wait()  # both have read the row and changed it in memory
            try:
                s.commit()
            except StaleVersion:
                return "conflict"
        return "saved"

    outcomes = run_together(lambda: write("by A"), lambda: write("by B"))
    assert sorted(outcomes) == ["conflict", "saved"], (table, outcomes)
    with Session(engine) as s:
        after = s.get(model, key)
        assert after is not None
        winner = "by A" if outcomes[0] == "saved" else "by B"
        assert getattr(after, column) == winner
        assert after.version == before + 1  # type: ignore[attr-defined]


@pytest.mark.parametrize("table", sorted(EDITED_BY_PEOPLE))
def test_a_row_changed_after_a_commit_is_written_with_its_next_version(
    app: Flask, users: dict[str, int], table: str
) -> None:
    """A row read, committed (which expires it), changed, then flushed by the next query's
    autoflush: written once with its next version. The flush notes the version each changed
    row was read at (to name the one a write finds stale), and that note loaded the expired
    version, which autoflushed into the same flush: a RecursionError (the endorsement list's
    test met it on a need)."""
    edited = _edited(app, users, table)
    with VersionedSession(edited.engine) as s:
        row = s.get(edited.model, edited.key)
        assert row is not None
        s.commit()
        setattr(row, edited.column, "changed after a commit")
        s.exec(select(edited.model)).all()  # the autoflush
        s.commit()
    with Session(edited.engine) as s:
        after = s.get(edited.model, edited.key)
        assert after is not None and getattr(after, edited.column) == "changed after a commit"
        assert after.version == edited.version + 1  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- the edit paths


def _tokens(app: Flask) -> dict[str, str]:
    """API tokens of two secretariat members, ``a`` and ``b``."""
    with Session(app.extensions["sscmatch.engine"], expire_on_commit=False) as s:
        first = s.exec(select(User).where(User.email == "sec@test.org")).one()
        second = create_user(s, "sec-b@test.org", PASSWORD, "secretariat", name="sec-b")
        s.flush()
        tokens = {"a": issue_api_token(s, first), "b": issue_api_token(s, second)}
        s.commit()
    return tokens


def _api(app: Flask, token: str) -> Callable[..., Any]:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def call(method: str, url: str, body: dict[str, Any] | None = None) -> Any:
        return client.open(url, method=method, headers=headers, json=body)

    return call


# entity → (model, how to read its id from the world, the API change of a writer named who)
API_RACES: dict[str, tuple[type[SQLModel], Callable[[dict[str, Any]], Any], Any]] = {
    "need": (
        Need,
        lambda w: "N-GTM-1",
        lambda key, who, v: ("PATCH", f"/api/v1/needs/{key}", {"title": who, "version": v}),
    ),
    "capacity": (
        VERSIONED["capacity"],
        lambda w: "C-GTM-1",
        lambda key, who, v: ("PATCH", f"/api/v1/capacities/{key}", {"title": who, "version": v}),
    ),
    "exchange": (
        Exchange,
        lambda w: "s000-e02",
        lambda key, who, v: ("PATCH", f"/api/v1/exchanges/{key}", {"title": who, "version": v}),
    ),
    "proposal": (
        Proposal,
        lambda w: w["proposal_id"],
        lambda key, who, v: (
            "POST",
            f"/api/v1/proposals/{key}/decision",
            {"decision": "reject", "reason": who, "version": v},
        ),
    ),
    # the reported case: one cancels the draft, the other proposes it
    "study_tour": (
        StudyTour,
        lambda w: w["tour_id"],
        lambda key, who, v: (
            "POST",
            f"/api/v1/tours/{key}/transition",
            {"to": "cancelled" if who == "a" else "proposed", "version": v},
        ),
    ),
    # the reported case: one marks it fulfilled, the other drops it
    "commitment": (
        Commitment,
        lambda w: "K-GTM-1",
        lambda key, who, v: (
            "POST",
            f"/api/v1/commitments/{key}/updates",
            {"status": "fulfilled", "evidence": "report", "version": v}
            if who == "a"
            else {"status": "dropped", "note": "no budget", "version": v},
        ),
    ),
}
API_READ = {
    "need": "/api/v1/needs/{}",
    "capacity": "/api/v1/capacities/{}",
    "exchange": "/api/v1/exchanges/{}",
    "proposal": "/api/v1/proposals/{}",
    "study_tour": "/api/v1/tours/{}",
    "commitment": "/api/v1/commitments/{}",
}
# what the row says afterwards about who won
WINNER_MARK: dict[str, Callable[[Session, Any], str]] = {
    "need": lambda s, r: r.title,
    "capacity": lambda s, r: r.title,
    "exchange": lambda s, r: r.title,
    "proposal": lambda s, r: "".join(
        s.exec(select(Review.reason).where(Review.proposal_id == r.id)).all()
    ),
    "study_tour": lambda s, r: {"cancelled": "a", "proposed": "b"}[r.status],
    "commitment": lambda s, r: {"fulfilled": "a", "dropped": "b"}[r.status],
}


def test_every_entity_with_an_edit_route_is_raced() -> None:
    assert set(API_RACES) | {"user"} == EDITED_BY_PEOPLE - {"institution"}  # no edit route


@pytest.mark.parametrize("entity", sorted(API_RACES))
def test_two_writers_through_the_api_one_gets_409(
    app: Flask, users: dict[str, int], entity: str
) -> None:
    world = build_world(app, users)
    tokens = _tokens(app)
    engine = app.extensions["sscmatch.engine"]
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash must show as a 500, not kill a thread
    model, key_of, change = API_RACES[entity]
    key = key_of(world)
    with Session(engine) as s:
        stored = s.get(model, key)
        assert stored is not None
        before = stored.version  # type: ignore[attr-defined]
    gate = FlushGate(model)

    def writer(who: str) -> tuple[int, Any]:
        call = _api(app, tokens[who])
        seen = call("GET", API_READ[entity].format(key))
        assert seen.status_code == 200, seen.get_data(as_text=True)[:300]
        method, url, body = change(key, who, seen.get_json()["version"])
        gate.arm()
        response = call(method, url, body)
        return response.status_code, response.get_json()

    with gate.installed():
        (status_a, body_a), (status_b, body_b) = run_together(
            lambda: writer("a"), lambda: writer("b")
        )
    statuses = sorted((status_a, status_b))
    assert statuses in ([200, 409], [201, 409]), (entity, status_a, body_a, status_b, body_b)
    loser = body_a if status_a == 409 else body_b
    assert loser["error"] == "conflict" and "changed by someone else" in loser["message"], loser
    winner = "a" if status_a != 409 else "b"
    with Session(engine) as s:
        after = s.get(model, key)
        assert after is not None
        assert WINNER_MARK[entity](s, after) == winner  # and only the winner's change
        assert after.version == before + 1  # type: ignore[attr-defined]


def test_two_admins_editing_one_user_one_gets_409(app: Flask, users: dict[str, int]) -> None:
    engine = app.extensions["sscmatch.engine"]
    with Session(engine) as s:
        create_user(s, "admin-b@test.org", PASSWORD, "admin", name="admin-b")
        s.commit()
    app.config["PROPAGATE_EXCEPTIONS"] = False
    target = users["focal_bra"]
    gate = FlushGate(User)

    def admin(email: str, name: str) -> tuple[int, str]:
        client = app.test_client()
        signed = client.post("/login", data={"email": email, "password": PASSWORD})
        assert signed.status_code == 302
        page = client.get(f"/admin/users/{target}").get_data(as_text=True)
        version = page.split('name="version"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
        data = {
            "name": name,
            "role": "focal_point",
            "country": "BRA",
            "constituency": "government",
            "language": "pt",
            "active": "y",
            "version": version,
        }
        gate.arm()  # after signing in, which writes the user too (last sign-in)
        response = client.post(f"/admin/users/{target}", data=data)
        return response.status_code, response.get_data(as_text=True)

    with gate.installed():
        (status_a, page_a), (status_b, page_b) = run_together(
            lambda: admin("admin@test.org", "by a"),
            lambda: admin("admin-b@test.org", "by b"),
        )
    assert sorted((status_a, status_b)) == [302, 409], (status_a, status_b)
    assert "changed by someone else" in (page_a if status_a == 409 else page_b)
    with Session(engine) as s:
        user = s.get(User, target)
        assert user is not None
        assert user.name == ("by a" if status_a == 302 else "by b")
        assert user.version == 2
