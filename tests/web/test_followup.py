"""Follow-up pages: dashboard (overdue first, ladder), commitment page with history and updates,
and the whole story of issue 6 through the pages."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, select

from sscmatch.models import Commitment, CommitmentUpdate, Exchange, StudyTour
from sscmatch.vocab import load_vocabulary
from sscmatch.workflow import tours as wf
from sscmatch.workflow.matchruns import compute
from tests.workflow.test_tours import make_world


@pytest.fixture
def tour_id(app: Flask, users: dict[str, int]) -> str:
    app.config["TODAY"] = "2026-07-15"
    with Session(app.extensions["sscmatch.engine"], expire_on_commit=False) as s:
        proposal = make_world(s)
        tour = wf.draft_from_proposal(s, proposal, users["secretariat"], today=date(2026, 1, 5))
        s.commit()
        return tour.id


def _advance(client: Any, tour_id: str, *statuses: str, start: int = 1) -> None:
    for n, to in enumerate(statuses, start):
        data = {"version": str(n), "to": to}
        if to in ("completed", "closed"):  # confirmed first (test_consequential_steps.py)
            data["confirmed"] = "y"
        r = client.post(f"/tours/{tour_id}/status", data=data)
        assert r.status_code == 302 and b"cannot" not in r.data, to


def _record(client: Any, tour_id: str, owner: str, what: str, due: str) -> None:
    r = client.post(
        f"/tours/{tour_id}/commitments",
        data={"owner_country": owner, "description": what, "due": due, "status": "pending"},
    )
    assert r.status_code == 302, r.data[:500]


def test_dashboard_overdue_first_and_ladder(as_user: Any, tour_id: str) -> None:
    sec = as_user("secretariat")
    _advance(sec, tour_id, "proposed", "agreed", "scheduled")
    _record(sec, tour_id, "GTM", "Adopt the hazardous-work list", "2026-06")
    _record(sec, tour_id, "BRA", "Send the inspection manual", "2026-08-01")
    page = as_user("analyst").get("/followup")
    assert page.status_code == 200
    html = page.data.decode()
    assert html.index("Adopt the hazardous-work list") < html.index("Send the inspection manual")
    assert "15 days overdue" in html and "in 17 days" in html
    for heading in (
        "By country",
        "By study tour",
        "Decided commitments by year",
        "Outcome ladder",
        "Formal agreement",
        "Commitments fulfilled",
    ):
        assert heading in html
    only_bra = as_user("analyst").get("/followup?country=BRA").data.decode()
    assert "Adopt the hazardous-work list" not in only_bra
    # a name the vocabulary resolves is the country, as in every list (workflow.base.country_filter)
    brazil = as_user("analyst").get("/followup?country=Brazil")
    assert brazil.status_code == 200 and "Adopt the hazardous-work list" not in brazil.text
    bad = as_user("analyst").get("/followup?country=Atlantis")
    assert bad.status_code == 400 and "ISO alpha-3" in bad.data.decode()


def test_focal_point_opens_on_their_country_and_history_stands_apart(
    app: Flask, as_user: Any, tour_id: str
) -> None:
    """A focal point's dashboard opens on their own country (every country one click away);
    commitments recorded from the documents, years past due, are not counted as overdue."""
    sec = as_user("secretariat")
    _advance(sec, tour_id, "proposed", "agreed", "scheduled")
    _record(sec, tour_id, "GTM", "Adopt the hazardous-work list", "2026-06")
    _record(sec, tour_id, "BRA", "Send the inspection manual", "2026-06")
    with Session(app.extensions["sscmatch.engine"]) as s:
        s.add(
            Commitment(
                id="K-doc",
                owner_country="GTM",
                description="Old promise from 2011",
                due="2012",
                exchange="E-1",
            )
        )
        s.commit()
    gtm = as_user("focal_gtm").get("/followup").get_data(as_text=True)
    assert "Adopt the hazardous-work list" in gtm and "Send the inspection manual" not in gtm
    assert "your country" in gtm and 'href="/followup?country=all"' in gtm
    everyone = as_user("focal_gtm").get("/followup?country=all").get_data(as_text=True)
    assert "Send the inspection manual" in everyone
    analyst = as_user("analyst").get("/followup").get_data(as_text=True)
    assert "Send the inspection manual" in analyst and "your country" not in analyst
    overdue = analyst[analyst.index('id="overdue"') : analyst.index('id="due-soon"')]
    historical = analyst[analyst.index('id="historical"') : analyst.index('id="by-country"')]
    assert "Adopt the hazardous-work list" in overdue and "Old promise" not in overdue
    assert "Old promise from 2011" in historical and "1 past its due date" in historical
    assert "2 overdue" not in analyst  # the headline counts live commitments only
    spanish = as_user("focal_gtm")
    spanish.post("/language", data={"lang": "es", "next": "/"})
    page = spanish.get("/followup").get_data(as_text=True)
    assert "su país" in page and "Según los documentos" in page


def test_due_date_before_the_exchange_is_refused(as_user: Any, tour_id: str) -> None:
    sec = as_user("secretariat")
    _advance(sec, tour_id, "proposed", "agreed", "scheduled")
    early = sec.post(
        f"/tours/{tour_id}/commitments",
        data={"owner_country": "GTM", "description": "x", "due": "2025-12", "status": "pending"},
    )
    assert early.status_code == 400 and "before the exchange" in early.get_data(as_text=True)
    _record(sec, tour_id, "GTM", "Train 40 inspectors", "2026-09")
    url = f"/followup/commitments/{tour_id}-k01"
    moved = sec.post(url, data={"version": "1", "status": "pending", "due": "2020"})
    assert moved.status_code == 400 and "before the exchange" in moved.get_data(as_text=True)


def test_commitment_page_updates_with_history(app: Flask, as_user: Any, tour_id: str) -> None:
    sec = as_user("secretariat")
    _advance(sec, tour_id, "proposed", "agreed", "scheduled")
    _record(sec, tour_id, "GTM", "Train 40 inspectors", "2026-09")
    kid = f"{tour_id}-k01"
    url = f"/followup/commitments/{kid}"
    assert b"Train 40 inspectors" in as_user("analyst").get(url).data
    bra = as_user("focal_bra")
    assert b'name="evidence"' not in bra.get(url).data
    assert (
        bra.post(url, data={"version": "1", "status": "fulfilled", "evidence": "x"}).status_code
        == 403
    )
    gtm = as_user("focal_gtm")
    missing = gtm.post(url, data={"version": "1", "status": "fulfilled", "evidence": ""})
    assert missing.status_code == 400 and b"needs evidence" in missing.data
    ok = gtm.post(
        url,
        data={
            "version": "1",
            "status": "fulfilled",
            "evidence": "https://example.org/roster",
            "note": "all trained",
            "confirmed": "y",  # a focal point's decision is confirmed first
        },
    )
    assert ok.status_code == 302
    stale = gtm.post(url, data={"version": "1", "status": "in_progress", "note": "x"})
    assert stale.status_code == 409
    page = gtm.get(url).data.decode()
    assert 'href="https://example.org/roster"' in page and "all trained" in page
    with Session(app.extensions["sscmatch.engine"]) as s:
        rows = s.exec(select(CommitmentUpdate).where(CommitmentUpdate.commitment == kid)).all()
        assert [r.status for r in rows] == ["pending", "fulfilled"]
    assert as_user("analyst").get("/followup/commitments/none").status_code == 404


def test_the_story_of_issue_6(
    app: Flask, as_user: Any, runner: Any, tour_id: str, tmp_path: Path
) -> None:
    """An accepted proposal becomes a tour with agenda, dates, cost and funders; it is completed
    with three commitments; one is fulfilled with evidence, one goes overdue and shows in the
    dashboard and in the reminder digest; the tour appears as an exchange and changes the
    provider's follow-through in the next match."""
    engine = app.extensions["sscmatch.engine"]
    with Session(engine) as s:
        before = next(
            p for p in compute(s, load_vocabulary(), need_ids=["N-1"]) if p.provider == "BRA"
        ).components["follow_through"]
    sec = as_user("secretariat")
    page = sec.get(f"/tours/{tour_id}").data.decode()
    for part in ("Agenda", "March 2, 2026", "Cost estimate", "Brazilian Cooperation Agency (ABC)"):
        assert part in page
    _advance(sec, tour_id, "proposed", "agreed", "scheduled")
    _record(sec, tour_id, "BRA", "Share the inspection manual", "2026-05")
    _record(sec, tour_id, "GTM", "Adopt a protocol", "2026-06-30")
    _record(sec, tour_id, "BRA", "Host a follow-up mission", "2026-12")
    _advance(sec, tour_id, "completed", start=4)
    k1, k2, k3 = (f"{tour_id}-k0{i}" for i in (1, 2, 3))
    r = as_user("focal_bra").post(
        f"/followup/commitments/{k1}",
        data={
            "version": "1",
            "status": "fulfilled",
            "evidence": "https://example.org/manual",
            "confirmed": "y",  # a focal point's decision is confirmed first
        },
    )
    assert r.status_code == 302
    r = sec.post(
        f"/followup/commitments/{k3}",
        data={"version": "1", "status": "dropped", "note": "no funding"},
    )
    assert r.status_code == 302
    dash = as_user("focal_gtm").get("/followup").data.decode()
    overdue_part = dash[dash.index('id="overdue"') : dash.index('id="due-soon"')]
    assert k2 in overdue_part and k1 not in overdue_part
    out = tmp_path / "digests"
    result = runner.invoke(args=["remind", "--today", "2026-07-15", "--out", str(out)])
    assert result.exit_code == 0, result.output
    digest = (out / "2026-07-15_gtm@test.org.txt").read_text()
    # Guatemala's focal point chose no language: the digest is in Guatemala's, Spanish
    assert "Adopt a protocol" in digest and "VENCIDOS (1)" in digest
    with Session(engine) as s:
        ex = s.exec(select(Exchange).where(Exchange.study_tour == tour_id)).one()
        assert ex.providers == ["BRA"] and ex.recipients == ["GTM"] and "bra-abc" in ex.partners
        assert s.get(Commitment, k2).exchange == ex.id  # type: ignore[union-attr]
        assert s.get(StudyTour, tour_id).status == "completed"  # type: ignore[union-attr]
        after = next(
            p for p in compute(s, load_vocabulary(), need_ids=["N-1"]) if p.provider == "BRA"
        ).components["follow_through"]
    assert before == pytest.approx(2 / 3) and after == pytest.approx(3 / 5)


def test_a_documents_citation_is_its_source_not_its_evidence(
    app: Flask, as_user: Any, users: dict[str, int]
) -> None:
    """A commitment recorded from the documents came with its evidence field filled with the
    citation of where it was found ("000_9148a8ca8a7c6ecc.txt:90-92"), and choosing "fulfilled"
    then gave a puzzling refusal (the audit). The citation is shown as where it was recorded;
    the evidence field starts empty, and an update that leaves it empty keeps the citation."""
    citation = "000_9148a8ca8a7c6ecc.txt:90-92,142"
    engine = app.extensions["sscmatch.engine"]
    with Session(engine) as s:
        make_world(s)
        s.add(
            Commitment(
                id="doc-k7", owner_country="GTM", description="Roadmap", status="pending",
                evidence=citation, due="2015",
            )
        )  # fmt: skip
        s.commit()
    gtm = as_user("focal_gtm")
    page = gtm.get("/followup/commitments/doc-k7").get_data(as_text=True)
    assert f'<dd translate="no">{citation}</dd>' in page  # as where it was recorded
    field = page.split('name="evidence"', 1)[1].split("</textarea>", 1)[0]
    assert citation not in field  # the evidence field starts empty
    moved = gtm.post(
        "/followup/commitments/doc-k7",
        data={"version": "1", "status": "in_progress", "evidence": "", "due": "2015"},
    )
    assert moved.status_code == 302
    with Session(engine) as s:
        k = s.get(Commitment, "doc-k7")
        assert k is not None and (k.status, k.evidence) == ("in_progress", citation)
