"""The analysts' pages (blueprint ``network``): the cooperation network, charts and gaps, the
countries with activity and a country's profile. Everyone signed in may read them.

Views are thin: they read filters, call :mod:`sscmatch.analytics` and render. The network page
draws with ``static/js/network.js`` from ``network.data`` (JSON) and keeps a plain table version
for readers without script.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.routing import BuildError

from sscmatch import analytics
from sscmatch.analytics.filters import Filters, regions
from sscmatch.analytics.graph import link_width, node_radius
from sscmatch.analytics.insights import (
    chart_counts,
    family_colours,
    per_year_chart,
    supply_demand,
    top_chart,
)
from sscmatch.analytics.payload import (
    DRAWN_LINKS,
    EDGE_FIELDS,
    EXTENSIONS,
    LAYOUTS,
    MEDIA_TYPES,
    NODE_FIELDS,
    asked_subject,
    drawing_json,
    edge_records,
    node_records,
)
from sscmatch.schemas import CONSTITUENCIES, MODALITIES
from sscmatch.vocab import load_vocabulary
from sscmatch.web import spreadsheet
from sscmatch.web.access import SIGNED_IN, access
from sscmatch.web.db import get_session
from sscmatch.web.errors import answers_json, error_text
from sscmatch.web.exports import BOM, bad_filter, file_name, send
from sscmatch.web.exports import download as send_file
from sscmatch.web.fragments import render_kept
from sscmatch.web.paging import page_arg, page_of, page_size
from sscmatch.web.templating import CONSTITUENCY_LABELS, lang, name_order, period, url_if
from sscmatch.web.tours import today
from sscmatch.web.translate import lazy_gettext as _l
from sscmatch.workflow import visibility

bp = Blueprint("network", __name__)

LINK_TABLE_LIMIT = 100
REGION_COLOURS = {
    "Africa": "#d55e00",
    "Americas": "#0072b2",
    "Asia": "#009e73",
    "Europe": "#cc79a7",
    "Oceania": "#e69f00",
}
MODALITY_LABELS: dict[str, Any] = {
    "study_tour": _l("Study tour"),
    "technical_assistance": _l("Technical assistance"),
    "training": _l("Training"),
    "expert_exchange": _l("Expert exchange"),
    "virtual_exchange": _l("Virtual exchange"),
    "twinning": _l("Twinning"),
    "conference": _l("Conference"),
    "project": _l("Project"),
}
ROLE_LABELS: dict[str, Any] = {
    "provider": _l("provider"),
    "recipient": _l("recipient"),
    "participant": _l("participant"),
}


def record_url(endpoint: str, record_id: str) -> str | None:
    """Link to another area's detail page by id, if that page exists (None otherwise)."""
    for name in ("id", f"{endpoint.rsplit('.', 1)[-1]}_id"):
        try:
            return url_if(endpoint, **{name: record_id})
        except BuildError:
            continue
    return None


def _filters() -> tuple[Filters, str | None]:
    vocab = load_vocabulary()
    try:
        return analytics.parse_filters(request.args, vocab), None
    except analytics.FilterError as exc:
        return Filters(), error_text(exc)


def _layout() -> str:
    kind = request.args.get("layout", "geo")
    return kind if kind in LAYOUTS else "geo"


def _theme_options() -> list[tuple[str, str, bool]]:
    vocab = load_vocabulary()
    here = lang()
    out = []
    for root in vocab.roots():
        out.append((root, vocab.themes[root].label(here), True))
        out.extend((kid, vocab.themes[kid].label(here), False) for kid in vocab.children(root))
    return out


def _common() -> dict[str, Any]:
    vocab = load_vocabulary()
    return {
        "regions": regions(vocab),
        "region_colours": REGION_COLOURS,
        "modalities": MODALITIES,
        "modality_labels": MODALITY_LABELS,
        "constituencies": CONSTITUENCIES,
        "constituency_labels": CONSTITUENCY_LABELS,
        "role_labels": ROLE_LABELS,
        "theme_options": _theme_options(),
        "record_url": record_url,
    }


@bp.get("/network")
@access(SIGNED_IN)
def index() -> Any:
    filters, error = _filters()
    kind = _layout()

    def context() -> dict[str, Any]:
        vocab = load_vocabulary()
        session = get_session()
        view = analytics.network_view(session, vocab, filters, kind)
        nodes = node_records(view, vocab, lang())
        return dict(
            filters=filters,
            args=filters.args(),
            layout=kind,
            error=error,
            nodes=nodes,
            links=view.strongest(LINK_TABLE_LIMIT),
            link_total=view.link_count,
            drawn_links=min(view.link_count, DRAWN_LINKS),
            names={n["id"]: n["label"] for n in nodes},
            profile_url=url_for("network.country", code="XXX"),
            exchange_count=view.network.exchange_count,
            communities=view.network.communities,
            brokers=sorted(nodes, key=lambda n: (-n["betweenness"], n["label"]))[:10],
            gaps=analytics.gaps(session, vocab, filters.region),
            node_radius=node_radius,
            link_width=link_width,
            **_common(),
        )

    html = render_kept("network", "index", (), context)
    return (html, 400) if error else html


@bp.get("/network/data")
@access(SIGNED_IN)
@answers_json()
def data() -> Any:
    """The filtered network for the page's drawing (node-link JSON with positions); a bad filter
    is answered by sscmatch.web.errors (JSON, in the reader's language: the page shows it)."""
    vocab = load_vocabulary()
    filters = analytics.parse_filters(request.args, vocab)
    body = drawing_json(
        get_session(), vocab, filters, _layout(), lang(), {"region_colours": REGION_COLOURS}
    )
    return Response(body, mimetype="application/json")


@bp.get("/network/exchanges")
@access(SIGNED_IN)
@answers_json(lambda: request.args.get("format") == "json")
def exchanges() -> Any:
    """A country's or a link's exchanges: JSON for the page's side panel (``format=json``),
    else an HTML list (the no-script path from the tables)."""
    vocab = load_vocabulary()
    as_json = request.args.get("format") == "json"
    # a filter, country or link named wrongly: sscmatch.web.errors answers (JSON for the side
    # panel, which shows the message in the reader's language; else the error page)
    filters = analytics.parse_filters(request.args, vocab)
    if not as_json and not any(request.args.get(k) for k in ("node", "source", "target")):
        # no country or link asked (the error page's "without its filters", an address cut
        # short): the network's page, where one is chosen
        return redirect(url_for("network.index"), 303)
    # partner: a profile's "N exchanges together" lists those (the API does not take it)
    subject = asked_subject(request.args)
    found = analytics.exchanges_for(
        get_session(), vocab, filters, **subject, partner=request.args.get("partner")
    )
    if as_json:
        for item in found["exchanges"]:
            item["url"] = record_url("registry.exchange", item["id"])
            item["label"] = item["title"] or item["id"]
            item["when"] = period(item["start"])  # the side panel's words; start stays ISO
        return jsonify(found)
    return render_template("network/exchanges.html", found=found, args=filters.args(), **_common())


DOWNLOADS = (*analytics.FORMATS, "xlsx")
"""The network's files: those of :data:`sscmatch.analytics.FORMATS` for programs, and a
spreadsheet of its countries and links for people (:mod:`sscmatch.web.spreadsheet`)."""


@bp.get("/network/download")
@access(SIGNED_IN)
def download() -> Any:
    """The filtered network as a file: ``format`` = json, graphml, gexf, csv-nodes, csv-edges
    (codes, the countries' names in English: one language a row, the same file for every
    reader) or xlsx (two sheets, countries and links, in the reader's language)."""
    vocab = load_vocabulary()
    fmt = request.args.get("format", "graphml")
    if fmt not in DOWNLOADS:
        abort(
            400,
            description=str(
                _l(
                    "Unknown format %(format)s; expected one of %(formats)s.",
                    format=fmt,
                    formats=", ".join(DOWNLOADS),
                )
            ),
        )
    filters = analytics.parse_filters(request.args, vocab)
    view = analytics.network_view(get_session(), vocab, filters, _layout())
    name_args = {"layout": _layout(), **filters.args()}
    if fmt == "xlsx":
        body = spreadsheet.workbook(
            [
                spreadsheet.Sheet("network-countries", NODE_FIELDS, sheet_countries(view, vocab)),
                spreadsheet.Sheet(
                    "network-links", EDGE_FIELDS, edge_records(view, vocab, joined=False)
                ),
            ]
        )
        return send_file(body, spreadsheet.MEDIA, file_name("network", name_args, "xlsx"))
    machine = fmt.startswith("csv")
    body = analytics.export(view, vocab, fmt, "en" if machine else lang())
    name = file_name("network", name_args, EXTENSIONS[fmt])
    return send_file(BOM + body if machine else body, MEDIA_TYPES[fmt], name)


def sheet_countries(view: analytics.NetworkView, vocab: Any) -> list[dict[str, Any]]:
    """The network's countries for the reader's spreadsheet, saying whether a country gives and
    receives as the page's table does, in three answers (the machine formats keep a flag)."""
    rows = node_records(view, vocab, lang())
    for row in rows:
        both = row["provided"] > 0 and row["received"] > 0
        row["reciprocal"] = "both" if both else "reciprocal" if row["reciprocal"] else "neither"
    return rows


@bp.get("/network/charts")
@access(SIGNED_IN)
def charts() -> Any:
    """Exchanges per year by theme, top providers and recipients, supply and demand, gaps."""
    filters, error = _filters()

    def context() -> dict[str, Any]:
        vocab = load_vocabulary()
        session = get_session()
        count, per_year, tops = chart_counts(session, vocab, filters)
        here = lang()
        return dict(
            filters=filters,
            args=filters.args(),
            error=error,
            layout="geo",
            exchange_count=count,
            per_year=per_year_chart(per_year, vocab, here),
            tops=top_chart(tops, vocab, here),
            supply=supply_demand(session, vocab, here, filters.region),
            gaps=analytics.gaps(session, vocab, filters.region),
            colours=family_colours(vocab),
            **_common(),
        )

    html = render_kept("network", "charts", (), context)
    return (html, 400) if error else html


CHART_FIELDS = {
    "per-year": ("year", "theme", "exchanges"),
    "supply": ("theme", "open_needs", "published_capacities", "gap"),
    "gaps": ("theme", "family", "need", "country", "title", "priority"),
    "tops": ("theme", "country", "provided", "received"),
}
"""The charts page's tables, exported (:func:`_chart_export`): exchanges per start year and
theme family; what each country provided and received per family; open needs and published
capacities per theme; the gaps, a row per need."""


def _chart_rows(table: str) -> list[dict[str, Any]]:
    """The rows of one of :data:`CHART_FIELDS` under the page's filters, codes as values."""
    filters, error = _filters()
    if error:
        bad_filter(error)
    vocab = load_vocabulary()
    session = get_session()
    if table == "per-year":
        _count, per_year, _tops = chart_counts(session, vocab, filters)
        order = {root: i for i, root in enumerate(vocab.roots())}
        return [
            {"year": year, "theme": family, "exchanges": n}
            for year in sorted(per_year)
            for family, n in sorted(
                per_year[year].items(), key=lambda f: (order.get(f[0], 99), f[0])
            )
            if n
        ]
    if table == "tops":  # the whole table behind the chart's top ten of each family
        _count, _per_year, (provided, received) = chart_counts(session, vocab, filters)
        order = {root: i for i, root in enumerate(vocab.roots())}
        rows = []
        for family in sorted(set(provided) | set(received), key=lambda f: (order.get(f, 99), f)):
            gave, got = provided.get(family, Counter()), received.get(family, Counter())
            for code in sorted(set(gave) | set(got), key=lambda c: (-gave[c] - got[c], c)):
                rows.append(
                    {
                        "theme": family,
                        "country": code,
                        "provided": gave[code],
                        "received": got[code],
                    }
                )
        return rows
    if table == "supply":
        return [
            {
                "theme": r.theme,
                "open_needs": r.needs,
                "published_capacities": r.capacities,
                "gap": r.gap,
            }
            for r in supply_demand(session, vocab, lang(), filters.region)
        ]
    return [
        {
            "theme": gap.theme,
            "family": gap.family,
            "need": need.id,
            "country": need.country,
            "title": need.title,
            "priority": need.priority,
        }
        for gap in analytics.gaps(session, vocab, filters.region)
        for need in gap.needs
    ]


REGION_ONLY = ("supply", "gaps")
"""The charts' tables of needs and capacities: records with no year, modality or partners, so
the region alone chooses them (the page says so, and so do their files)."""


def _chart_export(table: str, fmt: str) -> Any:
    said = None
    if table in REGION_ONLY:
        region = request.args.get("region")
        said = {"region": region} if region else {}
    rows = _chart_rows(table)
    return send(table, fmt, rows, CHART_FIELDS[table], name=f"charts-{table}", said=said)


@bp.get("/network/charts/per-year/export.<fmt>")
@access(SIGNED_IN)
def charts_per_year_export(fmt: str) -> Any:
    """The exchanges per start year and theme family, under the charts page's filters."""
    return _chart_export("per-year", fmt)


@bp.get("/network/charts/supply/export.<fmt>")
@access(SIGNED_IN)
def charts_supply_export(fmt: str) -> Any:
    """The open needs and published capacities per theme, in the charts page's region."""
    return _chart_export("supply", fmt)


@bp.get("/network/charts/tops/export.<fmt>")
@access(SIGNED_IN)
def charts_tops_export(fmt: str) -> Any:
    """The exchanges each country provided and received per theme family (the directed ones),
    under the charts page's filters: the whole table behind its top providers and recipients."""
    return _chart_export("tops", fmt)


@bp.get("/network/charts/gaps/export.<fmt>")
@access(SIGNED_IN)
def charts_gaps_export(fmt: str) -> Any:
    """The gaps (themes of open needs no published capacity covers), a row per need."""
    return _chart_export("gaps", fmt)


def countries_listing() -> tuple[list[Any], str | None, str | None]:
    """The countries with activity that the reader may see, by name in the reader's language,
    in the region asked (``region``), that region (None: every region) and the message of an
    unknown region (then every region is listed); the page and its export share it."""
    vocab = load_vocabulary()
    region = request.args.get("region") or None
    error = None
    if region is not None and region not in regions(vocab):
        error = str(_l("Unknown region: %(region)s", region=region))
        region = None
    rows = analytics.countries_activity(get_session(), vocab, region, viewer=current_user)
    here = lang()
    named = vocab.countries
    rows.sort(key=lambda a: name_order(named[a.code].name(here)) if a.code in named else a.code)
    return rows, region, error


@bp.get("/countries")
@access(SIGNED_IN)
def countries() -> Any:
    """Countries with activity, filterable by region, with counts, a page at a time."""
    number = page_arg()

    def context() -> dict[str, Any]:
        rows, region, error = countries_listing()
        page = page_of(rows, number, page_size())
        return dict(page=page, region=region, error=error, **_common())

    # Kept per viewer's scope: the counts hold the drafts a viewer may see.
    html = render_kept("network", "countries", (visibility.scope(current_user),), context)
    bad = request.args.get("region") and request.args["region"] not in regions(load_vocabulary())
    return (html, 400) if bad else html


@bp.get("/countries/<code>")
@access(SIGNED_IN)
def country(code: str) -> Any:
    """A country on one page: capacities, needs, exchanges, partners, commitments, metrics."""
    vocab = load_vocabulary()
    code = code.strip().upper()  # an unknown one: 404 from the use case (UnknownCountry)
    day = today()  # commitments past their due date show as overdue (TODAY when pinned)
    # Drafts are for the country's focal points and the staff: two bodies, kept apart.
    scope = "drafts" if visibility.sees_drafts_of(current_user, code) else "public"

    def context() -> dict[str, Any]:
        profile = analytics.country_profile(get_session(), vocab, code, day, viewer=current_user)
        return dict(p=profile, info=vocab.countries[code], **_common())

    return render_kept("network", "country", (day.isoformat(), scope), context, code=code)
