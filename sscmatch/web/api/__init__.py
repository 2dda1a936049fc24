"""The JSON API under ``/api/v1`` (contract: ../shared/spec/interfaces.md).

Callers authenticate with ``Authorization: Bearer <token>`` only (the browser's session cookie is
ignored here, which is also why the API needs no CSRF token). Errors are always
``{"error": code, "message": text}`` with a 4xx status. Each area adds its routes in a module of
this package; ``openapi.json`` is derived from the routes themselves (:mod:`.openapi`): path,
methods and path parameters from the URL rule, who may call from ``@access``, the summary from
the view's docstring, and what the rule cannot say (request body model, query arguments, the
answers a caller must expect) from :func:`operation`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Blueprint, jsonify, request
from pydantic import BaseModel, ConfigDict, ValidationError

from sscmatch.schemas import MAX_INT, whole_number

PREFIX = "/api/v1"
bp = Blueprint("api", __name__, url_prefix=PREFIX)
F = TypeVar("F", bound=Callable[..., Any])


class ApiError(Exception):
    """Raise in a view to answer ``{"error": code, "message": message}`` with ``status`` (for
    what the edge itself refuses: a body, a query argument; a use case's refusal is its
    :class:`~sscmatch.workflow.base.DomainError`, answered by :mod:`sscmatch.web.errors`)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def paged(items: list[Any], *, page: int, per_page: int, pages: int, total: int) -> Any:
    """The JSON answer of every list endpoint: ``items`` and where they stand."""
    return jsonify(items=items, page=page, per_page=per_page, pages=pages, total=total)


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a 400 that says what was expected."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(
            400,
            "bad_json",
            "expected a JSON object in the request body (Content-Type: application/json)",
        )
    return data


class NoBody(BaseModel):
    """The body of a request that takes none: nothing, or an empty JSON object."""

    model_config = ConfigDict(extra="forbid")


def no_body() -> None:
    """Routes that take no body refuse one (400, or 422 naming the unexpected fields) instead
    of ignoring it: a client that sends a body expects it to be read. Declare them with
    ``@operation(body=NoBody, body_required=False)``."""
    if request.get_data(cache=True).strip():
        validated(NoBody, json_body())


def validated(schema: type[BaseModel], data: dict[str, Any]) -> Any:
    """Validate ``data`` with ``schema`` or answer 422 listing every field problem."""
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: "
            + str(e["msg"]).removeprefix("Value error, ")
            for e in exc.errors()
        )
        raise ApiError(422, "invalid", problems) from None


def int_arg(name: str, default: int, low: int, high: int) -> int:
    """A bounded integer query argument, or a 400 that names it."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    value = whole_number(raw, 0, MAX_INT)
    if value is None:
        raise ApiError(400, "bad_parameter", f"{name} must be a whole number") from None
    if not low <= value <= high:
        raise ApiError(400, "bad_parameter", f"{name} must be between {low} and {high}")
    return value


@dataclass(frozen=True)
class Operation:
    """What a route declares for openapi.json beyond what its URL rule, its ``@access`` and its
    docstring say: the model of its JSON body (a pydantic model: its JSON schema becomes a
    component), its query arguments, and the answers a caller must expect (status → what it
    means; 401, 403 for a role, 422 and 400 for a body, and 200 are added when they apply)."""

    body: type[BaseModel] | None = None
    body_required: bool = True
    query: tuple[dict[str, Any], ...] = ()
    responses: Mapping[str, str] = field(default_factory=dict)


def operation(
    *,
    body: type[BaseModel] | None = None,
    body_required: bool = True,
    query: tuple[dict[str, Any], ...] | list[dict[str, Any]] = (),
    responses: Mapping[str, str] | None = None,
) -> Callable[[F], F]:
    """Declare what openapi.json cannot read from the route (see :class:`Operation`); put it
    under the route and ``@access``. Routes that take no body but refuse one declare
    ``body=NoBody, body_required=False``."""
    declared = Operation(body, body_required, tuple(query), dict(responses or {}))

    def mark(view: F) -> F:
        view._operation = declared  # type: ignore[attr-defined]
        return view

    return mark


def query_arg(
    name: str, kind: str = "string", description: str = "", **schema: Any
) -> dict[str, Any]:
    """One query argument of an :func:`operation` (``schema`` adds to its JSON schema)."""
    found: dict[str, Any] = {"name": name, "in": "query", "required": False}
    found["schema"] = {"type": kind, **schema}
    if description:
        found["description"] = description
    return found


def load_modules() -> None:
    """Import the area modules of this package so their routes join the blueprint (a new area
    is added here; ``tests/test_architecture.py`` fails while one is missing). They import
    :data:`bp` from this module, hence the import here and not at the top."""
    from sscmatch.web.api import (  # noqa: F401
        calibrations,
        network,
        notices,
        openapi,
        registry,
        review,
        review_actions,
        tours,
    )
