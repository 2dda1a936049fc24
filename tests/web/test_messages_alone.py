"""A use case's message shown on its own starts with a capital, in every language: the audit read
Spanish flashes "la gira empieza el…", "el plazo … es anterior…", "un compromiso cumplido
necesita una prueba…", "diga por qué se abandona…". The catalogue's messages begin in lower case
so that they can follow a field's name ("Fin: el plazo…"), and there they may stay; alone (a
flash, the error page, the API's ``message``) they start a sentence. The rule is one place,
``web.errors.error_text`` (with ``flash_beside`` for a form's problems that have no field), and
the walk is every message of the error catalogue (``tests/test_error_catalogue.py``'s)."""

from __future__ import annotations

import re
from typing import Any, ClassVar

import pytest
from flask import Flask, get_flashed_messages

from sscmatch.web.errors import error_text, flash_beside
from sscmatch.workflow.base import DomainError
from sscmatch.workflow.tours import Problem, TourProblems
from tests import test_error_catalogue as catalogue

LANGUAGES = ("en", "es", "pt", "fr")
SLOT = re.compile(r"%\((\w+)\)s")


def _messages() -> list[str]:
    """Every literal message a use case refuses with (the error catalogue's walk)."""
    found: set[str] = set()
    for _path, _function, _line, call in catalogue._raises():
        node = catalogue._message_of(call, str(catalogue._name(call.func)))
        if node is None:
            continue
        for value in catalogue._literals(node):
            if isinstance(value, catalogue.ast.Constant) and isinstance(value.value, str):
                found.add(value.value)
            elif isinstance(value, catalogue.ast.Call) and value.args:
                first = value.args[0]
                if isinstance(first, catalogue.ast.Constant) and isinstance(first.value, str):
                    found.add(first.value)
    return sorted(m for m in found if m)


MESSAGES = _messages()


def _values(message: str) -> dict[str, Any]:
    """A value for each placeholder, as the use cases give them (a quoted value, an id)."""
    return {name: "'X-1'" for name in SLOT.findall(message)}


def test_the_walk_has_the_messages_of_the_audit() -> None:
    assert len(MESSAGES) > 100
    assert "the tour starts on %(day)s; it cannot be completed before it took place" in MESSAGES
    assert sum(m[:1].islower() for m in MESSAGES) > 50  # most begin in lower case


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_message_shown_alone_starts_with_a_capital(app: Flask, lang: str) -> None:
    wrong = {}
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        for message in MESSAGES:
            said = error_text(DomainError(message, **_values(message)))
            if said[:1].islower():
                wrong[message] = said
    assert wrong == {}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_after_a_field_name_and_in_a_flash(app: Flask, lang: str) -> None:
    from sscmatch.web.fieldnames import field_label
    from sscmatch.web.tourtext import message

    kind = "unknown session kind %(value)s"
    labelled = TourProblems([Problem("end", kind, {"value": "'x'"})])
    unlabelled = TourProblems(
        [Problem("", "set the tour's start date before exporting its agenda")]
    )

    class Form:
        _fields: ClassVar[dict[str, Any]] = {}

    with app.test_request_context("/", headers={"Accept-Language": lang}):
        # after the field's name, as the catalogue has it ("Fin: tipo de sesión desconocido…")
        shown = message(kind, {"value": "'x'"})
        assert error_text(labelled) == f"{field_label('end')}: {shown}"
        said = error_text(unlabelled)
        assert said[:1].isupper(), said
        flash_beside(Form(), unlabelled)
        flash_beside(Form(), DomainError("the tour starts on %(day)s; x", day="'x'"))
        flashed = get_flashed_messages()
        assert len(flashed) == 2 and all(text[:1].isupper() for text in flashed), flashed


def test_a_value_at_the_start_is_left_as_it_was_given(app: Flask) -> None:
    from sscmatch.web.messages import alone

    assert alone("la gira empieza el %(day)s") == "La gira empieza el %(day)s"
    assert alone("%(value)s no es una fecha") == "%(value)s no es una fecha"
    assert alone("") == ""
    with app.test_request_context("/", headers={"Accept-Language": "es"}):
        said = error_text(DomainError("%(name)s must be a year such as 2015, not %(value)s",
                                      name="x_code", value="'x'"))  # fmt: skip
        assert said.startswith("x_code "), said  # a value as it was given
        said = error_text(DomainError("%(name)s must be a year such as 2015, not %(value)s",
                                      name="year_from", value="'x'"))  # fmt: skip
        assert said.startswith("Desde el año "), said  # a list's filter, by its label
