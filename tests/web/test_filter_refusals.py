"""A refused filter of any list page names the filter by its label and the values it takes by
their words, in the reader's language, never by a code (``min_score``, ``score_asc``,
``in_progress``, ``Americas``): the audit found "min_score debe ser…" and "se espera uno de
score, score_asc, date…".

The class: every list page of the URL map (``test_every_list_page``'s walk, in the shared world)
and each argument any list refuses (``test_bad_filters.BAD``, and each name of the page's own
filter form), with a value it cannot use, read in es, pt and fr in turn. What the refusal says
is what the refused page shows that the page unfiltered does not. The codes are read from the
pages themselves: every name of every list's filter form and every option value shown as a
word other than itself; a code that the page shows as a word of its language is one
("page" in French). The bad value itself is echoed, and a country is typed as its code."""

from __future__ import annotations

import re

from tests.web.english_text import visible_texts
from tests.web.test_bad_filters import BAD
from tests.web.test_every_list_page import _lists, _reader
from tests.web.test_every_list_page import seeded_world as seeded_world  # the shared world
from tests.web.world import Walk

LANGS = ("es", "pt", "fr")


def _filter_forms(html: str) -> list[str]:
    forms = re.findall(r"<form\b[^>]*>.*?</form>", html, flags=re.S)
    return [f for f in forms if 'method="post"' not in f[: f.index(">")].lower()]


def _codes(html: str) -> set[str]:
    """The codes a page's filter forms hold: their names, and option values shown otherwise."""
    codes: set[str] = set()
    for form in _filter_forms(html):
        codes |= set(re.findall(r'\bname="([^"]+)"', form))
        for value, text in re.findall(r'<option[^>]*value="([^"]+)"[^>]*>([^<]*)</option>', form):
            if value.strip() != text.strip() and not re.fullmatch(r"[A-Z]{3}", value):
                codes.add(value)
    return {c for c in codes if len(c) > 2 and c not in ("csrf_token", "lang", "next", "q")}


def _labels(html: str) -> dict[str, str]:
    """Each filter's label as its page shows it, by its argument."""
    out = {}
    for form in _filter_forms(html):
        labels = dict(re.findall(r'<label[^>]*for="([^"]+)"[^>]*>([^<]+)<', form))
        for tag in re.findall(r"<(?:input|select)\b[^>]*>", form):
            name, ident = re.search(r'name="([^"]+)"', tag), re.search(r'id="([^"]+)"', tag)
            if name and ident and ident.group(1) in labels:
                out[name.group(1)] = labels[ident.group(1)].strip()
    return out


def _names(said: str, label: str) -> bool:
    """Whether ``said`` names the filter ``label``: a word of it, or that word's stem
    ("Ordenar" → "Orden desconocido"; "Otro país (código)" → "País desconocido")."""
    words = [w.lower() for w in re.findall(r"\w+", label) if len(w) >= 3] or [label.lower()]
    return any(w[: max(4, len(w) - 3)] in said.lower() for w in words)


def _beside(html: str, name: str) -> bool:
    """Whether the refused page marks the filter ``name`` itself (its problem beside it, under
    its label)."""
    return any(
        f'name="{name}"' in tag and 'aria-invalid="true"' in tag
        for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html)
    )


def test_every_refused_filter_names_the_filter_and_its_values_as_the_page_does(
    seeded_world: Walk,
) -> None:
    app, world = seeded_world.app, seeded_world.world.built
    lists = _lists(app, world)
    readers = {rule: _reader(app, rule, seeded_world.client) for _e, rule in lists}
    codes: set[str] = set()
    for rule, (_who, client) in readers.items():
        codes |= _codes(client.get(rule).get_data(as_text=True))
    assert {"min_score", "score_asc", "in_progress"} <= codes, sorted(codes)
    wrong: list[str] = []
    refused = 0
    turn = 0
    for _endpoint, rule in lists:
        _who, client = readers[rule]
        lang = LANGS[turn % len(LANGS)]
        turn += 1
        client.post("/language", data={"lang": lang, "next": "/"})
        plain = client.get(rule).get_data(as_text=True)
        shown = set(visible_texts(plain))
        words = set(re.findall(r"\w+", " ".join(shown).lower()))
        names = {n for f in _filter_forms(plain) for n in re.findall(r'\bname="([^"]+)"', f)}
        labels = _labels(plain)
        tries = dict(BAD)
        tries.update({n: "bogus" for n in names if n not in tries})
        for name, value in tries.items():
            answer = client.get(rule, query_string={name: value})
            if not 400 <= answer.status_code < 500:
                continue
            refused += 1
            said = " ".join(
                t for t in visible_texts(answer.get_data(as_text=True)) if t not in shown
            )
            found = {
                c
                for c in codes
                if c != value
                and c.lower() not in words
                and re.search(rf"(?<![\w']){re.escape(c)}(?![\w'])", said)
            }
            beside = _beside(answer.get_data(as_text=True), name)
            if name in labels and not beside and not _names(said, labels[name]):
                wrong.append(
                    f"{lang} {rule}?{name}={value}: not named {labels[name]!r}: {said[:200]!r}"
                )
            if found:
                wrong.append(f"{lang} {rule}?{name}={value}: {sorted(found)} in {said[:300]!r}")
        client.post("/language", data={"lang": "en", "next": "/"})
    assert not wrong, "\n".join(wrong)
    assert refused >= 40, refused
