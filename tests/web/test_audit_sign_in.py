"""A failed sign-in is in the audit log as such, apart from a successful one: its own action
(said in the reader's language), the e-mail tried (never the password), the account it named
if any; the admin finds it by its action and by the e-mail tried, whether or not that e-mail
is an account's."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from sqlmodel import Session, select

from sscmatch.models import AuditEvent
from tests.conftest import sign_in

WRONG = "not-the-password-7Zq"


def test_a_failed_sign_in_is_audited_apart_with_the_email_tried(
    app: Flask, users: dict[str, int]
) -> None:
    tries = app.test_client()
    for email in ("sec@test.org", "Nobody@Example.org"):
        refused = tries.post("/login", data={"email": email, "password": WRONG})
        assert refused.status_code == 401
    admin = sign_in(app.test_client(), "admin")
    with Session(app.extensions["sscmatch.engine"]) as s:
        events = s.exec(select(AuditEvent).order_by(AuditEvent.id)).all()
        failed = [e for e in events if e.action == "sign_in_failed"]
        signed_in = [e for e in events if e.action == "sign_in"]
        stored = json.dumps([e.model_dump(mode="json") for e in events])
    assert WRONG not in stored  # the password is nowhere
    assert [(e.user_id, e.entity, e.entity_id) for e in failed] == [
        (users["secretariat"], "user", str(users["secretariat"])),
        (None, "user", "nobody@example.org"),
    ]
    assert [e.user_id for e in signed_in] == [users["admin"]]

    admin.post("/language", data={"lang": "es", "next": "/"})
    page = admin.get("/admin/audit?action=sign_in_failed").get_data(as_text=True)
    assert page.count("inicio de sesión fallido") >= 2  # the action, in Spanish, each row
    assert "correo electrónico usado en el intento: nobody@example.org" in page
    assert "correo electrónico usado en el intento: sec@test.org" in page
    assert "admin@test.org" not in page  # the successful sign-in is not among them
    # filterable by the e-mail tried: an account's, and one that is no account's
    for email, count in (("sec@test.org", 1), ("nobody@example.org", 1)):
        found = admin.get(f"/admin/audit?action=sign_in_failed&user={email}")
        assert found.status_code == 200, email
        assert found.get_data(as_text=True).count("correo electrónico usado en el intento:") == count
    menu = admin.get("/admin/audit").get_data(as_text=True)
    assert '<option value="sign_in_failed">inicio de sesión fallido</option>' in menu
    assert '<option value="sign_in">iniciar sesión</option>' in menu
    export = admin.get("/admin/audit/export.json?action=sign_in_failed").get_json()
    assert len(export["audit"]) == 2
    detail = admin.get(f"/admin/audit/{failed[1].id}").get_data(as_text=True)
    assert "correo electrónico usado en el intento: nobody@example.org" in detail
    assert "sistema" not in detail.lower().split("<main", 1)[1]


def test_a_refusal_for_too_many_attempts_is_not_recorded_again(
    app: Flask, users: dict[str, int], monkeypatch: Any
) -> None:
    """The failures that led to the hold are in the log; the attempts refused while held are
    not (each would be a row an attacker writes at will)."""
    client = app.test_client()
    statuses = [
        client.post("/login", data={"email": "sec@test.org", "password": WRONG}).status_code
        for _ in range(12)
    ]
    assert 429 in statuses
    with Session(app.extensions["sscmatch.engine"]) as s:
        failed = s.exec(select(AuditEvent).where(AuditEvent.action == "sign_in_failed")).all()
    assert len(failed) == statuses.count(401)
