"""An endorsement opens a need to matching in one click, so it can be undone: the page that took
it offers "Undo (withdraw the endorsement)", which sends the need back to wait for endorsement,
while no match run has proposed for it and no study tour names it (then it says why not). The
API has the same step; the focal point is told in their notices."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, select

from sscmatch.models import AuditEvent, MatchRun, Need, Notice, Proposal, User
from sscmatch.workflow import registry as reg
from tests.web.test_api_registry import issue_tokens
from tests.web.test_registry import NEED_FORM, YEAR


def _submitted_need(as_user: Any) -> str:
    gtm = as_user("focal_gtm")
    assert gtm.post("/needs/new", data=NEED_FORM).status_code == 302
    need_id = f"N-{YEAR}-0001"
    assert gtm.post(f"/needs/{need_id}/submit", data={"version": "1"}).status_code == 302
    return need_id


def _undo_form(page: str) -> tuple[str, dict[str, str]]:
    found = re.search(r'<div class="flash flash-info undo".*?</div>', page, re.S)
    assert found, "no undo offered"
    form = found.group(0)
    action = re.search(r'action="([^"]+)"', form)
    assert action
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form))
    return unescape(action.group(1)), fields


def _need(app: Flask, need_id: str) -> Need:
    with Session(app.extensions["sscmatch.engine"]) as s:
        need = s.get(Need, need_id)
        assert need is not None
        s.expunge(need)
        return need


@pytest.mark.parametrize("lang", ["en", "es"])
def test_an_endorsement_is_undone_from_the_next_page(as_user: Any, app: Flask, lang: str) -> None:
    need_id = _submitted_need(as_user)
    sec = as_user("secretariat")
    sec.post("/language", data={"lang": lang, "next": "/"})
    page = sec.post(
        f"/needs/{need_id}/endorse", data={"version": "2"}, follow_redirects=True
    ).get_data(as_text=True)
    assert _need(app, need_id).status == "open"
    action, fields = _undo_form(page)
    label = {"en": "Undo (withdraw the endorsement)", "es": "Deshacer"}[lang]
    assert label in page
    assert action == f"/needs/{need_id}/withdraw-endorsement" and fields["version"] == "3"
    # the offer is made once: the next page does not repeat it
    assert "flash-info undo" not in sec.get(f"/needs/{need_id}").get_data(as_text=True)
    assert sec.post(action, data=fields).status_code == 302
    need = _need(app, need_id)
    assert (need.status, need.submitted_at is not None) == ("draft", True)  # waits again
    with Session(app.extensions["sscmatch.engine"]) as s:
        actions = [
            e.action
            for e in s.exec(
                select(AuditEvent).where(AuditEvent.entity_id == need_id).order_by(AuditEvent.id)  # type: ignore[arg-type]
            )
        ]
        told = s.exec(select(Notice).where(Notice.kind == "need.withdraw_endorsement")).all()
        gtm = s.exec(select(User).where(User.email == "gtm@test.org")).first()
    assert actions[-2:] == ["endorse", "withdraw_endorsement"]
    assert told and gtm is not None and {n.user_id for n in told} == {gtm.id}
    # a second undo (the same version) is a conflict, and the need can be endorsed again
    assert sec.post(action, data=fields).status_code == 409
    assert sec.post(f"/needs/{need_id}/endorse", data={"version": "4"}).status_code == 302
    assert _need(app, need_id).status == "open"


def test_no_undo_once_a_run_has_proposed(as_user: Any, app: Flask) -> None:
    need_id = _submitted_need(as_user)
    sec = as_user("secretariat")
    page = sec.post(
        f"/needs/{need_id}/endorse", data={"version": "2"}, follow_redirects=True
    ).get_data(as_text=True)
    action, fields = _undo_form(page)
    with Session(app.extensions["sscmatch.engine"]) as s:
        run = MatchRun(status="done")
        s.add(run)
        s.flush()
        s.add(
            Proposal(
                run_id=run.id or 0,
                need=need_id,
                provider="BRA",
                recipient="GTM",
                score=0.5,
                rank=1,
            )
        )
        s.commit()
    refused = sec.post(action, data=fields)
    assert refused.status_code == 409
    assert "can no longer be withdrawn" in refused.get_data(as_text=True)
    assert _need(app, need_id).status == "open"


def test_only_the_secretariat_withdraws_and_only_an_open_need(as_user: Any, app: Flask) -> None:
    need_id = _submitted_need(as_user)
    gtm = as_user("focal_gtm")
    sec = as_user("secretariat")
    assert gtm.post(f"/needs/{need_id}/withdraw-endorsement").status_code == 403
    refused = sec.post(f"/needs/{need_id}/withdraw-endorsement", data={"version": "2"})
    assert refused.status_code == 409 and "Only an open need" in refused.get_data(as_text=True)
    with Session(app.extensions["sscmatch.engine"]) as s, pytest.raises(reg.Forbidden):
        reg.withdraw_endorsement(s, _focal(s), need_id)


def _focal(s: Session) -> Any:
    user = s.exec(select(User).where(User.role == "focal_point")).first()
    assert user is not None
    return user


def test_the_api_withdraws_an_endorsement(app: Flask, users: dict[str, int], as_user: Any) -> None:
    need_id = _submitted_need(as_user)
    tokens = issue_tokens(app, users)
    api = app.test_client()
    staff = {"Authorization": f"Bearer {tokens['secretariat']}"}
    assert api.post(f"/api/v1/needs/{need_id}/endorse", json={}, headers=staff).status_code == 200
    answer = api.post(
        f"/api/v1/needs/{need_id}/withdraw-endorsement", json={"version": 3}, headers=staff
    )
    assert answer.status_code == 200 and answer.get_json()["status"] == "draft"
    again = api.post(f"/api/v1/needs/{need_id}/withdraw-endorsement", json={}, headers=staff)
    assert again.status_code == 409
