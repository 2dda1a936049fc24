"""A match run's page lists its needs a page at a time (a full run holds a proposal list for
every open need), filters them by recipient country, and answers a bad filter or page number
with a 400 in the reader's language."""

from __future__ import annotations

import re

from flask import Flask
from sqlmodel import Session

from sscmatch.models import MatchRun, Need, Proposal
from tests.conftest import sign_in

RECIPIENTS = ("GTM", "HND", "PER")
NEEDS = 31  # more than a page (PAGE_SIZE 25)


def _run(app: Flask) -> int:
    with Session(app.extensions["sscmatch.engine"]) as s:
        run = MatchRun(status="done", needs_total=NEEDS, needs_done=NEEDS)
        s.add(run)
        s.flush()
        assert run.id is not None
        for n in range(NEEDS):
            recipient = RECIPIENTS[n % len(RECIPIENTS)]
            s.add(Need(id=f"N-RUN-{n:02d}", country=recipient, title=f"Need {n}", status="open"))
            s.flush()
            for rank, provider in enumerate(("BRA", "ARG"), start=1):
                s.add(
                    Proposal(
                        run_id=run.id, need=f"N-RUN-{n:02d}", provider=provider,
                        recipient=recipient, rank=rank, score=1 - rank / 10,
                    )
                )  # fmt: skip
        s.commit()
        return run.id


def _needs_shown(html: str) -> list[str]:
    return re.findall(r"<h3>.*?(N-RUN-\d\d)</a>", html)


def test_a_runs_needs_come_a_page_at_a_time_and_filter_by_recipient(
    app: Flask, users: dict[str, int]
) -> None:
    run_id = _run(app)
    client = sign_in(app.test_client(), "secretariat")
    first = client.get(f"/matching/runs/{run_id}").get_data(as_text=True)
    shown = _needs_shown(first)
    assert len(shown) == int(app.config["PAGE_SIZE"]) and shown == sorted(shown)
    assert "Page 1 of 2" in first and f"/matching/runs/{run_id}?page=2" in first
    second = client.get(f"/matching/runs/{run_id}?page=2").get_data(as_text=True)
    rest = _needs_shown(second)
    assert sorted(shown + rest) == [f"N-RUN-{n:02d}" for n in range(NEEDS)]
    assert first.count("Brazil ·") == len(shown)  # each need with its proposals
    guatemala = client.get(f"/matching/runs/{run_id}?country=guatemala").get_data(as_text=True)
    assert _needs_shown(guatemala) == [f"N-RUN-{n:02d}" for n in range(0, NEEDS, 3)]
    assert 'value="GTM"' in guatemala


def test_a_bad_filter_or_page_is_a_400_in_the_readers_language(
    app: Flask, users: dict[str, int]
) -> None:
    run_id = _run(app)
    client = sign_in(app.test_client(), "secretariat")
    client.post("/language", data={"lang": "es", "next": "/"})
    for query, says in (
        ("country=Atlantis", "País desconocido &#39;Atlantis&#39;"),
        ("page=zero", "la página debe ser un número entero"),
        ("page=0", "la página debe ser un número entero"),
    ):
        response = client.get(f"/matching/runs/{run_id}?{query}")
        assert response.status_code == 400, query
        assert says in response.get_data(as_text=True), query


def test_who_reads_a_run(app: Flask, users: dict[str, int]) -> None:
    run_id = _run(app)
    for who, status in (("analyst", 200), ("admin", 200), ("focal_gtm", 403)):
        assert sign_in(app.test_client(), who).get(f"/matching/runs/{run_id}").status_code == status


def test_a_run_exports_every_proposal_it_made(app: Flask, users: dict[str, int]) -> None:
    run_id = _run(app)
    client = sign_in(app.test_client(), "analyst")
    page = client.get(f"/matching/runs/{run_id}").get_data(as_text=True)
    link = re.search(r'href="(/review/export\.json\?[^"]+)"', page)
    assert link, "the run page links its export"
    body = client.get(link.group(1).replace("&amp;", "&")).get_json()
    rows = body[body["kind"]]
    assert body["count"] == len(rows) == NEEDS * 2 and not body["truncated"]  # every page's
    assert {r["need"] for r in rows} == {f"N-RUN-{n:02d}" for n in range(NEEDS)}


def test_a_runs_page_names_the_answered_offers_kept_from_an_earlier_run(
    app: Flask, users: dict[str, int]
) -> None:
    """A run does not propose again an offer whose earlier proposal was answered
    (matchruns.store): its page names that proposal beside the need, in the reader's language."""
    with Session(app.extensions["sscmatch.engine"]) as s:
        earlier, later = MatchRun(status="done"), MatchRun(status="done")
        s.add_all([earlier, later, Need(id="N-KEPT", country="GTM", title="Kept", status="open")])
        s.flush()
        kept = Proposal(
            run_id=earlier.id, need="N-KEPT", provider="BRA", recipient="GTM", rank=1,
            score=0.9, status="provider_confirmed",
        )  # fmt: skip
        s.add_all(
            [
                kept,
                Proposal(run_id=later.id, need="N-KEPT", provider="ARG", recipient="GTM", rank=2,
                         score=0.8),
            ]
        )  # fmt: skip
        s.commit()
        later_id, kept_id = later.id, kept.id
    client = sign_in(app.test_client(), "secretariat")
    page = client.get(f"/matching/runs/{later_id}").get_data(as_text=True)
    assert "Still open from an earlier run, answered or commented on, so not proposed again:" in page
    assert f"/review/proposals/{kept_id}" in page
    client.post("/language", data={"lang": "es", "next": "/"})
    page = client.get(f"/matching/runs/{later_id}").get_data(as_text=True)
    assert "Siguen abiertas de una ejecución anterior" in page
