"""Every free-text field of every page form says its limit to the browser (``maxlength``) and
checks it itself: a text over it is refused beside the field in the reader's language
("Trop long (2 001 caractères ; au plus 2 000)."), what was typed kept, nothing written, never a
5xx or a database error; a text of exactly the limit, line breaks counted once as the browser
counts them, is accepted. The limit is the one the use case or the column holds the text to,
never tighter nor looser.

Before, thirty text fields had no check of the page's own: most of them no ``maxlength`` either
(a commitment's description and evidence, a need's description, a tour's objective, the rows of
its delegation and agenda, a need's return note, a run's need ids), the browser letting anything
through to the use case, which refused it in its own words or not at all; the accounts' name and
e-mail said WTForms' "Field cannot be longer than 200 characters.", without the count.

The class, walked three ways:

- by introspection: every field of every page form (and of the row forms inside them) that is a
  ``StringField`` or a ``TextAreaField`` carries :class:`TextLength` at the limit named for it in
  :data:`LIMITS` (read from the use case's constants), and its widget the ``maxlength``; a new
  form or field fails until it has one (or is named in :data:`NOT_FREE_TEXT` with why);
- through the pages: every POST form of every page of the URL map (the shared world, read by the
  first role that may), each text box of it in turn given one character more than its page's
  ``maxlength``, on one line and (text boxes) with line breaks, in es, pt or fr;
- at the limit: every limited field of every form, and through the pages a commitment, a need
  and a tour saved with texts of exactly their limits with line breaks, and a tour's objective
  stored with CR LF saved again unchanged (not read as a change).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

from flask import Flask, request
from sqlmodel import Session, select
from werkzeug.datastructures import MultiDict
from wtforms import (
    FieldList,
    FormField,
    HiddenField,
    PasswordField,
    StringField,
)
from wtforms.fields.core import UnboundField
from wtforms.validators import Length

from sscmatch.models import Commitment, Need, StudyTour
from sscmatch.schemas import MAX_DESCRIPTION, MAX_REF, MAX_TEXT, MAX_TITLE
from sscmatch.web.api.review import MatchRunRequest
from sscmatch.web.datefields import TypedDateField
from sscmatch.web.matching import COUNTRY_CODES_TEXT, NEED_IDS_TEXT
from sscmatch.web.pageform import PageForm
from sscmatch.web.registry import LANGUAGES_TEXT
from sscmatch.web.templating import number
from sscmatch.web.textlimit import TextLength
from sscmatch.web.translate import gettext
from sscmatch.workflow.users import MAX_EMAIL, MAX_NAME
from tests.web.test_form_messages_translated import _form_classes
from tests.web.test_nul_in_forms import ROLES, _beside, _Forms, shown_pages
from tests.web.test_registry import NEED_FORM
from tests.web.test_tours import GOOD_EDIT, tour_id  # noqa: F401 (the fixture)
from tests.web.world import Walk, world_fixture

LIMITS: dict[str, int] = {
    # the use case's MAX_TEXT (schemas): notes, reasons, comments, a commitment, its evidence
    "followup.UpdateForm.evidence": MAX_TEXT,
    "followup.UpdateForm.note": MAX_TEXT,
    "need_forms.ReturnForm.note": MAX_TEXT,
    "need_forms.WithdrawForm.reason": MAX_TEXT,
    "review.CommentForm.body": MAX_TEXT,  # ProposalComment.body, a String(2000) column too
    "review.ResponseForm.note": MAX_TEXT,
    "review_actions.DecisionForm.reason": MAX_TEXT,
    "review_actions.DecisionForm.override_reason": MAX_TEXT,
    "review_actions.ReasonForm.reason": MAX_TEXT,
    "tours.CommitmentForm.description": MAX_TEXT,
    "tours.CommitmentForm.evidence": MAX_TEXT,
    # a tour's step note: the API's TransitionRequest.note (500) and the confirmation's box
    "tours.StatusForm.note": 500,
    # a country code: Country.code, a String(3) column
    "tours.FilterForm.country": 3,
    # titles and names (MAX_TITLE), descriptions (MAX_DESCRIPTION)
    "registry.*.title": MAX_TITLE,
    "registry.*.description": MAX_DESCRIPTION,
    "registry.*.languages": LANGUAGES_TEXT,
    "tour_editor.TourForm.title": MAX_TITLE,
    "tour_editor.TourForm.objective": MAX_DESCRIPTION,
    "tour_editor.TourForm.expected_change": MAX_DESCRIPTION,
    "tour_editor.MemberForm.name": MAX_TITLE,
    "tour_editor.MemberForm.role": MAX_TITLE,
    "tour_editor.MemberForm.institution": MAX_TITLE,
    "tour_editor.SessionForm.title": MAX_TITLE,
    "tour_editor.SessionForm.place": MAX_TITLE,
    # an account: User.email String(254), the name the account rules' MAX_NAME
    "admin.*.name": MAX_NAME,
    "admin.*.email": MAX_EMAIL,
    "auth.LoginForm.email": MAX_EMAIL,
    # the lists typed to choose the needs of a run (the API's MatchRunRequest: 10,000 ids)
    "matching.StartRunForm.needs": NEED_IDS_TEXT,
    "matching.StartRunForm.country": COUNTRY_CODES_TEXT,
}
"""Each free-text field (module.Class.field, ``*`` any class of the module) → its limit."""

NOT_FREE_TEXT: dict[str, str] = {
    "registry.CapacityForm.max_per_year": "a whole number (0 to 1,000) the use case reads",
    "tour_editor.SessionForm.day": "a number box (1 to 60)",
    "tour_editor.SessionForm.start": "a time box (HH:MM)",
    "tour_editor.SessionForm.end": "a time box (HH:MM)",
    "review.ResponseForm.back": "the page's own address to come back to, in a hidden input",
    "review_actions.ReasonForm.version": "the version the page showed, in a hidden input",
}
"""String fields a person does not type text into, and why."""

NOT_TEXT_KINDS = (HiddenField, PasswordField, TypedDateField)
"""Hidden values, passwords (never stored as typed), dates (read into a date or refused)."""


def _key(cls: type[Any], name: str) -> str:
    return f"{cls.__module__.rsplit('.', 1)[-1]}.{cls.__qualname__}.{name}"


def _limit_named(cls: type[Any], name: str) -> int | None:
    key = _key(cls, name)
    module = key.split(".", 1)[0]
    return LIMITS.get(key, LIMITS.get(f"{module}.*.{name}"))


def _text_fields(cls: type[Any]) -> Iterator[tuple[type[Any], str, UnboundField]]:
    """Each (form class, field name, unbound field) of ``cls`` that holds a string, the row
    forms of its lists included."""
    for name in dir(cls):
        unbound = getattr(cls, name, None)
        if not isinstance(unbound, UnboundField):
            continue
        kind = unbound.field_class
        if issubclass(kind, FieldList):
            inner = unbound.args[0]
            if issubclass(inner.field_class, FormField):
                yield from _text_fields(inner.args[0])
            continue
        typed = issubclass(kind, StringField) and not issubclass(kind, NOT_TEXT_KINDS)
        if typed and _key(cls, name) not in NOT_FREE_TEXT:
            yield cls, name, unbound


def _walked() -> list[tuple[type[Any], str, UnboundField]]:
    found = {}
    for cls in _form_classes():
        if issubclass(cls, PageForm):
            for owner, name, unbound in _text_fields(cls):
                found[_key(owner, name)] = (owner, name, unbound)
    return sorted(found.values(), key=lambda f: _key(f[0], f[1]))


def test_every_free_text_field_says_and_checks_its_stored_limit(app: Flask) -> None:
    wrong = []
    walked = _walked()
    for cls, name, unbound in walked:
        where = _key(cls, name)
        limit = _limit_named(cls, name)
        if limit is None:
            wrong.append(f"{where}: no stored limit named for it (LIMITS)")
            continue
        validators = unbound.kwargs.get("validators") or ()
        checks = [v.max for v in validators if isinstance(v, TextLength)]
        if any(isinstance(v, Length) and v.max > 0 for v in validators):  # not in our words
            wrong.append(f"{where}: WTForms' Length says its limit")
        elif checks != [limit]:
            wrong.append(f"{where}: TextLength {checks}, the stored limit is {limit}")
            continue
        with app.test_request_context():
            form = cls(formdata=None)
            drawn = str(form[name]())
        if f'maxlength="{limit}"' not in drawn:
            wrong.append(f"{where}: drawn without maxlength={limit}: {drawn[:120]}")
    assert not wrong, "\n".join(wrong)
    assert len(walked) >= 30, [_key(c, n) for c, n, _u in walked]


def test_a_run_takes_as_many_need_ids_as_the_api() -> None:
    """The need ids typed for a run: as many as the API takes (MatchRunRequest), each of the
    longest (MAX_REF) and a separator."""
    needs = MatchRunRequest.model_fields["needs"]
    most = next(m.max_length for m in needs.metadata if hasattr(m, "max_length"))
    assert most * (MAX_REF + 1) == NEED_IDS_TEXT


def _with_line_breaks(limit: int) -> str:
    """``limit`` characters as the browser counts them, a line break every 40 (sent CR LF)."""
    line = "ñ" * 39 + "\n"
    return (line * (limit // len(line) + 1))[:limit].rstrip("\n").ljust(limit, "ñ")


def test_every_free_text_field_takes_its_limit_with_line_breaks(app: Flask) -> None:
    for cls, name, _unbound in _walked():
        limit = _limit_named(cls, name)
        assert limit is not None, _key(cls, name)
        counted = _with_line_breaks(limit)
        sent = counted.replace("\n", "\r\n")
        with app.test_request_context(method="POST", data={name: sent}):
            form = cls(formdata=request.form)  # a row's form reads what it is given
            form.validate()
            said = [str(e) for e in form[name].errors]  # its shape is another check's
            assert not [e for e in said if e.startswith("Too long")], (_key(cls, name), said)
            assert form[name].data == counted, _key(cls, name)


# ------------------------------------------------------------------------ through the pages

shared_world = world_fixture()  # every answer is a refusal: nothing written
LANGS = ("es", "pt", "fr")
TYPED_KINDS = {"text", "search", "email", "url", "tel", "textarea"}


class _LimitedForms(_Forms):
    """The POST forms of a page, and each field's ``maxlength`` (by form index and name)."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlength: dict[tuple[int, str], str | None] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        super().handle_starttag(tag, attrs)
        a = dict(attrs)
        if self._form is not None and tag in ("input", "textarea") and a.get("name"):
            self.maxlength[(len(self.forms) - 1, str(a["name"]))] = a.get("maxlength")


def _not_typed() -> set[str]:
    """The names of the string fields no text is typed into (dates, numbers, hidden values:
    :data:`NOT_TEXT_KINDS`, :data:`NOT_FREE_TEXT`), which a page draws without a limit."""
    names = set()
    for cls in _form_classes():
        for name in dir(cls):
            unbound = getattr(cls, name, None)
            if not isinstance(unbound, UnboundField):
                continue
            if issubclass(unbound.field_class, NOT_TEXT_KINDS) or _key(cls, name) in NOT_FREE_TEXT:
                names.add(name)
    return names


def _too_long(walk: Walk, lang: str, limit: int) -> str:
    with walk.app.test_request_context(headers={"Accept-Language": lang}):
        said = gettext(
            "Too long (%(n)s characters; at most %(limit)s).",
            n=number(limit + 1, 0),
            limit=number(limit, 0),
        )
    assert not said.startswith("Too long"), (lang, said)  # translated
    return said


def test_a_text_over_its_limit_is_refused_beside_its_field(shared_world: Walk) -> None:
    wrong: list[str] = []
    walked: set[tuple[str, str]] = set()
    clients = {who: shared_world.client(who) for who in ROLES}
    not_typed = _not_typed()
    turn = 0
    for who, address, shown in shown_pages(shared_world, clients):
        client = clients[who]
        parser = _LimitedForms()
        parser.feed(shown)
        for at, (action, fields) in enumerate(parser.forms):
            target = html.unescape(action) or address
            for index, (name, _value, kind) in enumerate(fields):
                if kind not in TYPED_KINDS or (target, name) in walked:
                    continue
                walked.add((target, name))
                most = parser.maxlength.get((at, name))
                if not most:
                    if re.sub(r"^\w+-\d+-", "", name) not in not_typed:  # a row's field too
                        wrong.append(f"{who} {target} {name}: no maxlength")
                    continue
                limit = int(most)
                typed = ["é" * (limit + 1)]
                if kind == "textarea":  # a line break is one character, sent as two
                    typed.append(_with_line_breaks(limit + 1))
                for text in typed:
                    lang = LANGS[turn % len(LANGS)]
                    turn += 1
                    client.post("/language", data={"lang": lang, "next": "/"})
                    sent = text.replace("\n", "\r\n")
                    data = [(n, sent if i == index else v) for i, (n, v, _k) in enumerate(fields)]
                    answer = client.post(target, data=MultiDict(data))
                    page = answer.get_data(as_text=True)
                    where = f"{who} {target} {name} ({lang}, {len(text)} characters)"
                    if answer.status_code >= 500 or 300 <= answer.status_code < 400:
                        wrong.append(f"{where}: {answer.status_code}")
                    elif _too_long(shared_world, lang, limit) not in _beside(page, name):
                        wrong.append(f"{where}: not said beside the field: {_beside(page, name)}")
                    elif html.escape(text, quote=False) not in page.replace("\r\n", "\n"):
                        wrong.append(f"{where}: the typed text is not kept")
        client.post("/language", data={"lang": "en", "next": "/"})
    assert not wrong, "\n".join(wrong)
    assert len(walked) >= 20, sorted(walked)
    names = {n for _t, n in walked}
    assert {"description", "evidence", "objective", "delegation-0-name"} <= names, names


# ------------------------------------------------------------- at the limit, saved for real


def _as_a_browser_sends(value: str, kind: str) -> str:
    """A field's value as drawn, sent back by a browser: a text box's first line break (the
    one after its opening tag) is not its text, and every line break goes as CR LF."""
    if kind == "textarea":
        value = value.removeprefix("\r\n").removeprefix("\n")
    return value.replace("\r\n", "\n").replace("\n", "\r\n")


def _engine(app: Flask) -> Any:
    return app.extensions["sscmatch.engine"]


def test_a_commitment_at_its_limits_is_recorded(app: Flask, as_user: Any, tour_id: str) -> None:  # noqa: F811
    sec = as_user("secretariat")
    for n, to in enumerate(("proposed", "agreed", "scheduled"), 1):
        sec.post(f"/tours/{tour_id}/status", data={"version": str(n), "to": to})
    described = _with_line_breaks(MAX_TEXT)
    evidence = "é" * MAX_TEXT
    done = as_user("focal_gtm").post(
        f"/tours/{tour_id}/commitments",
        data={
            "owner_country": "GTM",
            "description": described.replace("\n", "\r\n"),
            "evidence": evidence,
            "status": "pending",
        },
    )
    assert done.status_code == 302, done.get_data(as_text=True)[:2000]
    with Session(_engine(app)) as s:
        k = s.exec(select(Commitment).where(Commitment.study_tour == tour_id)).one()
        assert (k.description, k.evidence) == (described, evidence)


def test_a_need_at_its_limits_is_registered(app: Flask, as_user: Any) -> None:
    described = _with_line_breaks(MAX_DESCRIPTION)
    title = "ñ" * MAX_TITLE
    done = as_user("focal_gtm").post(
        "/needs/new",
        data={**NEED_FORM, "title": title, "description": described.replace("\n", "\r\n")},
    )
    assert done.status_code == 302, done.get_data(as_text=True)[:2000]
    with Session(_engine(app)) as s:
        need = s.exec(select(Need).where(Need.title == title)).one()
        assert need.description == described


def test_a_tour_at_its_limits_is_saved_and_an_unchanged_text_stays(
    app: Flask,
    as_user: Any,
    tour_id: str,  # noqa: F811
) -> None:
    objective = _with_line_breaks(MAX_DESCRIPTION)
    edit = {**GOOD_EDIT, "objective": objective.replace("\n", "\r\n"), "title": "ñ" * MAX_TITLE}
    edit["delegation-0-name"] = "ñ" * MAX_TITLE
    client = as_user("secretariat")
    done = client.post(f"/tours/{tour_id}/edit", data=edit)
    assert done.status_code == 302, done.get_data(as_text=True)[:2000]
    with Session(_engine(app)) as s:
        tour = s.get(StudyTour, tour_id)
        assert tour is not None and tour.objective == objective
        # typed on a page before line breaks were counted once: stored with CR LF
        tour.objective = "First line\r\nSecond line"
        tour.expected_change = "A protocol\nfrom the API"
        s.add(tour)
        s.commit()
    page = client.get(f"/tours/{tour_id}/edit").get_data(as_text=True)
    parser = _LimitedForms()
    parser.feed(page)
    (fields,) = [f for a, f in parser.forms if a.endswith("/edit")]
    again = [(n, _as_a_browser_sends(v, k)) for n, v, k in fields]
    saved = client.post(f"/tours/{tour_id}/edit", data=MultiDict(again))
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    with Session(_engine(app)) as s:
        tour = s.get(StudyTour, tour_id)
        assert tour is not None
        assert (tour.objective, tour.expected_change) == (
            "First line\r\nSecond line",
            "A protocol\nfrom the API",
        )
