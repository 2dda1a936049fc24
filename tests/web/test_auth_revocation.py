"""Every way a credential should end × every kind of credential, on every backend.

The subject (Guatemala's focal point) holds, before the event: two browser sessions (A, which
acts when the subject acts, and B, another device), a copy of A's session cookie taken before the
event (what a thief would hold), and an API token. Then one event happens, and each credential is
tried again. What must end:

| event                       | A itself | copy of A | B    | API token |
|-----------------------------|----------|-----------|------|-----------|
| sign-out (in A)             | ends     | ends      | ends | lives     |
| own password change (in A)  | lives    | ends      | ends | ends      |
| admin resets the password   | ends     | ends      | ends | ends      |
| admin changes the role      | ends     | ends      | ends | ends      |
| admin changes the country   | ends     | ends      | ends | ends      |
| admin deactivates           | ends     | ends      | ends | ends      |
| admin changes name/language | lives    | lives     | lives| lives     |

Signing out ends the account's sessions on every device (one counter per account, README); API
tokens belong to scripts, not to a browser session, and survive it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, select

from sscmatch.models import AuditEvent, User
from sscmatch.workflow import throttle
from tests.conftest import PASSWORD, sign_in
from tests.web.test_admin import _edit_data

SUBJECT = "focal_gtm"
EMAIL = "gtm@test.org"
NEW_PASSWORD = "another-long-password"
API_PROBE = "/api/v1/needs"


@dataclass
class Held:
    browser_a: Any
    browser_b: Any
    copy_of_a: str
    token: str


def _hold(app: Flask) -> Held:
    browser_a = sign_in(app.test_client(), SUBJECT)
    browser_b = sign_in(app.test_client(), SUBJECT)
    page = browser_a.post("/account").get_data(as_text=True)
    token = page.split('<pre class="token">')[1].split("</pre>")[0]
    cookie = browser_a.get_cookie("session")
    assert cookie is not None
    return Held(browser_a, browser_b, cookie.value, token)


def _signed_in(client: Any) -> bool:
    response = client.get("/account")
    if response.status_code == 302:
        assert "/login" in response.headers["Location"]
        return False
    assert response.status_code == 200
    return True


def _alive(app: Flask, held: Held) -> dict[str, bool]:
    copy = app.test_client()
    copy.set_cookie("session", held.copy_of_a)
    api = app.test_client().get(API_PROBE, headers={"Authorization": f"Bearer {held.token}"})
    assert api.status_code in (200, 401)
    return {
        "A": _signed_in(held.browser_a),
        "copy of A": _signed_in(copy),
        "B": _signed_in(held.browser_b),
        "token": api.status_code == 200,
    }


def _admin_edit(app: Flask, users: dict[str, int], **change: Any) -> None:
    admin = sign_in(app.test_client(), "admin")
    uid = users[SUBJECT]
    response = admin.post(f"/admin/users/{uid}", data=_edit_data(app, uid, **change))
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def _sign_out(app: Flask, users: dict[str, int], held: Held) -> None:
    assert held.browser_a.post("/logout").status_code == 302


def _change_password(app: Flask, users: dict[str, int], held: Held) -> None:
    response = held.browser_a.post(
        "/account/password",
        data={"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302


def _admin_reset(app: Flask, users: dict[str, int], held: Held) -> None:
    admin = sign_in(app.test_client(), "admin")
    response = admin.post(
        f"/admin/users/{users[SUBJECT]}/password",
        data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302


def _role_change(app: Flask, users: dict[str, int], held: Held) -> None:
    _admin_edit(app, users, role="analyst", country="", constituency="", confirmed="y")


def _country_change(app: Flask, users: dict[str, int], held: Held) -> None:
    _admin_edit(app, users, country="CRI", confirmed="y")  # confirmed, as its page asks


def _deactivation(app: Flask, users: dict[str, int], held: Held) -> None:
    _admin_edit(app, users, active=None, confirmed="y")  # the box left unticked, confirmed


def _harmless_edit(app: Flask, users: dict[str, int], held: Held) -> None:
    _admin_edit(app, users, name="Punto focal", language="es")


ENDS_ALL = {"A": False, "copy of A": False, "B": False, "token": False}
EVENTS: dict[str, tuple[Callable[[Flask, dict[str, int], Held], None], dict[str, bool]]] = {
    "sign-out": (_sign_out, {**ENDS_ALL, "token": True}),
    "own password change": (_change_password, {**ENDS_ALL, "A": True}),
    "admin reset": (_admin_reset, ENDS_ALL),
    "role change": (_role_change, ENDS_ALL),
    "country change": (_country_change, ENDS_ALL),
    "deactivation": (_deactivation, ENDS_ALL),
    "name and language change": (_harmless_edit, dict.fromkeys(ENDS_ALL, True)),
}


@pytest.mark.parametrize("event", list(EVENTS))
def test_each_event_ends_exactly_the_credentials_it_should(
    app: Flask, users: dict[str, int], event: str
) -> None:
    held = _hold(app)
    assert _alive(app, held) == dict.fromkeys(ENDS_ALL, True)
    happen, expected = EVENTS[event]
    happen(app, users, held)
    assert _alive(app, held) == expected


def test_after_a_new_password_the_owner_signs_in_with_it_only(
    app: Flask, users: dict[str, int]
) -> None:
    held = _hold(app)
    _change_password(app, users, held)
    old = app.test_client().post("/login", data={"email": EMAIL, "password": PASSWORD})
    assert old.status_code == 401
    new = app.test_client().post("/login", data={"email": EMAIL, "password": NEW_PASSWORD})
    assert new.status_code == 302
    with Session(app.extensions["sscmatch.engine"]) as s:
        actions = set(s.exec(select(AuditEvent.action).where(AuditEvent.user_id == users[SUBJECT])))
        user = s.get(User, users[SUBJECT])
        assert user is not None and user.api_token_hash is None
    assert "change_password" in actions


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"current": "wrong-password", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
         "The current password is wrong."),
        ({"current": PASSWORD, "password": "short", "confirm": "short"},
         "The password must have at least 10 characters."),
        ({"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"},
         "The passwords differ."),
    ],
)
def test_a_refused_password_change_changes_nothing(
    app: Flask, users: dict[str, int], form: dict[str, str], message: str
) -> None:
    held = _hold(app)
    response = held.browser_a.post("/account/password", data=form)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert _alive(app, held) == dict.fromkeys(ENDS_ALL, True)
    assert app.test_client().post(
        "/login", data={"email": EMAIL, "password": PASSWORD}
    ).status_code == 302


def test_guessing_the_current_password_is_throttled_like_signing_in(
    app: Flask, users: dict[str, int]
) -> None:
    """A stolen session must not give unlimited guesses at the password through this form: the
    browser's device budget, then the account's, as at sign-in."""
    browser = sign_in(app.test_client(), SUBJECT)
    answers = []
    for attempt in range(throttle.DEVICE.attempts + throttle.ACCOUNT.attempts + 3):
        response = browser.post(
            "/account/password",
            data={"current": f"guess-{attempt}-guess", "password": NEW_PASSWORD,
                  "confirm": NEW_PASSWORD},
        )
        page = response.get_data(as_text=True)
        answers.append("checked" if "The current password is wrong." in page else
                       "refused" if "Too many failed sign-ins" in page else "other")
    checked = throttle.DEVICE.attempts + throttle.ACCOUNT.attempts
    assert answers == ["checked"] * checked + ["refused"] * 3


def test_a_session_from_before_this_version_must_sign_in_again(
    app: Flask, users: dict[str, int]
) -> None:
    """A session cookie without the account's auth version (made by an older release, or forged
    around it) is not trusted."""
    browser = sign_in(app.test_client(), SUBJECT)
    with browser.session_transaction() as session:
        session.pop("auth_version")
    assert not _signed_in(browser)
