"""Every step of a need × every role, on the pages and in the API: who may take it, that a
refused step writes nothing, and that a stale version is the conflict answer for every step.

The steps: submit, take back (a submission still waiting), endorse, return, withdraw the
endorsement, withdraw (the country no longer needs it) and reinstate (the withdrawal's undo).
The roles: the focal point of the need's country (Guatemala), a focal point of another country
(Brazil), the secretariat, an admin and an analyst."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text
from sqlmodel import Session, select

from sscmatch.models import Need, User, utcnow
from sscmatch.workflow import registry as reg
from tests.web.test_api_registry import Api, issue_tokens

ROLES = ("focal_gtm", "focal_bra", "secretariat", "admin", "analyst")
NEED_ID = "N-2026-0900"


@dataclass(frozen=True)
class Step:
    path: str  # after /needs/<id>/ (pages) and /api/v1/needs/<id>/ (API)
    state: str  # the need's state the step starts from
    allowed: frozenset[str]
    after: tuple[str, bool]  # (status, submitted) once taken
    page_form: tuple[tuple[str, str], ...] = ()
    api_body: tuple[tuple[str, str], ...] = ()


COUNTRY = frozenset({"focal_gtm", "secretariat", "admin"})
STAFF = frozenset({"secretariat", "admin"})
STEPS = {
    "submit": Step("submit", "draft", COUNTRY, ("draft", True)),
    "take_back": Step("take-back", "submitted", COUNTRY, ("draft", False)),
    "endorse": Step("endorse", "submitted", STAFF, ("open", True)),
    "return": Step(
        "return",
        "submitted",
        STAFF,
        ("draft", False),
        page_form=(("note", "Name the region."),),
        api_body=(("note", "Name the region."),),
    ),
    "withdraw_endorsement": Step("withdraw-endorsement", "open", STAFF, ("draft", True)),
    "withdraw": Step(
        "withdraw",
        "open",
        COUNTRY,
        ("closed", False),
        page_form=(("confirmed", "y"), ("reason", "Done with national funds.")),
        api_body=(("reason", "Done with national funds."),),
    ),
    "reinstate": Step("reinstate", "withdrawn", COUNTRY, ("open", False)),
}


def _prepare(app: Flask, state: str) -> int:
    """The need of Guatemala in ``state``; returns its version."""
    with Session(app.extensions["sscmatch.engine"]) as s:
        need = Need(
            id=NEED_ID,
            country="GTM",
            title="Labour inspection of the coffee harvest",
            themes=["child-labour-monitoring"],
            status="open" if state in ("open", "withdrawn") else "draft",
            submitted_at=utcnow() if state == "submitted" else None,
        )
        s.add(need)
        s.commit()
        if state == "withdrawn":
            staff = s.exec(select(User).where(User.role == "secretariat")).one()
            reg.withdraw_need(s, staff, NEED_ID)
            s.commit()
        s.refresh(need)
        return need.version


def _state(app: Flask) -> dict[str, Any]:
    """Everything a step may write: every row of the need, its trail, notices and proposals."""
    engine = app.extensions["sscmatch.engine"]
    with engine.connect() as c:
        return {
            table: sorted(
                tuple(str(v) for v in row) for row in c.execute(text(f'SELECT * FROM "{table}"'))
            )
            for table in ("need", "audit_event", "notice", "proposal")
        }


def _need(app: Flask) -> tuple[str, bool]:
    with Session(app.extensions["sscmatch.engine"]) as s:
        need = s.get(Need, NEED_ID)
        assert need is not None
        return need.status, need.submitted_at is not None


def _caller(app: Flask, as_user: Any, tokens: dict[str, str], via: str, who: str) -> Any:
    """A step's caller, signed in before anything is compared (signing in is audited)."""
    if via == "page":
        return as_user(who)
    return Api(app.test_client(), tokens[who])


def _take(caller: Any, via: str, step: Step, version: int) -> Any:
    if via == "page":
        form = {"version": str(version), **dict(step.page_form)}
        return caller.post(f"/needs/{NEED_ID}/{step.path}", data=form)
    body = {"version": version, **dict(step.api_body)}
    return caller.post(f"/needs/{NEED_ID}/{step.path}", json=body)


@pytest.fixture
def tokens(app: Flask, users: dict[str, int]) -> dict[str, str]:
    return issue_tokens(app, users)


@pytest.mark.parametrize("via", ["page", "api"])
@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize("name", sorted(STEPS))
def test_who_may_take_each_step(
    app: Flask, as_user: Any, tokens: dict[str, str], via: str, who: str, name: str
) -> None:
    step = STEPS[name]
    version = _prepare(app, step.state)
    caller = _caller(app, as_user, tokens, via, who)
    before = _state(app)
    response = _take(caller, via, step, version)
    if who in step.allowed:
        assert response.status_code == (302 if via == "page" else 200), response.data[:300]
        assert _need(app) == step.after
    else:
        assert response.status_code == 403, response.data[:300]
        assert _state(app) == before  # a refused step writes nothing


@pytest.mark.parametrize("via", ["page", "api"])
@pytest.mark.parametrize("name", sorted(STEPS))
def test_a_stale_version_is_a_conflict_for_every_step(
    app: Flask, as_user: Any, tokens: dict[str, str], via: str, name: str
) -> None:
    step = STEPS[name]
    version = _prepare(app, step.state)
    with Session(app.extensions["sscmatch.engine"]) as s:  # someone changes it meanwhile
        need = s.get(Need, NEED_ID)
        assert need is not None
        need.description = "Changed meanwhile."
        s.commit()
    caller = _caller(app, as_user, tokens, via, "secretariat")
    before = _state(app)
    response = _take(caller, via, step, version)
    assert response.status_code == 409, response.data[:300]
    assert _state(app) == before
