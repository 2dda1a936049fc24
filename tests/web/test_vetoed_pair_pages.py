"""The secretariat sees, in their language, what a veto takes out of play and what lifting it
puts back (the class of ways to veto and to undo is walked in tests/workflow/test_vetoed_pairs.py):
the veto's confirmation lists the pair's other open proposals, the confirmed veto supersedes
them, the lift's confirmation lists those coming back, and the confirmed lift puts them back.
Brazil is proposed for three of Mexico's needs."""

from __future__ import annotations

from typing import Any

import pytest
from markupsafe import escape
from sqlmodel import Session, select

from sscmatch.models import Need, User, Veto
from sscmatch.workflow.accounts import issue_api_token
from sscmatch.workflow.notices import short_title
from tests.web.test_review import matched, prop

VETOED_ON, OTHER, THIRD = "s002-n21", "s002-n22", "s002-n23"
LEAVES_ES = "1 otra propuesta abierta de este par deja de estar en juego"
BACK_ES = "1 propuesta que el veto sacó de juego vuelve a estar en juego"


def named_on_page(db: Session, proposal_id: int, need_id: str) -> str:
    need = db.get(Need, need_id)
    assert need is not None
    return str(escape(f"{proposal_id} ({need_id}, {short_title(need.title)})"))


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
    named = named_on_page(mexico, other.id or 0, OTHER)  # by its need's title, not ids alone
    assert LEAVES_ES in page and named in page
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
    assert named in asked.get_data(as_text=True)
    assert prop(mexico, "BRA", OTHER).status == "superseded"
    done = client.post(lift, data={"confirmed": "y", "reason": "nos equivocamos"})
    assert done.status_code == 302
    assert prop(mexico, "BRA", OTHER).status == "proposed"


def test_the_api_answers_them(as_user: Any, session: Session, users: dict[str, int]) -> None:
    """The veto's answer lists them (superseded), a revert of the veto's decision says where
    they stand (proposals), the lift's answer lists them (restored)."""
    mexico = matched(session, [VETOED_ON, OTHER, THIRD])
    secretariat = mexico.get(User, users["secretariat"])
    assert secretariat is not None
    token = issue_api_token(mexico, secretariat)
    mexico.commit()
    client = as_user("analyst")  # the token says who asks, not the session
    bearer = {"Authorization": f"Bearer {token}"}
    others = sorted(prop(mexico, "BRA", n).id or 0 for n in (OTHER, THIRD))

    def veto() -> dict[str, Any]:
        first = prop(mexico, "BRA", VETOED_ON)
        vetoed = client.post(
            f"/api/v1/proposals/{first.id}/decision",
            json={"decision": "veto", "version": first.version, "reason": "no"},
            headers=bearer,
        )
        assert vetoed.status_code == 200, vetoed.get_json()
        assert sorted(vetoed.get_json()["superseded"]) == others
        return dict(vetoed.get_json())

    made = veto()
    first = prop(mexico, "BRA", VETOED_ON)
    reverted = client.post(
        f"/api/v1/proposals/{first.id}/revert",
        json={"version": first.version, "reason": "undo"},
        headers=bearer,
    )
    assert reverted.status_code == 200, reverted.get_json()
    assert reverted.get_json()["veto_lifted"] == made["veto"]["id"]
    stand = {p["id"]: p["status"] for p in reverted.get_json()["proposals"]}
    assert stand == dict.fromkeys(others, "proposed")

    made = veto()
    lifted = client.post(
        f"/api/v1/vetoes/{made['veto']['id']}/lift", json={"reason": "wrong"}, headers=bearer
    )
    assert lifted.status_code == 200 and sorted(lifted.get_json()["restored"]) == others
    assert {prop(mexico, "BRA", n).status for n in (OTHER, THIRD)} == {"proposed"}
