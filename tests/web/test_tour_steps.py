"""A tour's status step that cannot be taken now is shown disabled, its reason beside it in the
reader's language, and the server still refuses it when posted anyway. The audit found "Mark
completed" offered on a tour scheduled for 2027; clicking it only said "la gira empieza el 11 de
enero de 2027; no puede completarse antes de haberse realizado".

The walk takes every status of :data:`TRANSITIONS` with a step out of it, in situations that
block some steps (no dates; dates to come; past dates and an open commitment; past dates and none)
and, for every step the page offers, posts it: a step shown enabled is taken, a disabled one is
refused with the very words shown beside it.
"""

from __future__ import annotations

import html
import re

import pytest
from flask import Flask
from sqlmodel import Session, select

from sscmatch.dates import PartialDate
from sscmatch.models import Commitment, StudyTour
from sscmatch.workflow import tours as wf
from tests.web import test_tour_files_language as tour_files

tour_id = tour_files.tour_id  # the fixture: a drafted tour (GTM visits BRA, March 2026)
TODAY = "2026-04-01"
SITUATIONS = {
    "no dates": (None, None, False),
    "dates to come": ("2027-01-11", "2027-01-13", False),
    "past dates, an open commitment": ("2026-03-02", "2026-03-04", True),
    "past dates": ("2026-03-02", "2026-03-04", False),
}
STEP = re.compile(
    r'<input type="hidden" name="to" value="(?P<to>\w+)">\s*<button type="submit"[^>]*?'
    r'(?P<disabled> disabled aria-describedby="why-(?P=to)")?>.*?</button>'
    r'(?:\s*<span class="hint step-why" id="why-(?P=to)">(?P<why>[^<]*)</span>)?',
    re.S,
)
FLASH = re.compile(r'<p class="flash flash-(\w+)"[^>]*>([^<]*)</p>')


def _set(app: Flask, tid: str, status: str, situation: str) -> None:
    start, end, commitment = SITUATIONS[situation]
    with Session(app.extensions["sscmatch.engine"]) as s:
        tour = s.get(StudyTour, tid)
        assert tour is not None
        tour.status = status
        tour.start = PartialDate.parse(start) if start else None
        tour.end = PartialDate.parse(end) if end else None
        s.add(tour)
        for k in s.exec(select(Commitment).where(Commitment.study_tour == tid)):
            s.delete(k)
        if commitment:
            s.add(
                Commitment(
                    id="K-STEP-1",
                    study_tour=tid,
                    owner_country="GTM",
                    description="A national protocol",
                    status="pending",
                )
            )
        s.commit()


def _steps(page: str) -> dict[str, str | None]:
    """Each step the page offers → the reason shown beside it (None: enabled)."""
    out: dict[str, str | None] = {}
    for found in STEP.finditer(page):
        why = found.group("why")
        assert bool(found.group("disabled")) == (why is not None), found.group(0)
        out[found.group("to")] = html.unescape(why) if why is not None else None
    return out


def _errors(page: str) -> list[str]:
    return [html.unescape(text) for kind, text in FLASH.findall(page) if kind == "error"]


@pytest.mark.parametrize("lang", ["es", "en"])
def test_every_step_is_offered_as_the_server_takes_it(app: Flask, tour_id: str, lang: str) -> None:
    app.config["TODAY"] = TODAY
    client = tour_files.reader(app, "secretariat", lang)
    seen: dict[str, set[bool]] = {}
    for status, targets in wf.TRANSITIONS.items():
        if not targets:
            continue
        for situation in SITUATIONS:
            _set(app, tour_id, status, situation)
            steps = _steps(client.get(f"/tours/{tour_id}").get_data(as_text=True))
            assert list(steps) == list(targets), (status, situation, steps)
            for to, why in steps.items():
                seen.setdefault(f"{status}→{to}", set()).add(why is None)
                if to == "cancelled":  # confirmed first, with a reason: never blocked
                    assert why is None
                    continue
                with Session(app.extensions["sscmatch.engine"]) as s:
                    version = s.get(StudyTour, tour_id).version  # type: ignore[union-attr]
                data = {"version": version, "to": to}
                if (status, to) in wf.CONFIRMED_STEPS:  # its confirmation (walked apart)
                    data["confirmed"] = "y"
                answer = client.post(f"/tours/{tour_id}/status", data=data, follow_redirects=True)
                errors = _errors(answer.get_data(as_text=True))
                with Session(app.extensions["sscmatch.engine"]) as s:
                    now = s.get(StudyTour, tour_id).status  # type: ignore[union-attr]
                if why is None:
                    assert now == to and errors == [], (status, to, situation, errors)
                else:  # refused, in the words shown beside the disabled button
                    assert now == status and errors == [why], (status, to, situation, errors)
                _set(app, tour_id, status, situation)
    # the walk met each blocked step both ways
    for step in ("scheduled→completed", "agreed→scheduled", "completed→closed"):
        assert seen[step] == {True, False}, (step, seen[step])


def test_the_reason_is_the_readers_and_starts_a_sentence(app: Flask, tour_id: str) -> None:
    app.config["TODAY"] = TODAY
    _set(app, tour_id, "scheduled", "dates to come")
    for lang, words in (
        ("es", "empieza el 11 de enero de 2027"),
        ("fr", "11 janvier 2027"),
        ("en", "The tour starts on January 11, 2027"),
    ):
        page = tour_files.reader(app, "secretariat", lang).get(f"/tours/{tour_id}")
        why = _steps(page.get_data(as_text=True))["completed"]
        assert why is not None and words in why and why[0].isupper(), (lang, why)


def test_a_focal_point_sees_only_the_steps_of_their_own(app: Flask, tour_id: str) -> None:
    app.config["TODAY"] = TODAY
    _set(app, tour_id, "draft", "dates to come")
    page = tour_files.reader(app, "focal_gtm", "es").get(f"/tours/{tour_id}")
    assert _steps(page.get_data(as_text=True)) == {"proposed": None}
