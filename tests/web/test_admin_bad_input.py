"""Every admin POST route of the user pages, with every kind of bad input: missing, malformed,
stale, hostile. Each answers the page it came from with a specific message in the reader's
language (beside the field, or a flash), never an error page without the page and never a 5xx,
and writes nothing.

The routes: create a user, edit one (harmless fields), deactivate, change the role (both
confirmed steps of the edit form), reactivate, reset the password, unlock. A form whose security
check (CSRF) fails is the app's own answer (one handler for every form, saying what happened,
tests/web/test_hardening.py): out of this walk."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func
from sqlmodel import Session, col, select

from sscmatch.models import AuditEvent, User

NUL = "a\x00b"
Form = Callable[[User], dict[str, Any]]


def _profile(user: User, **changes: Any) -> dict[str, Any]:
    fields = {
        "name": user.name or "",
        "role": user.role,
        "country": user.country or "",
        "constituency": user.constituency or "",
        "language": user.language or "",
        "version": str(user.version),
        "active": "y" if user.active else "",
    }
    fields.update(changes)
    return {k: v for k, v in fields.items() if v != "" or k == "version"}


def _new(**changes: Any) -> Form:
    base = {
        "email": "new.person@example.org",
        "name": "New person",
        "role": "analyst",
        "language": "es",
        "password": "long-enough-pw",
        "confirm": "long-enough-pw",
    }
    return lambda _user: {**base, **changes}


def _edit(**changes: Any) -> Form:
    return lambda user: _profile(user, **changes)


def _deactivate(**changes: Any) -> Form:
    return lambda user: {**_profile(user, active="", confirmed="y"), **changes}


def _role(**changes: Any) -> Form:
    return lambda user: {**_profile(user, role="analyst", country="", confirmed="y"), **changes}


def _version(value: Any) -> Form:
    return lambda _user: {"version": value}


def _stale(user: User) -> dict[str, Any]:
    return {"version": str(user.version - 1)}


def _password(password: str, confirm: str | None = None) -> Form:
    return lambda _user: {"password": password, "confirm": password if confirm is None else confirm}


# route → its address (for the focal point of Guatemala, deactivated first for the reactivation)
# and the bad inputs: kind → the form sent.
ROUTES: dict[str, tuple[str, dict[str, Form]]] = {
    "create": (
        "/admin/users/new",
        {
            "missing": lambda _u: {},
            "malformed e-mail": _new(email="not-an-address"),
            "malformed role": _new(role="emperor"),
            "malformed country": _new(role="focal_point", country="ZZZ", constituency="workers"),
            "malformed language": _new(language="xx"),
            "stale (e-mail taken meanwhile)": _new(email="gtm@test.org"),
            "hostile NUL": _new(name=NUL),
            "hostile long name": _new(name="x" * 5000),
        },
    ),
    "edit": (
        "/admin/users/{id}",
        {
            "missing": lambda _u: {},
            "malformed version": _edit(version="abc"),
            "malformed role": _edit(role="emperor"),
            "malformed language": _edit(language="xx"),
            "stale": lambda u: _profile(u, name="Someone else", version=str(u.version - 1)),
            "hostile NUL": _edit(name=NUL),
            "hostile huge version": _edit(name="Other", version="9" * 40),
        },
    ),
    "deactivate": (
        "/admin/users/{id}",
        {
            "missing version": _deactivate(version=""),
            "malformed version": _deactivate(version="abc"),
            "stale": lambda u: _deactivate(version=str(u.version - 1))(u),
            "hostile NUL": _deactivate(version=NUL),
        },
    ),
    "role change": (
        "/admin/users/{id}",
        {
            "missing version": _role(version=""),
            "malformed version": _role(version="-3"),
            "stale": lambda u: _role(version=str(u.version - 1))(u),
            "hostile NUL": _role(name=NUL),
        },
    ),
    "reactivate": (
        "/admin/users/{id}/reactivate",
        {
            "missing": lambda _u: {},
            "malformed": _version("abc"),
            "malformed huge": _version("9" * 40),
            "stale": _stale,
            "hostile NUL": _version(NUL),
            "hostile repeated": _version(["1", "2"]),
        },
    ),
    "reactivate an active account": (
        "/admin/users/{id}/reactivate",
        {"stale (reactivated meanwhile)": lambda u: {"version": str(u.version)}},
    ),
    "reset password": (
        "/admin/users/{id}/password",
        {
            "missing": lambda _u: {},
            "malformed (too short)": _password("short"),
            "malformed (repeated differently)": _password("long-enough-pw", "long-enough-px"),
            "hostile NUL": _password("long-enough\x00pw"),
        },
    ),
    "unlock": (
        "/admin/users/{id}/unlock",
        {
            "stale (not locked)": lambda _u: {},
            "hostile NUL": lambda _u: {"extra": NUL},
        },
    ),
}
CASES = [(route, kind) for route, (_, kinds) in ROUTES.items() for kind in kinds]


def _written(session: Session) -> tuple[Any, ...]:
    """What the walk must leave as it is: every account and the audit log's length."""
    session.expire_all()
    users = tuple(
        tuple(sorted((k, str(v)) for k, v in u.model_dump().items()))
        for u in session.exec(select(User).order_by(col(User.id)))
    )
    return users, session.exec(select(func.count(col(AuditEvent.id)))).one()


def _said(response: Any, client: Any) -> tuple[int, str]:
    """The answer's status and the page a person ends on (a redirect followed)."""
    status = response.status_code
    if status in (302, 303):
        response = client.get(response.headers["Location"])
    return status, unescape(response.get_data(as_text=True))


def _messages(page: str) -> list[str]:
    found = re.findall(r'<p class="flash flash-error"[^>]*>(.*?)</p>', page, re.S)
    found += re.findall(r'<p class="error" id="[^"]*-err">(.*?)</p>', page, re.S)
    found += re.findall(r'<h2 id="stale-edit-h">(.*?)</h2>', page, re.S)
    return [" ".join(m.split()) for m in found]


@pytest.mark.parametrize(("route", "kind"), CASES, ids=[f"{r}: {k}" for r, k in CASES])
def test_bad_input_is_said_on_its_page_and_writes_nothing(
    app: Flask, as_user: Any, users: dict[str, int], session: Session, route: str, kind: str
) -> None:
    target = session.get(User, users["focal_gtm"])
    assert target is not None
    if route == "reactivate":
        target.active = False
        session.add(target)
        session.commit()
    path, kinds = ROUTES[route]
    path = path.format(id=target.id)
    texts = {}
    for lang in ("en", "es"):
        admin = as_user("admin")
        admin.post("/language", data={"lang": lang, "next": "/"})
        admin.get("/")  # what the sign-in said is read
        session.expire_all()
        user = session.get(User, users["focal_gtm"])
        assert user is not None
        before = _written(session)
        status, page = _said(admin.post(path, data=kinds[kind](user)), admin)
        assert status < 500, (route, kind, status)
        assert not re.search(r"<title>\s*\d{3}\b", page), (route, kind, lang, page[:2000])
        messages = _messages(page)
        assert messages, (route, kind, lang, status)
        assert _written(session) == before, (route, kind, lang)
        texts[lang] = messages
    # in the reader's language: no message said in Spanish as in English
    english = set(texts["en"])
    assert not [m for m in texts["es"] if m in english and re.search(r"[a-z]{4}", m)], texts


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_a_form_without_its_security_key_is_explained_and_writes_nothing(
    app: Flask, as_user: Any, users: dict[str, int], session: Session, route: str
) -> None:
    """A POST without the form's CSRF key (sent from another site, or after the session ended)
    gets the app's one answer for every form: what happened and what to do, in the reader's
    language, nothing written (not the page it came from: that answer is the same for every
    form of the service, sscmatch.web.errors._csrf_error)."""
    admin = as_user("admin")
    admin.post("/language", data={"lang": "es", "next": "/"})
    app.config["WTF_CSRF_ENABLED"] = True
    user = session.get(User, users["focal_gtm"])
    assert user is not None
    path, kinds = ROUTES[route]
    before = _written(session)
    form = next(iter(kinds.values()))(user)
    response = admin.post(path.format(id=user.id), data=form)
    page = unescape(response.get_data(as_text=True))
    assert response.status_code == 400, route
    assert "La comprobación de seguridad (CSRF) del formulario falló" in page, route
    assert _written(session) == before, route
