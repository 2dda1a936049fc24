"""The authorization matrix: every route of the app × every role × every method.

Routes come from the app's URL map, so a new route without an entry in POLICY fails here. The
expectations are written down independently of the code's ``@access`` rules: this table is the
policy, the code must follow it. Record-level rules are exercised with records of Guatemala:
``focal_gtm`` owns them, ``focal_bra`` does not (and is not involved in the sample proposal).

An allowed caller must not get 401/403 (nor a 5xx: an empty form or JSON body gets a 4xx message);
a refused caller gets 403; an anonymous caller is sent to sign in (pages) or gets 401 (API). A page
answered to a form sent empty passes the checks of ``test_accessible_pages`` as every page does.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from sqlmodel import Session, select

from sscmatch.models import AuditEvent
from tests.conftest import sign_in
from tests.web.test_fuzz_api import build_world

ROOT = Path(__file__).resolve().parents[2]
ROLES = ("admin", "secretariat", "analyst", "focal_gtm", "focal_bra")
EVERYONE = {"anonymous", *ROLES}
SIGNED_IN = set(ROLES)
STAFF = {"secretariat", "admin"}
READERS = {"secretariat", "admin", "analyst"}
OWNER = {"focal_gtm"}  # the focal point of the sample records' country
FOCAL = {"focal_gtm", "focal_bra"}

# endpoint → {method: who may call it}
POLICY: dict[str, dict[str, set[str]]] = {
    "static": {"GET": EVERYONE},
    "favicon": {"GET": EVERYONE},
    "main.index": {"GET": EVERYONE},
    "main.health": {"GET": EVERYONE},
    "auth.login": {"GET": EVERYONE, "POST": EVERYONE},
    "auth.logout": {"POST": EVERYONE},  # signed out already (a double click): it says so
    "auth.account": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "auth.change_password": {"POST": SIGNED_IN},
    "auth.change_language": {"POST": SIGNED_IN},
    "i18n.switch_language": {"POST": EVERYONE},
    # registry: everyone signed in reads; owners and staff write; staff endorse
    "registry.needs": {"GET": SIGNED_IN},
    "registry.need": {"GET": SIGNED_IN},
    "registry.need_new": {"GET": FOCAL | STAFF, "POST": FOCAL | STAFF},
    "registry.need_edit": {"GET": OWNER | STAFF, "POST": OWNER | STAFF},
    "registry.need_submit": {"POST": OWNER | STAFF},
    "registry.need_endorse": {"POST": STAFF},
    "registry.need_return": {"POST": STAFF},
    "registry.need_withdraw_endorsement": {"POST": STAFF},
    "registry.need_take_back": {"POST": OWNER | STAFF},
    "registry.need_withdraw": {"POST": OWNER | STAFF},
    "registry.need_reinstate": {"POST": OWNER | STAFF},
    "registry.capacities": {"GET": SIGNED_IN},
    "registry.capacity": {"GET": SIGNED_IN},
    "registry.capacity_new": {"GET": FOCAL | STAFF, "POST": FOCAL | STAFF},
    "registry.capacity_edit": {"GET": OWNER | STAFF, "POST": OWNER | STAFF},
    "registry.exchanges": {"GET": SIGNED_IN},
    "registry.exchange": {"GET": SIGNED_IN},
    "registry.suggest_themes": {"GET": SIGNED_IN},
    # exports of the lists, with their filters (sscmatch/web/exports.py)
    "registry.needs_export": {"GET": SIGNED_IN},
    "registry.capacities_export": {"GET": SIGNED_IN},
    "registry.exchanges_export": {"GET": SIGNED_IN},
    "review.proposals_export": {"GET": READERS},
    "review.my_proposals_export": {"GET": FOCAL},
    "followup.commitments_export": {"GET": SIGNED_IN},
    "review.awaiting_export": {"GET": READERS},
    "review.review_needs_export": {"GET": READERS},
    "tours.tours_export": {"GET": SIGNED_IN},
    "matching.runs_export": {"GET": READERS},
    "matching.calibrations_export": {"GET": READERS},
    "admin.users_export": {"GET": {"admin"}},
    "admin.audit_export": {"GET": {"admin"}},
    "network.countries_export": {"GET": SIGNED_IN},
    "review.vetoes_export": {"GET": READERS},
    "main.notices_export": {"GET": SIGNED_IN},  # one's own notices
    "admin.imports_export": {"GET": STAFF},
    "matching.run_export": {"GET": READERS},
    "network.charts_per_year_export": {"GET": SIGNED_IN},  # the charts page's tables
    "network.charts_supply_export": {"GET": SIGNED_IN},
    "network.charts_gaps_export": {"GET": SIGNED_IN},
    "network.charts_tops_export": {"GET": SIGNED_IN},
    # matching and review: staff decide, analysts read, focal points answer for their country
    "matching.runs": {"GET": READERS, "POST": STAFF},
    "matching.start": {"POST": STAFF},
    "matching.run": {"GET": READERS},
    "matching.status": {"GET": READERS},
    "matching.calibrate_confirm": {"GET": STAFF},
    "matching.calibrate": {"POST": STAFF},
    "matching.calibrations": {"GET": READERS},
    "matching.calibration": {"GET": READERS},
    "matching.calibration_status": {"GET": READERS},
    "review.queue": {"GET": READERS},
    "review.proposal": {"GET": READERS | OWNER},
    "review.decide": {"POST": STAFF},
    "review.my_proposals": {"GET": FOCAL},
    "review.respond": {"POST": OWNER},
    "review.awaiting": {"GET": READERS},
    "review.needs": {"GET": READERS},
    "review.need": {"GET": READERS},
    "review.vetoes": {"GET": READERS},
    "review.comment": {"POST": STAFF | OWNER},
    "review.revert": {"POST": STAFF},
    "review.lift_veto": {"POST": STAFF},
    "review.reopen_need": {"POST": STAFF},
    "review.bulk": {"POST": STAFF},
    "main.notices_page": {"GET": SIGNED_IN},
    "main.open_notice": {"POST": SIGNED_IN},
    "main.read_all_notices": {"POST": SIGNED_IN},
    # study tours and follow-up
    "tours.index": {"GET": SIGNED_IN},
    "tours.show": {"GET": SIGNED_IN},
    "tours.brief": {"GET": SIGNED_IN},
    "tours.ics": {"GET": SIGNED_IN},
    "tours.edit": {"GET": OWNER | STAFF, "POST": OWNER | STAFF},
    "tours.change_status": {"POST": OWNER | STAFF},
    "tours.add_commitment": {"POST": OWNER | STAFF},
    "tours.from_proposal": {"POST": STAFF},
    "followup.dashboard": {"GET": SIGNED_IN},
    "followup.commitments": {"GET": SIGNED_IN},
    "followup.commitment": {"GET": SIGNED_IN, "POST": OWNER | STAFF},
    # network: everyone signed in reads
    "network.index": {"GET": SIGNED_IN},
    "network.data": {"GET": SIGNED_IN},
    "network.exchanges": {"GET": SIGNED_IN},
    "network.download": {"GET": SIGNED_IN},
    "network.charts": {"GET": SIGNED_IN},
    "network.countries": {"GET": SIGNED_IN},
    "network.country": {"GET": SIGNED_IN},
    # administration
    "admin.users": {"GET": {"admin"}},
    "admin.new_user": {"GET": {"admin"}, "POST": {"admin"}},
    "admin.edit_user": {"GET": {"admin"}, "POST": {"admin"}},
    "admin.reset_password": {"POST": {"admin"}},
    "admin.unlock_user": {"POST": {"admin"}},
    "admin.reactivate_user": {"POST": {"admin"}},
    "admin.audit": {"GET": {"admin"}},
    "admin.audit_event": {"GET": {"admin"}},
    "admin.import_page": {"GET": STAFF, "POST": STAFF},
    "admin.import_job": {"GET": STAFF},
    "admin.import_status": {"GET": STAFF},
    # API: tokens only
    "api.openapi": {"GET": EVERYONE},
    "api.api_needs": {"GET": SIGNED_IN},
    "api.api_need": {"GET": SIGNED_IN},
    "api.api_need_create": {"POST": FOCAL | STAFF},
    "api.api_need_update": {"PUT": OWNER | STAFF, "PATCH": OWNER | STAFF},
    "api.api_need_submit": {"POST": OWNER | STAFF},
    "api.api_need_endorse": {"POST": STAFF},
    "api.api_need_return": {"POST": STAFF},
    "api.api_need_withdraw_endorsement": {"POST": STAFF},
    "api.api_need_take_back": {"POST": OWNER | STAFF},
    "api.api_need_withdraw": {"POST": OWNER | STAFF},
    "api.api_need_reinstate": {"POST": OWNER | STAFF},
    "api.api_capacities": {"GET": SIGNED_IN},
    "api.api_capacity": {"GET": SIGNED_IN},
    "api.api_capacity_create": {"POST": FOCAL | STAFF},
    "api.api_capacity_update": {"PUT": OWNER | STAFF, "PATCH": OWNER | STAFF},
    "api.api_exchanges": {"GET": SIGNED_IN},
    "api.api_exchange": {"GET": SIGNED_IN},
    "api.api_exchange_create": {"POST": STAFF},
    "api.api_exchange_update": {"PUT": STAFF, "PATCH": STAFF},
    "api.api_institutions": {"GET": SIGNED_IN},
    "api.api_institution": {"GET": SIGNED_IN},
    "api.review_need_matches": {"GET": READERS | OWNER},  # the need's country only
    "api.review_list_proposals": {"GET": READERS | FOCAL},
    "api.review_get_proposal": {"GET": READERS | OWNER},
    "api.review_decide": {"POST": STAFF},
    "api.review_respond": {"POST": OWNER},
    "api.review_start_run": {"POST": STAFF},
    "api.review_get_run": {"GET": READERS},
    "api.review_revert": {"POST": STAFF},
    "api.review_vetoes": {"GET": READERS},
    "api.review_lift_veto": {"POST": STAFF},
    "api.review_reopen_need": {"POST": STAFF},
    "api.review_bulk_decision": {"POST": STAFF},
    "api.review_comments": {"GET": READERS | OWNER},
    "api.review_add_comment": {"POST": STAFF | OWNER},
    "api.notices_list": {"GET": SIGNED_IN},
    "api.notices_read_one": {"POST": SIGNED_IN},
    "api.notices_read_all": {"POST": SIGNED_IN},
    "api.worklist": {"GET": SIGNED_IN},
    "api.calibrations_latest": {"GET": READERS},
    "api.calibrations_list": {"GET": READERS},
    "api.calibrations_create": {"POST": STAFF},
    "api.calibrations_get": {"GET": READERS},
    "api.api_tours": {"GET": SIGNED_IN},
    "api.api_tour": {"GET": SIGNED_IN},
    "api.api_create_tour": {"POST": STAFF},
    "api.api_update_tour": {"PATCH": OWNER | STAFF},
    "api.api_transition": {"POST": OWNER | STAFF},
    "api.api_tour_commitments": {"GET": SIGNED_IN},
    "api.api_add_commitment": {"POST": OWNER | STAFF},
    "api.api_commitments": {"GET": SIGNED_IN},
    "api.api_commitment": {"GET": SIGNED_IN},
    "api.api_update_commitment": {"POST": OWNER | STAFF},
    "api.network": {"GET": SIGNED_IN},
}


def _world(app: Flask, users: dict[str, int]) -> dict[str, Any]:
    """The fuzzers' records (Guatemala's, a proposal that involves Guatemala but not Brazil, a
    tour, a commitment, tokens) and a value for every URL argument."""
    return world_values(app, users, build_world(app, users))


def world_values(app: Flask, users: dict[str, int], world: dict[str, Any]) -> dict[str, Any]:
    """A value for every URL argument, and the tokens, of ``world`` (:func:`build_world`'s)."""
    with Session(app.extensions["sscmatch.engine"]) as s:
        event = s.exec(select(AuditEvent)).first()
        assert event is not None
        event_id = event.id
    return {
        "values": {
            "need_id": "N-GTM-1",
            "capacity_id": "C-GTM-1",
            "exchange_id": "s000-e02",
            "institution_id": "bra-abc",
            "proposal_id": world["proposal_id"],
            "run_id": world["run_id"],
            "calibration_id": 1,
            "job_id": 1,
            "tour_id": world["tour_id"],
            "commitment_id": "K-GTM-1",
            "event_id": event_id,
            "user_id": users["analyst"],
            "veto_id": 1,
            "notice_id": 1,
            "code": "GTM",
            "filename": "css/app.css",
            "fmt": "csv",
        },
        "tokens": world["tokens"],
    }


_CLIENTS: dict[tuple[int, str], Any] = {}


def _client(app: Flask, who: str, signed_in: Callable[[str], Any] | None = None) -> Any:
    """One signed-in client per role (signing in for every request would be slow), from
    ``signed_in`` when given (a shared world's: ``tests/web/world.py``)."""
    key = (id(app), who)
    if key not in _CLIENTS:
        if signed_in is not None:
            client = signed_in(who)
        else:
            client = app.test_client()
            if who != "anonymous":
                sign_in(client, who)
        _CLIENTS[key] = client
    return _CLIENTS[key]


def _call(
    app: Flask,
    who: str,
    method: str,
    path: str,
    tokens: dict[str, str],
    signed_in: Callable[[str], Any] | None = None,
) -> Any:
    headers = {}
    if path.startswith("/api/"):
        client = app.test_client()
        if who != "anonymous":
            headers["Authorization"] = f"Bearer {tokens[who]}"
        kwargs: dict[str, Any] = {"json": {}} if method != "GET" else {}
    else:
        client = _client(app, who, signed_in)
        if path == "/logout":
            _CLIENTS.pop((id(app), who), None)  # signed out: the next request signs in afresh
        kwargs = {"data": {}} if method != "GET" else {}
    response = client.open(path, method=method, headers=headers, **kwargs)
    response.close()  # file responses (static) hold their file open until closed
    return response


def test_every_route_has_a_policy(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert sorted(endpoints - set(POLICY)) == [], "add the new routes to POLICY"
    assert sorted(set(POLICY) - endpoints) == [], "POLICY names routes that no longer exist"


def test_authorization_matrix(app: Flask, users: dict[str, int]) -> None:
    # Every page answer of a form sent empty (a refused form, drawn again with its messages, or
    # an error page) passes the accessibility walk's checks too: the GET walk never sees them.
    from tests.web.test_accessible_pages import problems  # imported here: world.py imports us

    world = _world(app, users)
    failures = []
    checked = 0
    # The API first: POST /account issues a new token, which would retire the ones held here.
    rules = sorted(app.url_map.iter_rules(), key=lambda r: not r.rule.startswith("/api/"))
    for rule in rules:
        policy = POLICY.get(rule.endpoint, {})
        values = {arg: world["values"][arg] for arg in rule.arguments}
        with app.test_request_context():
            from flask import url_for

            path = url_for(rule.endpoint, **values)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            allowed = policy.get(method, set())
            for who in ("anonymous", *ROLES):
                response = _call(app, who, method, path, world["tokens"])
                status = response.status_code
                checked += 1
                if (
                    method == "POST"
                    and response.mimetype == "text/html"
                    and not 300 <= status < 400
                ):
                    wrong = problems(response.get_data(as_text=True))
                    if wrong:
                        failures.append(f"{method} {path} as {who}: {status} page: {wrong}")
                if status >= 500:
                    failures.append(f"{method} {path} as {who}: {status} (a 5xx is a bug)")
                elif who in allowed:
                    if status in (401, 403) or (
                        status == 302 and "/login" in response.headers.get("Location", "")
                    ):
                        failures.append(
                            f"{method} {path} as {who}: {status}, expected to be let in"
                        )
                elif who == "anonymous":
                    api = path.startswith("/api/")
                    ok = (
                        status == 401
                        if api
                        else status == 302 and "/login" in response.headers["Location"]
                    )
                    if not ok:
                        failures.append(
                            f"{method} {path} anonymously: {status}, expected {'401' if api else 'sign-in'}"
                        )
                elif status != 403:
                    failures.append(f"{method} {path} as {who}: {status}, expected 403")
    _CLIENTS.clear()
    assert checked > 500
    assert failures == [], "\n".join(failures)
