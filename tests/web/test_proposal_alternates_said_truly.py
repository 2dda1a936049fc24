"""What a proposal's page (and the API's proposal) says of the other providers proposed for its
need is true for every reader.

A provider's focal point does not see the other providers' proposals (its competitors): its page
said "No other provider was proposed for this need in this run." where others were, only hidden
from it. The walk: every role that reads a proposal (the focal point of its provider, of its
recipient, the secretariat, the analyst) × proposals of the shared world's run with and without
other proposals for their need. Each page either lists every other proposal, or says the others
are not shown (whether there are any is not said); it says no one else was proposed only where
no one else was; the API's ``every_alternate`` says whether its list is whole.
"""

from __future__ import annotations

import html
import re
from typing import Any

from flask import Flask
from sqlmodel import Session

from sscmatch.models import MatchRun, Need, Proposal, User
from sscmatch.workflow.accounts import issue_api_token
from tests.conftest import sign_in

NONE_OTHER = "No other provider was proposed for this need in this run."
NOT_SHOWN = "Proposals of other providers for this need are not shown to a provider’s focal point."
ROW = re.compile(r'<table class="alternates">.*?<tbody>(.*?)</tbody>', re.S)
FOCAL = {"BRA": "focal_bra", "GTM": "focal_gtm"}


def _plant(app: Flask) -> list[tuple[int, str, str, int]]:
    """A run with Guatemala's need proposed to Brazil and Mexico (competitors), its other need
    to Brazil alone, and Brazil's need to Guatemala alone: (proposal, provider, recipient,
    other proposals of its need)."""
    with Session(app.extensions["sscmatch.engine"]) as s:
        run = MatchRun(status="done", top_k=5)
        s.add(run)
        for need, country in (("n-gtm-1", "GTM"), ("n-gtm-2", "GTM"), ("n-bra-1", "BRA")):
            s.add(Need(id=need, country=country, title=need, themes=["labour-inspection"],
                       status="open"))  # fmt: skip
        s.flush()
        planted = [
            ("n-gtm-1", "BRA", "GTM", 1, 1),
            ("n-gtm-1", "MEX", "GTM", 2, 1),
            ("n-gtm-2", "BRA", "GTM", 1, 0),
            ("n-bra-1", "GTM", "BRA", 1, 0),
        ]
        out = []
        for need, provider, recipient, rank, others in planted:
            p = Proposal(run_id=run.id or 0, need=need, provider=provider, recipient=recipient,
                         rank=rank, score=0.5)  # fmt: skip
            s.add(p)
            s.flush()
            out.append((p.id or 0, provider, recipient, others))
        s.commit()
    return out


def _readers(provider: str, recipient: str) -> dict[str, str]:
    """Who reads a proposal and as what."""
    out = {"secretariat": "staff", "analyst": "staff"}
    if provider in FOCAL:
        out[FOCAL[provider]] = "provider"
    if recipient in FOCAL:
        out[FOCAL[recipient]] = "recipient"
    return out


def test_what_each_reader_is_told_of_the_other_providers_is_true(
    app: Flask, users: dict[str, int]
) -> None:
    cases = _plant(app)
    with Session(app.extensions["sscmatch.engine"]) as s:
        tokens = {who: issue_api_token(s, s.get(User, uid)) for who, uid in users.items()}
        s.commit()
    clients = {who: sign_in(app.test_client(), who) for who in users}
    wrong: list[str] = []
    for proposal, provider, recipient, others in cases:
        for who, role in _readers(provider, recipient).items():
            response = clients[who].get(f"/review/proposals/{proposal}")
            assert response.status_code == 200, (who, proposal)
            page = html.unescape(response.get_data(as_text=True))
            rows = ROW.search(page)
            listed = rows[1].count("<tr>") if rows else 0
            where = f"proposal {proposal} ({others} other(s)) read by {who} ({role})"
            if NONE_OTHER in page and others:
                wrong.append(f"{where}: says no one else was proposed")
            hidden = NOT_SHOWN in page
            if role == "provider" and (not hidden or NONE_OTHER in page):
                wrong.append(f"{where}: does not say the others are not shown")
            if role != "provider" and (hidden or listed != others):
                wrong.append(f"{where}: lists {listed} of {others}, hidden said: {hidden}")
            if role != "provider" and not others and NONE_OTHER not in page:
                wrong.append(f"{where}: does not say no one else was proposed")
            api: Any = (
                app.test_client()
                .get(
                    f"/api/v1/proposals/{proposal}",
                    headers={"Authorization": f"Bearer {tokens[who]}"},
                )
                .get_json()
            )
            if api.get("every_alternate") != (role != "provider"):
                wrong.append(f"{where}: the API's every_alternate is {api.get('every_alternate')}")
            elif role != "provider" and len(api["alternates"]) != others:
                wrong.append(f"{where}: the API lists {len(api['alternates'])} of {others}")
    assert wrong == [], "\n".join(wrong)
