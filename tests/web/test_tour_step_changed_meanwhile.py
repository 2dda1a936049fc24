"""A tour's step confirmed after a change meanwhile: the confirmation again, the reason kept.

The cancellation of a study tour asks why. When the tour changed between the confirmation's
page and its Confirm (someone marked it proposed, another tab of one's own), the step was
refused with "changed meanwhile" on the tour's page, and the reason typed was gone (seen in
Chromium, French). Now the answer is the confirmation again, on the tour as it is now (its new
version carried), with the reason typed and the change said; a Confirm there cancels it. A
step no longer possible from where the tour now stands goes to the tour's page as before.
"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from sqlmodel import Session

from sscmatch.models import StudyTour
from tests.web import test_review
from tests.web.test_tour_cancel import _accepted_tour

run = test_review.run  # the fixture: the knowledge base and a run for two needs
REASON = "Le pays visiteur a changé de priorités — ñandú, 理由"
SAID = {"fr": "entre-temps", "es": "mientras tanto"}


def _tour(run: Session, tour_id: str) -> StudyTour:
    run.expire_all()
    tour = run.get(StudyTour, tour_id)
    assert tour is not None
    return tour


@pytest.mark.parametrize("lang", ["fr", "es"])
def test_a_cancellation_confirmed_after_a_change_keeps_its_reason(
    as_user: Any, run: Session, lang: str
) -> None:
    tour = _accepted_tour(as_user, run)
    sec = as_user("secretariat")
    sec.post("/language", data={"lang": lang, "next": "/"})
    url = f"/tours/{tour.id}/status"
    seen = tour.version  # the confirmation's page carries this version
    moved = as_user("secretariat").post(url, data={"to": "proposed", "version": seen})
    assert moved.status_code == 302 and _tour(run, tour.id).status == "proposed"
    answer = sec.post(
        url, data={"to": "cancelled", "version": seen, "note": REASON, "confirmed": "y"}
    )
    page = answer.get_data(as_text=True)
    assert answer.status_code == 409, page[:2000]
    assert _tour(run, tour.id).status == "proposed"  # nothing cancelled on a stale page
    kept = re.search(r'<textarea id="confirm-reason" name="note"[^>]*>(.*?)</textarea>', page, re.S)
    assert kept is not None and html.unescape(kept.group(1)) == REASON
    assert SAID[lang] in html.unescape(page)
    now = _tour(run, tour.id).version
    assert f'<input type="hidden" name="version" value="{now}">' in page
    done = sec.post(url, data={"to": "cancelled", "version": now, "note": REASON, "confirmed": "y"})
    assert done.status_code == 302 and _tour(run, tour.id).status == "cancelled"


def test_a_step_no_longer_possible_goes_to_the_tour(as_user: Any, run: Session) -> None:
    tour = _accepted_tour(as_user, run)
    sec = as_user("secretariat")
    url = f"/tours/{tour.id}/status"
    seen = tour.version
    cancelled = sec.post(
        url, data={"to": "cancelled", "version": seen, "note": "a", "confirmed": "y"}
    )
    assert cancelled.status_code == 302
    again = sec.post(url, data={"to": "cancelled", "version": seen, "note": "b", "confirmed": "y"})
    assert again.status_code == 303 and again.headers["Location"].endswith(f"/tours/{tour.id}")
