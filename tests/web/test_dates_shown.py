"""Partial dates on pages are written in the reader's language ("marzo de 2014", "12 mars
2014"), never as the ISO text the records keep ("2014-03"); forms show a date as the reader
types it (``15/03/2014``, :mod:`sscmatch.web.datefields`, walked by ``test_typed_dates.py``).

Two checks of the class: every template that prints a date field passes it through the
``period`` filter (read from the templates' syntax trees, so a new ``{{ x.start }}`` fails), and
every such template, reached from the pages of the app's URL map in Spanish and French, shows the
records' month and day dates in the reader's words and none of them as ISO text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from flask import Flask, template_rendered
from jinja2 import nodes
from sqlmodel import Session, select

from sscmatch import caches
from sscmatch.dates import PartialDate
from sscmatch.models import Capacity, Commitment, Exchange, Need, StudyTour
from tests.web.english_text import visible_texts
from tests.web.test_every_word_translated import _pages
from tests.web.world import Walk, World, world_fixture

DATE_FIELDS = frozenset(
    {
        "start",
        "end",
        "due",
        "available_from",
        "available_to",
        "desired_from",
        "desired_to",
        "created",  # when a need was expressed, a capacity offered (the audit found it raw)
    }
)
DATED = {
    Exchange: ("start", "end"),
    StudyTour: ("start", "end"),
    Commitment: ("due",),
    Capacity: ("available_from", "available_to", "created"),
    Need: ("desired_from", "desired_to", "created"),
}
# Attributes named like a date field that are not partial dates, or are inputs (ISO on purpose).
NOT_DATES = {
    ("tours/edit.html", "r.start"),  # a session's start time in the agenda editor (an input)
    ("tours/edit.html", "r.end"),
    ("tours/_body.html", "s.start"),  # a session's start time ("09:00")
    ("tours/_body.html", "s.end"),
    # the lists print the year alone (``created[:4]``), which reads the same in every language
    ("registry/capacities.html", "c.created"),
    ("registry/needs.html", "n.created"),
}
FORM_NAMES = re.compile(r"(^|_)form$")  # form fields: the reader's typing (test_typed_dates.py)
ISO = re.compile(r"(?<![\d-])\d{4}-\d{2}(?:-\d{2})?(?![\d-])")
LANGS = ("es", "fr")
EXTRA_PAGES = ("/network/exchanges?node=GTM",)  # the network's list of a country's exchanges


def _templates(app: Flask) -> dict[str, nodes.Template]:
    loader = app.jinja_env.loader
    assert loader is not None
    names = [n for n in loader.list_templates() if n.endswith(".html")]
    assert len(names) > 50
    return {n: app.jinja_env.parse(loader.get_source(app.jinja_env, n)[0]) for n in names}


def _dotted(node: nodes.Node) -> str:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        return f"{_dotted(node.node)}.{node.attr}"
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        return f"{_dotted(node.node)}.{node.arg.value}"
    return "…"


def _printed_dates(node: nodes.Node, formatted: bool = False) -> Iterator[tuple[str, bool]]:
    """The date fields an output expression prints, each with whether ``period`` writes it.

    Conditions (``x if e.start``, ``e.start is none``, comparisons) print nothing."""
    if isinstance(node, nodes.CondExpr):
        yield from _printed_dates(node.expr1, formatted)
        if node.expr2 is not None:
            yield from _printed_dates(node.expr2, formatted)
        return
    if isinstance(node, nodes.Test | nodes.Compare | nodes.Not):
        return
    if isinstance(node, nodes.Filter | nodes.Call) and _is_period(node):
        formatted = True
    field = None
    if isinstance(node, nodes.Getattr):
        field = node.attr
    elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        field = node.arg.value
    if field in DATE_FIELDS:
        yield _dotted(node), formatted
        return
    for child in node.iter_child_nodes():
        yield from _printed_dates(child, formatted)


FORMATTERS = ("period", "period_range")  # a day or a period; a period from one date to another


def _is_period(node: nodes.Filter | nodes.Call) -> bool:
    if isinstance(node, nodes.Filter):
        return node.name in FORMATTERS
    return isinstance(node.node, nodes.Name) and node.node.name in FORMATTERS


def _date_outputs(tree: nodes.Template) -> Iterator[tuple[str, bool]]:
    for output in tree.find_all(nodes.Output):
        for expression in output.nodes:
            yield from _printed_dates(expression)


def _printing_templates(app: Flask) -> dict[str, set[str]]:
    """Template → the date fields it prints (through ``period``); raw ones fail here."""
    raw: list[str] = []
    printing: dict[str, set[str]] = {}
    for name, tree in _templates(app).items():
        for dotted, formatted in _date_outputs(tree):
            if (name, dotted) in NOT_DATES or FORM_NAMES.search(dotted.split(".")[0]):
                continue
            if not formatted:
                raw.append(f"{name}: {{{{ {dotted} }}}}")
            printing.setdefault(name, set()).add(dotted)
    assert not raw, "dates printed as ISO text (use |period):\n" + "\n".join(sorted(raw))
    return printing


def _reaches(app: Flask) -> dict[str, set[str]]:
    """Template → the templates it extends, includes or imports, directly or not."""
    edges: dict[str, set[str]] = {}
    for name, tree in _templates(app).items():
        found = set()
        for node in tree.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)):
            if isinstance(node.template, nodes.Const):
                found.add(node.template.value)
        edges[name] = found
    closure: dict[str, set[str]] = {}
    for name in edges:
        seen: set[str] = set()
        todo = [name]
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo.extend(edges.get(current, ()))
        closure[name] = seen
    return closure


def test_every_printed_date_goes_through_period(app: Flask) -> None:
    printing = _printing_templates(app)
    assert len(printing) >= 12  # registry, review, network, follow-up and tour pages


def test_the_template_check_finds_a_raw_date(app: Flask) -> None:
    """The syntax-tree check is not blind: a raw field, a raw field after ``or``, a field in a
    message's arguments fail; the filter, a condition and a form field pass."""
    cases = {
        "{{ x.start }}": [("x.start", False)],
        "{{ k.due or '—' }}": [("k.due", False)],
        "{{ _('from %(a)s', a=n.desired_from) }}": [("n.desired_from", False)],
        "{{ r['available_to'] }}": [("r.available_to", False)],
        "{{ k.due|period or '—' }}": [("k.due", True)],
        "{{ (t.end or t.start)|period }}": [("t.end", True), ("t.start", True)],
        "{{ 'a' if t.start else 'b' }}": [],
        "{% if t.start %}{{ period(t.start) }}{% endif %}": [("t.start", True)],
        "{{ t.start|period_range(t.end) }}": [("t.start", True), ("t.end", True)],
    }
    for source, expected in cases.items():
        assert list(_date_outputs(app.jinja_env.parse(source))) == expected, source


def _dated_world(app: Flask, world: World) -> None:
    """The authorization matrix's world with month and day dates on the records its pages show
    (the knowledge base has mostly years, which read the same in every language)."""
    values = world.values
    chosen = {
        (Need, values["need_id"]): {"desired_from": "2031-07", "desired_to": "2032-11-23", "created": "2030-06-15"},
        (Capacity, values["capacity_id"]): {"available_from": "2031-05", "available_to": "2033-02-14", "created": "2030-04"},
        (Exchange, values["exchange_id"]): {"start": "2019-03", "end": "2019-04-21"},
        (StudyTour, values["tour_id"]): {"start": "2031-09-08", "end": "2031-09-12"},
        (Commitment, values["commitment_id"]): {"due": "2031-10"},
    }  # fmt: skip
    with Session(app.extensions["sscmatch.engine"]) as s:
        for (model, key), dates in chosen.items():
            record = s.get(model, key)
            assert record is not None, key
            for field, text in dates.items():  # ``created`` is kept as its text
                setattr(record, field, text if field == "created" else PartialDate.parse(text))
        s.commit()
    caches.clear_all()


# The shared world with those dates, shared by this module's walks (they read).
dated_world = world_fixture(_dated_world)


def _shown_dates(app: Flask) -> set[PartialDate]:
    """Every month or day date of the records (a year reads the same in every language)."""
    found: set[PartialDate] = set()
    with Session(app.extensions["sscmatch.engine"]) as s:
        for model, fields in DATED.items():
            for record in s.exec(select(model)):
                for field in fields:
                    value = getattr(record, field)
                    if isinstance(value, str):  # ``created``: the record's own text
                        value = PartialDate.parse(value)
                    if value is not None and value.precision != "year":
                        found.add(value)
    return found


def test_pages_write_dates_in_the_readers_language(dated_world: Walk) -> None:
    app, values = dated_world.app, dated_world.values
    printing = _printing_templates(app)
    reaches = _reaches(app)
    dates = _shown_dates(app)
    iso = {str(d): d for d in dates}
    assert {"2031-07", "2032-11-23", "2031-10", "2031-09-08", "2030-06-15", "2030-04"} <= set(iso)
    pages = [*_pages(app, values), *EXTRA_PAGES]
    rendered: list[str] = []

    def record(sender: Flask, template: object, context: object, **extra: object) -> None:
        rendered.append(str(getattr(template, "name", "")))

    raw: dict[str, set[str]] = {}
    shown: dict[tuple[str, str], bool] = {}  # (template, lang) → a localised date seen
    with template_rendered.connected_to(record, app):
        for lang in LANGS:
            words = {d.format(lang): d for d in dates}
            for who in ("secretariat", "focal_gtm"):
                client = dated_world.client(who)
                client.post("/language", data={"lang": lang, "next": "/"})
                for path in pages:
                    rendered.clear()
                    response = client.get(path)
                    response.close()
                    if response.status_code != 200 or response.mimetype != "text/html":
                        continue
                    text = "\n".join(visible_texts(response.get_data(as_text=True)))
                    for token in ISO.findall(text):
                        if token in iso:
                            raw.setdefault(f"{token} on {path}", set()).add(f"{who}/{lang}")
                    localised = any(w in text for w in words)
                    for top in rendered:
                        for name in reaches.get(top, {top}) & set(printing):
                            shown[name, lang] = shown.get((name, lang), False) or localised
    assert not raw, "ISO dates on pages:\n" + "\n".join(
        f"{k} ({sorted(v)})" for k, v in raw.items()
    )
    for lang in LANGS:
        unseen = sorted(n for n in printing if (n, lang) not in shown)
        assert not unseen, f"no page of the walk renders {unseen} ({lang})"
        blank = sorted(n for n in printing if not shown[n, lang])
        assert not blank, f"{blank} never showed a localised month or day ({lang})"


def test_the_period_filter_takes_values_text_and_days(app: Flask) -> None:
    from sscmatch.web.templating import period

    with app.test_request_context():  # English outside a chosen language
        assert period(None) == "" and period("") == ""
        assert period("2014") == "2014"
        assert period("2014-03") == period(PartialDate.parse("2014-03")) == "March 2014"
        assert period(PartialDate.parse("2014-03-12").first) == "March 12, 2014"
        assert period("not a date") == "not a date"


def test_the_network_side_panel_gets_the_words_and_keeps_iso(dated_world: Walk) -> None:
    """The side panel's JSON (read by network.js) carries the reader's words beside the ISO
    ``start`` the other readers of that JSON use."""
    client = dated_world.client("secretariat")
    client.post("/language", data={"lang": "fr", "next": "/"})
    found = client.get("/network/exchanges?node=GTM&format=json").get_json()
    items = [x for x in found["exchanges"] if x["start"]]
    assert any(PartialDate.parse(x["start"]).precision != "year" for x in items)
    for x in items:
        assert x["when"] == PartialDate.parse(x["start"]).format("fr"), x
