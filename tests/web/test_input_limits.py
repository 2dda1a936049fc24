"""Unbounded and malformed input (issue 13, class 6): every text a client can send has a limit,
and a value beyond it is refused with a 4xx that writes nothing, whatever the field.

- every string of every input schema (the records' ``*Create`` schemas, which bundles, forms and
  the API go through, and every request body of openapi.json, nested ones included) declares a
  ``maxLength``, every list a ``maxItems``, every integer a ``maximum``;
- each text field of each record schema, one at a time, given one character too many, is refused
  by the schema with the field named;
- each text field of each API request body (found from openapi.json, nested agenda sessions and
  delegation members included), one at a time, given one character too many in an otherwise
  valid request, gets a 4xx with a message, and every table is as it was.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from pydantic import BaseModel, ValidationError
from sqlmodel import Session, select

from sscmatch import schemas
from sscmatch.models import Capacity, Need, StudyTour, utcnow
from tests.web.test_fuzz_api import build_world, table_digest

RECORD_SCHEMAS: dict[type[BaseModel], dict[str, Any]] = {
    schemas.ThemeCreate: {"id": "t-1", "label_en": "A theme"},
    schemas.InstitutionCreate: {"id": "i-1", "name": "A ministry", "country": "GTM"},
    schemas.CapacityCreate: {
        "id": "C-1",
        "country": "GTM",
        "title": "t",
        "themes": ["labour-inspection"],
    },
    schemas.NeedCreate: {
        "id": "N-1",
        "country": "GTM",
        "title": "t",
        "themes": ["labour-inspection"],
    },
    schemas.ExchangeCreate: {
        "id": "E-1",
        "start": "2020",
        "providers": ["BRA"],
        "recipients": ["GTM"],
        "themes": ["labour-inspection"],
    },
    schemas.CommitmentCreate: {"id": "K-1", "owner_country": "GTM", "description": "d"},
}


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = spec["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _unbounded(spec: dict[str, Any], node: dict[str, Any], where: str) -> Iterator[str]:
    """Paths in a JSON schema where a string, list or integer has no upper bound."""
    node = _resolve(spec, node)
    for option in node.get("anyOf", []):
        yield from _unbounded(spec, option, where)
    kind = node.get("type")
    if kind == "string" and "maxLength" not in node and "enum" not in node:
        yield f"{where}: string without maxLength"
    if kind == "integer" and "maximum" not in node:
        yield f"{where}: integer without maximum"
    if kind == "array":
        if "maxItems" not in node:
            yield f"{where}: list without maxItems"
        yield from _unbounded(spec, node.get("items", {}), f"{where}[]")
    for name, prop in node.get("properties", {}).items():
        yield from _unbounded(spec, prop, f"{where}.{name}")


def _inputs(spec: dict[str, Any]) -> set[str]:
    """The components a request body reaches, nested ones included (answers such as the error
    shape are output: the server writes them)."""
    refs = [
        body["content"]["application/json"]["schema"]["$ref"]
        for item in spec["paths"].values()
        for op in item.values()
        if (body := op.get("requestBody"))
    ]
    found: set[str] = set()
    while refs:
        name = refs.pop().rsplit("/", 1)[1]
        if name not in found:
            found.add(name)
            refs += list(_refs_in(spec["components"]["schemas"][name]))
    return found


def _refs_in(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from [value] if key == "$ref" else _refs_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs_in(value)


def test_every_input_schema_bounds_every_string_list_and_integer(app: Flask) -> None:
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    inputs = _inputs(spec)
    assert {"NeedCreate", "TourUpdate", "AgendaSession", "Member", "Decision"} <= inputs
    assert "Error" not in inputs
    found = [
        p
        for name, s in spec["components"]["schemas"].items()
        if name in inputs
        for p in _unbounded(spec, s, name)
    ]
    for model in RECORD_SCHEMAS:
        own = {
            "components": {
                "schemas": model.model_json_schema(ref_template="#/components/schemas/{model}").get(
                    "$defs", {}
                )
            }
        }
        found += list(
            _unbounded(
                own,
                model.model_json_schema(ref_template="#/components/schemas/{model}"),
                model.__name__,
            )
        )
    assert found == []


def _text_fields(model: type[BaseModel]) -> Iterator[tuple[str, int, bool]]:
    """(field, its maxLength, whether it is a list of strings) for every text field."""
    for name, prop in model.model_json_schema()["properties"].items():
        options = prop.get("anyOf", [prop])
        for option in options:
            if option.get("type") == "string" and "maxLength" in option:
                yield name, option["maxLength"], False
            items = option.get("items", {})
            if option.get("type") == "array" and items.get("type") == "string":
                yield name, items.get("maxLength", 0), True


@pytest.mark.parametrize("model", list(RECORD_SCHEMAS), ids=lambda m: m.__name__)
def test_every_text_field_of_every_record_schema_refuses_one_character_too_many(
    model: type[BaseModel],
) -> None:
    base = RECORD_SCHEMAS[model]
    model.model_validate(base)  # the base is valid
    fields = list(_text_fields(model))
    assert len(fields) >= 3
    for name, limit, is_list in fields:
        long = "x" * (limit + 1)
        with pytest.raises(ValidationError) as refused:
            model.model_validate({**base, name: [long] if is_list else long})
        assert name in {str(e["loc"][0]) for e in refused.value.errors()}, (model, name)


# --------------------------------------------------------------------------- the API


def _world_bodies(app: Flask, users: dict[str, int]) -> tuple[dict[str, Any], list[Any]]:
    world = build_world(app, users)
    with Session(app.extensions["sscmatch.engine"]) as s:
        tour = s.get(StudyTour, world["tour_id"])
        assert tour is not None
        tour.status, tour.start, tour.end = "scheduled", "2026-03-02", "2026-03-04"
        s.add(tour)
        s.add(
            Need(
                id="N-GTM-SUB",
                country="GTM",
                title="Waiting for endorsement",
                themes=["labour-inspection"],
                submitted_at=utcnow(),
            )
        )
        provider = s.exec(
            select(Capacity.id).where(Capacity.country == "BRA", Capacity.status == "published")
        ).first()
        s.commit()
    pid, tid = world["proposal_id"], world["tour_id"]
    need = {"country": "GTM", "title": "t", "themes": ["labour-inspection"]}
    capacity = {**need, "title": "c"}
    exchange = {
        "start": "2020",
        "providers": ["BRA"],
        "recipients": ["GTM"],
        "themes": ["labour-inspection"],
    }
    session = {"start": "09:00", "end": "10:00", "kind": "opening", "title": "s", "place": "p"}
    member = {
        "side": "visiting",
        "name": "n",
        "role": "r",
        "institution": "i",
        "constituency": "government",
    }
    # (method, path, schema, valid body); "{v}" is replaced by the record's current version
    bodies: list[Any] = [
        ("POST", "/api/v1/needs", "NeedCreate", need),
        ("PUT", "/api/v1/needs/N-GTM-1", "NeedCreate", {**need, "version": "{v}"}),
        ("POST", "/api/v1/capacities", "CapacityCreate", capacity),
        ("PUT", "/api/v1/capacities/C-GTM-1", "CapacityCreate", {**capacity, "version": "{v}"}),
        ("POST", "/api/v1/exchanges", "ExchangeCreate", exchange),
        ("PUT", "/api/v1/exchanges/s000-e02", "ExchangeCreate", {**exchange, "version": "{v}"}),
        ("POST", "/api/v1/needs/N-GTM-SUB/return", "NeedReturn", {"note": "n"}),
        (
            "POST",
            f"/api/v1/proposals/{pid}/response",
            "ProposalResponse",
            {"response": "fits", "note": "n", "version": "{v}"},
        ),
        (
            "POST",
            f"/api/v1/proposals/{pid}/decision",
            "Decision",
            {"decision": "reject", "reason": "r", "version": "{v}"},
        ),
        ("POST", "/api/v1/match-runs", "MatchRunRequest", {"needs": ["N-GTM-1"]}),
        ("POST", "/api/v1/tours", "TourCreate", {"need": "N-GTM-1", "capacity": provider}),
        (
            "PATCH",
            f"/api/v1/tours/{tid}",
            "TourUpdate",
            {
                "version": "{v}",
                "title": "t",
                "modality": "study_tour",
                "objective": "o",
                "expected_change": "e",
                "start": "2026-03-02",
                "end": "2026-03-04",
                "languages": ["es"],
                "agenda": [{"day": 1, "sessions": [session]}],
                "delegation": [member],
                "funders": ["bra-abc"],  # a known institution: unknown funders are refused
            },
        ),
        (
            "POST",
            f"/api/v1/tours/{tid}/commitments",
            "CommitmentNew",
            {"owner_country": "GTM", "description": "d", "due": "2026-09", "evidence": "e"},
        ),
        (
            "POST",
            "/api/v1/commitments/K-GTM-1/updates",
            "CommitmentChange",
            {
                "version": "{v}",
                "status": "in_progress",
                "evidence": "e",
                "due": "2026-09",
                "note": "n",
            },
        ),
        (
            "POST",
            f"/api/v1/tours/{tid}/transition",
            "TourTransition",
            {"to": "agreed", "version": "{v}", "note": "n"},
        ),
    ]
    return world, bodies


def _paths_of_text(
    spec: dict[str, Any], schema: dict[str, Any], body: Any
) -> Iterator[tuple[tuple[Any, ...], int]]:
    """(path into the body, maxLength) of every text the body holds, as the schema bounds it."""
    schema = _resolve(spec, schema)
    for option in schema.get("anyOf", []):
        if option.get("type") != "null":
            yield from _paths_of_text(spec, option, body)
            return
    if isinstance(body, dict):
        for name, value in body.items():
            prop = schema.get("properties", {}).get(name)
            if prop is not None:
                for path, limit in _paths_of_text(spec, prop, value):
                    yield (name, *path), limit
    elif isinstance(body, list) and body:
        for path, limit in _paths_of_text(spec, schema.get("items", {}), body[0]):
            yield (0, *path), limit
    elif isinstance(body, str) and body != "{v}" and "maxLength" in schema:
        yield (), schema["maxLength"]


def _with(body: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = list(body) if isinstance(body, list) else dict(body)
    copy[path[0]] = _with(body[path[0]], path[1:], value)
    return copy


def _version(client: Any, headers: dict[str, str], path: str) -> int:
    read = path.removesuffix("/decision").removesuffix("/response").removesuffix("/transition")
    read = read.removesuffix("/updates")
    return int(client.get(read, headers=headers).get_json()["version"])


def test_every_text_field_of_every_api_body_refuses_one_character_too_many(
    app: Flask, users: dict[str, int]
) -> None:
    world, bodies = _world_bodies(app, users)
    client = app.test_client()
    spec = client.get("/api/v1/openapi.json").get_json()
    engine = app.extensions["sscmatch.engine"]
    app.config["PROPAGATE_EXCEPTIONS"] = False
    problems: list[str] = []
    tried = 0
    for method, path, name, valid in bodies:
        who = "focal_gtm" if path.endswith("/response") else "secretariat"
        headers = {"Authorization": f"Bearer {world['tokens'][who]}"}
        component = spec["components"]["schemas"].get(name) or {"properties": {}}
        fields = list(_paths_of_text(spec, component, valid))
        assert fields, f"{name}: no text field found in the body of {method} {path}"
        for field, limit in fields:
            body = valid
            if "{v}" in str(valid):
                body = {**valid, "version": _version(client, headers, path)}
            before = table_digest(engine)
            response = client.open(
                path, method=method, headers=headers, json=_with(body, field, "x" * (limit + 1))
            )
            tried += 1
            where = f"{method} {path} {'.'.join(map(str, field))}"
            if not 400 <= response.status_code < 500:
                problems.append(f"{where}: {response.status_code}")
            elif not (response.get_json(silent=True) or {}).get("message"):
                problems.append(f"{where}: no error message")
            elif table_digest(engine) != before:
                problems.append(f"{where}: refused but a table changed")
        # The same request within the limits goes through: the refusals were the lengths'.
        if "{v}" in str(valid):
            valid = {**valid, "version": _version(client, headers, path)}
        accepted = client.open(path, method=method, headers=headers, json=valid)
        if not 200 <= accepted.status_code < 300:
            problems.append(
                f"{method} {path} within the limits: {accepted.status_code} "
                f"{accepted.get_data(as_text=True)[:200]}"
            )
    assert tried > 40
    assert problems == [], "\n".join(problems)
