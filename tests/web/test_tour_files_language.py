"""Every file a study tour gives its reader speaks the reader's language, through the words its
page uses: the calendar (``agenda.ics``: each session's title and kind, the calendar's name) and
the printable brief. The audit found a Spanish page's "Agenda (.ics)" writing ``SUMMARY:Opening and
introductions: objectives of the tour`` and ``CATEGORIES:OPENING`` beside "Apertura y
presentaciones: objetivos de la gira", even after the tour was saved from the Spanish edit form
(which keeps a generated text generated, so that every reader gets it in their own language)."""

from __future__ import annotations

from datetime import date
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask
from icalendar import Calendar
from sqlmodel import Session

from sscmatch.models import StudyTour
from sscmatch.web.tourtext import KIND_LABELS
from sscmatch.workflow import tours as wf
from tests.workflow.test_tours import make_world

LANGUAGES = ("es", "pt", "fr")


@pytest.fixture
def tour_id(app: Flask, users: dict[str, int]) -> str:
    """A tour drafted from the test world's accepted proposal (GTM visits BRA, March 2026)."""
    app.config["TODAY"] = "2026-04-01"
    with Session(app.extensions["sscmatch.engine"], expire_on_commit=False) as s:
        tour = wf.draft_from_proposal(
            s, make_world(s), users["secretariat"], today=date(2026, 1, 5)
        )
        s.commit()
        return tour.id


def _english_fragments() -> list[str]:
    """The fixed English words of every generated text (their placeholders cut out) and the
    session kinds' codes and English names."""
    out = []
    for message in wf.GENERATED:
        for part in message.replace("%(", "\0").split("\0"):
            words = part.split(")s", 1)[-1].strip(" :,.")
            if len(words) > 6:
                out.append(words)
    out += [kind.upper() for kind in wf.SESSION_KINDS]
    return out


def reader(app: Flask, who: str, lang: str) -> Any:
    """A client signed in as ``who`` reading in ``lang``."""
    from tests.conftest import sign_in

    client = sign_in(app.test_client(), who)
    client.post("/language", data={"lang": lang, "next": "/"})
    return client


def _events(text: str) -> list[Any]:
    return list(Calendar.from_ical(text).walk("VEVENT"))


def _categories(event: Any) -> list[str]:
    found = event.get("CATEGORIES")
    items = found if isinstance(found, list) else [found]
    return [str(c) for item in items for c in item.cats]


class _Form(HTMLParser):
    """The values a browser would send for the page's edit form (its first POST form)."""

    def __init__(self) -> None:
        super().__init__()
        self.values: list[tuple[str, str]] = []
        self._select: str | None = None
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "checkbox"):
            self.values.append((name, a.get("value", "")))
        elif tag == "input" and name and "checked" in a:
            self.values.append((name, a.get("value", "y")))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.values.append((self._select, a.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.values.append((self._textarea, self._text.lstrip("\n")))
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self._text += data


def _save_unchanged(client: Any, tour_id: str) -> None:
    """Save the edit form as the reader's browser shows it, changing nothing."""
    parser = _Form()
    parser.feed(client.get(f"/tours/{tour_id}/edit").get_data(as_text=True))
    from werkzeug.datastructures import MultiDict

    saved = client.post(f"/tours/{tour_id}/edit", data=MultiDict(parser.values))
    assert saved.status_code == 302, saved.get_data(as_text=True)[:3000]


@pytest.mark.one_case_on_postgresql(lang="es")
@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_calendar_speaks_the_readers_language(app: Flask, tour_id: str, lang: str) -> None:
    client = reader(app, "focal_gtm", lang)
    for saved in (False, True):
        if saved:  # saved from the edit form in the reader's language: still theirs
            _save_unchanged(reader(app, "secretariat", lang), tour_id)
        text = client.get(f"/tours/{tour_id}/agenda.ics").get_data(as_text=True)
        unfolded = text.replace("\r\n ", "")
        events = _events(text)
        assert events
        leaks = [f for f in _english_fragments() if f in unfolded]
        assert leaks == [], (lang, saved, leaks)
        page = client.get(f"/tours/{tour_id}").get_data(as_text=True)
        with app.test_request_context("/", headers={"Accept-Language": lang}):
            labels = {str(label) for label in KIND_LABELS.values()}
        for event in events:
            summary = str(event["SUMMARY"])
            assert summary in page.replace("&#39;", "'"), (lang, summary)  # the page's words
            assert _categories(event) and set(_categories(event)) <= labels, _categories(event)


def test_an_english_reader_and_the_stored_text_keep_english(app: Flask, tour_id: str) -> None:
    _save_unchanged(reader(app, "secretariat", "es"), tour_id)
    with Session(app.extensions["sscmatch.engine"]) as s:
        tour = s.get(StudyTour, tour_id)
        assert tour is not None
        titles = [x["title"] for d in tour.agenda for x in d["sessions"]]
    assert "Opening and introductions: objectives of the tour" in titles  # stored in English
    text = reader(app, "focal_gtm", "en").get(f"/tours/{tour_id}/agenda.ics")
    unfolded = text.get_data(as_text=True).replace("\r\n ", "")
    assert "SUMMARY:Opening and introductions: objectives of the tour" in unfolded
    assert "CATEGORIES:Opening\r\n" in unfolded


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_brief_speaks_the_readers_language(app: Flask, tour_id: str, lang: str) -> None:
    brief = reader(app, "analyst", lang).get(f"/tours/{tour_id}/brief").get_data(as_text=True)
    leaks = [f for f in _english_fragments() if f in brief]
    leaks += [
        w for w in ("return ticket", "km between capitals", "nights ×", "days ×") if w in brief
    ]
    assert leaks == [], (lang, leaks)
