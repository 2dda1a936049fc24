"""openapi.json is derived from the routes (sscmatch.web.api.openapi): it describes every route
of the API with its methods and path parameters, every reference in it resolves, and what each
operation says comes from the route's own declarations."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import jsonschema_rs
import pytest
from flask import Flask
from pydantic import TypeAdapter
from sqlmodel import Session, select

from sscmatch.models import Capacity, Need, Proposal
from sscmatch.schemas import MOMENT_PATTERN, Moment, moment_text
from sscmatch.web.access import PUBLIC
from sscmatch.web.api import Operation
from tests.web.test_authorization import _world


@pytest.fixture
def spec(client: Any) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.is_json
    document: dict[str, Any] = response.get_json()
    return document


def _api_rules(app: Flask) -> dict[str, set[str]]:
    """Every route under /api/: its path as OpenAPI writes it → its methods."""
    found: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        methods = {m.lower() for m in rule.methods or ()} - {"head", "options"}
        found.setdefault(path, set()).update(methods)
    return found


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, op in item.items():
            yield path, method, op


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_every_api_route_is_described_with_its_methods(app: Flask, spec: dict[str, Any]) -> None:
    routes = _api_rules(app)
    assert len(routes) > 30
    described = {path: set(item) for path, item in spec["paths"].items()}
    assert described == routes
    assert spec["servers"] == [{"url": "/api/v1"}]


def test_every_reference_resolves_and_every_component_is_used(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    refs = set(_refs(spec))
    assert refs, "the document references its components"
    for ref in refs:
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.rsplit("/", 1)[1] in schemas, f"{ref} does not resolve"
    used = {ref.rsplit("/", 1)[1] for ref in refs}
    assert used == set(schemas), f"components nothing refers to: {set(schemas) - used}"


def test_path_parameters_match_the_path(spec: dict[str, Any]) -> None:
    for path, method, op in _operations(spec):
        in_path = set(re.findall(r"\{(\w+)\}", path))
        declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
        assert declared == in_path, f"{method} {path}"
        assert all(p["required"] for p in op.get("parameters", []) if p["in"] == "path")
        names = [(p["name"], p["in"]) for p in op.get("parameters", [])]
        assert len(names) == len(set(names)), f"{method} {path}: a parameter twice"


def test_operations_are_named_summarised_and_answer_errors_in_one_shape(
    spec: dict[str, Any],
) -> None:
    ids = []
    for path, method, op in _operations(spec):
        where = f"{method} {path}"
        ids.append(op["operationId"])
        assert op["summary"].strip(), f"{where}: no docstring on its view"
        assert op["description"].startswith("Allowed roles: "), where
        assert any(code.startswith("2") for code in op["responses"]), where
        for code, answer in op["responses"].items():
            assert answer["description"], f"{where} {code}"
            if code.startswith("4"):
                schema = answer["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, f"{where} {code}"
        if method in ("post", "put", "patch"):
            assert "requestBody" in op, f"{where}: declare its body (@operation(body=...))"
    assert len(ids) == len(set(ids)), "operationIds are unique"


def test_what_an_operation_says_comes_from_its_route(app: Flask, spec: dict[str, Any]) -> None:
    """Roles from @access, the token from PUBLIC, the body from @operation: a change to the
    route changes the document."""
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api."):
            continue
        view = app.view_functions[rule.endpoint]
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        declared: Operation = getattr(view, "_operation", Operation())
        for method in {m.lower() for m in rule.methods or ()} - {"head", "options"}:
            op = spec["paths"][path][method]
            public = PUBLIC in view._access
            assert (op.get("security") == []) == public, f"{method} {path}"
            assert ("401" in op["responses"]) != public, f"{method} {path}"
            if declared.body is None:
                assert "requestBody" not in op
            else:
                body = op["requestBody"]["content"]["application/json"]["schema"]
                assert body == {"$ref": f"#/components/schemas/{declared.body.__name__}"}
                assert op["requestBody"]["required"] == declared.body_required
    need = spec["paths"]["/needs/{need_id}"]
    assert set(need) == {"get", "put", "patch"}
    assert need["put"]["description"].startswith("Allowed roles: focal_point, secretariat, admin.")
    assert need["get"]["description"] == "Allowed roles: any signed-in user."
    assert need["put"]["operationId"] != need["patch"]["operationId"]
    proposal = spec["paths"]["/proposals/{proposal_id}"]["get"]["parameters"]
    assert proposal == [
        {
            "name": "proposal_id",
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 0},
        }
    ]


def test_request_models_are_components_with_their_nested_models(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    update = schemas["TourUpdate"]
    assert "$defs" not in update
    agenda = update["properties"]["agenda"]["anyOf"][0]["items"]
    assert agenda == {"$ref": "#/components/schemas/Day"}
    assert {"Day", "AgendaSession", "Member", "NeedCreate", "NoBody", "Error"} <= set(schemas)


# --------------------------------------------------------------------------- timestamps

# Anything in an answer that reads as a moment (a date, then a time).
LOOKS_LIKE_A_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def _properties(node: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every property of every schema under ``node`` (``where`` names it), also inside
    ``anyOf`` and ``items``."""
    if isinstance(node, dict):
        for name, value in node.get("properties", {}).items():
            yield f"{where}.{name}", value
        for key, value in node.items():
            if key != "properties":
                yield from _properties(value, where)
            else:
                for name, nested in value.items():
                    yield from _properties(nested, f"{where}.{name}")
    elif isinstance(node, list):
        for value in node:
            yield from _properties(value, where)


def _alternatives(schema: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"]


def test_every_timestamp_field_is_written_one_way(spec: dict[str, Any]) -> None:
    """Every timestamp of every answer model is the shared ``Moment`` (ISO 8601 in UTC with
    ``Z``): a ``date-time`` field documents its pattern, and a field named ``at`` or ``*_at``
    is a ``date-time``. The walk of real answers checks the values against the pattern."""
    moment = TypeAdapter(Moment).json_schema(mode="serialization")
    found = []
    for name, schema in spec["components"]["schemas"].items():
        for where, prop in _properties(schema, name):
            field = where.rsplit(".", 1)[1]
            for kind in _alternatives(prop):
                if kind.get("format") == "date-time":
                    written = {key: kind.get(key) for key in moment}
                    assert written == moment, f"{where}: declare it as sscmatch.schemas.Moment"
                    found.append(where)
                elif field == "at" or field.endswith("_at"):
                    pytest.fail(f"{where} looks like a timestamp: declare it as Moment")
    assert len(found) >= 20, found
    for model in ("JobState", "CalibrationRecord", "NoticeRecord", "VetoRecord", "TourSummary"):
        assert any(where.startswith(f"{model}.") for where in found), model


@pytest.mark.parametrize(
    ("moment", "written"),
    [
        (datetime(2026, 12, 3, 13, 5, 0, 120, tzinfo=UTC), "2026-12-03T13:05:00.000120Z"),
        (datetime(2026, 12, 3, 13, 5), "2026-12-03T13:05:00Z"),  # naive: stored as UTC
        (datetime(2026, 12, 3, 9, 5, tzinfo=timezone(timedelta(hours=-4))), "2026-12-03T13:05:00Z"),
    ],
)
def test_a_moment_is_written_in_utc_with_z(moment: datetime, written: str) -> None:
    assert moment_text(moment) == written
    assert TypeAdapter(Moment).dump_python(moment, mode="json") == written
    assert re.fullmatch(MOMENT_PATTERN, written)
    assert datetime.fromisoformat(written) == moment.replace(tzinfo=moment.tzinfo or UTC)


def _moments(node: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """Every string in a JSON answer that reads as a moment, with where it is."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _moments(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _moments(value, f"{where}[{index}]")
    elif isinstance(node, str) and LOOKS_LIKE_A_MOMENT.match(node):
        yield where, node


# --------------------------------------------------------------------------- 2xx answers


def _answer_schema(spec: dict[str, Any], op: dict[str, Any], code: int) -> dict[str, Any] | None:
    answer = op["responses"].get(str(code), {})
    schema = answer.get("content", {}).get("application/json", {}).get("schema")
    return None if schema is None else {**schema, "components": spec["components"]}


def _operation_of(spec: dict[str, Any], rule: Any, method: str) -> dict[str, Any]:
    path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
    op: dict[str, Any] = spec["paths"][path][method.lower()]
    return op


def _mismatch(spec: dict[str, Any], op: dict[str, Any], response: Any) -> str | None:
    """Why a real 2xx JSON answer does not match the schema documented for its status."""
    schema = _answer_schema(spec, op, response.status_code)
    if schema is None:
        return f"{response.status_code} has no documented schema"
    errors = [e.message for e in jsonschema_rs.Draft202012Validator(schema).iter_errors(
        response.get_json()
    )]  # fmt: skip
    return "; ".join(errors[:3]) or None


def test_every_record_answer_is_documented_and_real_answers_match(
    app: Flask, users: dict[str, int], spec: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each route that answers a record says so (``@operation(returns=...)``) and documents the
    record's schema for its 2xx answers; every route's real answers are walked (reads with the
    authorization world's ids, the registry's writes by a focal point and the secretariat, every
    documented ``format`` of a read) and each documented answer validates against its schema;
    every media type a route answers with is documented for its status, and every documented
    one was answered."""
    world = _world(app, users)
    values = world["values"]
    rules = {r.endpoint: r for r in app.url_map.iter_rules() if r.endpoint.startswith("api.")}
    declared = set()
    for endpoint, rule in rules.items():
        name = endpoint.removeprefix("api.")
        returns = getattr(app.view_functions[endpoint], "_operation", Operation()).returns
        for method in {m for m in rule.methods or () if m not in ("HEAD", "OPTIONS")}:
            op = _operation_of(spec, rule, method)
            documented = [
                c for c, a in op["responses"].items() if c.startswith("2") and "content" in a
            ]
            assert returns is not None, f"{method} {rule.rule}: declare @operation(returns=...)"
            assert documented, f"{method} {rule.rule}: no 2xx answer documents its schema"
            declared.add((name, method))
    assert len(declared) >= 50

    checked: set[tuple[str, str]] = set()
    wrong: list[str] = []
    moments: set[str] = set()  # where the answers carried one
    answered: dict[tuple[str, str], set[str]] = {}  # the media types each operation answered

    def check(who: str, method: str, path: str, walking: bool = False, **kwargs: Any) -> Any:
        token = world["tokens"][who]
        response = app.test_client().open(
            path, method=method, headers={"Authorization": f"Bearer {token}"}, **kwargs
        )
        if walking and response.status_code >= 300:
            return None  # a read the world cannot answer (no calibration yet): nothing to check
        assert response.status_code < 300, f"{method} {path}: {response.get_data(as_text=True)}"
        endpoint = app.url_map.bind("").match(path, method=method)[0]
        name = endpoint.removeprefix("api.")
        op = _operation_of(spec, rules[endpoint], method)
        if response.get_data():
            listed = op["responses"][str(response.status_code)].get("content", {})
            answered.setdefault((name, method), set()).add(response.mimetype)
            if response.mimetype not in listed:
                wrong.append(f"{method} {path}: answers {response.mimetype}, not in {set(listed)}")
        if response.is_json:
            problem = _mismatch(spec, _operation_of(spec, rules[endpoint], method), response)
            if problem:
                wrong.append(f"{method} {path}: {problem}")
            for where, text in _moments(response.get_json()):
                moments.add(re.sub(r"\[\d+\]", "[]", where))
                if not re.fullmatch(MOMENT_PATTERN, text):
                    wrong.append(f"{method} {path}: {where} = {text!r} is not ISO 8601 UTC with Z")
            checked.add((name, method))
        return response.get_json() if response.is_json else None

    with app.test_request_context():
        from flask import url_for

        for endpoint, rule in rules.items():
            if "GET" in (rule.methods or ()) and all(a in values for a in rule.arguments):
                path = url_for(endpoint, **{a: values[a] for a in rule.arguments})
                for who in ("secretariat", "focal_gtm"):
                    check(who, "GET", path, walking=True)
    need = {"title": "Occupational safety in ports", "themes": ["labour-inspection"]}
    made = check("focal_gtm", "POST", "/api/v1/needs", json={**need, "desired_from": "2031-07"})
    at = f"/api/v1/needs/{made['id']}"
    made = check("focal_gtm", "PATCH", at, json={"version": made["version"], "desired_to": "2032"})
    made = check("focal_gtm", "PUT", at, json={**need, "version": made["version"]})
    made = check("focal_gtm", "POST", f"{at}/submit", json={"version": made["version"]})
    made = check("secretariat", "POST", f"{at}/return", json={"note": "Say which ports."})
    work = [check("focal_gtm", "GET", "/api/v1/worklist")]
    made = check("focal_gtm", "POST", f"{at}/submit")
    check("focal_gtm", "POST", f"{at}/take-back")
    made = check("focal_gtm", "POST", f"{at}/submit")
    check("secretariat", "POST", f"{at}/endorse")
    check("secretariat", "POST", f"{at}/withdraw-endorsement")
    check("secretariat", "POST", f"{at}/endorse")
    check("focal_gtm", "POST", f"{at}/withdraw", json={"reason": "Solved at home."})
    check("focal_gtm", "POST", f"{at}/reinstate")
    capacity = {"title": "Port inspection teams", "themes": ["labour-inspection"]}
    made = check("focal_gtm", "POST", "/api/v1/capacities", json=capacity)
    at = f"/api/v1/capacities/{made['id']}"
    made = check("focal_gtm", "PATCH", at, json={"version": made["version"], "title": "Teams"})
    check("focal_gtm", "PUT", at, json={**capacity, "version": made["version"]})
    exchange = {"start": "2019-03", "themes": ["labour-inspection"], "providers": ["BRA"]}
    exchange |= {"recipients": ["GTM"]}
    made = check("secretariat", "POST", "/api/v1/exchanges", json=exchange)
    at = f"/api/v1/exchanges/{made['id']}"
    made = check("secretariat", "PATCH", at, json={"version": made["version"], "end": "2019-04"})
    check("secretariat", "PUT", at, json={**exchange, "version": made["version"]})
    with Session(app.extensions["sscmatch.engine"]) as s:
        brazil = s.exec(select(Capacity).where(Capacity.country == "BRA")).first()
        assert brazil is not None
    made = check(
        "secretariat", "POST", "/api/v1/tours", json={"need": "N-GTM-1", "capacity": brazil.id}
    )
    at = f"/api/v1/tours/{made['id']}"
    change = {"version": made["version"], "title": "Port inspections", "start": "2031-09-08"}
    change |= {"end": "2031-09-12"}
    made = check("secretariat", "PATCH", at, json=change)
    for status in ("proposed", "agreed", "scheduled"):  # commitments come at the closing
        step = {"to": status, "version": made["version"]}
        made = check("secretariat", "POST", f"{at}/transition", json=step)
    promise = {"owner_country": "GTM", "description": "Adopt a checklist", "due": "2031-12"}
    made = check("secretariat", "POST", f"{at}/commitments", json=promise)
    check("secretariat", "POST", f"{at}/commitments", json={**promise, "due": "2031-09-30"})
    update = {"version": made["version"], "status": "in_progress"}
    check("secretariat", "POST", f"/api/v1/commitments/{made['id']}/updates", json=update)
    proposal = f"/api/v1/proposals/{values['proposal_id']}"
    check("secretariat", "POST", f"{proposal}/comments", json={"body": "Is the school ready?"})
    with Session(app.extensions["sscmatch.engine"]) as s:
        stored = s.get(Proposal, values["proposal_id"])
        assert stored is not None
        answer = "fits" if stored.recipient == "GTM" else "confirm"
    made = check(
        "focal_gtm",
        "POST",
        f"{proposal}/response",
        json={"response": answer, "version": stored.version},
    )
    accept = {"decision": "accept", "version": made["version"], "override": True}
    check(
        "secretariat",
        "POST",
        f"{proposal}/decision",
        json={**accept, "reason": "Urgent.", "dry_run": True},
    )
    reject = {"decision": "reject", "version": made["version"], "reason": "Too far."}
    made = check("secretariat", "POST", f"{proposal}/decision", json=reject)["proposal"]
    undo = {"version": made["version"], "reason": "Decided too fast."}
    made = check("secretariat", "POST", f"{proposal}/revert", json=undo)["proposal"]
    many = {"decision": "reject", "reason": "Not now.", "dry_run": True}
    many |= {"items": [{"id": made["id"], "version": made["version"]}]}
    check("secretariat", "POST", "/api/v1/proposals/bulk-decision", json=many)
    version = made["version"]
    veto = {"decision": "veto", "reason": "Not this pair again.", "version": version}
    check("secretariat", "POST", f"{proposal}/decision", json=veto)
    for pair in check("secretariat", "GET", "/api/v1/vetoes")["items"][:1]:
        check("secretariat", "POST", f"/api/v1/vetoes/{pair['id']}/lift", json={"reason": "Ok."})
    for who in ("focal_gtm", "secretariat"):
        mine = check(who, "GET", "/api/v1/notices")
        for notice in mine["items"][:1]:
            check(who, "POST", f"/api/v1/notices/{notice['id']}/read")
        check(who, "POST", "/api/v1/notices/read")
    with Session(app.extensions["sscmatch.engine"]) as s:
        closed = s.exec(select(Need).where(Need.status.in_(("matched", "closed")))).first()
        assert closed is not None
        reopen = {"version": closed.version, "reason": "The ministry asks again."}
    check("secretariat", "POST", f"/api/v1/needs/{closed.id}/reopen", json=reopen)
    check("secretariat", "GET", f"/api/v1/needs/{closed.id}/matches", query_string={"top": 2})
    run = check("secretariat", "POST", "/api/v1/match-runs", json={"needs": [closed.id], "top": 2})
    check("secretariat", "GET", f"/api/v1/match-runs/{run['id']}")
    made = check("secretariat", "POST", "/api/v1/calibrations", json={"window": 2})
    check("secretariat", "GET", f"/api/v1/calibrations/{made['id']}")
    check("secretariat", "GET", "/api/v1/calibrations")
    check("secretariat", "GET", "/api/v1/calibrations/latest", walking=made["status"] != "done")
    graph = check("focal_gtm", "GET", "/api/v1/network", query_string={"format": "json"})
    assert graph["nodes"] and graph["links"], "the world's network has countries and links"
    link = {key: graph["links"][0][key] for key in ("source", "target", "kind")}
    assert check("focal_gtm", "GET", "/api/v1/network", query_string=link)["total"] > 0
    found = check("focal_gtm", "GET", "/api/v1/network", query_string={"node": link["source"]})
    assert {item["role"] for item in found["exchanges"]} <= {"provider", "recipient", "participant"}
    formats = 0
    with app.test_request_context():
        from flask import url_for

        for endpoint, rule in rules.items():  # every documented format of every read
            if "GET" not in (rule.methods or ()) or not all(a in values for a in rule.arguments):
                continue
            path = url_for(endpoint, **{a: values[a] for a in rule.arguments})
            for asked in _operation_of(spec, rule, "GET").get("parameters", []):
                if asked["name"] == "format" and asked["in"] == "query":
                    for fmt in asked["schema"]["enum"]:
                        check("secretariat", "GET", path, query_string={"format": fmt})
                        formats += 1
    assert formats >= 5, "the network's formats were asked"
    monkeypatch.setitem(app.config, "TODAY", "2031-09-25")  # a commitment is due in 5 days
    work += [check(who, "GET", "/api/v1/worklist") for who in ("secretariat", "focal_gtm")]
    kinds = {
        item["type"] for w in work for listed in w["lists"].values() for item in listed["items"]
    }
    assert {"commitment", "need", "proposal", "study_tour"} <= kinds, kinds
    assert not wrong, "answers that do not match their documentation:\n" + "\n".join(wrong)
    seen = {".updated_at", ".items[].created_at", ".job.started_at", ".proposal.updated_at"}
    seen |= {".history[].at", ".read_at", ".submitted_at", ".review.at", ".reverted.reverted_at"}
    assert seen <= moments, f"answers never carried {seen - moments}"
    assert declared <= checked, f"never answered: {sorted(declared - checked)}"
    for name, method in declared:  # nothing documented that no call answered
        rule = rules[f"api.{name}"]
        op = _operation_of(spec, rule, method)
        listed = {kind for c, a in op["responses"].items() if c.startswith("2")
                  for kind in a.get("content", {})}  # fmt: skip
        seen_media = answered.get((name, method), set())
        assert listed <= seen_media, f"{method} {rule.rule}: never answered {listed - seen_media}"
    network = answered[("network", "GET")]
    assert {"text/csv", "application/graphml+xml", "application/gexf+xml"} <= network
