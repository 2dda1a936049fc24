"""Admin pages: users (list, create, edit, reset, unlock) and the audit log, on every backend."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, col, select

from sscmatch.models import AuditEvent, User
from sscmatch.schemas import MOMENT_PATTERN
from sscmatch.workflow.admin import compare
from tests.conftest import PASSWORD, make_test_app

ADMIN_PAGES = [
    ("get", "/admin/users"),
    ("get", "/admin/users/new"),
    ("post", "/admin/users/new"),
    ("get", "/admin/users/1"),
    ("post", "/admin/users/1"),
    ("post", "/admin/users/1/password"),
    ("post", "/admin/users/1/unlock"),
    ("get", "/admin/audit"),
    ("get", "/admin/audit/1"),
]

NEW_FOCAL = {
    "email": "New.Focal@Example.org",
    "name": "Nueva focal",
    "role": "focal_point",
    "country": "PER",
    "constituency": "workers",
    "language": "es",
    "password": "long-enough-pw",
    "confirm": "long-enough-pw",
}


def _db(app: Flask) -> Session:
    return Session(app.extensions["sscmatch.engine"], expire_on_commit=False)


def _user(app: Flask, email: str) -> User:
    with _db(app) as s:
        return s.exec(select(User).where(User.email == email)).one()


def _sign_in_status(app: Flask, email: str, password: str = PASSWORD) -> int:
    response = app.test_client().post("/login", data={"email": email, "password": password})
    return int(response.status_code)


def _events(app: Flask, action: str) -> list[AuditEvent]:
    with _db(app) as s:
        query = select(AuditEvent).where(AuditEvent.action == action)
        return list(s.exec(query.order_by(col(AuditEvent.id))))


@pytest.mark.parametrize("who", ["focal_gtm", "secretariat", "analyst"])
def test_non_admins_get_403_everywhere(as_user: Any, who: str) -> None:
    client = as_user(who)
    for method, url in ADMIN_PAGES:
        response = getattr(client, method)(url)
        assert response.status_code == 403, (who, method, url)


def test_anonymous_is_sent_to_sign_in(client: Any, users: dict[str, int]) -> None:
    for method, url in ADMIN_PAGES:
        response = getattr(client, method)(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_menu_shows_admin_links_only_to_admins(as_user: Any) -> None:
    assert 'href="/admin/users"' in as_user("admin").get("/").get_data(as_text=True)
    assert 'href="/admin/audit"' in as_user("admin").get("/").get_data(as_text=True)
    assert 'href="/admin/users"' not in as_user("secretariat").get("/").get_data(as_text=True)


def test_users_list_filters(app: Flask, as_user: Any, users: dict[str, int]) -> None:
    client = as_user("admin")
    page = client.get("/admin/users").get_data(as_text=True)
    assert all(email in page for email in ("admin@test.org", "gtm@test.org", "bra@test.org"))
    page = client.get("/admin/users?role=focal_point&country=GTM").get_data(as_text=True)
    assert "gtm@test.org" in page and "bra@test.org" not in page and "sec@test.org" not in page
    with _db(app) as s:
        s.get(User, users["analyst"]).active = False  # type: ignore[union-attr]
        s.commit()
    page = client.get("/admin/users?active=no").get_data(as_text=True)
    assert "analyst@test.org" in page and "sec@test.org" not in page


def test_users_list_pages(database_url: str, tmp_path: Any, users: dict[str, int]) -> None:
    app = make_test_app(database_url, tmp_path, PAGE_SIZE=2)
    client = app.test_client()
    client.post("/login", data={"email": "admin@test.org", "password": PASSWORD})
    first = client.get("/admin/users").get_data(as_text=True)
    assert "Page 1 of 3" in first and "analyst@test.org" in first and "gtm@test.org" not in first
    third = client.get("/admin/users?page=3").get_data(as_text=True)
    assert "sec@test.org" in third and "admin@test.org" not in third
    too_far = client.get("/admin/users?page=4")
    assert too_far.status_code == 400 and b"There is no such page" in too_far.data
    app.extensions["sscmatch.engine"].dispose()


@pytest.mark.parametrize("query", ["page=0", "page=abc", "role=emperor", "active=maybe"])
def test_bad_list_arguments_give_a_message(as_user: Any, query: str) -> None:
    response = as_user("admin").get(f"/admin/users?{query}")
    assert response.status_code == 400
    assert b"Not a valid choice" in response.data or b"page number" in response.data


def test_admin_creates_a_focal_point(app: Flask, as_user: Any, users: dict[str, int]) -> None:
    client = as_user("admin")
    assert b"Initial password" in client.get("/admin/users/new").data
    response = client.post("/admin/users/new", data=NEW_FOCAL)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/users"
    listing = client.get("/admin/users").get_data(as_text=True)
    assert "new.focal@example.org" in listing and "User new.focal@example.org created." in listing
    user = _user(app, "new.focal@example.org")
    assert (user.role, user.country, user.constituency, user.language) == (
        "focal_point",
        "PER",
        "workers",
        "es",
    )
    [event] = _events(app, "create")
    assert event.entity == "user" and event.entity_id == str(user.id)
    assert event.user_id == users["admin"] and event.before is None
    assert event.after is not None and event.after["email"] == "new.focal@example.org"
    assert "password_hash" not in event.after and "long-enough-pw" not in str(event.after)
    # The new user can sign in with the initial password.
    assert _sign_in_status(app, "new.focal@example.org", "long-enough-pw") == 302


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"email": "not-an-address"}, "email", "Enter an e-mail address."),
        ({"email": "gtm@test.org"}, "email", "A user with this e-mail already exists."),
        ({"password": "short", "confirm": "short"}, "password", "at least 10 characters"),
        ({"confirm": "something-else"}, "confirm", "The passwords differ."),
        ({"country": ""}, "country", "A focal point needs a country."),
        ({"constituency": "ngo"}, "constituency", "A focal point needs a constituency"),
        ({"country": "XXX"}, "country", "Not a valid choice"),
        ({"role": "emperor"}, "role", "Not a valid choice"),
    ],
)
def test_create_refusals_keep_what_was_typed(
    app: Flask, as_user: Any, change: dict[str, str], field: str, message: str
) -> None:
    client = as_user("admin")
    response = client.post("/admin/users/new", data={**NEW_FOCAL, **change})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'id="{field}-err"' in page and message in page
    assert "nothing was saved yet" in page
    assert 'value="Nueva focal"' in page  # what was typed is still there
    with _db(app) as s:
        assert s.exec(select(User).where(User.email == "new.focal@example.org")).first() is None
    assert _events(app, "create") == []


def test_non_focal_roles_need_no_country(app: Flask, as_user: Any) -> None:
    data = {**NEW_FOCAL, "role": "analyst", "country": "", "constituency": ""}
    response = as_user("admin").post("/admin/users/new", data=data)
    assert response.status_code == 302
    user = _user(app, "new.focal@example.org")
    assert user.role == "analyst" and user.country is None


def _edit_data(app: Flask, user_id: int, **change: Any) -> dict[str, Any]:
    with _db(app) as s:
        user = s.get(User, user_id)
        assert user is not None
        data = {
            "name": user.name,
            "role": user.role,
            "country": user.country or "",
            "constituency": user.constituency or "",
            "language": user.language,
            "version": str(user.version),
        }
        if user.active:
            data["active"] = "y"
    data.update(change)
    return {k: v for k, v in data.items() if v is not None}


def test_edit_role_country_and_active(app: Flask, as_user: Any, users: dict[str, int]) -> None:
    client = as_user("admin")
    uid = users["analyst"]
    page = client.get(f"/admin/users/{uid}").get_data(as_text=True)
    assert "Role and profile" in page and "analyst@test.org" in page
    data = _edit_data(app, uid, role="focal_point", country="CRI", constituency="employers")
    data["language"] = "fr"
    data.pop("active")  # unticked: deactivate, confirmed first (test_consequential_steps.py)
    asked = client.post(f"/admin/users/{uid}", data=data)
    assert asked.status_code == 200 and b"Deactivate the account of analyst@test.org?" in asked.data
    assert _user(app, "analyst@test.org").active and _events(app, "update") == []
    response = client.post(f"/admin/users/{uid}", data={**data, "confirmed": "y"})
    assert response.status_code == 302
    user = _user(app, "analyst@test.org")
    assert (user.role, user.country, user.constituency, user.language, user.active) == (
        "focal_point",
        "CRI",
        "employers",
        "fr",
        False,
    )
    [event] = _events(app, "update")
    assert event.before and event.after and event.user_id == users["admin"]
    changed = {c.field for c in compare(event.before, event.after) if c.changed}
    assert changed == {"role", "country", "constituency", "language", "active"}
    # A deactivated user cannot sign in.
    assert _sign_in_status(app, "analyst@test.org") == 401


def _session_state(app: Flask, email: str) -> tuple[int, bool]:
    """The account's ``auth_version`` (its sessions' counter) and whether it holds an API token."""
    user = _user(app, email)
    return user.auth_version, user.api_token_hash is not None


def test_an_edit_of_harmless_fields_is_saved_at_once(
    app: Flask, as_user: Any, users: dict[str, int]
) -> None:
    """Name and language end nothing: saved by the first POST, no confirmation asked."""
    uid = users["focal_gtm"]
    as_user("focal_gtm").post("/account")  # makes an API token
    held = _session_state(app, "gtm@test.org")
    assert held[1]
    data = _edit_data(app, uid, name="Otro nombre", language="fr")
    admin = as_user("admin")
    response = admin.post(f"/admin/users/{uid}", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    user = _user(app, "gtm@test.org")
    assert (user.name, user.language) == ("Otro nombre", "fr")
    assert _session_state(app, "gtm@test.org") == held  # sessions and token live on
    [event] = _events(app, "update")
    assert event.note is None
    shown = admin.get(f"/admin/users/{uid}").get_data(as_text=True)
    assert "Changes saved." in shown and "signed out everywhere and" not in shown


RIGHTS_CHANGES = {
    "role": {"role": "analyst", "country": "", "constituency": ""},
    "country": {"country": "CRI"},
    "constituency": {"constituency": "workers"},
}


@pytest.mark.parametrize("change", sorted(RIGHTS_CHANGES))
def test_a_change_of_rights_is_confirmed_first_then_applied(
    app: Flask, as_user: Any, users: dict[str, int], change: str
) -> None:
    """Role, country or constituency (what ends the sessions): the first POST says so, in the
    reader's language, and writes nothing; the confirming POST, as its page sends it, saves
    the form and ends the sessions and the API token."""
    from tests.web.test_consequential_steps import FORM, HIDDEN, _rows

    uid = users["focal_gtm"]
    as_user("focal_gtm").post("/account")  # makes an API token
    auth_version, token = _session_state(app, "gtm@test.org")
    assert token
    admin = as_user("admin")
    admin.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es"
    data = _edit_data(app, uid, name="Nombre nuevo", **RIGHTS_CHANGES[change])
    before = _rows(app)
    asked = admin.post(f"/admin/users/{uid}", data=data)
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200, page[:2000]
    assert "gtm@test.org cerrará sesión en todas partes" in page, page
    assert "Los demás cambios del formulario se guardan a la vez." in page
    assert _rows(app) == before  # every table as it was
    found = FORM.search(page)
    assert found is not None
    fields = dict(HIDDEN.findall(found.group(2)))
    assert fields["confirmed"] == "y" and fields["version"] == data["version"]
    assert fields.get("active") == "y"  # the ticked box is carried, not a deactivation
    assert 'name="csrf_token"' in found.group(2)
    done = admin.post(found.group(1), data=fields)
    assert done.status_code == 302, done.get_data(as_text=True)[:2000]
    user = _user(app, "gtm@test.org")
    for name, value in RIGHTS_CHANGES[change].items():
        assert (getattr(user, name) or "") == value
    assert user.name == "Nombre nuevo" and user.active
    assert _session_state(app, "gtm@test.org") == (auth_version + 1, False)
    [event] = _events(app, "update")
    assert event.note == "sessions and API token ended"
    shown = admin.get(f"/admin/users/{uid}").get_data(as_text=True)
    assert "ha cerrado sesión en todas partes" in shown


def test_a_change_of_rights_confirmed_on_a_stale_version_is_a_conflict(
    app: Flask, as_user: Any, users: dict[str, int]
) -> None:
    """The confirmation carries the version its form was read at: another edit in between
    answers 409 with the stale-edit page, and the change of rights is not made."""
    uid = users["focal_gtm"]
    admin = as_user("admin")
    data = _edit_data(app, uid, country="CRI")
    asked = admin.post(f"/admin/users/{uid}", data=data)
    assert asked.status_code == 200 and b"will be signed out everywhere" in asked.data
    meanwhile = admin.post(f"/admin/users/{uid}", data=_edit_data(app, uid, name="Meanwhile"))
    assert meanwhile.status_code == 302
    auth_version = _user(app, "gtm@test.org").auth_version
    late = admin.post(f"/admin/users/{uid}", data={**data, "confirmed": "y"})
    # the edit in between was this admin's own: said so, not as someone else's
    assert late.status_code == 409 and b"yourself meanwhile" in late.data
    user = _user(app, "gtm@test.org")
    assert (user.country, user.name, user.auth_version) == ("GTM", "Meanwhile", auth_version)


def test_an_inactive_account_changes_rights_without_confirmation(
    app: Flask, as_user: Any, users: dict[str, int]
) -> None:
    """Its deactivation already ended its sessions and token: nothing more ends."""
    uid = users["analyst"]
    with _db(app) as s:
        s.get(User, uid).active = False  # type: ignore[union-attr]
        s.commit()
    data = _edit_data(app, uid, role="secretariat")
    assert as_user("admin").post(f"/admin/users/{uid}", data=data).status_code == 302
    assert _user(app, "analyst@test.org").role == "secretariat"


def test_saving_unchanged_form_writes_no_event(
    app: Flask, as_user: Any, users: dict[str, int]
) -> None:
    uid = users["secretariat"]
    assert (
        as_user("admin").post(f"/admin/users/{uid}", data=_edit_data(app, uid)).status_code == 302
    )
    assert _events(app, "update") == []


def test_admin_cannot_demote_or_deactivate_themself(
    app: Flask, as_user: Any, users: dict[str, int]
) -> None:
    client = as_user("admin")
    uid = users["admin"]
    demote = client.post(
        f"/admin/users/{uid}", data=_edit_data(app, uid, role="analyst", name="Typed")
    )
    assert demote.status_code == 400
    assert b"You cannot remove your own admin role" in demote.data
    assert b'value="Typed"' in demote.data
    data = _edit_data(app, uid)
    data.pop("active")
    deactivate = client.post(f"/admin/users/{uid}", data=data)
    assert deactivate.status_code == 400
    assert b"You cannot deactivate your own account" in deactivate.data
    user = _user(app, "admin@test.org")
    assert user.role == "admin" and user.active
    assert _events(app, "update") == []


def test_edit_focal_point_without_country_is_refused(
    app: Flask, as_user: Any, users: dict[str, int]
) -> None:
    uid = users["focal_gtm"]
    response = as_user("admin").post(f"/admin/users/{uid}", data=_edit_data(app, uid, country=""))
    assert response.status_code == 400 and b"A focal point needs a country." in response.data
    assert _user(app, "gtm@test.org").country == "GTM"


def test_stale_edit_is_a_conflict(app: Flask, as_user: Any, users: dict[str, int]) -> None:
    client = as_user("admin")
    uid = users["focal_bra"]
    started = _edit_data(app, uid, name="First")
    assert client.post(f"/admin/users/{uid}", data=started).status_code == 302
    late = {**started, "name": "Second"}  # same version as the first, now stale
    response = client.post(f"/admin/users/{uid}", data=late)
    # the first save was this admin's own: said so, not as someone else's
    assert response.status_code == 409 and b"yourself meanwhile" in response.data
    assert _user(app, "bra@test.org").name == "First"


def test_unknown_user_is_404(as_user: Any) -> None:
    assert as_user("admin").get("/admin/users/9999").status_code == 404
    assert as_user("admin").get("/admin/audit/9999").status_code == 404


def test_reset_password(app: Flask, as_user: Any, users: dict[str, int]) -> None:
    client = as_user("admin")
    uid = users["secretariat"]
    short = client.post(
        f"/admin/users/{uid}/password", data={"password": "short", "confirm": "short"}
    )
    assert short.status_code == 400 and b"at least 10 characters" in short.data
    before_hash = _user(app, "sec@test.org").password_hash
    ok = client.post(
        f"/admin/users/{uid}/password",
        data={"password": "brand-new-secret", "confirm": "brand-new-secret"},
    )
    assert ok.status_code == 302
    user = _user(app, "sec@test.org")
    assert user.password_hash != before_hash
    [event] = _events(app, "reset_password")
    assert event.user_id == users["admin"] and event.entity_id == str(uid)
    for side in (event.before, event.after):
        assert side is not None and "password_hash" not in side
    assert before_hash not in str(event.before) and user.password_hash not in str(event.after)
    assert _sign_in_status(app, "sec@test.org") == 401
    assert _sign_in_status(app, "sec@test.org", "brand-new-secret") == 302


def test_unlock(app: Flask, as_user: Any, users: dict[str, int]) -> None:
    client = as_user("admin")
    uid = users["focal_gtm"]
    not_locked = client.post(f"/admin/users/{uid}/unlock")
    assert not_locked.status_code == 400 and b"This account is not locked." in not_locked.data
    for _ in range(5):  # five failures lock the account for browsers it has not been used from
        assert _sign_in_status(app, "gtm@test.org", "wrong-password") == 401
    assert b"locked" in client.get("/admin/users").data
    page = client.get(f"/admin/users/{uid}").get_data(as_text=True)
    assert "locked until" in page and "<dd>5</dd>" in page  # failed sign-ins
    assert _sign_in_status(app, "gtm@test.org") == 429
    assert client.post(f"/admin/users/{uid}/unlock").status_code == 302
    [event] = _events(app, "unlock")
    assert event.before and event.before["locked_until"] and event.before["failed_sign_ins"] >= 5
    assert re.fullmatch(MOMENT_PATTERN, event.before["locked_until"])
    assert event.after == {"failed_sign_ins": 0, "locked_until": None}
    assert _sign_in_status(app, "gtm@test.org") == 302
    assert client.post(f"/admin/users/{uid}/unlock").status_code == 400  # nothing left to lift


def test_audit_log_filters_newest_first_and_event_page(
    app: Flask, as_user: Any, users: dict[str, int]
) -> None:
    client = as_user("admin")  # signs in: one sign_in event by the admin
    uid = users["focal_bra"]
    client.post(f"/admin/users/{uid}", data=_edit_data(app, uid, language="pt", name="Brasil"))
    page = client.get("/admin/audit").get_data(as_text=True)
    assert page.index("<span class='action'>update</span>") < page.index(
        "<span class='action'>sign in</span>"
    )  # newest first
    only_updates = client.get("/admin/audit?action=update").get_data(as_text=True)
    assert (
        "<span class='action'>update</span>" in only_updates
        and "<span class='action'>sign in</span>" not in only_updates
    )
    by_record = client.get(f"/admin/audit?entity=user&entity_id={uid}").get_data(as_text=True)
    assert (
        "<span class='action'>update</span>" in by_record
        and "<span class='action'>sign in</span>" not in by_record
    )
    by_user = client.get("/admin/audit?user=admin@test.org").get_data(as_text=True)
    assert (
        "<span class='action'>update</span>" in by_user
        and "<span class='action'>sign in</span>" in by_user
    )
    nobody = client.get("/admin/audit?user=sec@test.org").get_data(as_text=True)
    assert "<span class='action'>update</span>" not in nobody and "Nothing found" in nobody
    today = datetime.now(UTC).date()
    in_range = client.get(f"/admin/audit?date_from={today}&date_to={today}").get_data(as_text=True)
    assert "<span class='action'>update</span>" in in_range
    past = today - timedelta(days=3)
    out_of_range = client.get(f"/admin/audit?date_to={past}").get_data(as_text=True)
    assert "<span class='action'>update</span>" not in out_of_range

    [event] = _events(app, "update")
    detail = client.get(f"/admin/audit/{event.id}").get_data(as_text=True)
    assert "Before and after" in detail and "2 fields changed" in detail
    changed_rows = [row for row in detail.split("<tr") if 'class="changed"' in row]
    assert len(changed_rows) == 2
    # each field by its label, never its code
    assert any('<th scope="row">Name <span' in r and "Brasil" in r for r in changed_rows)
    assert any('<th scope="row">Language <span' in r for r in changed_rows)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("date_from=2026-13-45", "is not a real date: there is no month 13"),
        ("date_to=05/03/2026", "could be 5 March 2026 or 3 May 2026"),  # an English reader
        ("date_from=2026-05-02&date_to=2026-05-01", "The start date is after the end date."),
        ("user=ghost@test.org", "There is no user with this e-mail."),
        ("user=" + "9" * 23, "There is no user with this number."),  # beyond any id
        ("user=%C2%B2", "There is no user with this e-mail."),  # "²": not a number we take
        ("page=-1", "page number"),
    ],
)
def test_bad_audit_filters_give_a_message(as_user: Any, query: str, message: str) -> None:
    response = as_user("admin").get(f"/admin/audit?{query}")
    assert response.status_code == 400 and message in response.get_data(as_text=True)


def test_audit_pages(database_url: str, tmp_path: Any, users: dict[str, int]) -> None:
    app = make_test_app(database_url, tmp_path, PAGE_SIZE=2)
    client = app.test_client()
    for _ in range(3):
        client.post("/login", data={"email": "admin@test.org", "password": PASSWORD})
    first = client.get("/admin/audit").get_data(as_text=True)
    assert "Page 1 of 2" in first and first.count("<span class='action'>sign in</span>") == 2
    second = client.get("/admin/audit?page=2").get_data(as_text=True)
    assert second.count("<span class='action'>sign in</span>") == 1
    app.extensions["sscmatch.engine"].dispose()


def test_admin_forms_need_csrf(database_url: str, tmp_path: Any, users: dict[str, int]) -> None:
    app = make_test_app(database_url, tmp_path, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = login_page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    signed = client.post(
        "/login", data={"email": "admin@test.org", "password": PASSWORD, "csrf_token": token}
    )
    assert signed.status_code == 302
    refused = client.post("/admin/users/new", data=NEW_FOCAL)
    assert refused.status_code == 400 and b"CSRF" in refused.data
    form = client.get("/admin/users/new").get_data(as_text=True)
    token = form.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    created = client.post("/admin/users/new", data={**NEW_FOCAL, "csrf_token": token})
    assert created.status_code == 302
    app.extensions["sscmatch.engine"].dispose()
