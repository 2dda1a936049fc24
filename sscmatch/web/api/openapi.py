"""``GET /api/v1/openapi.json``: the machine-readable description of the API."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify

from sscmatch import schemas
from sscmatch.web.access import PUBLIC, access
from sscmatch.web.api import OPENAPI_PATHS, NoBody, bp

SCHEMAS: dict[str, Any] = {
    "InstitutionCreate": schemas.InstitutionCreate,
    "CapacityCreate": schemas.CapacityCreate,
    "NeedCreate": schemas.NeedCreate,
    "ExchangeCreate": schemas.ExchangeCreate,
    "CommitmentCreate": schemas.CommitmentCreate,
    "NoBody": NoBody,
}


def spec() -> dict[str, Any]:
    components: dict[str, Any] = {}
    for name, model in SCHEMAS.items():
        # Nested models become components of their own (``$defs`` would not resolve here).
        found = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for nested, definition in found.pop("$defs", {}).items():
            components.setdefault(nested, definition)
        components[name] = found
    return {
        "openapi": "3.0.3",
        "info": {"title": "sscmatch API", "version": "1"},
        "servers": [{"url": "/api/v1"}],
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": {path.removeprefix("/api/v1"): ops for path, ops in sorted(OPENAPI_PATHS.items())},
    }


_CACHED: list[Any] = []


@bp.get("/openapi.json")
@access(PUBLIC)
def openapi() -> Any:
    # Routes and schemas are fixed once the app is built, so the document is built once.
    if not _CACHED:
        _CACHED.append(jsonify(spec()).get_data())
    return current_app.response_class(_CACHED[0], mimetype="application/json")
