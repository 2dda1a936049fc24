"""An account's bookkeeping (its last sign-in, a new password, a new API token) and its owner's
choice of language, written while an admin edits the same account's profile, on SQLite and
PostgreSQL: both are kept.

Those fields do not move the account's ``version`` (``User.__unversioned_fields__``), so that a
sign-in never turns an admin's open form stale. The other way round failed: they were written
through the ORM, ``… WHERE version = <read>``, so an admin's rename committed between the
request's read of the account and its write refused a correct sign-in, a password change or a
new token (409); the owner's language, a field of the admin's form too, was refused the same
way (it now moves the version in its own statement). Each request here is held at its first
write after it read the account (:func:`tests.test_race_hold.race`) until the admin's edit is
committed on another connection.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask import Flask
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from sscmatch.db import VersionedSession
from sscmatch.models import User
from sscmatch.workflow.users import check_password, create_user
from tests.conftest import PASSWORD, sign_in
from tests.test_race_hold import WriteAfterReads, race
from tests.test_race_revocation import profile_change

NEW_PASSWORD = "a-brand-new-password"
RENAMED = "Renamed by the admin meanwhile"


@dataclass(frozen=True)
class Bookkeeping:
    """A request that writes an account's bookkeeping: who sends it (``None``: not signed in),
    where, what; the answer it gets when done; what the account then holds."""

    who: str | None
    url: str
    data: dict[str, str]
    status: int
    done: Callable[[User], bool]
    reads: int = 1
    """The request's read of the account after which it writes it (a password change reads it
    when it lets the request in, then again to check the current password)."""


WRITES = {
    "a sign-in": Bookkeeping(
        None,
        "/login",
        {"email": "{email}", "password": PASSWORD},
        302,
        lambda u: u.last_login_at is not None,
    ),
    "a new password by its owner": Bookkeeping(
        "owner",
        "/account/password",
        {"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        302,
        lambda u: check_password(u.password_hash, NEW_PASSWORD),
        reads=2,
    ),
    "a new API token": Bookkeeping("owner", "/account", {}, 200, lambda u: bool(u.api_token_hash)),
    "the account's language by its owner": Bookkeeping(
        "owner", "/account/language", {"language": "es"}, 302, lambda u: u.language == "es"
    ),
    "a password reset by an admin": Bookkeeping(
        "admin",
        "/admin/users/{id}/password",
        {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        302,
        lambda u: check_password(u.password_hash, NEW_PASSWORD),
    ),
}


def _rename(engine: Engine, admin_id: int, email: str) -> None:
    with VersionedSession(engine, expire_on_commit=False) as s:
        user = s.exec(select(User).where(User.email == email)).one()
        profile_change(s, admin_id, user, name=RENAMED)
        s.commit()


@pytest.mark.parametrize("write", list(WRITES), ids=lambda w: w.replace(" ", "-"))
def test_bookkeeping_and_an_admins_edit_of_the_account_at_once_are_both_kept(
    app: Flask, users: dict[str, int], write: str
) -> None:
    case = WRITES[write]
    engine: Engine = app.extensions["sscmatch.engine"]
    email = "owner@test.org"
    with VersionedSession(engine, expire_on_commit=False) as s:
        owner = create_user(
            s,
            email,
            PASSWORD,
            "focal_point",
            country="GTM",
            constituency="government",
            name="Owner",
        )
        s.commit()
    client = app.test_client()
    if case.who == "owner":
        answer = client.post("/login", data={"email": email, "password": PASSWORD})
        assert answer.status_code == 302
    elif case.who is not None:
        sign_in(client, case.who)
    url = case.url.format(id=owner.id)
    data = {k: v.format(email=email) for k, v in case.data.items()}
    raced = race(
        engine,
        WriteAfterReads(case.reads),
        lambda: client.post(url, data=data),
        lambda: _rename(engine, users["admin"], email),
    )
    assert raced.held, (write, "the request never wrote after reading the account")
    assert raced.result.status_code == case.status, (write, raced.result.status_code)
    with Session(engine) as s:
        user = s.get(User, owner.id)
        assert user is not None and user.name == RENAMED and case.done(user), write
