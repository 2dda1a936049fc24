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

import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Blueprint, jsonify, request
from flask_babel import LazyString
from pydantic import BaseModel, ConfigDict, ValidationError

from sscmatch.schemas import MAX_INT, whole_number
from sscmatch.workflow.base import N_

PREFIX = "/api/v1"
bp = Blueprint("api", __name__, url_prefix=PREFIX)
F = TypeVar("F", bound=Callable[..., Any])


class ApiError(Exception):
    """Raise in a view to answer ``{"error": code, "message": message}`` with ``status`` (for
    what the edge itself refuses: a body, a query argument; a use case's refusal is its
    :class:`~sscmatch.workflow.base.DomainError`, answered by :mod:`sscmatch.web.errors`).

    ``message`` is an English message of the catalogue (marked with :func:`N_`) with
    ``%(name)s`` placeholders filled from ``params``, or a lazy string; either is said in the
    caller's language when the error is answered (:meth:`said`), the code stays as it is."""

    def __init__(self, status: int, code: str, message: str | LazyString, /, **params: Any):
        self.status, self.code, self.message, self.params = status, code, message, params
        super().__init__(message % params if params and isinstance(message, str) else message)

    def said(self) -> str:
        """The message in the current request's language (the caller's account's)."""
        if not isinstance(self.message, str):
            return str(self.message)
        from sscmatch.web.tourtext import message  # the edge's; imports this module's users

        return message(self.message, self.params)


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
            N_("expected a JSON object in the request body (Content-Type: application/json)"),
        )
    return data


class NoBody(BaseModel):
    """The body of a request that takes none: nothing, or an empty JSON object. Routes that
    refuse a body (400, or 422 naming the unexpected fields) instead of ignoring it declare
    ``@operation(body=NoBody, body_required=False)``: a client that sends one expects it read."""

    model_config = ConfigDict(extra="forbid")


def validated(schema: type[BaseModel], data: dict[str, Any]) -> Any:
    """Validate ``data`` with ``schema`` or answer 422 listing every field problem."""
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        problems = [
            (".".join(str(p) for p in e["loc"]), str(e["msg"]).removeprefix("Value error, "))
            for e in exc.errors()
        ]
        raise ApiError(422, "invalid", LazyString(_problems_text, problems)) from None


def _problems_text(problems: list[tuple[str, str]]) -> str:
    """Each field problem of a body, ``field: problem``, the problem in the reader's language
    (pydantic's and our schemas' sentences, through :func:`sscmatch.web.messages.translated`)."""
    from sscmatch.web.fieldnames import field_label
    from sscmatch.web.messages import translated
    from sscmatch.web.translate import gettext

    body = gettext("body")  # the problem of no field: the body as a whole
    return "; ".join(f"{field_label(where) or body}: {translated(msg)}" for where, msg in problems)


def _an_integer(raw: str) -> bool:
    """Whether ``raw`` writes an integer at all (``-1``, ``99999999999``): then the answer names
    the range it must be in, not "a whole number"."""
    text = raw.strip()
    return text.lstrip("+-").isascii() and text.lstrip("+-").isdigit() and len(text) < 40


def int_arg(name: str, default: int, low: int, high: int) -> int:
    """A bounded integer query argument, or a 400 that names it."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    value = whole_number(raw, 0, MAX_INT)
    if value is None and not _an_integer(raw):
        raise ApiError(
            400, "bad_parameter", N_("%(name)s must be a whole number"), name=name
        ) from None
    if value is None or not low <= value <= high:  # -1 is a whole number, out of range
        raise ApiError(
            400,
            "bad_parameter",
            N_("%(name)s must be between %(low)s and %(high)s"),
            name=name,
            low=low,
            high=high,
        )
    return value


@dataclass(frozen=True)
class PageOf:
    """What a list endpoint answers (:func:`paged`): ``items`` of ``item``, and ``page``,
    ``per_page``, ``pages``, ``total`` (and the whole numbers named in ``counts``, as the
    notices' ``unread``)."""

    item: type[BaseModel]
    counts: tuple[str, ...] = ()


@dataclass(frozen=True)
class ItemsOf:
    """What an unpaged list answers: ``{"items": [...]}`` of ``item``."""

    item: type[BaseModel]


@dataclass(frozen=True)
class Operation:
    """What a route declares for openapi.json beyond what its URL rule, its ``@access`` and its
    docstring say: the model of its JSON body (a pydantic model: its JSON schema becomes a
    component), its query arguments, the answers a caller must expect (status → what it
    means; 401, 403 for a role, 422 and 400 for a body, and 200 are added when they apply), the
    record its 2xx JSON answer carries and the other media types a 2xx answer may come in."""

    body: type[BaseModel] | None = None
    body_required: bool = True
    query: tuple[dict[str, Any], ...] = ()
    responses: Mapping[str, str] = field(default_factory=dict)
    returns: type[BaseModel] | PageOf | ItemsOf | None = None
    media: tuple[str, ...] = ()


def operation(
    *,
    body: type[BaseModel] | None = None,
    body_required: bool = True,
    query: tuple[dict[str, Any], ...] | list[dict[str, Any]] = (),
    responses: Mapping[str, str] | None = None,
    guard: Callable[..., Any] | None = None,
    returns: type[BaseModel] | PageOf | ItemsOf | None = None,
    media: tuple[str, ...] | list[str] = (),
) -> Callable[[F], F]:
    """Declare what openapi.json cannot read from the route (see :class:`Operation`); put it
    under the route and ``@access``.

    The body model declared here is also the one the request is read with, so the document and
    the check cannot disagree. The view takes what it needs by the name of its parameter:

    - ``body: Model`` — the body validated by ``Model`` (the annotation must name the declared
      model: checked here, at import);
    - ``data: dict[str, Any]`` — the JSON object as sent, for a use case that validates it with
      the declared model itself (the registry's, which fill in ids and owners first);
    - neither — only for ``body=NoBody, body_required=False``: a body, if any, is refused.

    ``body_required=False``: an empty request body reads as ``{}``. ``guard`` is called with the
    path arguments before the body is read (404 or 403 first: a caller without rights learns
    nothing from the body's errors). ``returns``: the model of the record a 2xx answer carries
    (or :class:`PageOf` / :class:`ItemsOf` it), its JSON schema in openapi.json; build the
    answer through that model so the two agree. ``media``: the media types other than JSON a
    2xx answer may come in (a file export: ``text/csv``...), each documented as a string.
    """
    if "application/json" in media:
        raise TypeError("media lists the types other than application/json")
    declared = Operation(
        body,
        body_required,
        tuple(query),
        dict(responses or {}),
        returns,
        tuple(dict.fromkeys(media)),
    )

    def mark(view: F) -> F:
        if body is None:
            if guard is not None:
                raise TypeError(f"{view.__qualname__}: a guard runs before a body; declare one")
            view._operation = declared  # type: ignore[attr-defined]
            return view
        takes = _body_parameter(view, body)

        @functools.wraps(view)
        def read_body(*args: Any, **kwargs: Any) -> Any:
            if guard is not None:
                guard(**kwargs)
            if not body_required and not request.get_data(cache=True).strip():
                data: dict[str, Any] = {}
            else:
                data = json_body()
            if takes == "data":
                kwargs["data"] = data
            else:
                checked = validated(body, data)
                if takes == "body":
                    kwargs["body"] = checked
            return view(*args, **kwargs)

        read_body._operation = declared  # type: ignore[attr-defined]
        return read_body  # type: ignore[return-value]

    return mark


def _body_parameter(view: Callable[..., Any], model: type[BaseModel]) -> str | None:
    """How ``view`` takes the body ``model`` declares (see :func:`operation`), or TypeError."""
    parameters = inspect.signature(view).parameters
    where = f"{view.__module__}.{view.__qualname__}"
    if "body" in parameters:
        annotation = parameters["body"].annotation
        named = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
        if named != model.__name__:
            raise TypeError(f"{where} declares body={model.__name__} but takes body: {named}")
        return "body"
    if "data" in parameters:
        return "data"
    if model is NoBody:
        return None
    raise TypeError(f"{where} declares body={model.__name__}: take it as `body` or `data`")


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
