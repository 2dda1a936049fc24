"""Every date field of every page's form reads a date typed the reader's way.

A focal point in Guatemala or Brazil types ``15/03/2026``, ``3/2026`` or ``15 de marzo de 2026``;
a French one ``15.03.2026`` or ``1er mars 2026``; an English one ``2026-03-15``, ``15 March
2026`` or ``15/03/2026`` (whose 15 can only be a day), while ``05/03/2026`` is refused as
ambiguous rather than guessed (``sscmatch.dates.parse_typed``). The walk: every date field of
every form (found from the forms' definitions, so a new one joins or fails
:func:`test_the_walk_covers_every_date_field`) × every language of the interface:

- each of the reader's ways is saved as the ISO text the records keep, and the form shows the
  stored date back as the reader types it;
- no date field is a day picker (``<input type="date">``): the browser shows it in its own
  locale, not the page's (a study tour's start and end were one);
- the field's hint gives examples the reader's way;
- a wrong date (``03/15/2026`` where days come first; an ambiguous one in English; a month where
  a day is needed) is refused beside the field, in the reader's language, quoting what was typed
  and showing how to write it, the typed text kept in the field and nothing written.
"""

from __future__ import annotations

import html as html_lib
import importlib
import pkgutil
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, col, select
from wtforms import Form
from wtforms.fields.core import UnboundField

import sscmatch.web
from sscmatch.models import Capacity, Commitment, Need, StudyTour
from sscmatch.web.datefields import TypedDateField
from tests.web.test_date_fields import _written
from tests.web.test_date_fields import world as world  # the fixture
from tests.web.test_tours import GOOD_EDIT

LANGS = ("en", "es", "pt", "fr")
NB = "\u00a0"
MONTHS = {
    "en": ("January", "March", "May", "September", "December"),
    "es": ("enero", "marzo", "mayo", "septiembre", "diciembre"),
    "pt": ("janeiro", "março", "maio", "setembro", "dezembro"),
    "fr": ("janvier", "mars", "mai", "septembre", "décembre"),
}
_MONTH_AT = {1: 0, 3: 1, 5: 2, 9: 3, 12: 4}

# What a date field's hint says (the examples' day, 15 March 2019, reads one way only).
HINT = {
    "en": ("For example: 2019-03-15, 15 March 2019, March 2019, or 2019",
           "For example: 2019-03-15 or 15 March 2019"),
    "es": ("Por ejemplo: 15/03/2019, 03/2019 o 2019", "Por ejemplo: 15/03/2019"),
    "pt": ("Por exemplo: 15/03/2019, 03/2019 ou 2019", "Por exemplo: 15/03/2019"),
    "fr": (f"Par exemple{NB}: 15/03/2019, 03/2019 ou 2019", f"Par exemple{NB}: 15/03/2019"),
}  # fmt: skip


def typed_ways(iso: str, lang: str, partial: bool) -> list[tuple[str, str]]:
    """The ways a reader of ``lang`` types the day ``iso`` (and its month and year when the
    field takes them), written out here rather than by the code under test, each with what it
    is stored as."""
    y, m, d = (int(p) for p in iso.split("-"))
    month = MONTHS[lang][_MONTH_AT[m]]
    by_month = [(f"{month} {y}", iso[:7]), (f"{m}/{y}", iso[:7]), (str(y), iso[:4])]
    if lang == "en":
        ways = [iso, f"{d} {month} {y}", f"{month} {d}, {y}"]
        ways += [f"{d:02d}/{m:02d}/{y}"] if d > 12 else []  # one reading only
        return [(w, iso) for w in ways] + (by_month if partial else [])
    sep = {"es": "/", "pt": "-", "fr": "."}[lang]
    words = {"es": f"{d} de {month} de {y}", "pt": f"{d} de {month} de {y}",
             "fr": f"{'1er' if d == 1 else d} {month} {y}"}[lang]  # fmt: skip
    ways = [f"{d:02d}{sep}{m:02d}{sep}{y}", f"{d}/{m}/{y}", words, iso]
    return [(w, iso) for w in ways] + (by_month if partial else [])


def shown_back(iso: str, lang: str, picker: bool) -> str:
    """How the form shows the stored day ``iso`` for editing."""
    if picker or lang == "en":
        return iso
    return "/".join(iso.split("-")[::-1])


# A wrong date for each reader, and what they are told (the examples' day: 15 March 2019).
WRONG = {
    "en": ("05/03/2026", "'05/03/2026' could be 5 March 2026 or 3 May 2026: write the month "
           "in words, like 15 March 2019, or the date as YYYY-MM-DD"),
    "es": ("03/15/2026", "'03/15/2026' no es una fecha real: no existe el mes 15"),
    "pt": ("03/15/2026", "'03/15/2026' não é uma data real: não existe o mês 15"),
    "fr": ("03/15/2026", f"'03/15/2026' n’est pas une vraie date{NB}: il n’y a pas de mois 15"),
}  # fmt: skip
NOT_A_DAY = {
    "en": "'March 2026' is not a day: this date needs its day too, like 2019-03-15 or "
    "15 March 2019",
    "es": "'03/2026' no es un día: esta fecha necesita también el día, como 15/03/2019",
    "pt": "'03/2026' não é um dia: esta data precisa também do dia, como 15/03/2019",
    "fr": f"'03/2026' n’est pas un jour{NB}: cette date demande aussi le jour, comme 15/03/2019",
}
NOT_A_DATE = {
    "en": "'15/03/26' is not a date: write it like %s",
    "es": "'15/03/26' no es una fecha: escríbala como %s",
    "pt": "'15/03/26' não é uma data: escreva-a como %s",
    "fr": f"'15/03/26' n’est pas une date{NB}: écrivez-la comme %s",
}


def not_a_date(lang: str, partial: bool) -> str:
    """What ``15/03/26`` (a year of two digits names no century) is told: its examples are
    the hint's."""
    return NOT_A_DATE[lang] % HINT[lang][0 if partial else 1].partition(": ")[2]


@dataclass(frozen=True)
class Place:
    """A form with date fields: who fills it, where, what else it needs, the date each field
    gets, and how to read back what was stored (``None``: a filter, nothing is stored)."""

    form: str  # the form's class
    who: str
    path: str
    fields: dict[str, str]  # field → the ISO day typed into it
    base: Callable[[Flask], dict[str, Any]]
    stored: Callable[[Flask, Any], dict[str, str | None]] | None
    edit_path: str | None = None  # the page that shows the stored value to edit
    method: str = "POST"
    page: str | None = None  # the page with the form, when it is not its path or edit path


def _one(app: Flask, model: Any, key: Any) -> Any:
    with Session(app.extensions["sscmatch.engine"]) as s:
        return s.get(model, key)


def _newest(app: Flask, model: Any) -> Any:
    with Session(app.extensions["sscmatch.engine"]) as s:
        return s.exec(select(model).order_by(col(model.id).desc())).first()


def _text(record: Any, names: tuple[str, ...]) -> dict[str, str | None]:
    return {n: None if getattr(record, n) is None else str(getattr(record, n)) for n in names}


def _from_location(model: Any, names: tuple[str, ...]) -> Callable[[Flask, Any], Any]:
    def read(app: Flask, response: Any) -> dict[str, str | None]:
        record_id = response.headers["Location"].rstrip("/").split("/")[-1]
        return _text(_one(app, model, record_id), names)

    return read


def _versioned(model: Any, key: str, base: dict[str, Any]) -> Callable[[Flask], dict[str, Any]]:
    def body(app: Flask) -> dict[str, Any]:
        return {**base, "version": str(_one(app, model, key).version)}

    return body


def _places(tour: str, k: str) -> list[Place]:
    need = {"title": "Inspection", "themes": "labour-inspection"}
    capacity = {"title": "Teams", "themes": "labour-inspection", "status": "draft"}
    need_dates = {"desired_from": "2026-03-01", "desired_to": "2026-12-15"}  # the tour's in it
    capacity_dates = {"available_from": "2026-05-20", "available_to": "2027-01-15"}
    due = ("due",)
    return [
        Place("NeedForm", "focal_gtm", "/needs/new", need_dates, lambda app: need,
              _from_location(Need, tuple(need_dates))),
        # N-1 is open: its focal point's change is confirmed first (sscmatch.web.registry)
        Place("NeedForm", "focal_gtm", "/needs/N-1/edit", need_dates,
              _versioned(Need, "N-1", {**need, "confirmed": "y"}),
              lambda app, r: _text(_one(app, Need, "N-1"), tuple(need_dates)),
              edit_path="/needs/N-1/edit"),
        Place("CapacityForm", "focal_bra", "/capacities/new", capacity_dates,
              lambda app: capacity, _from_location(Capacity, tuple(capacity_dates))),
        Place("CapacityForm", "focal_bra", "/capacities/C-1/edit", capacity_dates,
              _versioned(Capacity, "C-1", capacity),
              lambda app, r: _text(_one(app, Capacity, "C-1"), tuple(capacity_dates)),
              edit_path="/capacities/C-1/edit"),
        Place("CommitmentForm", "secretariat", f"/tours/{tour}/commitments",
              {"due": "2026-09-15"},
              lambda app: {"owner_country": "GTM", "description": "Train", "status": "pending"},
              lambda app, r: _text(_newest(app, Commitment), due), page=f"/tours/{tour}"),
        Place("UpdateForm", "focal_gtm", f"/followup/commitments/{k}", {"due": "2026-09-15"},
              _versioned(Commitment, k, {"status": "pending", "note": "Moved"}),
              lambda app, r: _text(_one(app, Commitment, k), due),
              edit_path=f"/followup/commitments/{k}"),
        Place("TourForm", "secretariat", f"/tours/{tour}/edit",
              {"start": "2026-03-09", "end": "2026-03-10"},
              _versioned(StudyTour, tour, {**GOOD_EDIT}),
              lambda app, r: _text(_one(app, StudyTour, tour), ("start", "end")),
              edit_path=f"/tours/{tour}/edit"),
        Place("AuditFilterForm", "admin", "/admin/audit",
              {"date_from": "2020-03-15", "date_to": "2030-12-15"}, lambda app: {}, None,
              method="GET"),
    ]  # fmt: skip


def _partial(form: str, name: str) -> bool:
    return bool(_date_fields()[(form, name)])


def _send(client: Any, place: Place, data: dict[str, Any]) -> Any:
    if place.method == "GET":
        return client.get(place.path, query_string=data)
    return client.post(place.path, data=data)


def _beside(page: str, name: str) -> str | None:
    found = re.search(rf'<p class="error" id="{name}-err">(.*?)</p>', page, re.S)
    return None if found is None else html_lib.unescape(found.group(1)).strip()


def _input(page: str, name: str) -> str:
    tag = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', page)
    assert tag is not None, f"no input {name}"
    return tag.group(0)


def _value(tag: str) -> str:
    found = re.search(r'\bvalue="([^"]*)"', tag)
    return "" if found is None else html_lib.unescape(found.group(1))


def _hint(page: str, name: str) -> str | None:
    """The hint printed right after the field's input."""
    found = re.search(rf'<input[^>]*\bname="{name}"[^>]*>\s*<p class="hint">(.*?)</p>', page, re.S)
    return None if found is None else html_lib.unescape(found.group(1)).strip()


@pytest.fixture
def readers(app: Flask, world: dict[str, Any], as_user: Any) -> Iterator[dict[Any, Any]]:
    clients: dict[Any, Any] = {}
    for who in ("secretariat", "focal_gtm", "focal_bra", "admin"):
        for lang in LANGS:
            clients[(who, lang)] = as_user(who)
            clients[(who, lang)].post("/language", data={"lang": lang, "next": "/"})
    yield clients


@pytest.mark.one_case_on_postgresql(lang="es")
@pytest.mark.parametrize("lang", LANGS)
def test_every_date_field_reads_the_readers_way(
    app: Flask, world: dict[str, Any], readers: dict[Any, Any], lang: str
) -> None:
    wrong: list[str] = []
    for place in _places(world["tour"], world["k"]):
        client = readers[(place.who, lang)]
        for name, iso in place.fields.items():
            partial = _partial(place.form, name)
            for typed, expected in typed_ways(iso, lang, partial):
                here = f"{place.path} {name}={typed!r} ({lang})"
                response = _send(client, place, {**place.base(app), **place.fields, name: typed})
                body = response.get_data(as_text=True)
                if place.stored is None:  # a filter: read, nothing refused
                    if response.status_code != 200 or _beside(body, name) is not None:
                        wrong.append(f"{here}: {response.status_code} {_beside(body, name)}")
                    continue
                if response.status_code != 302:
                    wrong.append(f"{here}: {response.status_code} {_beside(body, name)!r}")
                    continue
                stored = place.stored(app, response)[name]
                if stored != expected:
                    wrong.append(f"{here}: stored {stored!r}, not {expected!r}")
        if place.edit_path is None:
            continue
        # each field's day, typed the reader's way, comes back to edit as they type it
        typed_days = {
            name: typed_ways(iso, lang, False)[0][0] for name, iso in place.fields.items()
        }
        saved = _send(client, place, {**place.base(app), **typed_days, "note": "Again"})
        assert saved.status_code == 302, (place.path, lang, saved.status_code)
        page = client.get(place.edit_path).get_data(as_text=True)
        for name, iso in place.fields.items():
            tag = _input(page, name)
            if _value(tag) != shown_back(iso, lang, 'type="date"' in tag):
                wrong.append(f"{place.edit_path} {name} ({lang}) shown back as {_value(tag)!r}")
    assert not wrong, f"{len(wrong)} problems:\n" + "\n".join(wrong)


@pytest.mark.one_case_on_postgresql(lang="es")
@pytest.mark.parametrize("lang", LANGS)
def test_every_date_field_refuses_a_wrong_date_beside_it(
    app: Flask, world: dict[str, Any], readers: dict[Any, Any], lang: str
) -> None:
    wrong: list[str] = []
    before = _written(app)
    for place in _places(world["tour"], world["k"]):
        client = readers[(place.who, lang)]
        form_page = client.get(place.page or place.edit_path or place.path).get_data(as_text=True)
        for name in place.fields:
            partial = _partial(place.form, name)
            tag = _input(form_page, name)
            hint = _hint(form_page, name)
            if 'type="date"' in tag:  # the browser's calendar, in the browser's locale
                wrong.append(f"{place.path} {name}: a day picker, not typed the reader's way")
            elif hint != HINT[lang][0 if partial else 1]:
                wrong.append(f"{place.path} {name} ({lang}): hint {hint!r}")
            cases = [WRONG[lang], ("15/03/26", not_a_date(lang, partial))]
            if not partial:
                cases.append(("March 2026" if lang == "en" else "03/2026", NOT_A_DAY[lang]))
            for typed, said in cases:
                here = f"{place.path} {name}={typed!r} ({lang})"
                response = _send(client, place, {**place.base(app), name: typed})
                body = response.get_data(as_text=True)
                if response.status_code != 400:
                    wrong.append(f"{here}: {response.status_code}")
                    continue
                tag = _input(body, name)
                if _beside(body, name) != said:
                    wrong.append(f"{here}: beside it {_beside(body, name)!r}, not {said!r}")
                if 'aria-invalid="true"' not in tag or _value(tag) != typed:
                    wrong.append(f"{here}: the field is not marked, or lost the text: {tag}")
    assert _written(app) == before, "a refused form wrote something"
    assert not wrong, f"{len(wrong)} problems:\n" + "\n".join(wrong)


def test_a_bad_date_comes_with_the_other_fields_problems(world: dict[str, Any],
                                                          as_user: Any) -> None:  # fmt: skip
    """A date that cannot be read does not hold the form back from its use case: a missing
    title and a need's bad date are said at once, each beside its field, the date's in the
    reader's words (not the stored rule's ISO ones)."""
    gtm = as_user("focal_gtm")
    gtm.post("/language", data={"lang": "es", "next": "/"})
    page = gtm.post(
        "/needs/new", data={"title": "", "themes": "labour-inspection", "desired_from": "15/03/26",
                            "languages": "zz-top"},
    ).get_data(as_text=True)  # fmt: skip
    assert _beside(page, "desired_from") == not_a_date("es", partial=True)
    assert _beside(page, "languages") and _beside(page, "title")


# --------------------------------------------------------------------------- the walk is whole


def _forms() -> Iterator[type[Form]]:
    for module in pkgutil.walk_packages(sscmatch.web.__path__, "sscmatch.web."):
        importlib.import_module(module.name)
    todo = list(Form.__subclasses__())
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        if cls.__module__.startswith("sscmatch."):
            yield cls


DATE_NAMES = re.compile(r"^(start|end|due|date|since|until)$|_(from|to|date|on|until|since)$|^date")
NOT_DATES = {("SessionForm", "start"), ("SessionForm", "end")}  # an agenda session's HH:MM


def _date_fields() -> dict[tuple[str, str], bool]:
    """Every form field that holds a date, by (form, field): whether it takes partial dates.
    A field named like a date (or any WTForms date field) that is not a TypedDateField is
    listed too (as None), so that the walk's guard fails on it."""
    out: dict[tuple[str, str], Any] = {}
    for cls in _forms():
        for name in dir(cls):
            unbound = getattr(cls, name, None)
            if not isinstance(unbound, UnboundField):
                continue
            kind = unbound.field_class
            if issubclass(kind, TypedDateField):
                out[(cls.__name__, name)] = unbound.kwargs.get("partial", True)
            elif (DATE_NAMES.search(name) or "Date" in kind.__name__) and (
                cls.__name__,
                name,
            ) not in NOT_DATES:
                out[(cls.__name__, name)] = None
    return out


def test_the_walk_covers_every_date_field() -> None:
    """A new date field of a form must be a TypedDateField and join the walk above."""
    found = _date_fields()
    plain = sorted(key for key, partial in found.items() if partial is None)
    assert not plain, f"date fields that do not read the reader's way: {plain}"
    walked = {(p.form, name) for p in _places("t", "k") for name in p.fields}
    assert walked == set(found), f"missing from the walk: {set(found) - walked}"


TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
YEARS = {"year", "year_from", "year_to"}  # a year reads the same in every language


def test_no_template_takes_a_date_outside_the_forms() -> None:
    """A date typed in a page is a form's TypedDateField: no template writes its own date input
    (only the list filters' years), and none makes a form's date field a day picker."""
    for path in TEMPLATES.rglob("*.html"):
        source = path.read_text()
        for tag in re.findall(r"<input[^>]*>", source):
            name = re.search(r'\bname="([^"]+)"', tag)
            if 'type="date"' in tag or (name and DATE_NAMES.search(name.group(1))):
                assert name and name.group(1) in YEARS, f"{path.name}: {tag}"
        pickers = re.findall(r"\{\{[^}]*type=['\"]date['\"][^}]*\}\}", source)
        assert not pickers, f"{path.name}: day pickers {pickers}"
