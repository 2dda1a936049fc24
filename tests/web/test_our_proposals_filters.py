"""A focal point's "Our proposals" filters as the secretariat's review queue does, where it makes
sense for them: every filter of the queue's form is on theirs but those declared in
:data:`NOT_FOR_A_FOCAL_POINT` with why (the two lists' forms are read, not named here). Each
filter narrows their list to what it says (within their country's proposals), the order is the
one chosen, and the export linked from the filtered page holds exactly the page's rows."""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import Session, select

from sscmatch.models import Need, Proposal
from tests.web.test_every_list_page import _export_links
from tests.web.test_every_list_page import seeded_world as seeded_world  # the shared world
from tests.web.world import Walk

NOT_FOR_A_FOCAL_POINT = {
    "region": "their country is one side of every proposal: a region names the other side's "
    "region only loosely; they filter by the other country",
    "min_score": "a score range is the secretariat's triage of many runs",
    "max_score": "a score range is the secretariat's triage of many runs",
}


def _filter_names(html: str) -> set[str]:
    """The names of the page's GET filter form."""
    for form in re.findall(r"<form\b[^>]*>.*?</form>", html, flags=re.S):
        if 'method="get"' in form[: form.index(">")] and 'class="filters"' in form:
            return set(re.findall(r'name="([^"]+)"', form))
    return set()


def _ids(client: Any, query: dict[str, str]) -> list[int]:
    page = client.get("/review/mine", query_string={**query, "status": "all"})
    assert page.status_code == 200, (query, page.status_code)
    html = page.get_data(as_text=True)
    shown = [
        int(i) for i in re.findall(r'<article class="card proposal-card" id="proposal-(\d+)"', html)
    ]
    link = _export_links(html)["json"]
    assert all(f"{k}=" in link for k in query), (query, link)
    exported = client.get(link).get_json()["proposals"]
    assert [r["id"] for r in exported][: len(shown)] == shown, query
    return [r["id"] for r in exported]


def test_our_proposals_has_the_queues_filters_that_make_sense_for_a_focal_point(
    seeded_world: Walk,
) -> None:
    queue = seeded_world.client("secretariat").get("/review/queue").get_data(as_text=True)
    client = seeded_world.client("focal_gtm")
    ours = client.get("/review/mine").get_data(as_text=True)
    missing = _filter_names(queue) - _filter_names(ours) - set(NOT_FOR_A_FOCAL_POINT)
    assert not missing, f"the queue filters by {sorted(missing)}; Our proposals does not"
    assert {"q", "theme", "country", "sort", "status"} <= _filter_names(ours)

    seeded_world.app.config["PAGE_SIZE"] = 100
    everything = _ids(client, {})
    with Session(seeded_world.engine) as s:
        rows = {p.id: p for p in s.exec(select(Proposal).where(Proposal.id.in_(everything)))}
        needs = {n.id: n for n in s.exec(select(Need))}
    assert len(everything) >= 3 and all(
        "GTM" in (rows[i].provider, rows[i].recipient) for i in everything
    )
    # the counterpart country
    other = next(p.provider if p.recipient == "GTM" else p.recipient for p in rows.values())
    with_other = _ids(client, {"country": other})
    assert with_other
    assert all(other in (rows[i].provider, rows[i].recipient) for i in with_other)
    # words of the need's title
    title = needs[rows[everything[-1]].need].title
    word = max(title.split(), key=len)
    found = _ids(client, {"q": word})
    assert everything[-1] in found
    assert all(word.lower() in needs[rows[i].need].title.lower() or i in found for i in found)
    assert _ids(client, {"q": "zzz-no-such-words"}) == []
    # a theme of one of the needs
    theme = needs[rows[everything[0]].need].themes[0]
    themed = _ids(client, {"theme": theme})
    assert everything[0] in themed
    assert all(theme in needs[rows[i].need].themes for i in themed)
    # each order
    for sort, key in (
        ("score", lambda i: -rows[i].score),
        ("score_asc", lambda i: rows[i].score),
        ("date_asc", lambda i: rows[i].created_at),
    ):
        ordered = _ids(client, {"sort": sort})
        assert [key(i) for i in ordered] == sorted(key(i) for i in ordered), sort
