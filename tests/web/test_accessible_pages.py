"""Every page can be used with a screen reader and a keyboard: walked over every page of the app
(the pages of the URL map, with real records: the shared world of ``tests/web/world.py``) for each role, the
HTML says its language, has one main heading, gives every form control a name (a label, or
``aria-label``/``aria-labelledby``, or a label around it), every link and button a text or a
name, every image a text alternative, and no id twice; and two rules of HTML the Nu Html
Checker found broken (every ``<time datetime>`` in a form a browser reads, a required select
only with a blank first option: ``pageform.required_said_by_aria``)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from flask import Flask
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

from sscmatch.web.pageform import PlainForm
from tests.web.test_every_word_translated import _pages
from tests.web.world import Walk, world_fixture

ROLES = ("admin", "secretariat", "analyst", "focal_gtm")
NAMELESS_INPUTS = {"hidden", "submit", "button", "reset", "image"}
# A date, or a moment with its offset, as HTML's datetime attribute takes them: a second's
# fraction of at most three digits (the stored six made every moment invalid HTML).
HTML_TIME = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?")
shared_world = world_fixture()  # the walk only reads


@dataclass
class _Select:
    """A required single select being read: its name, its first option's attributes and text."""

    name: str
    first: dict[str, str] | None = None
    text: list[str] = field(default_factory=list)


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lang: str | None = None
        self.h1 = 0
        self.ids: Counter[str] = Counter()
        self.label_for: set[str] = set()
        self.controls: list[tuple[str, dict[str, str], bool]] = []  # tag, attrs, inside a label
        self.images: list[dict[str, str]] = []
        self.clickables: list[tuple[str, dict[str, str], list[str]]] = []  # tag, attrs, texts
        self._label_depth = 0
        self._open: list[tuple[str, dict[str, str], list[str]]] = []
        # required single selects: name, then the first option's value attribute (None: none)
        # and its text, which HTML wants blank (a placeholder) on a select marked required
        self.required_selects: list[tuple[str, str | None, str]] = []
        self._select: _Select | None = None
        self._in_first_option = False
        self.times: list[str] = []  # <time datetime>: HTML's own formats (a browser parses them)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            self.ids[a["id"]] += 1
        if tag == "html":
            self.lang = a.get("lang")
        elif tag == "h1":
            self.h1 += 1
        elif tag == "label":
            self._label_depth += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        elif tag in ("input", "select", "textarea"):
            if tag != "input" or a.get("type", "text") not in NAMELESS_INPUTS:
                self.controls.append((tag, a, self._label_depth > 0))
        elif tag == "img":
            self.images.append(a)
        if tag == "time" and "datetime" in a:
            self.times.append(a["datetime"])
        if (
            tag == "select"
            and "required" in a
            and "multiple" not in a
            and a.get("size", "1") == "1"
        ):
            self._select = _Select(a.get("name", ""))
        elif tag == "option" and self._select is not None and self._select.first is None:
            self._select.first = a
            self._in_first_option = True
        if (tag in ("a", "button") and "href" in a) or tag == "button":
            self._open.append((tag, a, []))
        elif tag == "img" and self._open:
            self._open[-1][2].append(a.get("alt", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._label_depth = max(0, self._label_depth - 1)
        elif tag == "option":
            self._in_first_option = False
        elif tag == "select" and self._select is not None:
            first, text = self._select.first or {}, "".join(self._select.text).strip()
            self.required_selects.append((self._select.name, first.get("value"), text))
            self._select = None
        if tag in ("a", "button") and self._open and self._open[-1][0] == tag:
            self.clickables.append(self._open.pop())

    def handle_data(self, data: str) -> None:
        for _tag, _attrs, texts in self._open:
            texts.append(data)
        if self._in_first_option and self._select is not None:
            self._select.text.append(data)


def problems(html: str) -> list[str]:
    page = _Page()
    page.feed(html)
    page.close()
    out = []
    if not page.lang:
        out.append("<html> without lang")
    if page.h1 != 1:
        out.append(f"{page.h1} <h1>")
    out += [f"id {i!r} {n} times" for i, n in page.ids.items() if n > 1]
    for tag, a, in_label in page.controls:
        named = in_label or a.get("id") in page.label_for
        named = named or a.get("aria-label") or a.get("aria-labelledby") or a.get("title")
        if not named:
            out.append(f"<{tag} name={a.get('name')!r}> without a label")
    out += [f"<img src={a.get('src')!r}> without alt" for a in page.images if "alt" not in a]
    for tag, a, texts in page.clickables:
        if not ("".join(texts).strip() or a.get("aria-label") or a.get("title")):
            out.append(f"<{tag} {a.get('href') or a.get('name') or ''}> without a name")
    out += [
        f"<time datetime={t!r}> not an HTML date" for t in page.times if not HTML_TIME.fullmatch(t)
    ]
    for name, value, text in page.required_selects:
        if value != "" and (value is not None or text):
            out.append(f"<select name={name!r}> required without a blank first option")
    return out


@pytest.mark.same_on_every_database
def test_every_page_names_its_language_heading_controls_and_links(shared_world: Walk) -> None:
    paths = _pages(shared_world.app, shared_world.values)
    found: dict[str, list[str]] = {}
    read = 0
    for role in ROLES:
        client = shared_world.client(role)
        for path in paths:
            response = client.get(path)
            response.close()
            if response.mimetype != "text/html" or response.status_code in (302, 303):
                continue
            read += 1
            wrong = problems(response.get_data(as_text=True))
            if wrong:
                found[f"{role} {path}"] = wrong
    assert read > 100
    assert found == {}, "\n".join(f"{p}: {w}" for p, w in sorted(found.items()))


def test_the_checks_find_what_they_look_for() -> None:
    bad = (
        '<html><body><h1>a</h1><h1>b</h1><input name="q"><img src="x.png">'
        '<a href="/x"></a><button></button><p id="d"></p><p id="d"></p></body></html>'
    )
    found = problems(bad)
    assert "<html> without lang" in found and "2 <h1>" in found
    assert "<input name='q'> without a label" in found
    assert "<img src='x.png'> without alt" in found and "id 'd' 2 times" in found
    assert "<a /x> without a name" in found and "<button > without a name" in found
    role = '<label for="r">R</label><select id="r" name="r" required><option value="a">A</option></select>'
    assert "<select name='r'> required without a blank first option" in problems(role)
    moment = '<time datetime="2026-12-08T00:13:08.270566Z">8 dic</time>'
    assert "<time datetime='2026-12-08T00:13:08.270566Z'> not an HTML date" in problems(moment)
    good = (
        '<html lang="es"><body><h1>a</h1><label for="q">Q</label><input id="q" name="q">'
        '<label>R <select name="r"></select></label><input type="hidden" name="t">'
        '<label>S <select name="s" required><option value="">-</option></select></label>'
        '<label>T <select name="t" aria-required="true"><option value="a">A</option></select>'
        "</label>"
        '<a href="/x"><img src="i.png" alt="Inicio"></a><button aria-label="Cerrar"></button>'
        '<time datetime="2026-12-08T00:13:08.270Z">8 dic</time><time datetime="2026-12-08">a</time>'
        "</body></html>"
    )
    assert problems(good) == []


def test_a_required_select_says_it_by_aria_only_when_it_has_no_placeholder(app: Flask) -> None:
    """``pageform.required_said_by_aria``, the one place every form's selects pass through."""

    class Form(PlainForm):
        filled = SelectField("A", choices=[SelectChoice("a", "A")], validators=[DataRequired()])
        blank = SelectField(
            "B", choices=[SelectChoice("", "-"), SelectChoice("a")], validators=[DataRequired()]
        )
        plain = SelectField("C", choices=["", "a"], validators=[DataRequired()])
        optional = SelectField("D", choices=[SelectChoice("a", "A")])

    with app.test_request_context():
        filled, blank, plain, optional = (str(f()) for f in Form())
    assert 'aria-required="true"' in filled and " required" not in filled
    assert " required" in blank and "aria-required" not in blank
    assert " required" in plain and "aria-required" not in plain
    assert "required" not in optional
