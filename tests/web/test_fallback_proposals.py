"""Fallback proposals (no registered capacity of the provider fits the need; proposed for its
related experience, ``capacity`` NULL) everywhere a proposal shows: the run, the review queue,
the proposal page, "our proposals", the API, the portfolio assignment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, col, select

from sscmatch.bundle.load import import_bundle
from sscmatch.models import Capacity, Exchange, MatchRun, Need
from sscmatch.models import Proposal as StoredProposal
from sscmatch.vocab import load_vocabulary
from sscmatch.workflow import matchruns

ROOT = Path(__file__).resolve().parents[2]
NEED = "N-FB-1"
NOTICE = "No registered capacity of Peru fits this need"


def add_fallback_case(
    session: Session,
    need_id: str = NEED,
    title: str = "Registro de nacimientos en comunidades rurales",
    exchange_id: str = "E-FB-1",
) -> None:
    """A need of Guatemala on birth registration, a theme no capacity of the knowledge base
    addresses, and an exchange on it that Peru provided: Peru is proposed for its experience."""
    session.add(
        Exchange(
            id=exchange_id,
            title="Oficinas móviles del registro civil en zonas rurales",
            description="Perú compartió cómo sus oficinas móviles inscriben los nacimientos en "
            "comunidades alejadas.",
            start="2018-03",
            providers=["PER"],
            recipients=["BOL"],
            themes=["birth-registration"],
        )
    )
    session.add(
        Need(
            id=need_id,
            country="GTM",
            title=title,
            description="Queremos aprender a inscribir a tiempo a niñas y niños que nacen lejos "
            "de una oficina del registro civil.",
            themes=["birth-registration"],
            languages=["es"],
            modalities=["study_tour"],
            status="open",
        )
    )


@pytest.fixture
def world(app: Flask, session: Session, users: dict[str, int]) -> Session:
    import_bundle(session, ROOT / "data", load_vocabulary())
    add_fallback_case(session)
    session.commit()
    return session


def run(as_user: Any) -> int:
    response = as_user("secretariat").post(
        "/matching/runs", data={"scope": "selected", "needs": NEED, "top": 5}
    )
    assert response.status_code == 302
    return int(response.headers["Location"].rsplit("/", 1)[1])


def fallback_of(session: Session, run_id: int) -> StoredProposal:
    session.expire_all()
    found = session.exec(
        select(StoredProposal).where(
            StoredProposal.run_id == run_id, col(StoredProposal.capacity).is_(None)
        )
    ).all()
    assert [p.provider for p in found] == ["PER"]
    return found[0]


def test_the_run_stores_it_and_shows_it(as_user: Any, world: Session) -> None:
    run_id = run(as_user)
    proposal = fallback_of(world, run_id)
    assert proposal.components and proposal.components["basis"] == "experience"
    assert proposal.components["addresses"] is True
    assert proposal.reasons[0] == {"code": "fallback.no_capacity", "params": {"country": "PER"}}
    page = as_user("analyst").get(f"/matching/runs/{run_id}").data.decode()
    assert "Peru · related experience (no registered capacity)" in page
    assert "None" not in page


def test_the_queue_lists_it(as_user: Any, world: Session) -> None:
    run_id = run(as_user)
    proposal = fallback_of(world, run_id)
    page = as_user("secretariat").get(f"/review/queue?run={run_id}").data.decode()
    assert f"/review/proposals/{proposal.id}" in page
    assert "related experience (no registered capacity)" in page


@pytest.mark.one_case_on_postgresql(lang="es")
@pytest.mark.parametrize(
    ("lang", "notice", "english"),
    [
        ("en", NOTICE, None),
        ("es", "Perú: ninguna capacidad registrada responde a esta necesidad", NOTICE),
        ("pt", "Peru: nenhuma capacidade registrada atende a esta necessidade", NOTICE),
        ("fr", "Pérou\u00a0: aucune capacité enregistrée ne répond à ce besoin", NOTICE),
    ],
)
def test_its_page_says_why_in_the_readers_language(
    as_user: Any, world: Session, lang: str, notice: str, english: str | None
) -> None:
    proposal = fallback_of(world, run(as_user))
    for who in ("secretariat", "focal_gtm"):
        client = as_user(who)
        client.post("/language", data={"lang": lang})
        response = client.get(f"/review/proposals/{proposal.id}")
        assert response.status_code == 200
        page = response.data.decode()
        assert notice in page, page
        if english:
            assert english not in page
        assert "registry/capacities/None" not in page and ">None<" not in page


def test_our_proposals_show_it(as_user: Any, world: Session) -> None:
    proposal = fallback_of(world, run(as_user))
    client = as_user("focal_gtm")
    page = client.get("/review/mine").data.decode()
    assert f"/review/proposals/{proposal.id}" in page
    assert "related experience (no registered capacity)" in page


def test_the_api_shape(app: Flask, as_user: Any, world: Session, users: dict[str, int]) -> None:
    from sscmatch.db import session_scope
    from sscmatch.models import User
    from sscmatch.workflow.accounts import issue_api_token

    proposal = fallback_of(world, run(as_user))
    with session_scope(app.extensions["sscmatch.engine"]) as s:
        user = s.get(User, users["secretariat"])
        assert user is not None
        user.language = "es"  # the API answers in its user's language
        token = issue_api_token(s, user)
    headers = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    data = client.get(f"/api/v1/proposals/{proposal.id}", headers=headers).get_json()
    assert (data["capacity"], data["basis"], data["addresses"]) == (None, "experience", True)
    first = data["reasons"][0]
    assert first["code"] == "fallback.no_capacity" and first["params"] == {"country": "PER"}
    assert "Perú" in first["text"] and "proposed" not in first["text"]
    listed = client.get(f"/api/v1/proposals?need={NEED}", headers=headers).get_json()["items"]
    mine = [p for p in listed if p["id"] == proposal.id]
    assert mine and mine[0]["capacity_title"] is None and mine[0]["basis"] == "experience"
    live = client.get(f"/api/v1/needs/{NEED}/matches", headers=headers).get_json()
    peru = [p for p in live["proposals"] if p["provider"] == "PER"]
    assert peru and peru[0]["capacity"] is None and peru[0]["basis"] == "experience"


def test_the_portfolio_assigns_it_without_a_quota(world: Session) -> None:
    """With every capacity proposed for the need out of quota, the fallback offer (no quota) is
    chosen, and read back as Peru's proposal."""
    proposals = matchruns.compute(world, load_vocabulary(), need_ids=[NEED], top_k=5)
    capacity_ids = [p.capacity_id for p in proposals if p.capacity_id]
    for capacity in world.exec(select(Capacity).where(col(Capacity.id).in_(capacity_ids))):
        capacity.max_per_year = 0
    world.flush()
    assignment = matchruns.portfolio(world, proposals)
    assert assignment.chosen == ((NEED, "experience:PER"),)
    (chosen,) = matchruns.chosen_proposals(assignment, proposals)
    assert (chosen.provider, chosen.capacity_id, chosen.basis) == ("PER", None, "experience")
    world.rollback()


def test_match_assign_on_the_command_line(runner: Any, world: Session) -> None:
    proposals = matchruns.compute(world, load_vocabulary(), need_ids=[NEED], top_k=5)
    for p in proposals:
        if p.capacity_id:
            capacity = world.get(Capacity, p.capacity_id)
            assert capacity is not None
            capacity.max_per_year = 0
    world.commit()
    result = runner.invoke(args=["match", "--need", NEED, "--assign", "--json", "--no-save"])
    assert result.exit_code == 0, result.output
    chosen = json.loads(result.output)["assignment"]["chosen"]
    assert chosen == [
        {
            "need": NEED,
            "provider": "PER",
            "capacity": None,
            "basis": "experience",
            "score": chosen[0]["score"],
        }
    ]
    text = runner.invoke(args=["match", "--need", NEED, "--assign", "--no-save"]).output
    assert f"{NEED:<12} ← PER (experience, no capacity)" in text
    assert world.exec(select(MatchRun)).first() is None


def test_accepting_it_drafts_a_tour_without_a_capacity(
    as_user: Any, world: Session, users: dict[str, int]
) -> None:
    """The draft takes the need's title and a neutral programme (the host's experience), the
    host's languages from the country, and no capacity."""
    import warnings

    from sscmatch.models import StudyTour
    from sscmatch.workflow import proposals as wf

    proposal = fallback_of(world, run(as_user))
    assert proposal.id is not None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "NULL primary key" lookup of a capacity
        outcome = wf.accept(
            world,
            proposal.id,
            user_id=users["secretariat"],
            version=proposal.version,
            reason="Peru's civil registry is the reference the need asks for",
            override=True,
        )
    world.commit()
    tour = outcome.tour
    assert isinstance(tour, StudyTour)
    assert (tour.capacity, tour.host_country, tour.visiting_country) == (None, "PER", "GTM")
    assert tour.need == NEED and tour.title == "Registro de nacimientos en comunidades rurales"
    assert tour.agenda and tour.agenda[-1]["sessions"][-1]["kind"] == "closing"
    assert tour.languages and "es" in tour.languages
    page = as_user("secretariat").get(f"/tours/{tour.id}")
    assert page.status_code == 200 and b">None<" not in page.data


def test_the_csv_and_json_exports_say_it(as_user: Any, world: Session) -> None:
    import csv
    import io

    run_id = run(as_user)
    proposal = fallback_of(world, run_id)
    client = as_user("analyst")
    text = client.get(f"/review/export.csv?run={run_id}").data.decode("utf-8-sig")
    rows = {int(r["id"]): r for r in csv.DictReader(io.StringIO(text))}
    row = rows[proposal.id or 0]
    assert (row["basis"], row["capacity"], row["capacity_title"], row["provider"]) == (
        "experience",
        "",
        "",
        "PER",
    )
    assert {r["basis"] for i, r in rows.items() if i != proposal.id} == {"capacity"}
    data = client.get(f"/review/export.json?run={run_id}").get_json()
    found = [r for r in data["proposals"] if r["id"] == proposal.id]
    assert found and found[0]["basis"] == "experience" and found[0]["capacity"] is None
