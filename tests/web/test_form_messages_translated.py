"""WTForms' own messages ("Not a valid choice.", "This field is required.") reach the reader in
their language from every form of the pages, not only from those Flask-WTF builds.

Flask-WTF gives its forms WTForms' catalogue in the request's language; a plain ``wtforms.Form``
(a list's filters read from the address, a row of a tour's agenda or delegation) had none, so a
refused filter said "Not a valid choice." on a Spanish page (found on the admin's list of users).
The class: every form class of ``sscmatch.web``, found by walking the subclasses.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from babel import support
from wtforms.form import BaseForm, Form
from wtforms.i18n import messages_path

import sscmatch.web
from tests.web.world import Walk, world_fixture

shared_world = world_fixture()  # the walk only reads

ENGLISH = "Not a valid choice."
LANGUAGES = ("es", "fr", "pt")


def _said(lang: str) -> str:
    """WTForms' own words for ``ENGLISH`` in ``lang`` (its catalogue ships in the wheel)."""
    said: str = support.Translations.load(messages_path(), [lang], domain="wtforms").gettext(
        ENGLISH
    )
    assert said != ENGLISH
    return said


def _form_classes() -> list[type[Form]]:
    for module in pkgutil.walk_packages(sscmatch.web.__path__, "sscmatch.web."):
        importlib.import_module(module.name)
    found: list[type[Form]] = []
    stack: list[type] = [BaseForm]
    while stack:
        for sub in stack.pop().__subclasses__():
            stack.append(sub)
            if sub.__module__.startswith("sscmatch."):
                found.append(sub)
    return sorted(set(found), key=lambda c: (c.__module__, c.__qualname__))


def _meta(cls: type[Form]) -> object:
    """The form's meta as WTForms builds it for an instance (``FormMeta.__call__``): every
    ``Meta`` of its classes combined, the nearest first."""
    bases = tuple(c.__dict__["Meta"] for c in cls.__mro__ if "Meta" in c.__dict__)
    return type("Meta", bases, {})()


def test_the_walk_finds_the_plain_forms_too() -> None:
    names = {c.__qualname__ for c in _form_classes()}
    assert {"UserFilterForm", "AuditFilterForm", "MemberForm", "SessionForm"} <= names
    assert len(names) > 20


@pytest.mark.same_on_every_database
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_form_speaks_the_readers_language(shared_world: Walk, lang: str) -> None:
    """Each form's WTForms catalogue, as the form itself looks it up in a request of ``lang``."""
    wrong = []
    with shared_world.app.test_request_context("/", headers={"Accept-Language": lang}):
        for cls in _form_classes():
            translations = _meta(cls).get_translations(None)
            said = ENGLISH if translations is None else translations.gettext(ENGLISH)
            if said != _said(lang):
                wrong.append(f"{cls.__module__}.{cls.__qualname__}: {said!r}")
    assert not wrong, wrong


@pytest.mark.same_on_every_database
def test_a_refused_filter_of_a_plain_form_is_said_in_spanish(shared_world: Walk) -> None:
    client = shared_world.client("admin")
    client.post("/language", data={"lang": "es", "next": "/"})
    try:
        page = client.get("/admin/users?role=nobody").get_data(as_text=True)
    finally:
        client.post("/language", data={"lang": "en", "next": "/"})
    assert ENGLISH not in page
    assert _said("es") in page
