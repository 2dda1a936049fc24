"""A NUL character (``\\x00``) typed in a text field of any page form is answered beside that
field, in the reader's language ("this text held a character that cannot be stored"), the rest
of the typed text kept in the field, nothing written, never a 5xx (it was a bare 400 page and
the typed text was lost). The mechanism is the one of every page form
(:mod:`sscmatch.web.pageform`).

The class: every form that posts on every page of the URL map (each page at the shared world's
sample values, read by the first role that may), each text field of it in turn holding a NUL
between the words typed, the other fields as the page shows them; the languages rotate over
es, pt and fr. The shared world's tables are compared after the walk (nothing written).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po
from flask import url_for
from werkzeug.datastructures import MultiDict

from tests.web.world import Walk, world_fixture

ROOT = Path(__file__).resolve().parents[2]
shared_world = world_fixture()  # every answer is a refusal: nothing written

ROLES = ("secretariat", "admin", "focal_gtm", "analyst")
LANGS = ("es", "pt", "fr")
NUL_MESSAGE = (
    "This text held a character that cannot be stored (an invisible NUL character); it has "
    "been taken out: check the text and send it again."
)


def _translated(lang: str) -> str:
    """The refusal as the reader's catalogue says it (read from it, so that a better wording
    of the translation does not break the walk; an untranslated one does)."""
    path = ROOT / "sscmatch" / "translations" / lang / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        said = read_po(handle)[NUL_MESSAGE]
    assert said is not None and said.string and said.string != NUL_MESSAGE, lang
    return str(said.string)


SAID = {lang: _translated(lang) for lang in ("es", "pt", "fr")}
TEXT_KINDS = {"text", "search", "email", "url", "tel", "textarea", "password"}
TYPED = ("Primera parte", "segunda parte")
# Pages that are not drawn for a form of theirs (files, JSON, the sign-out's own page).
SKIP_ENDPOINTS = {"static", "favicon", "main.health"}


class _Forms(HTMLParser):
    """Each POST form of a page: its action and its fields (name, value, kind), as a browser
    sends them (checked boxes only, a select's selected or first option)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str, list[tuple[str, str, str]]]] = []
        self._form: list[tuple[str, str, str]] | None = None
        self._select: list[Any] | None = None
        self._textarea: list[Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            if a.get("method", "").lower() == "post":
                self._form = []
                self.forms.append((a.get("action", ""), self._form))
            return
        if self._form is None or "name" not in a:
            if tag == "option" and self._select is not None:
                self._select[2].append((a.get("value", ""), "selected" in a))
            return
        kind = a.get("type", "text").lower() if tag == "input" else tag
        if tag == "input":
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            self._form.append((a["name"], a.get("value", ""), kind))
        elif tag == "textarea":
            self._textarea = [a["name"], []]
        elif tag == "select":
            self._select = [a["name"], "multiple" in a, []]

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            self._form.append((self._textarea[0], "".join(self._textarea[1]), "textarea"))
            self._textarea = None
        elif tag == "select" and self._select is not None and self._form is not None:
            name, _multiple, options = self._select
            chosen = [v for v, selected in options if selected] or [v for v, _ in options[:1]]
            self._form += [(name, v, "select") for v in chosen]
            self._select = None


def _pages(walk: Walk) -> list[str]:
    app, values = walk.app, walk.values
    found = set()
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in (rule.methods or ()) or rule.endpoint in SKIP_ENDPOINTS:
                continue
            if rule.rule.startswith("/api/") or "fmt" in rule.arguments:
                continue
            if set(rule.arguments) - set(values):
                continue
            found.add(url_for(rule.endpoint, **{a: values[a] for a in rule.arguments}))
    return sorted(found)


def shown_pages(walk: Walk, clients: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """Every page with forms to walk, as the first of ``clients``' roles that gets it as HTML:
    (role, address, the page). A page no role gets is left out (an API-only or refused route)."""
    for address in _pages(walk):
        for who, client in clients.items():
            shown = client.get(address)
            if shown.status_code == 200 and shown.mimetype == "text/html":
                yield who, address, shown.get_data(as_text=True)
                break


def _beside(page: str, name: str) -> str:
    """The error text the field ``name`` points at (``aria-describedby``), or ''."""
    for tag in re.findall(r"<(?:input|textarea)\b[^>]*>", page):
        if f'name="{name}"' not in tag:
            continue
        described = re.search(r'aria-describedby="([^"]+)"', tag)
        if described is None or 'aria-invalid="true"' not in tag:
            return ""
        said = re.search(rf'id="{re.escape(described.group(1))}"[^>]*>(.*?)</', page, re.S)
        return html.unescape(said.group(1)) if said else ""
    return ""


def test_a_nul_in_any_text_field_of_any_form_is_said_beside_it(shared_world: Walk) -> None:
    wrong: list[str] = []
    walked: set[tuple[str, str]] = set()
    clients = {who: shared_world.client(who) for who in ROLES}
    turn = 0
    for who, address, shown in shown_pages(shared_world, clients):
        client = clients[who]
        parser = _Forms()
        parser.feed(shown)
        for action, fields in parser.forms:
            target = html.unescape(action) or address
            for index, (name, _value, kind) in enumerate(fields):
                if kind not in TEXT_KINDS or (target, name) in walked:
                    continue
                walked.add((target, name))
                lang = LANGS[turn % len(LANGS)]
                turn += 1
                client.post("/language", data={"lang": lang, "next": "/"})
                typed = f"{TYPED[0]}\x00{TYPED[1]}"
                data = [(n, typed if i == index else v) for i, (n, v, _k) in enumerate(fields)]
                answer = client.post(target, data=MultiDict(data))
                page = answer.get_data(as_text=True)
                where = f"{who} {target} {name} ({lang})"
                if answer.status_code >= 500 or 300 <= answer.status_code < 400:
                    wrong.append(f"{where}: {answer.status_code}")
                    continue
                if SAID[lang] not in _beside(page, name):
                    wrong.append(f"{where}: {answer.status_code}, not said beside the field")
                elif kind != "password" and html.escape(f"{TYPED[0]}{TYPED[1]}") not in page:
                    wrong.append(f"{where}: the typed text is not kept")
        client.post("/language", data={"lang": "en", "next": "/"})
    assert not wrong, "\n".join(wrong)
    assert len(walked) >= 20, sorted(walked)
    forms = {t for t, _ in walked}
    assert {"/login", "/needs/new"} <= forms or any(f.startswith("/needs/") for f in forms)
