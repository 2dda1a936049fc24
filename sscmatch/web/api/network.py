"""``GET /api/v1/network``: the (filtered) cooperation network, or a country's or a link's
exchanges, for analysts' own tools."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from sscmatch import analytics
from sscmatch.analytics.payload import EXTENSIONS, LAYOUTS, MEDIA_TYPES, asked_subject
from sscmatch.vocab import load_vocabulary
from sscmatch.web.access import SIGNED_IN, access
from sscmatch.web.api import ApiError, bp, operation, query_arg
from sscmatch.web.db import get_session

_FILTER_PARAMS: list[dict[str, Any]] = [
    {
        "name": "theme",
        "in": "query",
        "schema": {"type": "string"},
        "description": "theme id; its sub-themes are included",
    },
    {
        "name": "year_from",
        "in": "query",
        "schema": {"type": "integer"},
        "description": "first year (of the exchange's start)",
    },
    {
        "name": "year_to",
        "in": "query",
        "schema": {"type": "integer"},
        "description": "last year (of the exchange's start)",
    },
    {
        "name": "region",
        "in": "query",
        "schema": {"type": "string"},
        "description": "M49 region (Africa, Americas, Asia, Europe, Oceania): exchanges "
        "involving a "
        "country of the region",
    },
    query_arg("modality"),
    {
        "name": "constituency",
        "in": "query",
        "schema": {"type": "string"},
        "description": "constituency of a partner institution of the exchange",
    },
]


@bp.get("/network")
@access(SIGNED_IN)
@operation(
    query=[
        {
            "name": "format",
            "in": "query",
            "schema": {"type": "string", "enum": list(analytics.FORMATS), "default": "json"},
            "description": "json is networkx node-link data (nx.node_link_graph(d, edges='links'))",
        },
        {
            "name": "layout",
            "in": "query",
            "schema": {"type": "string", "enum": list(LAYOUTS)},
            "description": "positions x, y of the nodes: capitals (geo) or force-directed (spring)",
        },
        {
            "name": "node",
            "in": "query",
            "schema": {"type": "string"},
            "description": "a country code: answer its exchanges instead of the network",
        },
        query_arg("source"),
        query_arg("target"),
        {
            "name": "kind",
            "in": "query",
            "schema": {"type": "string", "enum": ["directed", "joint"]},
        },
        *_FILTER_PARAMS,
    ],
    responses={
        "200": "the network in the chosen format, or the exchanges as JSON",
        "400": "unknown format, filter, country or link",
        "401": "no or bad token",
    },
)
def network() -> Any:
    """The cooperation network (countries, provider → recipient and joint links, metrics),
    filtered; or the exchanges of a country (node=BRA) or of a link (source, target, kind)."""
    vocab = load_vocabulary()
    fmt = request.args.get("format", "json")
    if fmt not in analytics.FORMATS:
        raise ApiError(
            400, "bad_format", f"unknown format {fmt!r}; expected {', '.join(analytics.FORMATS)}"
        )
    kind = request.args.get("layout", "geo")
    if kind not in LAYOUTS:
        raise ApiError(400, "bad_parameter", f"layout must be one of {', '.join(LAYOUTS)}")
    filters = analytics.parse_filters(request.args, vocab)
    session = get_session()
    if request.args.get("node") or request.args.get("source") or request.args.get("target"):
        subject = asked_subject(request.args)
        found = analytics.exchanges_for(session, vocab, filters, **subject, limit=10_000)
        return jsonify(found)
    view = analytics.network_view(session, vocab, filters, kind)
    if fmt == "json":
        return jsonify(analytics.node_link(view, vocab))
    return Response(
        analytics.export(view, vocab, fmt),
        mimetype=MEDIA_TYPES[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="sscmatch-network.{EXTENSIONS[fmt]}"'
        },
    )
