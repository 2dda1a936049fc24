"""Every page form that creates something makes it once, however often it is sent
(:mod:`sscmatch.web.sent_once`).

A double click on *Save*, the browser's back and send again, or the same form sent from two
tabs at the same moment made two needs, two commitments, two match runs from one form. The walk
takes every view of :data:`SENT_ONCE`: it reads the page that holds the form, as the person who
fills it, fills it, and sends the very same form (same key, same values) twice one after the
other, then another drawing of it twice at the same moment (two signed-in clients of the same
person, each held at the flush that writes the record until the other got there). Each time
exactly one record is made; the second sending answers 303 to where the first led, and says in
the reader's language that it was done once and nothing more was done. The same form sent again
with other values (back, change a field, send) is a sending of its own.
"""

from __future__ import annotations

import html
import io
import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, SQLModel, func, select

from sscmatch.models import (
    AuditEvent,
    Calibration,
    Capacity,
    Commitment,
    Exchange,
    Job,
    MatchRun,
    Need,
    Proposal,
    ProposalComment,
    SentForm,
    SignInThrottle,
    StudyTour,
    User,
)
from sscmatch.web import sent_once
from sscmatch.web.api import openapi
from sscmatch.web.sent_once import FIELD, NOT_SENT_ONCE, SENT_ONCE, is_sent_once
from sscmatch.workflow.accounts import issue_api_token
from sscmatch.workflow.sent_forms import key_alone, scoped
from tests.conftest import ACCOUNTS, sign_in
from tests.conftest import PASSWORD as KNOWN
from tests.test_concurrent_creation import GatheringGate
from tests.test_concurrent_edits import FlushGate, run_together
from tests.web import test_review, test_stale_edits, test_tour_files_language
from tests.web.test_review import OTHER_NEED, prop, ranked
from tests.web.test_stale_edits import form_of

tour_id = test_tour_files_language.tour_id  # the fixture: a drafted tour (GTM visits BRA)

BUNDLE = {
    "institutions": [
        {"id": "h64-once", "name": "Sent once", "country": "GTM", "constituency": "government"}
    ]
}


@dataclass(frozen=True)
class Case:
    """A form that creates: who fills it, the page that holds it and where it posts (``{tour}``
    and ``{proposal}``: the fixture's tour and its proposal), the values typed, the record one
    sending makes, and a field with another value (another sending of its own)."""

    who: str
    page: str
    action: str
    typed: dict[str, str]
    model: type[SQLModel]
    other: tuple[str, str]
    files: bool = False


PASSWORD = "a-long-enough-password"
CASES: dict[str, Case] = {
    "registry.need_new": Case(
        "focal_gtm",
        "/needs/new",
        "/needs/new",
        {"title": "Labour inspection twice", "themes": "labour-inspection", "priority": "high"},
        Need,
        ("title", "Another need"),
    ),
    "registry.capacity_new": Case(
        "focal_bra",
        "/capacities/new",
        "/capacities/new",
        {"title": "Inspection training twice", "themes": "labour-inspection"},
        Capacity,
        ("title", "Another capacity"),
    ),
    "tours.add_commitment": Case(
        "secretariat",
        "/tours/{tour}",
        "/tours/{tour}/commitments",
        {"owner_country": "GTM", "description": "Draft the inspection protocol"},
        Commitment,
        ("description", "Train the inspectors"),
    ),
    "review.comment": Case(
        "secretariat",
        "/review/proposals/{proposal}",
        "/review/proposals/{proposal}/comments",
        {"body": "Please check the dates."},
        ProposalComment,
        ("body", "And the budget."),
    ),
    "matching.start": Case(
        "secretariat", "/matching/runs", "/matching/runs", {}, MatchRun, ("top", "3")
    ),
    "matching.calibrate": Case(
        "secretariat",
        "/matching/calibrate",
        "/matching/calibrations",
        {},
        Calibration,
        ("window", "4"),
    ),
    "admin.import_page": Case(
        "admin", "/admin/import", "/admin/import", {}, Job, ("bundle", "other"), files=True
    ),
    "admin.new_user": Case(
        "admin",
        "/admin/users/new",
        "/admin/users/new",
        {
            "email": "twice@test.org",
            "name": "Twice",
            "password": PASSWORD,
            "confirm": PASSWORD,
            "role": "analyst",
        },
        User,
        ("email", "other@test.org"),
    ),
}


def test_every_view_sent_once_is_walked_and_guarded(app: Flask) -> None:
    assert set(CASES) | set(ACCOUNT) == {e for e in SENT_ONCE if not e.startswith("api.")}
    assert not set(CASES) & set(ACCOUNT)
    assert set(API) == set(API_MODELS) == {e for e in SENT_ONCE if e.startswith("api.")}
    for endpoint in SENT_ONCE:
        assert is_sent_once(app.view_functions[endpoint]), endpoint
    # the API's document tells clients of the key, and of the answer to a retry
    document = openapi.spec(app)
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SENT_ONCE and rule.endpoint.startswith("api."):
            path = rule.rule.removeprefix(openapi.PREFIX)
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", path)
            op = document["paths"][path]["post"]
            assert "Idempotency-Key" in [p["name"] for p in op["parameters"]], rule.endpoint
            assert "303" in op["responses"], rule.endpoint


def _count(app: Flask, model: type[SQLModel]) -> int:
    with Session(app.extensions["sscmatch.engine"]) as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


def _scheduled(app: Flask, tour: str) -> int:
    """Commitments are recorded once a tour is scheduled; returns the tour's proposal."""
    with Session(app.extensions["sscmatch.engine"]) as s:
        found = s.get(StudyTour, tour)
        assert found is not None and found.proposal_id is not None
        found.status, found.start, found.end = "scheduled", "2026-03-02", "2026-03-04"
        s.add(found)
        s.commit()
        return found.proposal_id


def _filled(client: Any, case: Case, tour: str, proposal: int, label: str) -> dict[str, Any]:
    page_url = case.page.format(tour=tour, proposal=proposal)
    page = client.get(page_url)
    assert page.status_code == 200, (page_url, page.status_code)
    form = form_of(page.get_data(as_text=True), case.action.format(tour=tour, proposal=proposal))
    assert form.get(FIELD), f"the form of {label} carries no one-time key"
    data: dict[str, Any] = {k: form.getlist(k) for k in form}
    data = {k: v[0] if len(v) == 1 else v for k, v in data.items()}
    data.update(case.typed)
    return data


def _send(client: Any, case: Case, tour: str, proposal: int, data: dict[str, Any]) -> Any:
    body = dict(data)
    if case.files:
        content = json.dumps(BUNDLE if body.get("bundle") != "other" else {"institutions": []})
        body["bundle"] = (io.BytesIO(content.encode()), "bundle.json")
    return client.post(
        case.action.format(tour=tour, proposal=proposal),
        data=body,
        content_type="multipart/form-data" if case.files else None,
    )


def _said_once(response: Any, first_location: str | None) -> None:
    assert response.status_code == 303, response.status_code
    if first_location is not None:
        assert response.headers["Location"] == first_location


def test_every_form_sent_twice_makes_its_record_once(
    app: Flask, users: dict[str, int], tour_id: str
) -> None:
    proposal = _scheduled(app, tour_id)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash must show as a 500, not kill a thread
    for endpoint in sorted(CASES):
        _walk_form(app, endpoint, tour_id, proposal)


def _walk_form(app: Flask, endpoint: str, tour_id: str, proposal: int) -> None:
    case = CASES[endpoint]
    client = sign_in(app.test_client(), case.who)
    client.post("/language", data={"lang": "es", "next": "/"})

    # one after the other: a double click, or back and send again
    data = _filled(client, case, tour_id, proposal, endpoint)
    before = _count(app, case.model)
    first = _send(client, case, tour_id, proposal, data)
    assert first.status_code < 400, (endpoint, first.status_code, first.get_data()[:300])
    assert _count(app, case.model) == before + 1, endpoint
    second = _send(client, case, tour_id, proposal, data)
    assert _count(app, case.model) == before + 1, f"{endpoint}: made twice"
    first_location = first.headers.get("Location")
    _said_once(second, first_location)
    shown = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "No se hizo nada más" in shown, endpoint

    # the same page's form with another value is a sending of its own
    changed = {**data, case.other[0]: case.other[1]}
    third = _send(client, case, tour_id, proposal, changed)
    assert third.status_code < 400, (endpoint, third.status_code)
    assert _count(app, case.model) == before + 2, endpoint

    # two tabs at the same moment: one record, the other answer says so
    twin = sign_in(app.test_client(), case.who)
    data = _filled(client, case, tour_id, proposal, endpoint)
    if case.model is User:  # a new account's e-mail is its own
        data["email"] = "third@test.org"
    gate = GatheringGate(case.model, 2, patience=0.2)

    def sending(c: Any) -> Any:
        gate.arm()
        return _send(c, case, tour_id, proposal, data)

    with gate.installed():
        answers = run_together(lambda: sending(client), lambda: sending(twin))
    codes = sorted(a.status_code for a in answers)
    assert all(code < 500 for code in codes), (endpoint, codes)
    assert _count(app, case.model) == before + 3, f"{endpoint}: made twice at once ({codes})"
    assert any(a.status_code in (303, 409) for a in answers), (endpoint, codes)


def test_a_key_is_the_sender_s_and_of_its_values() -> None:
    """The stored key names its sender and the values sent: another person's form, or the same
    form with another value, is never taken for a sending already made; a key of any other
    shape is no key."""
    key = "k" * 32
    one = scoped(key, 1, [("title", b"a")])
    assert one is not None and one != scoped(key, 2, [("title", b"a")])
    assert one != scoped(key, 1, [("title", b"b")])
    assert one == scoped(key, 1, [("title", b"a")])
    assert scoped("../x", 1, []) is None and scoped(None, 1, []) is None
    alone = key_alone(key, 1)
    assert alone is not None and alone not in (key_alone(key, 2), one)
    assert key_alone("../x", 1) is None
    assert len(alone) <= SentForm.__table__.c.key.type.length  # type: ignore[attr-defined]
    assert len(one) <= SentForm.__table__.c.key.type.length  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- the account's forms


@dataclass(frozen=True)
class AccountCase:
    """An account form: who sends it, the page that holds it, where it posts, the values of the
    first pair of sendings and of the pair sent at once, and the audit action of its change."""

    who: str
    page: str
    action: str
    typed: tuple[dict[str, str], dict[str, str]]
    change: str
    target: str | None = None  # the account the admin's form is about


NEW = "a-new-password-of-mine"
NEWER = "and-yet-another-password"
ACCOUNT: dict[str, AccountCase] = {
    "auth.change_password": AccountCase(
        "focal_gtm",
        "/account",
        "/account/password",
        (
            {"current": KNOWN, "password": NEW, "confirm": NEW},
            {"current": NEW, "password": NEWER, "confirm": NEWER},
        ),
        "change_password",
    ),
    "auth.account": AccountCase(
        "focal_bra", "/account", "/account", ({}, {"replace": "y"}), "issue_token"
    ),
    "auth.change_language": AccountCase(
        "analyst",
        "/account",
        "/account/language",
        ({"language": "es"}, {"language": "fr"}),
        "change_language",
    ),
    "admin.reset_password": AccountCase(
        "admin",
        "/admin/users/{target}",
        "/admin/users/{target}/password",
        ({"password": NEW, "confirm": NEW}, {"password": NEWER, "confirm": NEWER}),
        "reset_password",
        target="secretariat",
    ),
    "admin.unlock_user": AccountCase(
        "admin",
        "/admin/users/{target}",
        "/admin/users/{target}/unlock",
        ({}, {}),
        "unlock",
        target="secretariat",
    ),
}


def _changes(app: Flask, action: str) -> int:
    with Session(app.extensions["sscmatch.engine"]) as s:
        found = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
        return int(s.exec(found).one())


def _failures(app: Flask) -> tuple[int, int]:
    """Failed sign-ins recorded, and counted by the throttle (every counter's failures)."""
    with Session(app.extensions["sscmatch.engine"]) as s:
        counted = s.exec(select(func.coalesce(func.sum(SignInThrottle.failures), 0))).one()
    return _changes(app, "sign_in_failed"), int(counted)


def _lock(app: Flask, who: str) -> None:
    """Enough failed sign-ins on ``who``'s account to lock it (from a browser of no one)."""
    for _ in range(5):
        app.test_client().post("/login", data={"email": ACCOUNTS[who][0], "password": "wrong!"})


def _signed_in(app: Flask, who: str, password: str) -> Any:
    client = app.test_client()
    answer = client.post("/login", data={"email": ACCOUNTS[who][0], "password": password})
    assert answer.status_code == 302, (who, answer.status_code)
    client.post("/language", data={"lang": "es", "next": "/"})
    return client


def test_every_account_form_sent_twice_makes_its_change_once(
    app: Flask, users: dict[str, int]
) -> None:
    """Every form of the account pages (sign-in and out, */account*, */admin/users*) is either
    sent once (a second sending answers that it was done and runs nothing) or named, with the
    reason a second sending does no harm. Each form sent once is sent twice one after the
    other (a double click) and another drawing twice at the same moment (two tabs): one change
    each time (one audit event), no failed sign-in recorded or counted by the throttle (a
    password change sent twice used to find its current password 'wrong', a step toward a
    lock-out by one's own double click), and the second sending's answer says, in Spanish,
    that it was already done."""
    account_forms = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if (rule.methods or set()) & {"POST", "PUT", "PATCH", "DELETE"}
        and rule.rule.startswith(("/login", "/logout", "/account", "/admin/users"))
    }
    walked = {*ACCOUNT, *NOT_SENT_ONCE, "admin.new_user"}  # an account made: walked above
    assert account_forms == walked, account_forms ^ walked
    assert not set(ACCOUNT) & set(NOT_SENT_ONCE)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    for endpoint in sorted(ACCOUNT):
        _walk_account(app, users, endpoint)


def _at_once(clients: list[Any], action: str, data: dict[str, Any]) -> list[Any]:
    """Each client sends ``data``, held at the flush of the change's audit event until the
    other got there."""
    gate = GatheringGate(AuditEvent, len(clients), patience=0.2)

    def sending(client: Any) -> Any:
        gate.arm()
        return client.post(action, data=data)

    with gate.installed():
        return list(run_together(*(lambda c=c: sending(c) for c in clients)))


def _walk_account(app: Flask, users: dict[str, int], endpoint: str) -> None:
    case = ACCOUNT[endpoint]
    target = users[case.target] if case.target else 0
    page, action = (u.format(target=target) for u in (case.page, case.action))
    password = KNOWN
    for turn, typed in enumerate(case.typed):
        if endpoint == "admin.unlock_user":
            _lock(app, "secretariat")
        clients = [_signed_in(app, case.who, password) for _ in range(2)]
        failures = _failures(app)
        changes = _changes(app, case.change)
        form = form_of(clients[0].get(page).get_data(as_text=True), action)
        assert form.get(FIELD), f"the form of {endpoint} carries no one-time key"
        data = {**{k: form.getlist(k)[0] for k in form}, **typed}
        if turn == 0:  # a double click
            first = clients[0].post(action, data=data)
            assert first.status_code in (200, 302, 303), (endpoint, first.status_code)
            second = clients[0].post(action, data=data)
            assert second.status_code == 303, (endpoint, second.status_code)
            shown = html.unescape(clients[0].get(second.headers["Location"]).get_data(True))
            assert "No se hizo nada más" in shown, (
                endpoint,
                re.findall(r"flash[^>]*>([^<]*)", shown),
            )
        else:  # two tabs at the same moment
            answers = _at_once(clients, action, data)
            codes = sorted(a.status_code for a in answers)
            assert codes[-1] < 500 and codes[0] in (200, 302, 303), (endpoint, codes)
            assert any(a.status_code in (303, 409) for a in answers), (endpoint, codes)
        assert _changes(app, case.change) == changes + 1, f"{endpoint}: changed twice"
        recorded, counted = _failures(app)  # (an unlock forgets some)
        assert recorded == failures[0] and counted <= failures[1], f"{endpoint}: failure counted"
        if endpoint == "auth.change_password":
            password = typed["password"]


def test_a_password_change_checked_after_its_first_sending_is_told_so(
    app: Flask, users: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second sending of a password change that looked for its key just before the first
    committed (a double click on a busy server) then checks the old password against the new
    one: it is told the form was already sent, not that the password is wrong, and its
    attempt is handed back (no failure counted toward a lock-out)."""
    client = _signed_in(app, "focal_gtm", KNOWN)
    form = form_of(client.get("/account").get_data(as_text=True), "/account/password")
    data = {**{k: form.getlist(k)[0] for k in form}, "current": KNOWN}
    data.update(password=NEW, confirm=NEW)
    assert client.post("/account/password", data=data).status_code == 302
    failures = _failures(app)
    looked = sent_once._earlier
    calls = []

    def too_early(*args: Any, **kwargs: Any) -> Any:  # the first look: before the commit
        calls.append(1)
        return None if len(calls) == 1 else looked(*args, **kwargs)

    monkeypatch.setattr(sent_once, "_earlier", too_early)
    again = client.post("/account/password", data=data)
    assert again.status_code == 303, again.status_code
    shown = html.unescape(client.get(again.headers["Location"]).get_data(as_text=True))
    assert "No se hizo nada más" in shown and "no es correcta" not in shown
    assert _failures(app) == failures
    assert _changes(app, "change_password") == 1


def test_signing_in_or_out_twice_is_no_harm(app: Flask, users: dict[str, int]) -> None:
    """Sign-in and sign-out are not sent once: signing in again with the right password
    counts no failure and signs in (a browser that gave up the first answer keeps the
    second's cookie); signing out again says it is done (it led to the sign-in page, whose
    next address was /logout, a POST)."""
    client = app.test_client()
    client.post("/language", data={"lang": "es", "next": "/"})
    failures = _failures(app)
    login = {"email": ACCOUNTS["analyst"][0], "password": KNOWN}
    assert [client.post("/login", data=login).status_code for _ in "12"] == [302, 302]
    assert _failures(app) == failures
    assert client.get("/account").status_code == 200
    assert client.post("/logout").status_code == 302
    again = client.post("/logout")
    assert again.status_code == 302 and again.headers["Location"] == "/", again.headers
    shown = html.unescape(client.get("/").get_data(as_text=True))
    assert "Ha cerrado sesión." in shown


# --------------------------------------------------------------------------- steps sent twice

run = test_review.run  # the fixture: the knowledge base and a run for two needs

YOURSELF = "usted mismo"  # the Spanish answer to a step that met only its sender's own change
SOMEONE = "Otra persona decidió"  # … and to one that met another person's


def _twice(client: Any, url: str, data: dict[str, Any]) -> str:
    """Send a step, then the very same request again: the first is done, the second refused
    (409) with the page as it is now; returns the second page."""
    first = client.post(url, data=data)
    assert first.status_code in (200, 302, 303), (url, first.status_code)
    second = client.post(url, data=data)
    assert second.status_code == 409, (url, second.status_code)
    return html.unescape(second.get_data(as_text=True))


def test_a_step_sent_twice_is_told_it_met_its_own_change(
    app: Flask, users: dict[str, int], run: Session, as_user: Any
) -> None:
    """Every step on a proposal carries the version it was taken on, so its second sending
    (a double click, back and send again, a retried call) is refused: it must say that the
    sender changed the proposal meanwhile, and what it is now, not that someone else decided
    it (what the pages said). A change by someone else is still told as such, and the API's
    retried call says the same in its message."""
    bra = prop(run, "BRA")
    focal = as_user("focal_bra")
    focal.post("/language", data={"lang": "es", "next": "/"})
    page = _twice(
        focal,
        f"/review/proposals/{bra.id}/response",
        {"response": "confirm", "version": bra.version},
    )
    assert YOURSELF in page and SOMEONE not in page
    assert "ahora está confirmada por el oferente" in page  # what it is now
    sec = as_user("secretariat")
    sec.post("/language", data={"lang": "es", "next": "/"})
    bra = prop(run, "BRA")
    steps = [
        ("decision", {"decision": "accept", "version": bra.version, "confirmed": "y"}, "aceptada"),
        (
            "revert",
            {"version": bra.version + 1, "reason": "too soon", "confirmed": "y"},
            "confirmada por el oferente",
        ),
    ]
    for step, data, now in steps:
        page = _twice(sec, f"/review/proposals/{bra.id}/{step}", data)
        assert YOURSELF in page and SOMEONE not in page, step
        assert f"ahora está {now}" in page, step
    other = ranked(run)[-1]
    for decision in ("reject", "veto"):
        data = {"decision": decision, "reason": "no", "version": other.version, "confirmed": "y"}
        page = _twice(sec, f"/review/proposals/{other.id}/decision", data)
        assert YOURSELF in page and SOMEONE not in page, decision
        assert "ahora está rechazada" in page, decision
        other = ranked(run)[-2]

    # another person's change is told as theirs
    third = ranked(run)[1]
    as_user("admin").post(
        f"/review/proposals/{third.id}/decision",
        data={"decision": "reject", "reason": "a", "version": third.version, "confirmed": "y"},
    )
    late = sec.post(
        f"/review/proposals/{third.id}/decision",
        data={"decision": "reject", "reason": "b", "version": third.version, "confirmed": "y"},
    )
    assert late.status_code == 409
    late_page = html.unescape(late.get_data(as_text=True))
    assert SOMEONE in late_page, re.findall(r"flash[^>]*>([^<]*)", late_page)

    # the API: a decision retried after a lost answer
    with Session(app.extensions["sscmatch.engine"]) as s:
        user = s.get(User, users["secretariat"])
        assert user is not None
        token = issue_api_token(s, user)
        s.commit()
    fourth = ranked(run, OTHER_NEED)[0]
    body = {"decision": "reject", "reason": "later", "version": fourth.version}
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "es"}
    url = f"/api/v1/proposals/{fourth.id}/decision"
    assert app.test_client().post(url, json=body, headers=headers).status_code == 200
    again = app.test_client().post(url, json=body, headers=headers)
    assert again.status_code == 409 and YOURSELF in again.get_json()["message"]


# --------------------------------------------------------------------------- the API's retries

THEMES = ["labour-inspection"]
# endpoint → (path, body) of one creation by the secretariat ({tour}, {proposal} as above)
API: dict[str, tuple[str, dict[str, Any]]] = {
    "api.api_need_create": ("/api/v1/needs", {"country": "GTM", "title": "n", "themes": THEMES}),
    "api.api_capacity_create": (
        "/api/v1/capacities",
        {"country": "BRA", "title": "c", "themes": THEMES},
    ),
    "api.api_exchange_create": (
        "/api/v1/exchanges",
        {
            "title": "e",
            "start": "2020-05",
            "providers": ["BRA"],
            "recipients": ["GTM"],
            "themes": THEMES,
        },
    ),
    "api.api_create_tour": ("/api/v1/tours", {"need": "N-1", "capacity": "C-1"}),
    "api.api_add_commitment": (
        "/api/v1/tours/{tour}/commitments",
        {"owner_country": "GTM", "description": "d"},
    ),
    "api.review_add_comment": ("/api/v1/proposals/{proposal}/comments", {"body": "b"}),
    "api.review_start_run": ("/api/v1/match-runs", {"top": 3}),
    "api.calibrations_create": ("/api/v1/calibrations", {"window": 3}),
}
API_MODELS = {
    "api.api_need_create": Need,
    "api.api_capacity_create": Capacity,
    "api.api_exchange_create": Exchange,
    "api.api_create_tour": StudyTour,
    "api.api_add_commitment": Commitment,
    "api.review_add_comment": ProposalComment,
    "api.review_start_run": MatchRun,
    "api.calibrations_create": Calibration,
}


def test_every_api_creation_retried_with_its_key_is_made_once(
    app: Flask, users: dict[str, int], tour_id: str
) -> None:
    """A client that lost the answer sends the same request again with the same
    ``Idempotency-Key``: nothing more is made, and the answer (303) leads to what the first
    made; the same request sent twice at once makes one record too. With another key, each
    request is a creation of its own (what a client asks)."""
    proposal = _scheduled(app, tour_id)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    with Session(app.extensions["sscmatch.engine"]) as s:
        user = s.get(User, users["secretariat"])
        assert user is not None
        token = issue_api_token(s, user)
        s.commit()
    for endpoint in sorted(API):
        _walk_api(app, endpoint, token, API[endpoint][0].format(tour=tour_id, proposal=proposal))


FRENCH = "Rien n’a été fait"  # the refusals of a key say nothing was done, in French


def _walk_api(app: Flask, endpoint: str, token: str, url: str) -> None:
    body = API[endpoint][1]
    model = API_MODELS[endpoint]

    def send(key: str, sent: Any = body, to: str = url) -> Any:
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
        return app.test_client().post(to, json=sent, headers={**headers, "Accept-Language": "fr"})

    before = _count(app, model)
    first = send(f"retry-0001-{endpoint}")
    assert first.status_code in (201, 202), (endpoint, first.get_json())
    again = send(f"retry-0001-{endpoint}")
    assert _count(app, model) == before + 1, f"{endpoint}: made twice"
    assert again.status_code == 303, (endpoint, again.status_code)
    assert again.headers["Location"] == first.headers["Location"]
    assert "Rien de plus" in again.get_json()["message"]
    # the same JSON written anew (another order, spaces) is the same request
    rewritten = json.dumps(dict(reversed(list(body.items()))), indent=1).encode()
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"retry-0001-{endpoint}"}
    anew = app.test_client().post(
        url, data=rewritten, headers={**headers, "Content-Type": "application/json"}
    )
    assert anew.status_code == 303, (endpoint, anew.status_code)
    # the same key with another body, or at another address: refused, nothing written
    reused = [send(f"retry-0001-{endpoint}", {**body, "note": "other"})]
    reused.append(
        send(
            f"retry-0001-{endpoint}",
            to="/api/v1/needs" if "needs" not in url else "/api/v1/capacities",
        )
    )
    for answer in reused:
        assert answer.status_code == 422, (endpoint, answer.status_code)
        said = answer.get_json()
        assert said["error"] == "idempotency_key_reused", (endpoint, said)
        assert "Idempotency-Key" in said["message"] and FRENCH in said["message"], said
    # a key of another shape is refused, not ignored (the request would run unguarded)
    for bad in ("short", "with a space", "é" * 10, "k" * 256, ""):
        refused = send(bad)
        assert refused.status_code == 400, (endpoint, bad, refused.status_code)
        said = refused.get_json()
        assert said["error"] == "invalid_idempotency_key" and FRENCH in said["message"], said
    assert _count(app, model) == before + 1, f"{endpoint}: a refused key wrote"
    assert send("another-key-of-a-client" + endpoint).status_code in (201, 202)
    assert _count(app, model) == before + 2

    gate = GatheringGate(model, 2, patience=0.2)

    def at_once() -> Any:
        gate.arm()
        return send(f"sent-from-two-threads-{endpoint}")

    with gate.installed():
        answers = run_together(at_once, at_once)
    codes = sorted(a.status_code for a in answers)
    assert codes[-1] < 500 and codes[0] in (201, 202), (endpoint, codes)
    assert _count(app, model) == before + 3, f"{endpoint}: made twice at once ({codes})"


# --------------------------------------------------------------------------- edits sent twice


@pytest.mark.one_case_on_postgresql(entity="need")
@pytest.mark.parametrize("entity", sorted(test_stale_edits.CASES))
def test_an_edit_sent_twice_is_told_it_is_already_saved(
    app: Flask, users: dict[str, int], entity: str
) -> None:
    """Every edit form, sent twice as it was (a double click on Save, back and send again):
    the second sending meets the version the first made; the page says the person changed
    the record themselves and that their values are already saved, not that someone else
    changed it. The same stale form sent with another value lists that field as one where
    saving again replaces what they saved before."""
    case = test_stale_edits.CASES[entity]
    people = test_stale_edits._people(app, case, "es")
    key = case.make(app, people)
    url = case.url(key)
    me = people[case.me]
    form = form_of(me.get(url).get_data(as_text=True), url)
    form.update({**case.extra, **case.confirmed})
    form[case.mine[0]] = case.mine[1]
    me.post(url, data=form)
    for value, said in ((case.mine[1], "ya están guardados"), ("Otro valor", "guardó antes")):
        form[case.mine[0]] = value
        again = me.post(url, data=form)
        assert again.status_code == 409, (entity, again.status_code)
        page = html.unescape(again.get_data(as_text=True))
        assert "Modificado por usted" in page and "otra persona" not in page, entity
        assert said in page, (entity, value)


def test_a_bulk_decision_sent_twice_is_told_it_met_its_own(
    app: Flask, users: dict[str, int], run: Session, as_user: Any
) -> None:
    """One decision over many proposals, sent twice: the second decides none and says they
    were decided by the sender meanwhile, not by someone else; another person's decision in
    between is still told as theirs."""
    sec = as_user("secretariat")
    sec.post("/language", data={"lang": "es", "next": "/"})
    mine, theirs = ranked(run, OTHER_NEED)[:2], ranked(run, OTHER_NEED)[2]
    items = [f"{p.id}:{p.version}" for p in [*mine, theirs]]
    as_user("admin").post(
        f"/review/proposals/{theirs.id}/decision",
        data={"decision": "reject", "reason": "a", "version": theirs.version, "confirmed": "y"},
    )
    data = {"decision": "reject", "item": items[:2], "reason": "no", "confirmed": "y"}
    sec.post("/review/bulk", data=data)
    again = sec.post("/review/bulk", data={**data, "item": items}, follow_redirects=True)
    page = html.unescape(again.get_data(as_text=True))
    assert "por usted" in page and f"{mine[0].id}, {mine[1].id}" in page
    assert f"otra persona, no decididas: {theirs.id}." in page


def test_two_drafts_of_one_accepted_match_at_once_make_one_tour(
    app: Flask, users: dict[str, int], tour_id: str
) -> None:
    """Two people (or a script and a person) draft the tour of one accepted proposal at the
    same moment, without a key in common: one tour is made, and both are answered with it."""
    with Session(app.extensions["sscmatch.engine"]) as s:
        tour = s.get(StudyTour, tour_id)
        assert tour is not None and tour.proposal_id is not None
        proposal = tour.proposal_id
        tour.status = "cancelled"  # called off: the accepted match gets a new draft
        s.add(tour)
        s.commit()
    app.config["PROPAGATE_EXCEPTIONS"] = False
    tokens = []
    with Session(app.extensions["sscmatch.engine"]) as s:
        for who in ("secretariat", "admin"):
            user = s.get(User, users[who])
            assert user is not None
            tokens.append(issue_api_token(s, user))
        s.commit()
    gate = GatheringGate(StudyTour, 2, patience=0.2)

    def draft(token: str) -> Any:
        gate.arm()
        headers = {"Authorization": f"Bearer {token}"}
        return app.test_client().post(
            "/api/v1/tours", json={"proposal_id": proposal}, headers=headers
        )

    with gate.installed():
        answers = run_together(*(lambda t=t: draft(t) for t in tokens))
    assert [a.status_code for a in answers] == [201, 201], [a.get_json() for a in answers]
    made = {a.get_json()["id"] for a in answers}
    with Session(app.extensions["sscmatch.engine"]) as s:
        live = s.exec(
            select(StudyTour.id).where(
                StudyTour.proposal_id == proposal, StudyTour.status != "cancelled"
            )
        ).all()
    assert len(live) == 1 and made == set(live), (made, live)


def test_the_same_step_sent_twice_at_once_is_told_it_met_its_own(
    app: Flask, users: dict[str, int], run: Session
) -> None:
    """The same answer sent twice at the same moment (a retried call racing the first, two
    tabs): both read the proposal at one version, the second's write finds it changed. That
    write names the record and the version it was read at, so the answer says the sender's
    own first sending changed it, not someone else."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    bra = prop(run, "BRA")
    with Session(app.extensions["sscmatch.engine"]) as s:
        user = s.get(User, users["focal_bra"])
        assert user is not None
        token = issue_api_token(s, user)
        s.commit()
    gate = FlushGate(Proposal)
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "es"}
    body = {"response": "confirm", "version": bra.version}

    def respond() -> Any:
        gate.arm()
        url = f"/api/v1/proposals/{bra.id}/response"
        return app.test_client().post(url, json=body, headers=headers)

    with gate.installed():
        answers = run_together(respond, respond)
    assert sorted(a.status_code for a in answers) == [200, 409]
    refused = next(a for a in answers if a.status_code == 409).get_json()
    assert YOURSELF in refused["message"], refused


def test_a_tour_step_sent_twice_is_told_it_met_its_own(
    app: Flask, users: dict[str, int], tour_id: str, as_user: Any
) -> None:
    """A study tour's step sent twice (the secretariat's *Propose* clicked twice): the second
    is refused on the version the first made and says the sender made it, in their language;
    the same step by another person in between is told as theirs."""
    sec = as_user("secretariat")
    sec.post("/language", data={"lang": "es", "next": "/"})
    step = {"version": "1", "to": "proposed"}
    assert sec.post(f"/tours/{tour_id}/status", data=step).status_code == 302
    again = sec.post(f"/tours/{tour_id}/status", data=step, follow_redirects=True)
    assert YOURSELF in html.unescape(again.get_data(as_text=True))
    as_user("admin").post(f"/tours/{tour_id}/status", data={"version": "2", "to": "draft"})
    late = sec.post(f"/tours/{tour_id}/status", data={"version": "2", "to": "agreed"})
    shown = html.unescape(sec.get(late.headers["Location"]).get_data(as_text=True))
    assert "otra persona" in shown and YOURSELF not in shown
