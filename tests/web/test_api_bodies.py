"""An API route's body model is declared once (``@operation(body=...)``) and that one model both
describes the body in openapi.json and reads it: walked over every route that takes a body, the
model the request is validated with is the documented one."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask, url_for
from pydantic import BaseModel
from sqlmodel import SQLModel

from sscmatch.web.api import NoBody, operation
from tests.web.world import Walk, world_fixture

WRITES = {"POST", "PUT", "PATCH"}
shared_world = world_fixture()  # every body is refused: nothing written


@contextmanager
def _validations() -> Iterator[list[type[BaseModel]]]:
    """Every pydantic model a body is validated with meanwhile (``model_validate``, which
    SQLModel defines again for its models), in order."""
    seen: list[type[BaseModel]] = []
    originals = {base: base.__dict__["model_validate"] for base in (BaseModel, SQLModel)}

    def spy_on(original: Any) -> Any:
        def spy(cls: type[BaseModel], obj: Any, *args: Any, **kwargs: Any) -> Any:
            seen.append(cls)
            return original.__func__(cls, obj, *args, **kwargs)

        return classmethod(spy)

    for base, original in originals.items():
        setattr(base, "model_validate", spy_on(original))  # noqa: B010
    try:
        yield seen
    finally:
        for base, original in originals.items():
            setattr(base, "model_validate", original)  # noqa: B010


# A caller of each role (the first the route allows is the one who calls it).
CALLERS = {"admin": "admin", "secretariat": "secretariat", "focal_point": "focal_gtm"}


def _body_routes(
    app: Flask, values: dict[str, Any]
) -> Iterator[tuple[str, str, type[BaseModel], str]]:
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api."):
            continue
        view = app.view_functions[rule.endpoint]
        declared = getattr(view, "_operation", None)
        for method in sorted((rule.methods or set()) & WRITES):
            assert declared is not None and declared.body is not None, (
                f"{method} {rule.rule}: declare its body with @operation(body=...)"
            )
            path = _path(app, rule.endpoint, rule.arguments, values)
            caller = next((CALLERS[r] for r in CALLERS if r in view._access), "analyst")
            yield method, path, declared.body, caller


def _path(app: Flask, endpoint: str, arguments: Any, values: dict[str, Any]) -> str:
    with app.test_request_context():
        return url_for(endpoint, **{a: values.get(a, 1) for a in arguments})


def test_every_body_is_read_with_the_model_its_document_names(shared_world: Walk) -> None:
    app = shared_world.app
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    checked = 0
    wrong = []
    for method, path, model, caller in _body_routes(app, shared_world.values):
        documented = _documented(spec, method, path)
        assert documented == model.__name__, f"{method} {path}"
        client = app.test_client()
        with _validations() as seen:
            response = client.open(
                path,
                method=method,
                json={"no_such_field": 1},
                headers={"Authorization": f"Bearer {shared_world.tokens[caller]}"},
            )
        assert response.status_code < 500, f"{method} {path}: {response.status_code}"
        if model not in seen:
            answer = response.get_json()
            wrong.append(
                f"{method} {path}: documents {model.__name__}, validated {seen} "
                f"({response.status_code} {answer})"
            )
        checked += 1
    assert checked > 15
    assert not wrong, "\n".join(wrong)


def _documented(spec: dict[str, Any], method: str, path: str) -> str:
    """The component that documents the body of ``method path`` (path matched to its rule)."""
    for template, item in spec["paths"].items():
        pattern = re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path.removeprefix("/api/v1")) and method.lower() in item:
            body = item[method.lower()]["requestBody"]["content"]["application/json"]["schema"]
            return str(body["$ref"]).rsplit("/", 1)[1]
    raise AssertionError(f"{method} {path} is not in openapi.json")


class Thing(BaseModel):
    name: str


def test_a_view_cannot_take_another_model_than_it_declares() -> None:
    with pytest.raises(TypeError, match="declares body=Thing but takes body: NoBody"):

        @operation(body=Thing)
        def wrong(body: NoBody) -> None: ...

    with pytest.raises(TypeError, match="take it as `body` or `data`"):

        @operation(body=Thing)
        def unread() -> None: ...

    with pytest.raises(TypeError, match="a guard runs before a body"):

        @operation(guard=lambda: None)
        def guarded() -> None: ...

    @operation(body=Thing)
    def right(body: Thing) -> Any:
        return body

    assert right._operation.body is Thing  # type: ignore[attr-defined]
