"""What responses contain, not only their status (issue 13, class 5): a record a user may not open
appears in no page, list, profile, count, export or API answer they get.

Records with unique markers are planted: a draft need and a draft capacity of Guatemala, and a
note on the sample proposal (which involves Guatemala, not Brazil). Every GET route of the app is
then called by every role, with a few query strings that make lists show drafts and everything
(``status=draft``, ``status=all``, a text query for the marker), and each answer's body is searched
for the markers of the records that role may not see (:mod:`sscmatch.workflow.visibility`): their
titles, descriptions, ids and links. So that the search cannot pass by finding nothing anywhere,
each marker must also show up for the roles that may see it, on its record page and its lists.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from flask import Flask, url_for
from sqlmodel import Session, select

from sscmatch.analytics import countries_activity
from sscmatch.models import Capacity, Need, Proposal
from sscmatch.vocab import load_vocabulary
from sscmatch.workflow.tours import User as Actor
from sscmatch.workflow.visibility import SYSTEM
from tests.web.test_authorization import _CLIENTS, ROLES, _call
from tests.web.test_malformed_input import _READ, ALL, _TrackedRequest
from tests.web.world import Walk, World, world_fixture

MARK = "Zq7x"
DRAFT_NEED = ("N-GTM-DRAFT", f"{MARK} draft need of Guatemala", f"{MARK}-need-description")
DRAFT_CAPACITY = ("C-GTM-DRAFT", f"{MARK} draft capacity of Guatemala", f"{MARK}-capacity-text")
PROPOSAL_NOTE = f"{MARK}-proposal-note"
QUERIES = ("", "?status=draft&per_page=200", "?status=all&per_page=200", f"?q={MARK}&per_page=200")
QUERY_NAMES = {"status", "per_page", "q"}
"""The names of QUERIES: a route that reads none of them (by name, or every name at once) is
asked its plain address only; the others would answer the same (request tracker of
``test_malformed_input``)."""
# who may see each planted record (the staff and Guatemala's focal point); nobody else may
MAY_SEE = {"admin", "secretariat", "analyst", "focal_gtm"}
FOCAL_GTM = Actor(id=None, role="focal_point", country="GTM")
FOCAL_BRA = Actor(id=None, role="focal_point", country="BRA")


def _plant(app: Flask, world: World) -> None:
    """The planted records (added to the shared world: ``planted_world``)."""
    with Session(app.extensions["sscmatch.engine"]) as s:
        for model, (key, title, text) in ((Need, DRAFT_NEED), (Capacity, DRAFT_CAPACITY)):
            s.add(
                model(
                    id=key,
                    country="GTM",
                    title=title,
                    description=text,
                    themes=["labour-inspection"],
                    languages=["es"],
                    status="draft",
                )
            )
        proposal = s.get(Proposal, world.values["proposal_id"])
        assert proposal is not None and "BRA" not in (proposal.provider, proposal.recipient)
        proposal.note = f"recipient: {PROPOSAL_NOTE}"
        s.add(proposal)
        # Brazil's own proposal for the same need in the same run: its page lists alternates.
        brazilian = s.exec(
            select(Capacity.id).where(Capacity.country == "BRA", Capacity.status == "published")
        ).first()
        assert brazilian is not None
        s.add(
            Proposal(
                run_id=proposal.run_id,
                need=proposal.need,
                capacity=brazilian,
                provider="BRA",
                recipient=proposal.recipient,
                rank=9,
                score=0.1,
            )
        )
        s.commit()


# The world of the walks with the planted records, shared by this module's tests (they read).
planted_world = world_fixture(_plant)


def _tells(pid: int) -> dict[str, list[str]]:
    """Each planted record's tell-tale strings (``pid``: the sample proposal's id)."""
    return {
        "draft need": [DRAFT_NEED[0], DRAFT_NEED[1], DRAFT_NEED[2]],
        "draft capacity": [DRAFT_CAPACITY[0], DRAFT_CAPACITY[1], DRAFT_CAPACITY[2]],
        "proposal": [PROPOSAL_NOTE, f'/review/proposals/{pid}"', f'/api/v1/proposals/{pid}"'],
    }


def _proposals_in(response: Any, pid: int) -> int:
    """How many proposal-shaped objects with id ``pid`` a JSON answer holds (lists, alternates)."""
    if not response.is_json:
        return 0
    found, stack = 0, [response.get_json(silent=True)]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("id") == pid and "provider" in item and "score" in item:
                found += 1
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _paths(app: Flask, values: dict[str, Any]) -> list[tuple[str, str]]:
    """(endpoint, path) of every GET route, with the world's values for its arguments."""
    found = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or set()) or rule.endpoint in ("static", "favicon"):
            continue
        with app.test_request_context():
            path = url_for(rule.endpoint, **{arg: values[arg] for arg in rule.arguments})
        found.append((rule.endpoint, path))
    # Every proposal's page: a provider's focal point sees the other providers' proposals of the
    # same need nowhere, not even listed as alternates.
    with Session(app.extensions["sscmatch.engine"]) as s:
        for pid in s.exec(select(Proposal.id)).all():
            found += [
                ("review.proposal", f"/review/proposals/{pid}"),
                ("api.review_get_proposal", f"/api/v1/proposals/{pid}"),
            ]
    # The planted records' own pages.
    found += [
        ("registry.need", f"/needs/{DRAFT_NEED[0]}"),
        ("registry.capacity", f"/capacities/{DRAFT_CAPACITY[0]}"),
        ("api.api_need", f"/api/v1/needs/{DRAFT_NEED[0]}"),
        ("api.api_capacity", f"/api/v1/capacities/{DRAFT_CAPACITY[0]}"),
    ]
    return sorted(set(found))


def test_no_response_shows_a_record_its_reader_may_not_see(planted_world: Walk) -> None:
    app, values = planted_world.app, planted_world.values
    tells = _tells(values["proposal_id"])
    leaks: list[str] = []
    seen: dict[tuple[str, str], set[str]] = defaultdict(set)  # (record, role) → endpoints
    requests = 0
    app.request_class = _TrackedRequest
    # The roles that may see the records first: a page body kept for them must not be served
    # to the others afterwards.
    for who in (*sorted(ROLES, key=lambda r: r not in MAY_SEE), "anonymous"):
        for endpoint, path in _paths(app, values):
            queried = True
            for query in QUERIES:
                if query and not queried:
                    break
                _READ.clear()
                response = _call(
                    app, who, "GET", path + query, planted_world.tokens, planted_world.client
                )
                requests += 1
                if not query:
                    queried = ALL in _READ or bool(_READ & QUERY_NAMES)
                assert response.status_code < 500, (who, path + query, response.status_code)
                body = response.get_data(as_text=True)
                shapes = _proposals_in(response, values["proposal_id"])
                for record, strings in tells.items():
                    # an address echoed back (a 403 page, the sign-in redirect) is no leak
                    shown = [t for t in strings if t in body and t.strip('"') not in path]
                    if record == "proposal" and shapes:
                        shown.append(f"a proposal object with id {shapes}")
                    if not shown:
                        continue
                    if who in MAY_SEE:
                        seen[(record, who)].add(endpoint)
                    else:
                        leaks.append(f"{who} GET {path + query}: {record} ({shown[0]!r})")
    _CLIENTS.clear()
    assert requests > 1000
    assert leaks == [], "\n".join(sorted(set(leaks)))
    # The search finds what it looks for: each record shows for those who may see it.
    for who in MAY_SEE:
        for record in ("draft need", "draft capacity"):
            kind = "need" if record == "draft need" else "capacity"
            plural = "needs" if kind == "need" else "capacities"
            assert {
                f"registry.{kind}",
                f"registry.{plural}",
                f"api.api_{kind}",
                f"api.api_{plural}",
                "network.country",
            } <= seen[(record, who)], (who, record, sorted(seen[(record, who)]))
        assert {"review.proposal", "api.review_get_proposal"} <= seen[("proposal", who)], who
    assert "review.my_proposals" in seen[("proposal", "focal_gtm")]


def test_counts_include_drafts_only_for_who_may_see_them(planted_world: Walk) -> None:
    """The countries' list counts a country's drafts for its focal points and the staff only."""
    vocab = load_vocabulary()

    def gtm(viewer: Any) -> tuple[int, int]:
        with Session(planted_world.engine) as session:
            activity = countries_activity(session, vocab, viewer=viewer)
        row = {a.code: a for a in activity}["GTM"]
        return row.capacities, row.needs

    staff, own, other, nobody = (gtm(v) for v in (SYSTEM, FOCAL_GTM, FOCAL_BRA, None))
    assert staff == own == (other[0] + 1, other[1] + 1) and other == nobody
