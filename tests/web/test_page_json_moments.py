"""Every JSON answer of the pages (outside ``/api/``: a job's status that its page polls, the
network's data, the theme picker, JSON exports, the health check) writes its timestamps as the
API does, through :func:`sscmatch.schemas.moment_text`: ISO 8601 in UTC with ``Z``.

The routes come from the URL map: every GET page route is called with real records (a match
run, a calibration and an import, each carried out by its job), and every answer whose
mimetype is JSON is walked for strings that read as a moment. A route that answers JSON only for
some query (``@answers_json(when)``) is called with the query of :data:`JSON_QUERIES`, and every
route marked ``@answers_json`` must have answered JSON, so a new one is not left out."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, url_for
from sqlmodel import Session, col, select

from sscmatch.models import Calibration, Job, MatchRun
from sscmatch.schemas import MOMENT_PATTERN
from sscmatch.web.exports import FORMATS
from tests.conftest import sign_in
from tests.web.test_authorization import _world
from tests.web.test_hardening import GOOD_NEED, NEEDS_HEADER, _upload, _zip
from tests.web.test_openapi import _moments

# The query that makes a route answer JSON when it answers JSON only for some requests.
JSON_QUERIES: dict[str, dict[str, str]] = {
    "network.exchanges": {"format": "json", "node": "GTM"},
}
# Where the walked answers must have carried a moment (so the walk is not vacuous).
MUST_CARRY = {
    "matching.status": {".created_at", ".finished_at", ".job.created_at", ".job.finished_at"},
    "matching.calibration_status": {".job.created_at", ".job.started_at", ".job.finished_at"},
    "admin.import_status": {".created_at", ".started_at", ".finished_at"},
    "registry.needs_export": {".exported"},
}


def _jobs_done(app: Flask, users: dict[str, int]) -> dict[str, Any]:
    """The authorization tests' records, and a match run, a calibration and an import each
    started from its page and carried out by its job (``JOBS_SYNC``): values for every URL
    argument."""
    values = dict(_world(app, users)["values"])
    staff = sign_in(app.test_client(), "secretariat")
    started = staff.post(
        "/matching/runs", data={"scope": "selected", "needs": ["N-GTM-1"], "top": 3}
    )
    assert started.status_code == 302, started.get_data(as_text=True)[:500]
    assert staff.post("/matching/calibrations", data={"window": "2"}).status_code == 302
    bundle = _zip({"needs.csv": (NEEDS_HEADER + GOOD_NEED).encode()})
    assert _upload(staff, "bundle.zip", bundle).status_code == 200
    with Session(app.extensions["sscmatch.engine"]) as s:
        run = s.exec(select(MatchRun).order_by(col(MatchRun.id).desc())).first()
        calibration = s.exec(select(Calibration).order_by(col(Calibration.id).desc())).first()
        imported = s.exec(select(Job).where(Job.kind == "import")).first()
        assert run and calibration and imported
        assert (run.status, calibration.status, imported.status) == ("done", "done", "done")
        values.update(run_id=run.id, calibration_id=calibration.id, job_id=imported.id)
    return values


def _paths(app: Flask, values: dict[str, Any]) -> list[tuple[str, str]]:
    """(endpoint, path) of every GET page route, once for each export format."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") or "GET" not in (rule.methods or ()):
            continue
        if rule.endpoint == "static":
            continue
        formats = FORMATS if "fmt" in rule.arguments else (None,)
        for fmt in formats:
            args = {name: values[name] for name in rule.arguments if name != "fmt"}
            if fmt is not None:
                args["fmt"] = fmt
            with app.test_request_context():
                path = url_for(rule.endpoint, **args, **JSON_QUERIES.get(rule.endpoint, {}))
            found.append((rule.endpoint, path))
    return found


def test_every_json_answer_of_the_pages_writes_moments_one_way(
    app: Flask, users: dict[str, int]
) -> None:
    values = _jobs_done(app, users)
    clients = {who: sign_in(app.test_client(), who) for who in ("admin", "focal_gtm")}
    answered: set[str] = set()
    carried: dict[str, set[str]] = {}
    wrong: list[str] = []
    for endpoint, path in _paths(app, values):
        response = clients["admin"].get(path)
        if response.status_code == 403:  # a focal point's own page
            response = clients["focal_gtm"].get(path)
        assert response.status_code < 500, f"{path}: {response.status_code}"
        if response.mimetype != "application/json":
            continue
        assert response.status_code == 200, f"{path}: {response.get_data(as_text=True)[:300]}"
        answered.add(endpoint)
        for where, text in _moments(response.get_json()):
            carried.setdefault(endpoint, set()).add(re.sub(r"\[\d+\]", "[]", where))
            if not re.fullmatch(MOMENT_PATTERN, text):
                wrong.append(f"GET {path}: {where} = {text!r} is not ISO 8601 UTC with Z")
    assert not wrong, "timestamps not written by moment_text:\n" + "\n".join(wrong)
    marked = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if hasattr(app.view_functions[rule.endpoint], "_answers_json")
    }
    assert marked <= answered, f"marked @answers_json, never answered JSON: {marked - answered}"
    assert set(JSON_QUERIES) <= answered
    assert {"main.health", "registry.suggest_themes", "review.proposals_export"} <= answered
    for endpoint, fields in MUST_CARRY.items():
        assert fields <= carried.get(endpoint, set()), (endpoint, carried.get(endpoint))
