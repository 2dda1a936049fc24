"""A request let in before its account's access ended, and committing after: nothing of it is
saved, on SQLite and PostgreSQL, for every way access ends and both ways in (a browser's
session, an API token).

Access is checked when a request begins; the change it makes is committed later. A write that
was let in by a session or token ended meanwhile (signed out on another device, a new password,
an admin's reset, a new role or country, deactivation, a new API token) was committed all the
same: a deactivated focal point's need appeared after the admin's "deactivate" had answered.
Each request here is held at its first write (:func:`tests.test_race_hold.race`) until the
account's access has been ended and committed on another connection; then it goes on. Whether that way of ending
ended this credential is asked of the service itself (a fresh request with the same cookie or
token): if it did, the held request is answered 401 and its need was not made; if not (a sign-out
leaves API tokens; a new token leaves the browser's session), the need is made.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from sscmatch.db import VersionedSession
from sscmatch.models import Need, User
from sscmatch.workflow import admin
from sscmatch.workflow.accounts import issue_api_token
from sscmatch.workflow.users import check_password, create_user, end_sessions, set_password
from tests.conftest import PASSWORD
from tests.test_race_hold import WriteAfterReads, first_write, race

NEW_PASSWORD = "a-brand-new-password"
OWN_PASSWORD = "the-owners-own-new-one"


def profile_change(s: Session, admin_id: int, user: User, **change: Any) -> None:
    """An admin's edit of ``user``'s profile (``change``: the fields that differ)."""
    assert user.id is not None
    values: dict[str, Any] = {
        "name": user.name,
        "role": user.role,
        "country": user.country,
        "constituency": user.constituency,
        "language": user.language,
        "active": user.active,
    }
    values.update(change)
    admin.update_user(s, admin_id, user.id, version=user.version, **values)


ENDINGS: dict[str, Callable[[Session, int, User], Any]] = {
    "signed out on another device": lambda s, _a, u: end_sessions(s, u.id or 0),
    "password changed by its owner": lambda s, _a, u: set_password(s, u, NEW_PASSWORD),
    "password reset by an admin": lambda s, a, u: admin.reset_password(
        s, a, u.id or 0, NEW_PASSWORD
    ),
    "another role": lambda s, a, u: profile_change(
        s, a, u, role="analyst", country=None, constituency=None
    ),
    "another country": lambda s, a, u: profile_change(s, a, u, country="BRA"),
    "deactivated": lambda s, a, u: profile_change(s, a, u, active=False),
    "a new API token": lambda s, _a, u: issue_api_token(s, u),
}
"""Every way an account's access ends (the workflow functions the pages call), given the admin's
id and the account."""


class Way:
    """A way in: a signed-in browser or an API token, of one account."""

    def __init__(self, app: Flask, email: str, kind: str) -> None:
        self.kind = kind
        self.client = app.test_client()
        self.headers: dict[str, str] = {}
        if kind == "session":
            answer = self.client.post("/login", data={"email": email, "password": PASSWORD})
            assert answer.status_code == 302
        else:
            with VersionedSession(app.extensions["sscmatch.engine"]) as s:
                user = s.exec(select(User).where(User.email == email)).one()
                token = issue_api_token(s, user)
                s.commit()
            self.headers = {"Authorization": f"Bearer {token}"}

    def write(self, what: str, title: str) -> Any:
        if self.kind == "token":
            body = {"country": "GTM", "title": title, "themes": ["labour-inspection"]}
            return self.client.post("/api/v1/needs", json=body, headers=self.headers)
        if what == "its own password":
            data = {"current": PASSWORD, "password": OWN_PASSWORD, "confirm": OWN_PASSWORD}
            return self.client.post("/account/password", data=data)
        if what == "a new API token":
            return self.client.post("/account", data={"replace": "y"})
        data = {"title": title, "themes": "labour-inspection", "priority": "high"}
        return self.client.post("/needs/new", data=data)

    def still_in(self) -> bool:
        if self.kind == "session":
            return bool(self.client.get("/needs/new").status_code == 200)
        return bool(self.client.get("/api/v1/needs", headers=self.headers).status_code == 200)


def _made(engine: Engine, what: str, email: str, title: str, token_before: str | None) -> bool:
    """Whether the held request's change is in the database."""
    with Session(engine) as s:
        user = s.exec(select(User).where(User.email == email)).one()
        if what == "its own password":
            return check_password(user.password_hash, OWN_PASSWORD)
        if what == "a new API token":
            return user.api_token_hash not in (None, token_before)
        return bool(s.exec(select(func.count()).where(col(Need.title) == title)).one())


WRITES = {
    "session": ("a need", "its own password", "a new API token"),
    "token": ("a need",),
}
"""What a request let in makes: a record, or a change of the account's own access (exempt from
nothing: a session ended meanwhile changes no password and makes no token)."""
DONE = {"a need": (201, 302), "its own password": (302,), "a new API token": (200,)}


@pytest.mark.parametrize(
    ("kind", "what"), [(k, w) for k, ws in WRITES.items() for w in ws], ids=lambda v: v
)
def test_a_write_let_in_before_its_access_ended_is_not_saved_after(
    app: Flask, users: dict[str, int], kind: str, what: str
) -> None:
    engine: Engine = app.extensions["sscmatch.engine"]
    refused = []
    for number, (ending, end) in enumerate(ENDINGS.items()):
        email = f"fp{number}@test.org"
        with VersionedSession(engine, expire_on_commit=False) as s:
            create_user(s, email, PASSWORD, "focal_point", country="GTM", constituency="government")
            s.commit()
        way = Way(app, email, kind)
        with Session(engine) as db:
            token_before = db.exec(select(User).where(User.email == email)).one().api_token_hash
        title = f"Need sent while {ending}"

        def ended(email: str = email, end: Callable[..., Any] = end) -> None:
            with VersionedSession(engine, expire_on_commit=False) as s:
                end(s, users["admin"], s.exec(select(User).where(User.email == email)).one())
                s.commit()

        raced = race(engine, first_write, partial(way.write, what, title), ended)
        answer = raced.result
        assert raced.held, (ending, "the request never wrote")
        made = _made(engine, what, email, title, token_before)
        if way.still_in():
            assert made and answer.status_code in DONE[what], (ending, answer)
        else:
            refused.append(ending)
            # 401, or the current password found wrong when the ending gave a new one
            assert not made and answer.status_code in (400, 401), (
                f"{kind}, {what}, {ending}: the request let in before it was answered "
                f"{answer.status_code} and made its change after the access ended"
            )
    # the walk saw both outcomes: a way of ending that leaves this credential, and those that end it
    assert 0 < len(refused) < len(ENDINGS), refused


def test_a_sign_in_while_access_ends_gets_a_session_that_works_or_none(
    app: Flask, users: dict[str, int]
) -> None:
    """A sign-in whose password was checked before an ending committed, and that records itself
    after: when the account may still sign in with that password (signed out elsewhere, a new
    role or country, a new token), the session it gives works; when not (deactivated, a new
    password), it is refused as a wrong password. It used to answer 302 "signed in" every time,
    with the session's version read before the ending: a session dead on arrival, and an audit
    event "sign_in" written after a deactivation."""
    engine: Engine = app.extensions["sscmatch.engine"]
    outcomes = set()
    for number, (ending, end) in enumerate(ENDINGS.items()):
        email = f"signing{number}@test.org"
        with VersionedSession(engine, expire_on_commit=False) as s:
            create_user(s, email, PASSWORD, "focal_point", country="GTM", constituency="government")
            s.commit()
        client = app.test_client()

        def ended(email: str = email, end: Callable[..., Any] = end) -> None:
            with VersionedSession(engine, expire_on_commit=False) as s:
                end(s, users["admin"], s.exec(select(User).where(User.email == email)).one())
                s.commit()

        sign_in = partial(client.post, "/login", data={"email": email, "password": PASSWORD})
        raced = race(engine, WriteAfterReads(1), sign_in, ended)
        assert raced.held, (ending, "the sign-in never wrote after reading the account")
        with Session(engine) as db:
            user = db.exec(select(User).where(User.email == email)).one()
            may = user.active and check_password(user.password_hash, PASSWORD)
        signed_in = client.get("/account").status_code == 200
        outcomes.add(may)
        if may:
            assert (raced.result.status_code, signed_in) == (302, True), (
                f"{ending}: the sign-in answered {raced.result.status_code} and its session "
                f"{'works' if signed_in else 'is dead on arrival'}"
            )
        else:
            assert (raced.result.status_code, signed_in) == (401, False), (
                f"{ending}: a sign-in refused by the ending answered {raced.result.status_code}"
            )
    assert outcomes == {True, False}
