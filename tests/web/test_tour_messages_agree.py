"""A message about a study tour names its statuses in the forms that agree with the tour's noun
(fr *voyage d'étude* is masculine: "un voyage d'étude proposé ne peut pas devenir clos"), as the
tour's badge and steps do (``templating.TOUR_STATUS_LABELS``, pgettext context ``study tour``);
the shared labels agree with proposals and needs ("proposée"). The class: every message of the
catalogue that names a study tour and fills in a status (``%(status)s``, ``%(to)s``,
``%(known)s``), in every language, with every status."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from sscmatch.enums import TOUR_STATUSES
from sscmatch.web.templating import tour_status_label
from sscmatch.web.tourtext import message
from tests.conftest import make_test_app


def _tour_status_messages() -> list[str]:
    from babel.messages.pofile import read_po

    with open("sscmatch/translations/messages.pot", "rb") as f:
        catalogue = read_po(f)
    found = [
        str(m.id)
        for m in catalogue
        if isinstance(m.id, str)
        and "study tour" in m.id
        and re.search(r"%\((status|to|known)\)s", m.id)
    ]
    return sorted(found)


MESSAGES = _tour_status_messages()


def test_the_walk_finds_the_tour_step_refusals() -> None:
    assert "a %(status)s study tour cannot become %(to)s; it is final" in MESSAGES
    assert len(MESSAGES) >= 3


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    path = tmp_path_factory.mktemp("agree") / "t.db"
    return make_test_app(f"sqlite:///{path}", path.parent)


@pytest.mark.parametrize("lang", ["fr", "es", "pt"])
def test_a_tour_messages_statuses_agree_with_the_tour(app: Flask, lang: str) -> None:
    wrong = []
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        for text in MESSAGES:
            for status in TOUR_STATUSES:
                params = {name: "T-1" for name in re.findall(r"%\((\w+)\)s", text)}
                params |= {"status": status, "to": status, "known": f"{status}, {status}"}
                said = message(text, params)
                label = tour_status_label(status)
                if not re.search(rf"(?<!\w){re.escape(label)}(?!\w)", said):
                    wrong.append(f"{text!r} with {status}: {said!r} (expected {label!r})")
    assert not wrong, wrong[:5]
