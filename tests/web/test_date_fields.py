"""Every date a person types, in every form and in the API, is read by the one rule of
:mod:`sscmatch.dates` and refused in the reader's words, beside its field.

The walk: every date field of every form (a need's and a capacity's, new and edited; a
commitment recorded on a tour and updated on its page; a study tour's dates) and of the API's
bodies (needs, capacities, exchanges, a tour's commitments and their updates, a tour's dates),
each with year 0 (``0``), ``0000``, ``9999`` (outside the years a date may have,
``dates.MIN_YEAR``..``dates.MAX_YEAR``), ``2030-02-30`` (no such day) and a reversed range (an
end before its start; a commitment due before its exchange began), read in Spanish, Portuguese
and French. Each answer must

- be a refusal that wrote nothing;
- say what is wrong in the reader's language (not the English a reader of ``en`` gets), with
  none of Python's own English (``year 0 is out of range``, ``day is out of range for month``)
  and no field's code (``desired_to``, ``desired period``): a page puts the message beside its
  field (``<field>-err``, the input ``aria-invalid`` and ``aria-describedby`` it) under the
  form's summary line, never as a banner only; the API names the field by its label in
  ``message`` and by its code in ``fields``;
- and a reversed range is reported together with the other fields' problems, not after them.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text
from sqlmodel import Session

from sscmatch import schemas
from sscmatch.dates import MAX_YEAR, MIN_YEAR, normalise_partial_date
from sscmatch.models import StudyTour
from sscmatch.web.fieldnames import FIELD_LABELS
from sscmatch.workflow import tours as wf
from sscmatch.workflow.registry.records import SERVICE_FIELDS
from tests.web.english_text import Detector
from tests.web.test_api_list_filters import _speaks
from tests.web.test_api_registry import issue_tokens
from tests.web.test_tours import GOOD_EDIT
from tests.workflow.test_tours import make_world

LANGUAGES = ("es", "pt", "fr")
BAD_DATES = ("0", "0000", "9999", "2030-02-30")
REVERSED = "reversed"
PYTHON_ENGLISH = (
    "out of range",
    "year 0",
    "year is out",
    "is not a real date",
    "day is out of range",
    "must be in 1..12",
    "ends before it starts",
)
DATE_CODES = (
    "desired_from",
    "desired_to",
    "available_from",
    "available_to",
    "desired period",
    "availability",
    "due:",
)
WRITTEN = ("capacity", "need", "exchange", "commitment", "commitment_update", "study_tour")


def _written(app: Flask) -> tuple[Any, ...]:
    """What the walked tables hold: rows and versions (a refusal changes neither)."""
    out = []
    with Session(app.extensions["sscmatch.engine"]) as s:
        for table in WRITTEN:
            version = "0" if table == "commitment_update" else "COALESCE(SUM(version), 0)"
            out.append(
                tuple(
                    s.connection().execute(text(f"SELECT COUNT(*), {version} FROM {table}")).one()
                )
            )
        out.append(s.connection().execute(text("SELECT COUNT(*) FROM audit_event")).scalar())
    return tuple(out)


@dataclass(frozen=True)
class Where:
    """A place a date is typed: a form (``path`` on a page) or an API body (``api``)."""

    name: str
    who: str
    path: str
    base: dict[str, Any]
    fields: tuple[str, ...]
    reversed: dict[str, Any]  # the values that put the range backwards
    reversed_field: str  # the field the reversed range is refused at
    api_method: str | None = None  # an API call (else a page's form)
    versioned: Callable[[Flask], dict[str, Any]] | None = field(default=None, compare=False)

    def body(self, app: Flask, value: str, date_field: str) -> dict[str, Any]:
        data = {**self.base, **(self.versioned(app) if self.versioned else {})}
        if value == REVERSED:
            return {**data, **self.reversed}
        return {**data, date_field: value}


def _tour_version(tour_id: str, as_text: bool) -> Callable[[Flask], dict[str, Any]]:
    """The version the tour is at when the request is made (as a form or a body sends it)."""

    def read(app: Flask) -> dict[str, Any]:
        with Session(app.extensions["sscmatch.engine"]) as s:
            tour = s.get(StudyTour, tour_id)
            assert tour is not None
            return {"version": str(tour.version) if as_text else tour.version}

    return read


NEED_BASE = {"title": "Inspection", "themes": "labour-inspection"}
CAPACITY_BASE = {"title": "Teams", "themes": "labour-inspection", "status": "draft"}
API_NEED = {"title": "Inspection", "themes": ["labour-inspection"]}
API_EXCHANGE = {"start": "2024-05", "providers": ["BRA"], "recipients": ["GTM"],
                "themes": ["labour-inspection"]}  # fmt: skip


def _forms(tour: str, k: str) -> list[Where]:
    need_rev = {"desired_from": "2027-05-01", "desired_to": "2026-01-01"}
    cap_rev = {"available_from": "2027-05", "available_to": "2026-01"}
    tour_rev = {"start": "2026-03-10", "end": "2026-03-09"}
    return [
        Where("need form", "focal_gtm", "/needs/new", NEED_BASE,
              ("desired_from", "desired_to"), need_rev, "desired_to"),
        Where("need edit", "focal_gtm", "/needs/N-1/edit", {**NEED_BASE, "version": "1"},
              ("desired_from", "desired_to"), need_rev, "desired_to"),
        Where("capacity form", "focal_bra", "/capacities/new", CAPACITY_BASE,
              ("available_from", "available_to"), cap_rev, "available_to"),
        Where("capacity edit", "focal_bra", "/capacities/C-1/edit",
              {**CAPACITY_BASE, "version": "1"}, ("available_from", "available_to"), cap_rev,
              "available_to"),
        Where("commitment on a tour", "secretariat", f"/tours/{tour}/commitments",
              {"owner_country": "GTM", "description": "Train", "status": "pending"}, ("due",),
              {"due": "2020"}, "due"),
        Where("commitment update", "focal_gtm", f"/followup/commitments/{k}",
              {"version": "1", "status": "pending"}, ("due",), {"due": "2020"}, "due"),
        Where("tour edit", "secretariat", f"/tours/{tour}/edit", GOOD_EDIT, ("start", "end"),
              tour_rev, "end", versioned=_tour_version(tour, as_text=True)),
    ]  # fmt: skip


def _api(tour: str, k: str) -> list[Where]:
    need_rev = {"desired_from": "2027-05-01", "desired_to": "2026-01-01"}
    cap_rev = {"available_from": "2027-05", "available_to": "2026-01"}
    one = {"version": 1}
    return [
        Where("API need", "focal_gtm", "/needs", API_NEED, ("desired_from", "desired_to"),
              need_rev, "desired_to", "POST"),
        Where("API need change", "focal_gtm", "/needs/N-1", one, ("desired_from", "desired_to"),
              need_rev, "desired_to", "PATCH"),
        Where("API capacity", "focal_bra", "/capacities", API_NEED,
              ("available_from", "available_to"), cap_rev, "available_to", "POST"),
        Where("API capacity change", "focal_bra", "/capacities/C-1", one,
              ("available_from", "available_to"), cap_rev, "available_to", "PATCH"),
        Where("API exchange", "secretariat", "/exchanges", API_EXCHANGE, ("start", "end"),
              {"start": "2024-05", "end": "2023"}, "end", "POST"),
        Where("API exchange change", "secretariat", "/exchanges/E-1", one, ("start", "end"),
              {"end": "2014"}, "end", "PATCH"),
        Where("API commitment", "secretariat", f"/tours/{tour}/commitments",
              {"owner_country": "GTM", "description": "Train"}, ("due",), {"due": "2020"}, "due",
              "POST"),
        Where("API commitment update", "focal_gtm", f"/commitments/{k}/updates", one, ("due",),
              {"due": "2020"}, "due", "POST"),
        Where("API tour", "secretariat", f"/tours/{tour}", {}, ("start", "end"),
              {"start": "2026-03-10", "end": "2026-03-09"}, "end", "PATCH",
              versioned=_tour_version(tour, as_text=False)),
    ]  # fmt: skip


@pytest.fixture
def world(app: Flask, users: dict[str, int], as_user: Any) -> dict[str, Any]:
    """The tours' world: GTM's need N-1, BRA's capacity C-1, exchanges, a study tour between
    them at its closing session with one commitment of GTM (due 2026-09)."""
    app.config["TODAY"] = "2026-07-15"
    with Session(app.extensions["sscmatch.engine"], expire_on_commit=False) as s:
        proposal = make_world(s)
        tour = wf.draft_from_proposal(s, proposal, users["secretariat"], today=date(2026, 1, 5))
        s.commit()
    sec = as_user("secretariat")
    for n, to in enumerate(("proposed", "agreed", "scheduled"), 1):
        moved = sec.post(f"/tours/{tour.id}/status", data={"version": str(n), "to": to})
        assert moved.status_code == 302, to
    recorded = sec.post(
        f"/tours/{tour.id}/commitments",
        data={"owner_country": "GTM", "description": "Train", "due": "2026-09",
              "status": "pending"},
    )  # fmt: skip
    assert recorded.status_code == 302
    tokens = issue_tokens(app, users)
    return {"tour": tour.id, "k": f"{tour.id}-k01", "tokens": tokens, "users": users}


def _cases(places: list[Where]) -> list[tuple[Where, str, str]]:
    out = []
    for where in places:
        for date_field in where.fields:
            out += [(where, date_field, value) for value in BAD_DATES]
        out.append((where, where.reversed_field, REVERSED))
    return out


def _beside(page: str, name: str) -> tuple[str, str]:
    """The error shown beside field ``name`` and the tag of its input."""
    found = re.search(rf'<p class="error" id="{name}-err">(.*?)</p>', page, re.S)
    assert found is not None, f"no error beside {name}"
    tag = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', page)
    assert tag is not None, f"no input {name}"
    return html_lib.unescape(found.group(1)).strip(), tag.group(0)


def _judge(said: str, english: str, lang: str, value: str) -> list[str]:
    """What is wrong with ``said``, a date's refusal for a reader of ``lang``."""
    wrong = []
    if said == english:
        wrong.append("said in English")
    lowered = said.lower()
    wrong += [f"Python's {w!r}" for w in PYTHON_ENGLISH if w in lowered]
    wrong += [f"the code {c!r}" for c in DATE_CODES if c in said]
    if value == REVERSED and re.search(r"\b20\d\d-\d\d\b", said):
        wrong.append("an ISO date inside the sentence")
    findings = list(Detector(lang, (), ()).findings([said]))
    wrong += [f"English: {f.why}" for f in findings]
    return wrong


# What a database does (refuse, write nothing) is the same in every language: each language on
# SQLite, one on PostgreSQL (tests/conftest.py, one_case_on_postgresql).
@pytest.mark.one_case_on_postgresql(lang="es")
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_date_field_of_every_form(app: Flask, world: dict[str, Any], as_user: Any,
                                        lang: str) -> None:  # fmt: skip
    clients = {}
    for who in ("secretariat", "focal_gtm", "focal_bra"):
        clients[(who, "en")] = as_user(who)
        clients[(who, lang)] = as_user(who)
        clients[(who, lang)].post("/language", data={"lang": lang, "next": "/"})
    wrong: list[str] = []
    before = _written(app)
    for where, date_field, value in _cases(_forms(world["tour"], world["k"])):
        said = {}
        for reader in ("en", lang):
            data = where.body(app, value, date_field)
            page = clients[(where.who, reader)].post(where.path, data=data)
            here = f"{where.name} {date_field}={value} ({reader})"
            if page.status_code != 400:
                wrong.append(f"{here}: {page.status_code}")
                continue
            body = page.get_data(as_text=True)
            message, tag = _beside(body, date_field)
            if (
                'aria-invalid="true"' not in tag
                or f'aria-describedby="{date_field}-err"' not in tag
            ):
                wrong.append(f"{here}: the field is not marked invalid: {tag}")
            if 'class="flash flash-error" role="alert"' not in body:
                wrong.append(f"{here}: no summary line above the form")
            banner = re.findall(r'<div class="flash[^"]*"[^>]*>(.*?)</div>', body, re.S)
            if any(message in html_lib.unescape(b) for b in banner):
                wrong.append(f"{here}: the message is (also) a banner above the page")
            said[reader] = message
        if len(said) == 2:
            for problem in _judge(said[lang], said["en"], lang, value):
                wrong.append(
                    f"{where.name} {date_field}={value} ({lang}): {problem}: {said[lang]!r}"
                )
    assert _written(app) == before, "a refused form wrote something"
    assert not wrong, f"{len(wrong)} problems:\n" + "\n".join(wrong)


# What a database does (refuse, write nothing) is the same in every language: each language on
# SQLite, one on PostgreSQL (tests/conftest.py, one_case_on_postgresql).
@pytest.mark.one_case_on_postgresql(lang="es")
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_date_field_of_the_api(app: Flask, world: dict[str, Any], lang: str) -> None:
    client = app.test_client()
    tokens, users = world["tokens"], world["users"]
    wrong: list[str] = []
    before = _written(app)
    for where, date_field, value in _cases(_api(world["tour"], world["k"])):
        said = {}
        for reader in ("en", lang):
            _speaks(app, users[where.who], reader)
            response = client.open(
                "/api/v1" + where.path,
                method=where.api_method,
                json=where.body(app, value, date_field),
                headers={"Authorization": f"Bearer {tokens[where.who]}"},
            )
            here = f"{where.name} {date_field}={value} ({reader})"
            answer = response.get_json(silent=True) or {}
            if response.status_code != 422:
                wrong.append(f"{here}: {response.status_code} {answer}")
                continue
            fields = answer.get("fields") or {}
            if list(fields) != [date_field]:
                wrong.append(f"{here}: fields {fields} (expected only {date_field})")
                continue
            said[reader] = fields[date_field]
            named, _sep, problem = answer["message"].partition(": ")
            english = str(FIELD_LABELS[date_field])  # outside a request: the English label
            if (
                problem != fields[date_field]
                or named == date_field
                or (named != english if reader == "en" else named == english)
            ):
                wrong.append(f"{here}: the message does not name the field by its label: {answer}")
        if len(said) == 2:
            for problem in _judge(said[lang], said["en"], lang, value):
                wrong.append(
                    f"{where.name} {date_field}={value} ({lang}): {problem}: {said[lang]!r}"
                )
    assert _written(app) == before, "a refused call wrote something"
    assert not wrong, f"{len(wrong)} problems:\n" + "\n".join(wrong)


def test_a_reversed_range_comes_with_the_other_fields_problems(world: dict[str, Any],
                                                               as_user: Any) -> None:  # fmt: skip
    """Before, a window's order was a check of the whole record: run only once every field was
    valid, and shown as a banner naming its code ("desired period ends before it starts")."""
    page = as_user("focal_gtm").post(
        "/needs/new",
        data={"title": "", "themes": "labour-inspection", "desired_from": "2027-05-01",
              "desired_to": "2026-01-01", "languages": "zz-top"},
    ).get_data(as_text=True)  # fmt: skip
    for name in ("title", "languages", "desired_to"):
        assert f'id="{name}-err"' in page, name
    message, _tag = _beside(page, "desired_to")
    assert message == "the end (January 1, 2026) is before the start (May 1, 2027)"


def test_commitment_page_shows_every_problem_beside_its_field(world: dict[str, Any],
                                                              as_user: Any) -> None:  # fmt: skip
    """Dropping with no note, fulfilling with no evidence and a bad due date: each beside its
    field at once, the typed values kept, nothing written."""
    gtm = as_user("focal_gtm")
    url = f"/followup/commitments/{world['k']}"
    page = gtm.post(url, data={"version": "1", "status": "dropped", "due": "2001", "note": ""})
    assert page.status_code == 400
    body = page.get_data(as_text=True)
    due = _beside(body, "due")[0]
    assert due.startswith("the due date 2001 is before the exchange (it began March ")
    assert not re.search(r"\b2026-\d\d", due)  # the exchange's start as a reader writes it
    note = re.search(r'<p class="error" id="note-err">(.*?)</p>', body, re.S)
    assert note is not None and "say why the commitment is dropped" in note.group(1)
    assert 'value="2001"' in body  # what was typed comes back
    fulfilled = gtm.post(url, data={"version": "1", "status": "fulfilled", "evidence": "",
                                    "due": "9999"}).get_data(as_text=True)  # fmt: skip
    assert "needs evidence" in _beside(fulfilled, "evidence")[0]
    assert _beside(fulfilled, "due")[0] == "'9999': a date's year must be from 1900 to 2100"


def _date_fields(schema: type[Any]) -> set[str]:
    """A schema's fields read by the date rule (``created`` is the service's)."""
    rules = {schemas._check_date, normalise_partial_date}
    return {
        name
        for name, info in schema.model_fields.items()
        if any(getattr(m, "func", None) in rules for m in info.metadata)
    } - set(SERVICE_FIELDS)


def test_the_walk_covers_every_date_field() -> None:
    """A new date field of a record's schema must join the walk above."""
    walked = {
        schema: {f for w in _api("t", "k") if w.path.startswith(prefix) for f in w.fields}
        for schema, prefix in (
            (schemas.NeedCreate, "/needs"),
            (schemas.CapacityCreate, "/capacities"),
            (schemas.ExchangeCreate, "/exchanges"),
        )
    }
    for schema, fields in walked.items():
        assert _date_fields(schema) == fields, schema.__name__
    assert _date_fields(schemas.CommitmentCreate) == {"due"}
    assert MIN_YEAR == 1900 and MAX_YEAR == 2100
