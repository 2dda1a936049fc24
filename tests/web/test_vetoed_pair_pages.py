"""The secretariat sees, in their language, what a veto takes out of play and what lifting it
puts back (the class of ways to veto and to undo is walked in tests/workflow/test_vetoed_pairs.py):
the veto's confirmation lists the pair's other open proposals, the confirmed veto supersedes
them, the lift's confirmation lists those coming back, and the confirmed lift puts them back.
Brazil is proposed for two of Mexico's needs."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, select

from sscmatch.models import Veto
from tests.web.test_review import matched, prop

VETOED_ON, OTHER = "s002-n21", "s002-n22"
LEAVES_ES = "1 otra propuesta abierta de este par deja de estar en juego"
BACK_ES = "1 propuesta que el veto sacó de juego vuelve a estar en juego"


@pytest.fixture
def mexico(session: Session, users: dict[str, int]) -> Session:
    return matched(session, [VETOED_ON, OTHER])


def test_the_veto_and_its_lift_say_which_proposals_leave_and_come_back(
    as_user: Any, mexico: Session
) -> None:
    first, other = prop(mexico, "BRA", VETOED_ON), prop(mexico, "BRA", OTHER)
    client = as_user("secretariat")
    client.post("/language", data={"lang": "es", "next": "/"})

    veto = {"decision": "veto", "version": first.version}
    asked = client.post(f"/review/proposals/{first.id}/decision", data=veto)
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200
    assert LEAVES_ES in page and f"{other.id} ({OTHER})" in page
    assert prop(mexico, "BRA", OTHER).status == "proposed"  # the confirmation writes nothing

    done = client.post(
        f"/review/proposals/{first.id}/decision",
        data={**veto, "confirmed": "y", "reason": "no volver a proponer"},
    )
    assert done.status_code == 302
    assert prop(mexico, "BRA", OTHER).status == "superseded"

    pair = mexico.exec(select(Veto)).one()
    lift = f"/review/vetoes/{pair.id}/lift"
    asked = client.post(lift, data={})
    assert asked.status_code == 200 and BACK_ES in asked.get_data(as_text=True)
    assert prop(mexico, "BRA", OTHER).status == "superseded"
    done = client.post(lift, data={"confirmed": "y", "reason": "nos equivocamos"})
    assert done.status_code == 302
    assert prop(mexico, "BRA", OTHER).status == "proposed"
