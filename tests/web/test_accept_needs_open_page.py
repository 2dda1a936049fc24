"""The review page and the API say that a proposal of a need that is not open cannot be accepted
(sscmatch.workflow.proposals.decisions._may_be_accepted; the class of every way to accept is walked
in tests/workflow/test_accept_needs_open.py): the proposal's page warns beside *Accept*, and the
confirmation, the confirmed decision and the API refuse in the reader's language, changing
nothing."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from sqlmodel import Session

from sscmatch.models import Need, User
from sscmatch.vocab import load_vocabulary
from sscmatch.workflow import registry as reg
from sscmatch.workflow.accounts import issue_api_token
from tests.web.test_review import NEED, prop, ranked, run  # noqa: F401  (run: the fixture)

WARNING_ES = "Esta necesidad no está abierta"
REFUSAL_ES = "no abierta: aválela antes de aceptar"


def test_a_need_sent_back_to_endorsement_is_said_and_refused(
    as_user: Any,
    run: Session,  # noqa: F811
    users: dict[str, int],
) -> None:
    need = run.get(Need, NEED)
    assert need is not None
    gtm = SimpleNamespace(id=users["focal_gtm"], role="focal_point", country="GTM")
    reg.update_need(run, load_vocabulary(), gtm, NEED, {"title": "Changed"}, need.version)
    run.commit()
    first = ranked(run)[0]
    client = as_user("secretariat")
    client.post("/language", data={"lang": "es", "next": "/"})

    page = client.get(f"/review/proposals/{first.id}").get_data(as_text=True)
    assert WARNING_ES in page
    for data in (
        {"decision": "accept", "version": first.version},
        {
            "decision": "accept",
            "version": first.version,
            "confirmed": "y",
            "override": "y",
            "reason": "the ministry asked us to go ahead",
        },
    ):
        refused = client.post(f"/review/proposals/{first.id}/decision", data=data)
        assert refused.status_code == 409, data
        assert REFUSAL_ES in refused.get_data(as_text=True), data
    secretariat = run.get(User, users["secretariat"])
    assert secretariat is not None
    secretariat.language = "es"  # the API speaks its account's language
    token = issue_api_token(run, secretariat)
    run.commit()
    api = as_user("analyst").post(  # the token says who asks, not the session
        f"/api/v1/proposals/{first.id}/decision",
        json={
            "decision": "accept",
            "version": first.version,
            "override": True,
            "reason": "the ministry asked us to go ahead",
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    body = api.get_json()
    assert api.status_code == 409 and body["error"] == "need_not_open", body
    assert REFUSAL_ES in body["message"], body
    assert prop(run, first.provider).status == "proposed"
    assert run.get(Need, NEED).status == "draft"  # type: ignore[union-attr]
