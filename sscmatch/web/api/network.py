"""``GET /api/v1/network``: the (filtered) cooperation network, or a country's or a link's
exchanges, for analysts' own tools."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from pydantic import BaseModel, RootModel

from sscmatch import analytics
from sscmatch.analytics.graph import DIRECTED, JOINT
from sscmatch.analytics.payload import (
    EXTENSIONS,
    LAYOUTS,
    MEDIA_TYPES,
    DetailError,
    asked_subject,
)
from sscmatch.vocab import load_vocabulary
from sscmatch.web.access import SIGNED_IN, access
from sscmatch.web.api import ApiError, bp, operation, query_arg
from sscmatch.web.db import get_session
from sscmatch.web.exports import file_name
from sscmatch.web.translate import current_lang
from sscmatch.workflow.base import N_

KINDS = (DIRECTED, JOINT)


class NetworkNode(BaseModel):
    """A country: its exchanges (provided, received, joint), partners, centrality, community
    and position (``x``, ``y`` of the layout; ``lat``, ``lon`` of its capital)."""

    id: str
    label: str
    region: str
    subregion: str
    provided: int
    received: int
    joint: int
    total: int
    partners: int
    betweenness: float
    pagerank: float
    community: int
    reciprocal: bool
    x: float
    y: float
    lat: float | None
    lon: float | None


class NetworkLink(BaseModel):
    """A link: provider → recipient (``directed``) or a ``joint`` exchange, how many exchanges
    it stands for and their ids, years and themes (``key`` repeats ``kind``, as networkx keys a
    multigraph's edges)."""

    source: str
    target: str
    kind: str
    key: str
    exchanges: int
    exchange_ids: list[str]
    years: list[int]
    themes: list[str]


class NetworkGraph(BaseModel):
    """The whole network: how many exchanges, the filters applied, the layout, the communities
    (country codes, largest first) and how many links there are."""

    exchanges: int
    filters: dict[str, str]
    layout: str
    communities: list[list[str]]
    links_total: int


class NodeLinkData(BaseModel):
    """The network as networkx node-link data (``nx.node_link_graph(d, edges='links')``)."""

    directed: bool
    multigraph: bool
    graph: NetworkGraph
    nodes: list[NetworkNode]
    links: list[NetworkLink]


class ListedExchange(BaseModel):
    """An exchange of a country or a link: its start (a partial date), the countries by role,
    themes, modality, direction (``role``: the asked country's, with ``node``)."""

    id: str
    title: str
    start: str
    year: int
    providers: list[str]
    recipients: list[str]
    participants: list[str]
    themes: list[str]
    modality: str | None
    direction: str | None
    role: str | None = None


class NetworkExchanges(BaseModel):
    """The exchanges of a country (``node``) or of a link (``source``, ``target``, ``kind``),
    newest first: how many pass the filters (``total``) and those shown."""

    node: str | None = None
    source: str | None = None
    target: str | None = None
    kind: str | None = None
    total: int
    shown: int
    exchanges: list[ListedExchange]


class NetworkAnswer(RootModel[NodeLinkData | NetworkExchanges]):
    """``format=json``: the network (node-link data), or the exchanges a country or a link
    stands for when ``node`` or ``source`` and ``target`` are asked."""


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
    returns=NetworkAnswer,
    media=[kind for kind in MEDIA_TYPES.values() if kind != "application/json"],
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
            "schema": {"type": "string", "enum": list(KINDS)},
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
            400,
            "bad_format",
            N_("unknown format %(value)s; expected %(known)s"),
            value=repr(fmt),
            known=", ".join(analytics.FORMATS),
        )
    kind = request.args.get("layout", "geo")
    if kind not in LAYOUTS:
        raise ApiError(
            400, "bad_parameter", N_("layout must be one of %(known)s"), known=", ".join(LAYOUTS)
        )
    if request.args.get("kind") not in (None, "", *KINDS):
        raise DetailError(N_("kind must be 'directed' or 'joint'"))
    filters = analytics.parse_filters(request.args, vocab)
    session = get_session()
    if request.args.get("node") or request.args.get("source") or request.args.get("target"):
        subject = asked_subject(request.args)
        found = analytics.exchanges_for(session, vocab, filters, **subject, limit=10_000)
        return jsonify(_answer(found))
    view = analytics.network_view(session, vocab, filters, kind)
    # the countries' labels in the caller's language, as the page's files (README, Exports);
    # the CSV of countries in English: one language a row, the same file for every reader
    said = "en" if fmt.startswith("csv") else current_lang()
    if fmt == "json":
        return jsonify(_answer(analytics.node_link(view, vocab, said)))
    # named as the page's download is: its filters and the day (README, Exports)
    name = file_name("network", {"layout": kind, **filters.args()}, EXTENSIONS[fmt])
    return Response(
        analytics.export(view, vocab, fmt, said),
        mimetype=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _answer(data: dict[str, Any]) -> Any:
    """``data`` through :class:`NetworkAnswer`, as openapi.json documents it."""
    return NetworkAnswer.model_validate(data).model_dump(mode="json", exclude_unset=True)
