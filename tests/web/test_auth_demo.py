"""Demo accounts outside demo mode, on every backend: a database prepared as ``scripts/run`` does
(demo mode, ``sscmatch demo-users``), where every demo account has signed in and made an API
token, then served WITHOUT demo mode and without running anything else on it. For every demo
account, every credential is refused: the published password (with the same answer as an unknown
e-mail), the session cookie from demo time, the API token."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text
from sqlmodel import Session, select

from sscmatch.db import alembic_config, make_engine, session_scope
from sscmatch.models import User
from sscmatch.workflow.users import DEMO_ACCOUNTS, ensure_demo_users
from tests.conftest import make_test_app

API_PROBE = "/api/v1/needs"


@dataclass(frozen=True)
class DemoCredentials:
    session_cookie: str
    token: str


@pytest.fixture
def prepared_in_demo_mode(
    database_url: str, tmp_path: Path
) -> Iterator[dict[str, DemoCredentials]]:
    """Every demo account signed in and holding a token, made while the app ran in demo mode."""
    demo_app = make_test_app(database_url, tmp_path / "demo", DEMO=True)
    with session_scope(demo_app.extensions["sscmatch.engine"]) as session:
        ensure_demo_users(session, True)
    credentials = {}
    for account in DEMO_ACCOUNTS:
        client = demo_app.test_client()
        signed_in = client.post("/login", data={"email": account.email, "password": account.password})
        assert signed_in.status_code == 302, account.email
        page = client.post("/account").get_data(as_text=True)
        token = page.split('<pre class="token">')[1].split("</pre>")[0]
        cookie = client.get_cookie("session")
        assert cookie is not None
        assert client.get("/account").status_code == 200  # all of them work in demo mode
        bearer = {"Authorization": f"Bearer {token}"}
        assert demo_app.test_client().get(API_PROBE, headers=bearer).status_code == 200
        credentials[account.email] = DemoCredentials(cookie.value, token)
    demo_app.extensions["sscmatch.engine"].dispose()
    yield credentials


@pytest.fixture
def served_without_demo(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = make_test_app(database_url, tmp_path / "real", DEMO=False)
    yield app
    app.extensions["sscmatch.engine"].dispose()


def _page(response: Any, email: str) -> str:
    page = response.get_data(as_text=True).replace(email, "<e-mail>")
    return re.sub(r'name="csrf_token" value="[^"]*"', "", page)


def test_no_demo_credential_works_outside_demo_mode(
    prepared_in_demo_mode: dict[str, DemoCredentials], served_without_demo: Flask
) -> None:
    app = served_without_demo
    with Session(app.extensions["sscmatch.engine"]) as s:  # the database still says "active"
        assert all(u.active and u.demo for u in s.exec(select(User)))
    unknown = app.test_client().post(
        "/login", data={"email": "nobody@demo.sscmatch", "password": "demo-admin-pass"}
    )
    for account in DEMO_ACCOUNTS:
        held = prepared_in_demo_mode[account.email]
        by_password = app.test_client().post(
            "/login", data={"email": account.email, "password": account.password}
        )
        assert by_password.status_code == 401, account.email
        assert _page(by_password, account.email) == _page(unknown, "nobody@demo.sscmatch")

        by_session = app.test_client()
        by_session.set_cookie("session", held.session_cookie)
        response = by_session.get("/account")
        assert response.status_code == 302 and "/login" in response.headers["Location"]

        bearer = {"Authorization": f"Bearer {held.token}"}
        assert app.test_client().get(API_PROBE, headers=bearer).status_code == 401, account.email


def test_demo_accounts_work_again_when_demo_mode_is_back(
    prepared_in_demo_mode: dict[str, DemoCredentials], database_url: str, tmp_path: Path
) -> None:
    """The rule follows the mode the server runs in, not a one-off change to the database."""
    app = make_test_app(database_url, tmp_path / "again", DEMO=True)
    account = DEMO_ACCOUNTS[0]
    client = app.test_client()
    response = client.post("/login", data={"email": account.email, "password": account.password})
    assert response.status_code == 302
    bearer = {"Authorization": f"Bearer {prepared_in_demo_mode[account.email].token}"}
    assert app.test_client().get(API_PROBE, headers=bearer).status_code == 200
    app.extensions["sscmatch.engine"].dispose()


def test_ordinary_accounts_are_not_affected(
    served_without_demo: Flask, users: dict[str, int]
) -> None:
    from tests.conftest import PASSWORD

    response = served_without_demo.test_client().post(
        "/login", data={"email": "sec@test.org", "password": PASSWORD}
    )
    assert response.status_code == 302


def test_upgrading_flags_existing_demo_accounts(tmp_path: Path) -> None:
    """A database made before the flag existed (revision 0008) gets its demo accounts flagged."""
    from alembic import command

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        command.upgrade(alembic_config(engine), "0008")
        with engine.begin() as conn:
            conn.execute(
                text(
                    'INSERT INTO "user" (email, name, role, password_hash, active, language, '
                    "created_at, version) VALUES "
                    "('admin@demo.sscmatch', 'Demo', 'admin', 'x', true, 'en', CURRENT_TIMESTAMP, 1), "
                    "('real@example.org', 'Real', 'admin', 'x', true, 'en', CURRENT_TIMESTAMP, 1)"
                )
            )
        command.upgrade(alembic_config(engine), "head")
        with engine.connect() as conn:
            flags = dict(conn.execute(text('SELECT email, demo FROM "user"')).all())
        assert flags == {"admin@demo.sscmatch": True, "real@example.org": False}
    finally:
        engine.dispose()
