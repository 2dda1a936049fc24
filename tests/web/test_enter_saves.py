"""Enter in a form's one-line field does what the form is for, not a side button.

A browser submits a form on Enter in a one-line field (implicit submission) as if its first
submit button were pressed. On a study tour's edit page that was "Add a member": typing the
title and pressing Enter added an empty delegation row, moved the focus into it and saved nothing
(seen in Chromium, keyboard only, in French). A form whose first submit button is not its main
action says which is (a default button first in the form, ``templates/_macros.html``
``default_submit``).

The class: every form of every page the secretariat reads (the URL map), with a one-line field
and more than one submit button: its first submit button is the one marked ``primary`` (the
form's own action), or a copy of it.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest

from tests.web.test_every_word_translated import _pages
from tests.web.world import Walk, world_fixture

shared_world = world_fixture()  # the walk only reads

ONE_LINE = {"text", "search", "email", "number", "date", "time", "url", "tel", "password"}


class _Forms(HTMLParser):
    """Each form's one-line fields and submit buttons, in the order they come."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._in: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._in = {"id": a.get("id") or a.get("action"), "typed": 0, "submits": []}
            self.forms.append(self._in)
        elif self._in is None:
            return
        kind = a.get("type", "submit" if tag == "button" else "text")
        if tag == "input" and kind in ONE_LINE:
            self._in["typed"] += 1
        elif tag in ("button", "input") and kind == "submit":
            self._in["submits"].append(a)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in = None


def _is_main(button: dict[str, str]) -> bool:
    return (
        "primary" in button.get("class", "").split()
        or "default-submit" in button.get("class", "").split()
    )


@pytest.mark.same_on_every_database
def test_enter_in_a_field_presses_the_forms_main_button(shared_world: Walk) -> None:
    client = shared_world.client("secretariat")
    wrong = []
    seen = 0
    for path in _pages(shared_world.app, shared_world.values):
        answer = client.get(path)
        if answer.status_code != 200 or "html" not in (answer.content_type or ""):
            continue
        parser = _Forms()
        parser.feed(answer.get_data(as_text=True))
        for form in parser.forms:
            if not form["typed"] or len(form["submits"]) < 2:
                continue
            seen += 1
            if not _is_main(form["submits"][0]):
                first = form["submits"][0]
                wrong.append((path, form["id"], first.get("name"), first.get("class")))
    assert wrong == []
    assert seen  # the tour's edit form at least
