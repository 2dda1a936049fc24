"""openapi.json is derived from the routes (sscmatch.web.api.openapi): it describes every route
of the API with its methods and path parameters, every reference in it resolves, and what each
operation says comes from the route's own declarations."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from sscmatch.web.access import PUBLIC
from sscmatch.web.api import Operation


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
