"""Cancelling a study tour is confirmed first (issue 14, item 2): the page says what will happen
(worked out without changing anything), asks the reason, and only the confirmation with a reason
cancels it; the need goes back to matching."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from sscmatch.models import AuditEvent, Need, StudyTour
from tests.web import test_review
from tests.web.test_review import NEED, prop

run = test_review.run  # the fixture: the knowledge base and a run for two needs


def _accepted_tour(as_user: Any, run: Session) -> StudyTour:
    """Brazil confirms its proposal, the secretariat accepts it: a draft tour for NEED."""
    bra = prop(run, "BRA")
    as_user("focal_bra").post(
        f"/review/proposals/{bra.id}/response", data={"response": "confirm", "version": 1}
    )
    done = as_user("secretariat").post(
        f"/review/proposals/{bra.id}/decision",
        data={"decision": "accept", "version": 2, "confirmed": "y"},
    )
    assert done.status_code == 302, done.get_data(as_text=True)[:2000]
    run.expire_all()
    return run.exec(select(StudyTour).where(StudyTour.need == NEED)).one()


def test_cancelling_a_tour_is_confirmed_with_a_reason(as_user: Any, run: Session) -> None:
    tour = _accepted_tour(as_user, run)
    assert run.get(Need, NEED).status == "matched"  # type: ignore[union-attr]
    sec = as_user("secretariat")
    show = sec.get(f"/tours/{tour.id}").get_data(as_text=True)
    assert "Mark cancelled…" in show
    url = f"/tours/{tour.id}/status"
    asked = sec.post(url, data={"to": "cancelled", "version": tour.version})
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200
    assert f"Cancel study tour {tour.id}?" in page
    assert f"Study tour {tour.id} becomes cancelled." in page
    assert f"Its need {NEED} is open again" in page
    assert 'name="note"' in page and 'name="confirmed" value="y"' in page
    run.expire_all()
    assert run.get(StudyTour, tour.id).status == "draft"  # type: ignore[union-attr]
    assert run.get(Need, NEED).status == "matched"  # type: ignore[union-attr]
    # Confirmed without a reason: asked again, nothing changed.
    blank = sec.post(url, data={"to": "cancelled", "version": tour.version, "confirmed": "y"})
    assert blank.status_code == 400 and "A reason is required." in blank.get_data(as_text=True)
    run.expire_all()
    assert run.get(StudyTour, tour.id).status == "draft"  # type: ignore[union-attr]
    # Confirmed with a reason: cancelled, the need back to matching, the reason in the audit.
    done = sec.post(
        url,
        data={
            "to": "cancelled",
            "version": tour.version,
            "confirmed": "y",
            "note": "the ministry postponed it",
        },
    )
    assert done.status_code == 302
    run.expire_all()
    assert run.get(StudyTour, tour.id).status == "cancelled"  # type: ignore[union-attr]
    assert run.get(Need, NEED).status == "open"  # type: ignore[union-attr]
    event = run.exec(
        select(AuditEvent).where(
            AuditEvent.entity == "study_tour", AuditEvent.action == "status:cancelled"
        )
    ).one()
    assert event.note == "the ministry postponed it"


def test_the_confirmation_in_spanish_and_for_whom(as_user: Any, run: Session) -> None:
    tour = _accepted_tour(as_user, run)
    sec = as_user("secretariat")
    sec.post("/language", data={"lang": "es", "next": "/"})
    page = sec.post(f"/tours/{tour.id}/status", data={"to": "cancelled", "version": tour.version})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f"¿Cancelar la visita de estudio {tour.id}?" in text
    assert f"Su necesidad {NEED} vuelve a estar abierta" in text
    assert "Cancel study tour" not in text and "becomes cancelled" not in text
    # Focal points do not cancel tours, analysts change nothing: refused, no confirmation.
    for who in ("focal_gtm", "analyst"):
        refused = as_user(who).post(
            f"/tours/{tour.id}/status", data={"to": "cancelled", "version": tour.version}
        )
        assert refused.status_code == 403, who
        assert "Cancel study tour" not in refused.get_data(as_text=True)
    # A stale version: no confirmation page, the refusal the step itself gives.
    stale = sec.post(
        f"/tours/{tour.id}/status", data={"to": "cancelled", "version": tour.version - 1}
    )
    assert stale.status_code in (303, 409) and "Cancelar la visita" not in stale.get_data(
        as_text=True
    )
    run.expire_all()
    assert run.get(StudyTour, tour.id).status == "draft"  # type: ignore[union-attr]
