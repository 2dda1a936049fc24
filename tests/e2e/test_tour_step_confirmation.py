"""A study tour's steps from the keyboard, in Spanish: the one that cannot be undone (completed)
is confirmed first, on a page that says what will happen and that it cannot be undone, its
Confirm button focused; a step that can be undone (scheduled) is taken at once and its page
offers the step back, which the keyboard reaches and takes (``sscmatch/web/tour_steps.py``).

The tour: drafted by the secretariat for Guatemala's need on the risk model and Brazil's
capacity, set to agreed with past dates. Screenshots: ``test-artifacts/e2e/<test>/``.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from sqlmodel import Session

from sscmatch.dates import PartialDate
from sscmatch.db import session_scope
from sscmatch.models import StudyTour
from sscmatch.workflow import tours as wf
from tests.e2e.conftest import LiveServer, expect

pytestmark = pytest.mark.e2e


def _tour(live_server: LiveServer) -> str:
    """A tour of its own (agreed, dates past), whatever the other journeys left."""
    with session_scope(live_server.app.extensions["sscmatch.engine"]) as s:
        tour = wf.create_tour(
            s,
            user=wf.User(id=None, role="secretariat"),
            need_id="s002-n37",
            capacity_id="s003-c02",
            today=date(2026, 1, 5),
        )
        tour.status = "agreed"
        tour.start = PartialDate.parse("2026-03-02")
        tour.end = PartialDate.parse("2026-03-04")
        s.add(tour)
        s.flush()
        return tour.id


def _status(live_server: LiveServer, tour_id: str) -> str:
    with Session(live_server.app.extensions["sscmatch.engine"]) as s:
        tour = s.get(StudyTour, tour_id)
        assert tour is not None
        return tour.status


def _tab_to(page: Any, name: str) -> None:
    """Presses Tab until the focus is on the button named ``name`` (as a keyboard user does)."""
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate(
            "n => document.activeElement && document.activeElement.tagName === 'BUTTON'"
            " && document.activeElement.innerText.trim() === n",
            name,
        ):
            return
    raise AssertionError(f"Tab never reached the button {name!r}")


def test_a_tour_step_is_confirmed_or_undone_from_the_keyboard_in_spanish(
    new_page: Any, sign_in: Any, shot: Any, live_server: LiveServer
) -> None:
    tour_id = _tour(live_server)
    sec = new_page("es-ES")
    sign_in(sec, "secretariat")
    sec.locator("#lang-select").select_option("es")
    sec.locator("form.lang-form button[type=submit]").click()
    expect(sec.locator("html")).to_have_attribute("lang", "es")
    sec.goto(f"/tours/{tour_id}")

    # -- agreed → scheduled can be undone: taken at once, its page offers the step back.
    _tab_to(sec, "Marcar como programada")
    with sec.expect_navigation():
        sec.keyboard.press("Enter")
    undo = sec.locator(".flash.undo")
    expect(undo).to_contain_text("Nuevo estado de la visita de estudio: programada.")
    shot(sec, "scheduled-with-its-undo")
    assert _status(live_server, tour_id) == "scheduled"
    _tab_to(sec, "Deshacer (volver a acordada)")
    with sec.expect_navigation():
        sec.keyboard.press("Enter")
    expect(sec.locator("dl.facts .badge-agreed")).to_have_count(1)
    assert _status(live_server, tour_id) == "agreed"
    _tab_to(sec, "Marcar como programada")
    with sec.expect_navigation():
        sec.keyboard.press("Enter")
    expect(sec.locator("dl.facts .badge-scheduled")).to_have_count(1)

    # -- scheduled → completed cannot be undone: confirmed first, saying so, in Spanish.
    _tab_to(sec, "Marcar como realizada…")
    with sec.expect_navigation():
        sec.keyboard.press("Enter")
    expect(sec.locator("h1")).to_have_text(
        f"¿Marcar la visita de estudio {tour_id} como realizada?", use_inner_text=True
    )
    main = sec.locator("main")
    expect(main).to_contain_text(f"Se registra como el intercambio X-{tour_id}")
    expect(main).to_contain_text("Este paso no se puede deshacer.")
    expect(main).not_to_contain_text("What will happen")
    assert _status(live_server, tour_id) == "scheduled"  # nothing changed yet
    shot(sec, "completed-says-what-will-happen")
    # the focus is already on Confirm (autofocus, applied when the page is drawn)
    sec.wait_for_function(
        "() => document.activeElement && document.activeElement.matches("
        "'form.confirm-form button[type=submit]')"
    )
    with sec.expect_navigation():
        sec.keyboard.press("Enter")
    expect(sec.locator(".flash")).to_contain_text(
        "Nuevo estado de la visita de estudio: realizada."
    )
    expect(sec.locator(".flash.undo")).to_have_count(0)  # nothing to undo it with
    expect(sec.locator("dl.facts .badge-completed")).to_have_count(1)
    assert _status(live_server, tour_id) == "completed"
    expect(sec).to_have_url(re.compile(rf"/tours/{tour_id}$"))
    shot(sec, "completed")
