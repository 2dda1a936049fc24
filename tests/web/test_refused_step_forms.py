"""A confirmation refused for what was typed is drawn again, the typed text kept.

Every consequential step confirmed first (:data:`sscmatch.web.confirm.CONFIRMED`) asks its
reason on a confirmation page. When the confirming POST's form is refused (a reason longer than
the field holds; a NUL pasted in), the answer is that confirmation again, in the reader's language,
with what was typed in its field and the reason beside it: never an error page that loses the
text (before: ``abort(400, "The form is incomplete.")`` on revert, lift, reopen and bulk, "The
form was incomplete; reload the page and try again." on a tour's status step).

The walk is the one of ``test_consequential_steps`` (every confirmed route), with each
confirmation first sent refused, in Spanish and French.
"""

from __future__ import annotations

import html
import inspect
import re
from typing import Any

import pytest
from flask import Flask

from sscmatch.schemas import MAX_TEXT
from tests.web import test_consequential_steps as steps

run = steps.run
tour_id = steps.tour_id

# a reason one line per sentence, as a browser sends it (CR LF): over any field's limit
LONG = "\r\n".join(["Raison détaillée, ñandú — 理由"] * (MAX_TEXT // 20))
NUL = "Motif avec\x00un caractère NUL"
SAID = {
    "fr": ("Rien n", "caractères"),
    "es": ("No se guardó", "caracteres"),
}
SAID_NUL = {"fr": "NUL", "es": "NUL"}


def _textarea(page: str, name: str) -> str | None:
    found = re.search(rf'<textarea id="([\w-]+)" name="{name}"[^>]*>(.*?)</textarea>', page, re.S)
    return None if found is None else html.unescape(found.group(2))


def refused_then(lang: str, walked: list[str]) -> Any:
    """``confirm`` of the walk, the confirming POST sent refused first (in ``lang``)."""
    real = steps.confirm

    def confirm(app: Flask, client: Any, url: str, data: dict[str, Any]) -> str:
        client.post("/language", data={"lang": lang, "next": "/"})
        asked = client.post(url, data=data)
        page = asked.get_data(as_text=True)
        found = steps.FORM.search(page)
        assert found is not None, (url, page[:2000])
        fields: dict[str, Any] = {}
        for name, value in steps.HIDDEN.findall(found.group(2)):
            fields.setdefault(name, []).append(html.unescape(value))
        typed = steps.TEXTAREA.findall(found.group(2))
        for text, words in ((LONG, SAID[lang][1]), (NUL, SAID_NUL[lang])):
            if not typed:
                break
            before = steps._rows(app)
            sent = {**fields, **dict.fromkeys(typed, text)}
            refused = client.post(html.unescape(found.group(1)), data=sent)
            again = refused.get_data(as_text=True)
            assert refused.status_code == 400, (url, refused.status_code, again[:1500])
            assert steps._rows(app) == before, f"{url}: a refused confirmation wrote"
            assert steps.FORM.search(again), (
                f"{url}: not the confirmation again: {again[again.find('<main') :][:1500]}"
            )
            kept = text.replace("\x00", "").replace("\r\n", "\n")
            for name in typed:
                shown = _textarea(again, name)
                assert shown is not None and shown.replace("\r\n", "\n") == kept, (url, name)
            beside = re.findall(r'<p class="error" id="[\w-]+-err">([^<]*)</p>', again)
            assert beside and words in html.unescape(" ".join(beside)), (url, lang, beside)
            assert SAID[lang][0] in html.unescape(again), (url, lang)
        if typed:
            walked.append(url)
        client.post("/language", data={"lang": "en", "next": "/"})
        return real(app, client, url, data)

    return confirm


# walks whose confirmations ask a reason, and how many (a walk added later is walked as it
# comes: each field its confirmations show is sent refused)
ASK_REASONS = {"test_review_steps_are_confirmed": 4, "test_tour_steps_are_confirmed_or_undone": 4}


@pytest.mark.parametrize("lang", ["fr", "es"])
@pytest.mark.parametrize("walk", sorted(set(steps.WALKS.values())))
def test_a_refused_confirmation_keeps_what_was_typed(
    app: Flask,
    request: pytest.FixtureRequest,
    lang: str,
    walk: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each walk of every confirmed route, its confirmations first sent refused."""
    walked: list[str] = []
    monkeypatch.setattr(steps, "confirm", refused_then(lang, walked))
    test = getattr(steps, walk)
    test(**{name: request.getfixturevalue(name) for name in inspect.signature(test).parameters})
    assert len(walked) == ASK_REASONS.get(walk, len(walked)), walked
