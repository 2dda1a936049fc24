"""A stale edit, for every edit form of a versioned record (sscmatch.web.stale_edit).

Each form of :data:`CASES` is walked through the pages as two people do it: both open the form
at the same version; the other person changes a field the person leaves alone ("theirs") and one
both change ("both"); the person then saves their changes ("mine", and "both" their way) from the
stale version. The answer is 409 with the form again: the person's typed values kept, the field
only the other person changed merged in (theirs), the field both changed listed by its label in
the reader's language with their value and yours, the version moved to the current one; saving
that form again does what the page says (yours replaces theirs in the listed field, their merged
change stays). When the audit trail does not hold the version the person started from, every
field where the current record and the form differ is listed and nothing is merged: the second
save replaces exactly those fields. On SQLite and PostgreSQL (``SSCMATCH_TEST_DATABASE_URL``).

The guards: every form class posting a ``version`` is a registered edit form (walked here) or a
step declared in :data:`STEP_FORMS` with what it does on a stale version; every template that
posts a ``version`` is an edit form's (showing the stale-edit panel) or a step's.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, delete, select
from werkzeug.datastructures import MultiDict
from wtforms import Form
from wtforms.fields.core import UnboundField

from sscmatch.models import AuditEvent, Capacity, Commitment, Need, StudyTour, User
from sscmatch.web.stale_edit import EDIT_FORMS
from sscmatch.workflow import tours as wf
from sscmatch.workflow.users import create_user
from tests.conftest import PASSWORD, sign_in
from tests.web.test_registry import CAPACITY_FORM, NEED_FORM
from tests.workflow.test_tours import make_world

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
YEAR = date.today().year


class _FormFields(HTMLParser):
    """What a browser sends from the form posting to ``action``: its named fields, checked
    boxes, selected options (the first when none is), text areas."""

    def __init__(self, action: str) -> None:
        super().__init__(convert_charrefs=True)
        self.action, self.inside, self.found = action, False, False
        self.fields: list[tuple[str, str]] = []
        self._select: tuple[str, bool, list[str], list[str]] | None = None
        self._textarea: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v if v is not None else "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("action") == self.action
            self.found = self.found or self.inside
        elif not self.inside:
            return
        elif tag == "input":
            kind, name = a.get("type", "text"), a.get("name")
            if not name or kind in ("submit", "button", "reset", "image", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((name, a.get("value", "on")))
        elif tag == "select" and a.get("name"):
            self._select = (a["name"], "multiple" in a, [], [])
        elif tag == "option" and self._select is not None:
            self._select[3].append(a.get("value", ""))
            if "selected" in a:
                self._select[2].append(a.get("value", ""))
        elif tag == "textarea" and a.get("name"):
            self._textarea = (a["name"], [])

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select" and self._select is not None:
            name, multiple, chosen, options = self._select
            if not chosen and not multiple and options:
                chosen = options[:1]
            self.fields += [(name, value) for value in chosen]
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            name, parts = self._textarea
            text = "".join(parts)
            self.fields.append((name, text[2:] if text.startswith("\r\n") else text))
            self._textarea = None


def form_of(page: str, action: str) -> MultiDict[str, str]:
    parser = _FormFields(action)
    parser.feed(page)
    assert parser.found, f"no form posting to {action}"
    return MultiDict(parser.fields)


def panel(page: str, kind: str) -> dict[str, tuple[str, str, str]]:
    """The stale-edit panel's table ``kind`` (replaced, taken): field → (label, theirs, yours)."""
    table = re.search(rf'<table class="stale-fields" data-stale="{kind}">(.*?)</table>', page, re.S)
    if table is None:
        return {}
    rows = re.findall(
        r'<tr data-field="([\w-]+)"><th scope="row">(.*?)</th><td>(.*?)</td><td>(.*?)</td></tr>',
        table.group(1),
        re.S,
    )
    return {name: tuple(html.unescape(cell) for cell in cells) for name, *cells in rows}  # type: ignore[misc]


# --------------------------------------------------------------------------- the forms


@dataclass(frozen=True)
class Case:
    """One edit form: who edits (``me``), who edits meanwhile (``other``), the record, and the
    changes: (posted field, value); a field's name in the panel is the posted name's first part
    (``delegation-0-name`` → ``delegation``)."""

    model: type[Any]
    me: str
    other: str
    make: Callable[[Flask, dict[str, Any]], Any]  # creates the record; returns its id
    url: Callable[[Any], str]
    theirs: tuple[str, str]
    mine: tuple[str, str]
    both: tuple[str, str, str]  # field, their value, my value
    extra: dict[str, str] = field(default_factory=dict)  # typed too, not a value of the record
    theirs_shown: str | None = None  # their value as the panel shows it (a choice's label)
    stored: dict[str, Callable[[Any], Any]] = field(default_factory=dict)
    confirmed: dict[str, str] = field(default_factory=dict)  # posted with a save asking so


def _post(client: Any, url: str, data: Any, expect: int = 302) -> Any:
    response = client.post(url, data=data)
    assert response.status_code == expect, response.get_data(as_text=True)[:2000]
    return response


def _capacity(app: Flask, people: dict[str, Any]) -> str:
    _post(people["focal_gtm"], "/capacities/new", CAPACITY_FORM)
    return f"C-{YEAR}-0001"


def _need(app: Flask, people: dict[str, Any]) -> str:
    _post(people["focal_gtm"], "/needs/new", NEED_FORM)
    return f"N-{YEAR}-0001"


def _tour(app: Flask, people: dict[str, Any]) -> str:
    with Session(app.extensions["sscmatch.engine"], expire_on_commit=False) as s:
        proposal = make_world(s)
        sec = s.exec(select(User).where(User.email == "sec@test.org")).one()
        tour = wf.draft_from_proposal(s, proposal, sec.id, today=date(2026, 1, 5))
        s.commit()
        return tour.id


def _commitment(app: Flask, people: dict[str, Any]) -> str:
    app.config["TODAY"] = "2026-07-15"
    tour_id = _tour(app, people)
    sec = people["secretariat"]
    for n, to in enumerate(("proposed", "agreed", "scheduled"), 1):
        _post(sec, f"/tours/{tour_id}/status", {"version": str(n), "to": to})
    data = {"owner_country": "GTM", "description": "Train 40 inspectors", "due": "2026-09"}
    _post(sec, f"/tours/{tour_id}/commitments", {**data, "status": "pending"})
    return f"{tour_id}-k01"


def _user(app: Flask, people: dict[str, Any]) -> int:
    with Session(app.extensions["sscmatch.engine"]) as s:
        user = s.exec(select(User).where(User.email == "bra@test.org")).one()
        assert user.id is not None
        return user.id


CASES: dict[str, Case] = {
    "capacity": Case(
        Capacity,
        "focal_gtm",
        "secretariat",
        _capacity,
        lambda key: f"/capacities/{key}/edit",
        theirs=("description", "Their description"),
        mine=("title", "My title"),
        both=("max_per_year", "5", "7"),
    ),
    "need": Case(
        Need,
        "focal_gtm",
        "secretariat",
        _need,
        lambda key: f"/needs/{key}/edit",
        theirs=("description", "Their description"),
        mine=("title", "My title"),
        both=("priority", "low", "medium"),
    ),
    "study_tour": Case(
        StudyTour,
        "focal_bra",
        "secretariat",
        _tour,
        lambda key: f"/tours/{key}/edit",
        theirs=("delegation-0-name", "Marta"),  # a row of a table of rows
        mine=("title", "My title"),
        both=("objective", "Their objective", "My objective"),
        stored={"delegation": lambda t: t.delegation[0]["name"]},
    ),
    "commitment": Case(
        Commitment,
        "focal_gtm",
        "secretariat",
        _commitment,
        lambda key: f"/followup/commitments/{key}",
        theirs=("evidence", "https://example.org/theirs"),
        mine=("due", "2026-12"),
        both=("status", "in_progress", "dropped"),
        extra={"note": "No budget this year"},  # the words on the update: kept, not compared
        # a focal point's decision (dropped) is confirmed first (sscmatch.web.followup)
        confirmed={"confirmed": "y"},
    ),
    "user": Case(
        User,
        "admin",
        "admin-b",
        _user,
        lambda key: f"/admin/users/{key}",
        theirs=("language", "fr"),
        theirs_shown="Français",
        # a change of constituency (a right) is confirmed first (sscmatch.web.admin_status)
        confirmed={"confirmed": "y"},
        mine=("name", "Bruna"),
        both=("constituency", "employers", "workers"),
    ),
}


def _people(app: Flask, case: Case, lang: str) -> dict[str, Any]:
    with Session(app.extensions["sscmatch.engine"]) as s:
        create_user(s, "admin-b@test.org", PASSWORD, "admin", name="admin-b")
        s.commit()
    people: dict[str, Any] = {}
    for who in {"focal_gtm", "secretariat", case.me}:
        people[who] = sign_in(app.test_client(), who)
    other = app.test_client()
    email = "admin-b@test.org" if case.other == "admin-b" else None
    if email:
        _post(other, "/login", {"email": email, "password": PASSWORD})
    else:
        other = people[case.other] if case.other in people else sign_in(other, case.other)
    people["other"] = other
    people[case.me].environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
    return people


def _label(app: Flask, case: Case, name: str, lang: str) -> str:
    """The field's label as the form names it, in ``lang``."""
    form_class = next(c for c, spec in EDIT_FORMS.items() if spec.model is case.model)
    with app.test_request_context(headers={"Accept-Language": lang}):
        return str(form_class(formdata=None)[name].label.text)


def _stored(app: Flask, case: Case, key: Any, name: str) -> str:
    with Session(app.extensions["sscmatch.engine"]) as s:
        record = s.get(case.model, key)
        assert record is not None
        value = case.stored[name](record) if name in case.stored else getattr(record, name)
        return "" if value is None else str(value)


def _both_open(
    app: Flask, case: Case, lang: str
) -> tuple[Any, str, Any, Any, MultiDict[str, str], MultiDict[str, str]]:
    """The record made, and both people's forms opened at the same version: (key, url, me,
    the other person, my form, theirs)."""
    people = _people(app, case, lang)
    key = case.make(app, people)
    url = case.url(key)
    me, other = people[case.me], people["other"]
    started = form_of(me.get(url).get_data(as_text=True), url)
    theirs = form_of(other.get(url).get_data(as_text=True), url)
    return key, url, me, other, started, theirs


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize("entity", sorted(CASES))
def test_a_stale_edit_keeps_yours_merges_theirs_and_lists_both(
    app: Flask, users: dict[str, int], entity: str, lang: str
) -> None:
    case = CASES[entity]
    key, url, me, other, started, theirs = _both_open(app, case, lang)
    version = started["version"]

    # the other person saves first, from the same version
    theirs[case.theirs[0]] = case.theirs[1]
    theirs[case.both[0]] = case.both[1]
    _post(other, url, theirs | case.confirmed)

    # then the person saves their own changes from the version they started from
    mine = started.copy()
    mine[case.mine[0]] = case.mine[1]
    mine[case.both[0]] = case.both[2]
    for name, value in case.extra.items():
        mine[name] = value
    answer = _post(me, url, mine | case.confirmed, expect=409)
    page = answer.get_data(as_text=True)
    again = form_of(page, url)

    # 1. nothing typed is lost; theirs is merged in where the person had not changed anything
    assert again[case.mine[0]] == case.mine[1]
    assert again[case.both[0]] == case.both[2]
    for name, value in case.extra.items():
        assert again[name] == value
    assert again[case.theirs[0]] == case.theirs[1]
    assert int(again["version"]) == int(version) + 1  # moved with the merge, not silently

    # 2. which fields the other person changed, by their labels in the reader's language
    both, theirs_name = case.both[0], case.theirs[0].split("-")[0]
    replaced, taken = panel(page, "replaced"), panel(page, "taken")
    assert set(replaced) == {both}, replaced
    assert set(taken) == {theirs_name}, taken
    assert replaced[both][0] == _label(app, case, both, lang)
    assert taken[theirs_name][0] == _label(app, case, theirs_name, lang)
    assert (case.theirs_shown or case.theirs[1]) in taken[theirs_name][1]
    if lang != "en" and _label(app, case, both, "en") != replaced[both][0]:
        assert f'<th scope="row">{_label(app, case, both, "en")}</th>' not in page
    # 3. one choice: save again (replacing theirs in the listed fields) or discard
    with app.test_request_context(headers={"Accept-Language": lang}):
        from sscmatch.web.translate import gettext

        choice = gettext(
            "Save again to keep your values (this replaces theirs in the fields listed)."
        )
    assert html.escape(choice, quote=False) in page or choice in html.unescape(page)
    discard = re.search(r'<a href="([^"]+)" data-stale="discard">', page)
    assert discard is not None and html.unescape(discard.group(1)) == url
    current = form_of(me.get(url).get_data(as_text=True), url)
    assert current[both] == case.both[1] and current["version"] == again["version"]

    # 4. saving again does what it said: yours in the listed field and in yours, theirs kept
    _post(me, url, again | case.confirmed)
    assert _stored(app, case, key, case.mine[0]) == case.mine[1]
    assert _stored(app, case, key, both) == case.both[2]
    assert _stored(app, case, key, theirs_name) == case.theirs[1]


@pytest.mark.parametrize("entity", sorted(CASES))
def test_without_the_started_version_on_record_every_difference_is_listed(
    app: Flask, users: dict[str, int], entity: str
) -> None:
    """Who changed what cannot be told: nothing is merged, every field where the current record
    and the form differ is listed, and saving again replaces exactly those."""
    case = CASES[entity]
    key, url, me, other, started, theirs = _both_open(app, case, "en")
    theirs[case.theirs[0]] = case.theirs[1]
    theirs[case.both[0]] = case.both[1]
    theirs_name = case.theirs[0].split("-")[0]
    was = _stored(app, case, key, theirs_name)
    _post(other, url, theirs | case.confirmed)
    with Session(app.extensions["sscmatch.engine"]) as s:
        entity_name = next(spec.entity for spec in EDIT_FORMS.values() if spec.model is case.model)
        s.exec(  # type: ignore[call-overload]
            delete(AuditEvent).where(
                AuditEvent.entity == entity_name, AuditEvent.entity_id == str(key)
            )
        )
        s.commit()
    mine = started.copy()
    mine[case.mine[0]] = case.mine[1]
    mine[case.both[0]] = case.both[2]
    for name, value in case.extra.items():
        mine[name] = value
    page = _post(me, url, mine | case.confirmed, expect=409).get_data(as_text=True)
    again = form_of(page, url)
    assert set(panel(page, "replaced")) == {case.mine[0], case.both[0], theirs_name}
    assert panel(page, "taken") == {}
    assert again[case.theirs[0]] == started[case.theirs[0]]  # yours, listed: not merged
    _post(me, url, again | case.confirmed)
    assert _stored(app, case, key, case.both[0]) == case.both[2]
    assert _stored(app, case, key, theirs_name) == was  # theirs replaced, as listed


# --------------------------------------------------------------------------- the guards

STEP_FORMS = {
    # a step on a record (a button, perhaps with a note), not an edit of its fields: a stale one
    # is refused (409) and the page shows the record as it is now, with the note typed
    "ActionForm": "submit or endorse a need: a button",
    "ReturnForm": "return a need to its focal point, with a note",
    "WithdrawForm": "withdraw a need its country no longer wants (optional reason), confirmed",
    "ResponseForm": "a country's answer to a proposal, with a note",
    "DecisionForm": "the secretariat's decision on a proposal, with its reason",
    "ReasonForm": "reopen a need, with a reason",
    "StatusForm": "a study tour's next status, with a note",
    "VersionForm": "a user's deactivation or reactivation, confirmed",
}
STEP_TEMPLATES = {
    "registry/need.html",
    "review/proposal.html",
    "review/_answer.html",
    "review/_candidate_actions.html",
    "review/need.html",
    "review/bulk_confirm.html",
    "review/queue.html",
    "tours/show.html",
}


def _subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_subclasses(sub)}
    return found


def test_every_form_posting_a_version_is_an_edit_form_walked_here_or_a_step(app: Flask) -> None:
    posting = {
        c
        for c in _subclasses(Form)
        if c.__module__.startswith("sscmatch.")
        and isinstance(getattr(c, "version", None), UnboundField)
    }
    edit_forms = set(EDIT_FORMS)
    # a base the edit forms share (the capacity's and the need's)
    bases = {c for c in posting - edit_forms if _subclasses(c) and _subclasses(c) <= edit_forms}
    steps = {c.__name__ for c in posting - edit_forms - bases}
    assert steps - set(STEP_FORMS) == set(), "a form posts a version: register it in stale_edit"
    assert {spec.entity for spec in EDIT_FORMS.values()} == set(CASES)


def test_every_template_posting_a_version_shows_the_stale_edit_panel_or_is_a_step() -> None:
    """A template posting a ``version`` (a field of its own, or its form's) shows the stale-edit
    panel (an edit form's page; it may hold steps too) or holds steps only. The user's form
    renders its version with ``hidden_tag()``: the form class guard above finds it."""
    posting, panels = set(), set()
    for path in TEMPLATES.rglob("*.html"):
        source, name = path.read_text(), str(path.relative_to(TEMPLATES))
        if re.search(r"form\.version|name=\"version\"|:\{\{ ?(version|p\.version)", source):
            posting.add(name)
        if "{{ stale_edit(stale) }}" in source:
            panels.add(name)
    assert posting - panels == STEP_TEMPLATES
    edit_pages = {"registry/form.html", "tours/edit.html", "followup/commitment.html"}
    assert panels == edit_pages | {"admin/user_edit.html"}


def test_a_stale_return_of_a_need_keeps_the_note(app: Flask, users: dict[str, int]) -> None:
    """A step with words of its own (returning a need with a note): a stale one shows the need
    as it is now, the note kept in its field, at the current version."""
    people = _people(app, CASES["need"], "en")
    need_id = _need(app, people)
    gtm, sec = people["focal_gtm"], people["secretariat"]
    _post(gtm, f"/needs/{need_id}/submit", {"version": "1"})
    form = form_of(
        gtm.get(f"/needs/{need_id}/edit").get_data(as_text=True), f"/needs/{need_id}/edit"
    )
    form["title"] = "Changed meanwhile"
    _post(gtm, f"/needs/{need_id}/edit", form)
    note = "Say which harvest months"
    page = _post(sec, f"/needs/{need_id}/return", {"version": "2", "note": note}, expect=409)
    text = page.get_data(as_text=True)
    kept = form_of(text, f"/needs/{need_id}/return")
    assert kept["note"] == note and kept["version"] == "3"
    assert "someone changed this need meanwhile" in text and "Changed meanwhile" in text


# --------------------------------------------------------------------------- values as shown

SHOWN_CHANGES: dict[str, dict[str, str]] = {
    # what the other person changes, per edit form: its dates and coded values (a row's too)
    "capacity": {"available_from": "2026-03-15", "maturity": "pilot", "status": "draft"},
    "need": {"desired_from": "2026-07-01", "desired_to": "2026-09", "priority": "low"},
    "study_tour": {"start": "2026-03-09", "end": "2026-03-11", "agenda-0-kind": "field_visit"},
    "commitment": {"due": "2026-10-20", "status": "in_progress"},
    "user": {"language": "pt"},  # a change of rights is confirmed first,
}
ISO_DATE = re.compile(r"\b\d{4}-\d{2}(-\d{2})?\b")


def _coded_and_dated(form_class: type) -> tuple[set[str], set[str]]:
    """The posted names (a row's as ``table-0-field``) of a form's selects and date fields."""
    from wtforms import FieldList, FormField, SelectFieldBase

    from sscmatch.web.datefields import TypedDateField

    coded, dated = set(), set()
    for name, unbound in _unbound(form_class):
        kind = unbound.field_class
        if issubclass(kind, FieldList):
            inner = unbound.args[0]
            if issubclass(inner.field_class, FormField):
                for sub, sub_unbound in _unbound(inner.args[0]):
                    if issubclass(sub_unbound.field_class, SelectFieldBase):
                        coded.add(f"{name}-0-{sub}")
                    if issubclass(sub_unbound.field_class, TypedDateField):
                        dated.add(f"{name}-0-{sub}")
        elif issubclass(kind, SelectFieldBase):
            coded.add(name)
        if issubclass(kind, TypedDateField):
            dated.add(name)
    return coded, dated


def _unbound(form_class: type) -> list[tuple[str, UnboundField]]:
    return [
        (name, value)
        for klass in reversed(form_class.__mro__)
        for name, value in vars(klass).items()
        if isinstance(value, UnboundField)
    ]


def test_every_edit_form_shows_a_date_and_a_coded_value_in_the_walk() -> None:
    """The walk below changes, in every edit form, a date field (where it has one) and a coded
    field, in a table of rows too where its rows have selects."""
    for form_class, spec in EDIT_FORMS.items():
        changes = set(SHOWN_CHANGES[spec.entity])
        coded, dated = _coded_and_dated(form_class)
        assert not dated or changes & dated, (spec.entity, dated)
        assert changes & coded, (spec.entity, coded)
        rows = {c for c in coded if "-0-" in c}
        assert not rows or changes & rows, (spec.entity, rows)


def _codes(page: str, action: str) -> dict[str, set[str]]:
    """The codes of the selects of the form posting to ``action``, by field (a row's select by
    its table): those whose label differs from the code (a code the panel must not show)."""
    form = re.search(rf'<form[^>]*action="{re.escape(action)}"[^>]*>(.*?)</form>', page, re.S)
    assert form is not None
    codes: dict[str, set[str]] = {}
    for name, options in re.findall(
        r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form[1], re.S
    ):
        for code, label in re.findall(
            r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', options
        ):
            code, label = html.unescape(code), html.unescape(label).strip()
            if re.fullmatch(r"[a-z][a-z_]+", code) and label and label != code:
                codes.setdefault(name.split("-")[0], set()).add(code)
    return codes


@pytest.mark.parametrize("lang", ["es", "fr"])
@pytest.mark.parametrize("entity", sorted(CASES))
def test_the_panel_shows_dates_and_codes_as_the_page_does(
    app: Flask, users: dict[str, int], entity: str, lang: str
) -> None:
    """The values in the stale-edit panel read as the page shows them: dates in the reader's
    date format (no ISO text), coded values by the label the form's select shows (no code), in
    a table of rows (a tour's agenda) too."""
    case = CASES[entity]
    _key, url, me, other, started, theirs = _both_open(app, case, lang)
    for name, value in SHOWN_CHANGES[entity].items():
        assert theirs[name] != value, (name, "the walk must change it")
        theirs[name] = value
    _post(other, url, theirs | case.confirmed)
    mine = started.copy()
    mine[case.mine[0]] = case.mine[1]
    page = _post(me, url, mine | case.confirmed, expect=409).get_data(as_text=True)
    cells = {**panel(page, "replaced"), **panel(page, "taken")}
    changed = {name.split("-")[0] for name in SHOWN_CHANGES[entity]}
    assert changed <= set(cells), (changed, cells)
    codes = _codes(page, url)
    form_class = next(c for c, spec in EDIT_FORMS.items() if spec.model is case.model)
    coded = _coded_and_dated(form_class)[0] & set(SHOWN_CHANGES[entity])
    assert {n.split("-")[0] for n in coded} <= set(codes), codes  # the codes the walk checks
    for name, (_label_text, their_value, your_value) in cells.items():
        for value in (their_value, your_value):
            assert not ISO_DATE.search(value), (name, value)
            parts = set(re.split(r" · |; ", value))  # a value, a list's or a row's parts
            shown = parts & codes.get(name, set())
            assert not shown, (name, value, shown)
