"""``GET /api/v1/openapi.json``: the machine-readable description of the API, derived from the
routes themselves.

apispec builds the document (components, references, the OpenAPI version's shape) and its Flask
plugin turns each route's URL rule into its path. What each operation says comes from what the
route already declares, so a route cannot be missing or described apart from its code:

- path, methods and path parameters (``<int:...>`` is an integer): the URL rule;
- who may call it, the token it needs, and the 401/403 it may answer: ``@access``;
- summary (first paragraph) and description (the rest): the view's docstring;
- request body (a pydantic model, its JSON schema a component of the same name, nested models
  components of their own), query arguments, the answers a caller must expect and the record a
  2xx answer carries (``returns``: a model, or a page of them) and the other media types it may
  come in (``media``, each a string): :func:`sscmatch.web.api.operation`; every 4xx answer is
  the one error shape, ``Error``.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

from apispec import APISpec
from apispec_webframeworks.flask import FlaskPlugin
from flask import Flask, current_app
from pydantic import BaseModel, ConfigDict
from pydantic.json_schema import JsonSchemaMode
from werkzeug.routing import Rule

from sscmatch.web.access import PUBLIC, ROLES, SIGNED_IN, access
from sscmatch.web.api import PREFIX, ItemsOf, Operation, PageOf, bp, operation

METHODS = ("get", "put", "patch", "post", "delete")
_ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")

ERROR = {
    "type": "object",
    "description": "Every error answer: a code (`not_found`, `forbidden`, `invalid`, …) and a "
    "sentence saying what is wrong.",
    "properties": {
        "error": {"type": "string"},
        "message": {"type": "string"},
        "fields": {
            "type": "object",
            "description": "Input refused field by field: each field at fault (its code, as "
            "the body names it) and what is wrong with it, in the reader's language (the "
            "message names the fields by their labels).",
            "additionalProperties": {"type": "string"},
        },
    },
    "required": ["error", "message"],
}


class OpenApiDocument(BaseModel):
    """An OpenAPI 3 document: its version, what it describes (``info``) and its paths (the
    rest, components and security, as OpenAPI defines them)."""

    model_config = ConfigDict(extra="allow")
    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]


class ApiPlugin(FlaskPlugin):
    """FlaskPlugin's path for a view, relative to the API's server URL (``/api/v1``)."""

    def path_helper(self, *args: Any, **kwargs: Any) -> str | None:
        path = super().path_helper(*args, **kwargs)
        return path.removeprefix(PREFIX) if path else path


def _roles(allowed: frozenset[str]) -> str:
    if PUBLIC in allowed:
        return "anyone (no token needed)"
    if SIGNED_IN in allowed:
        return "any signed-in user"
    return ", ".join(role for role in ROLES if role in allowed)


def _docstring(view: Any) -> tuple[str, str]:
    """The summary (first paragraph, on one line) and the rest of a view's docstring."""
    text = inspect.cleandoc(view.__doc__ or "")
    first, _, rest = text.partition("\n\n")
    return " ".join(first.split()), rest.strip()


def _path_parameters(rule: Rule) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 0}
            if converter == "int"
            else {"type": "string"},
        }
        for converter, name in _ARGUMENT.findall(rule.rule)
    ]


def _add_model(spec: APISpec, model: type[BaseModel], mode: JsonSchemaMode = "validation") -> str:
    """``model``'s JSON schema as a component named after the class (its nested models as
    components of their own: ``$defs`` would not resolve there); returns the name. A request
    body is read (``validation``), an answer written (``serialization``)."""
    name = model.__name__
    known = spec.components.schemas
    found = model.model_json_schema(ref_template="#/components/schemas/{model}", mode=mode)
    for nested, definition in found.pop("$defs", {}).items():
        if known.get(nested, definition) != definition:
            raise ValueError(f"two models are called {nested}")
        if nested not in known:
            spec.components.schema(nested, definition)
    if name in known:
        if known[name] != found:
            raise ValueError(f"two models are called {name}")
        return name
    spec.components.schema(name, found)
    return name


IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 8, "maxLength": 255},
    "description": (
        "A key of the client's own (8-255 printable ASCII characters, no spaces: a UUID, for "
        "example), new for each request and the same when it sends the request again after a "
        "lost answer: the request is then carried out once, and the retry (the same address "
        "and body; JSON may be written anew) answers 303 to what the first made. A key of "
        "another shape is refused (400 invalid_idempotency_key); the same key with another "
        "body or address is refused (422 idempotency_key_reused); nothing is done either "
        "way. Keys are each user's own and kept 30 days"
    ),
}


def _operation(spec: APISpec, rule: Rule, view: Any, method: str, shared: bool) -> dict[str, Any]:
    """The operation ``method`` of ``rule`` (``shared``: the view serves other methods too)."""
    declared: Operation = getattr(view, "_operation", Operation())
    allowed: frozenset[str] = getattr(view, "_access", frozenset())
    summary, more = _docstring(view)
    name = rule.endpoint.removeprefix(f"{bp.name}.")
    operation: dict[str, Any] = {
        "operationId": f"{name}_{method}" if shared else name,
        "summary": summary,
        "description": f"Allowed roles: {_roles(allowed)}." + (f"\n\n{more}" if more else ""),
    }
    parameters = [*_path_parameters(rule), *declared.query]
    if getattr(view, "_sent_once", False):  # sscmatch.web.sent_once
        parameters.append(IDEMPOTENCY_KEY)
    if parameters:
        operation["parameters"] = parameters
    responses: dict[str, str] = {}
    if PUBLIC in allowed:
        operation["security"] = []
    else:
        responses["401"] = "no or bad token"
        if SIGNED_IN not in allowed:
            responses["403"] = "not allowed for your role"
    if declared.body is not None:
        name = _add_model(spec, declared.body)
        operation["requestBody"] = {
            "required": declared.body_required,
            "content": {"application/json": {"schema": name}},
        }
        responses["400"] = "the body is not a JSON object"
        responses["422"] = "invalid body: every field problem is named"
    responses.update(declared.responses)
    if getattr(view, "_sent_once", False):
        responses["303"] = (
            "sent before with this Idempotency-Key: nothing more was done; Location is what "
            "the first request made"
        )
    if not any(code.startswith("2") for code in responses):
        responses["200"] = "OK"
    answer = _answer_schema(spec, declared.returns)
    operation["responses"] = {
        code: _response(code, text, answer, declared.media)
        for code, text in sorted(responses.items())
    }
    return operation


def _answer_schema(spec: APISpec, returns: type[BaseModel] | PageOf | ItemsOf | None) -> Any:
    """The JSON schema of a 2xx answer: the record's model, or a list (a page) of them."""
    if returns is None:
        return None
    if isinstance(returns, PageOf | ItemsOf):
        item = _add_model(spec, returns.item, "serialization")
        items = {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}}
        numbers: tuple[str, ...] = ()
        if isinstance(returns, PageOf):
            numbers = ("page", "per_page", "pages", "total", *returns.counts)
        whole = {"type": "integer", "minimum": 0}
        return {
            "type": "object",
            "properties": {"items": items, **dict.fromkeys(numbers, whole)},
            "required": ["items", *numbers],
        }
    return _add_model(spec, returns, "serialization")


def _response(code: str, text: str, answer: Any, media: tuple[str, ...]) -> dict[str, Any]:
    if code == "303":
        return {"description": text, "headers": {"Location": {"schema": {"type": "string"}}}}
    if code.startswith("2"):
        content = {} if answer is None else {"application/json": {"schema": answer}}
        content |= {kind: {"schema": {"type": "string"}} for kind in media}
        return {"description": text, "content": content} if content else {"description": text}
    return {"description": text, "content": {"application/json": {"schema": "Error"}}}


def spec(app: Flask) -> dict[str, Any]:
    """The OpenAPI document of every route of the API blueprint in ``app``."""
    document = APISpec(
        title="sscmatch API",
        version="1",
        openapi_version="3.0.3",
        plugins=[ApiPlugin()],
        servers=[{"url": PREFIX}],
        security=[{"bearer": []}],
    )
    document.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    document.components.schema("Error", ERROR)
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith(f"{bp.name}.")]
    for rule in sorted(rules, key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        methods = [m for m in METHODS if m.upper() in (rule.methods or ())]
        document.path(
            view=view,
            app=app,
            operations={
                method: _operation(document, rule, view, method, len(methods) > 1)
                for method in methods
            },
        )
    return document.to_dict()


_CACHED: list[Any] = []


@bp.get("/openapi.json")
@access(PUBLIC)
@operation(returns=OpenApiDocument, responses={"200": "the document"})
def openapi() -> Any:
    """This document: the API's paths, who may call each, bodies and answers (OpenAPI 3)."""
    # Routes and schemas are fixed once the app is built, so the document is built once.
    if not _CACHED:
        document = OpenApiDocument.model_validate(spec(current_app)).model_dump(mode="json")
        _CACHED.append(current_app.json.dumps(document).encode())
    return current_app.response_class(_CACHED[0], mimetype="application/json")
