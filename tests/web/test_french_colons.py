"""French puts a no-break space before a colon ("Pays : Guatemala"); every page of every role.

The catalogue's sentences do so (docs/glossary.md, "Typography"); a colon that a template or a
view writes straight after a translated word does not ("Guatemala: a donné son accord" on a
tour's page, the tester's finding). ``tests/e2e/test_focal_colons.py`` reads a focal point's
pages in a browser; this walk reads every page of the URL map for every role in French, with
the test client, and finds a colon straight after a letter, a closing bracket or a guillemet,
then a space or the end, in any text no record holds (records keep the words they were written
in)."""

from __future__ import annotations

import re

import pytest

from tests.web.english_text import visible_texts
from tests.web.test_every_word_translated import ROLES, _data_texts, _pages
from tests.web.world import Walk, world_fixture

shared_world = world_fixture()
BARE_COLON = re.compile(r"\S:(\s|$)")


PROTOCOL = ("Authorization: Bearer",)
"""Text that is not French but what a script sends, word for word."""


def _bare(text: str, data: list[str]) -> bool:
    if not BARE_COLON.search(text) or text.startswith(("{", "[")):
        return False  # no colon, or a stored value shown as JSON (an audit event's after)
    excerpt = text.removesuffix("…").removesuffix("...").strip()
    if any(own.startswith(excerpt) for own in data):  # a list shows a description's start
        return False
    for own in (*data, *PROTOCOL):  # a record's own words keep their colons
        if len(own) > 3 and own in text:
            text = text.replace(own, " ")
    return bool(BARE_COLON.search(text))


@pytest.mark.same_on_every_database
def test_every_page_in_french_puts_a_space_before_its_colons(shared_world: Walk) -> None:
    data = sorted((t for t in _data_texts(shared_world.app) if ":" in t), key=len, reverse=True)
    pages = _pages(shared_world.app, shared_world.values)
    found: dict[str, set[str]] = {}
    for who in ROLES:
        client = shared_world.client(who)
        client.post("/language", data={"lang": "fr", "next": "/"})
        for path in pages:
            response = client.get(path)
            response.close()
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            for text in visible_texts(response.get_data(as_text=True)):
                if _bare(text, data):
                    found.setdefault(text[:90], set()).add(f"{who} {path}")
    report = [f"{t!r}  [{len(w)} pages, e.g. {sorted(w)[0]}]" for t, w in sorted(found.items())]
    assert not report, f"{len(report)} texts:\n" + "\n".join(report)
