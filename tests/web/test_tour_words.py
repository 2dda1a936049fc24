"""A study tour's rows say their words in the reader's language, the way the tour's page says
them: an agenda row's day is "Día 1" (the page's heading of that day) wherever a day is shown,
the stale-edit panel too (it said a bare "1"), and no text the system generated for the tour
(titles, roles, session kinds) shows in English on a Spanish, Portuguese or French page."""

from __future__ import annotations

import copy
import html
import re

import pytest
from flask import Flask
from flask_babel import force_locale
from sqlmodel import Session

from sscmatch.models import StudyTour, User
from sscmatch.web.tour_editor import day_label
from sscmatch.workflow import tours as wf
from tests.web import test_tour_files_language as tour_files
from tests.web.test_stale_edits import form_of, panel

tour_id = tour_files.tour_id  # the fixture: a drafted tour, Guatemala visits Brazil (host)
LANGUAGES = ("es", "pt", "fr")


def _text(page: str) -> str:
    page = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _edit_meanwhile(app: Flask, users: dict[str, int], tid: str) -> None:
    """The secretariat retitles the agenda's first session (a change of the agenda)."""
    with Session(app.extensions["sscmatch.engine"]) as s:
        tour, user = s.get(StudyTour, tid), s.get(User, users["secretariat"])
        assert tour is not None and user is not None
        agenda = copy.deepcopy(tour.agenda)
        agenda[0]["sessions"][0]["title"] = "Apertura (secretaría)"
        wf.update_tour(s, tid, wf.TourChanges(agenda=agenda), version=tour.version, user=user)
        s.commit()


def _stale_panel(app: Flask, users: dict[str, int], tid: str, lang: str) -> str:
    """Brazil's focal point retitles the first session too, from the version before: the page
    of the stale edit (409), with its panel."""
    bra = tour_files.reader(app, "focal_bra", lang)
    edit = f"/tours/{tid}/edit"
    posted = form_of(bra.get(edit).get_data(as_text=True), edit)
    posted["agenda-0-title"] = "Apertura (Brasil)"
    _edit_meanwhile(app, users, tid)
    answer = bra.post(edit, data=posted)
    assert answer.status_code == 409
    return str(answer.get_data(as_text=True))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_stale_panel_names_an_agenda_day_as_the_page_does(
    app: Flask, users: dict[str, int], tour_id: str, lang: str
) -> None:
    page = _stale_panel(app, users, tour_id, lang)
    rows = {**panel(page, "replaced"), **panel(page, "taken")}
    assert "agenda" in rows, rows
    with app.test_request_context(), force_locale(lang):
        day_one = day_label(1)
    assert day_one != "1" and day_one in tour_files.reader(app, "focal_bra", lang).get(
        f"/tours/{tour_id}"
    ).get_data(as_text=True)  # the page's heading of the day
    _label, theirs, yours = rows["agenda"]
    for value in (theirs, yours):
        days = [part.split(" · ")[0] for part in value.split("; ")]
        assert days[0] == day_one, value
        assert not any(d.strip().isdigit() for d in days), value  # no bare day number


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_generated_english_on_the_tour_pages(
    app: Flask, users: dict[str, int], tour_id: str, lang: str
) -> None:
    """The tour's page, its editor, its brief and a stale edit's panel, read in ``lang``."""
    bra = tour_files.reader(app, "focal_bra", lang)
    edit = f"/tours/{tour_id}/edit"
    pages = {path: bra.get(path).get_data(as_text=True) for path in (
        f"/tours/{tour_id}", edit, f"/tours/{tour_id}/brief")}  # fmt: skip
    pages["stale panel"] = _stale_panel(app, users, tour_id, lang)
    english = tour_files._english_fragments()
    found = [
        (path, words)
        for path, page in pages.items()
        for words in english
        if (words in _text(page) if words.isupper() else words.lower() in _text(page).lower())
    ]  # a session kind's code as the calendar writes it (DISCUSSION), a phrase in any case
    assert not found, found
