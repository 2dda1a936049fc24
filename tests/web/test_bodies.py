"""International and regional bodies are actors of their own: a capacity, need or commitment they
hold has no country, shows the body as what it is, and stays out of every country's counts,
profile and matching (issue 15, item 1; data/README.md)."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session

from sscmatch.analytics.profile import countries_activity, country_profile
from sscmatch.bundle import BundleError, export_bundle, import_bundle
from sscmatch.db import session_scope
from sscmatch.models import Commitment, Institution, Need
from sscmatch.vocab import load_vocabulary
from sscmatch.workflow.encode import build_corpus
from sscmatch.workflow.matchruns import open_needs
from sscmatch.workflow.outcomes import dashboard
from sscmatch.workflow.visibility import SYSTEM

BODY = "Regional platform of the Andes"

TABLES = {
    "institutions": [
        ["id", "name", "country", "constituency", "international", "members", "source"],
        ["rp", BODY, "PER", "other", "true", "PER;BOL;ECU", "doc.txt:1"],
        ["per-min", "Ministry of Labour (Peru)", "PER", "government", "false", "", "doc.txt:2"],
    ],
    "needs": [
        ["id", "country", "institution", "title", "themes", "status", "source"],
        [
            "b-n1",
            "",
            "rp",
            "Funding for the platform's secretariat",
            "financing-budgets",
            "open",
            "",
        ],
        [
            "p-n1",
            "PER",
            "per-min",
            "Labour inspectors for mining areas",
            "labour-inspection",
            "open",
            "",
        ],
    ],
    "capacities": [
        ["id", "country", "institution", "title", "themes", "status", "source"],
        [
            "b-c1",
            "",
            "rp",
            "Peer reviews of national action plans",
            "national-action-plans",
            "published",
            "",
        ],
    ],
    "commitments": [
        ["id", "owner_country", "owner_institution", "description", "due", "status"],
        ["b-k1", "", "rp", "Publish the platform's first progress report", "2020", "pending"],
    ],
}


def write_bundle(folder: Path, tables: dict[str, list[list[str]]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for table, rows in tables.items():
        with (folder / f"{table}.csv").open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows(rows)
    return folder


@pytest.fixture
def bodies(app: Flask, tmp_path: Path) -> None:
    with session_scope(app.extensions["sscmatch.engine"]) as s:
        import_bundle(s, write_bundle(tmp_path / "b", TABLES), load_vocabulary())


def test_import_keeps_the_body_as_holder_and_its_members(session: Session, bodies: None) -> None:
    need = session.get(Need, "b-n1")
    assert need is not None and need.country is None and need.institution == "rp"
    body = session.get(Institution, "rp")
    assert body is not None and body.members == ["PER", "BOL", "ECU"]
    assert session.get(Commitment, "b-k1").owner_country is None  # type: ignore[union-attr]


def test_export_and_import_again_give_the_same_bundle(
    session: Session, bodies: None, tmp_path: Path
) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    export_bundle(session, first)
    import_bundle(session, first, load_vocabulary())
    export_bundle(session, second)
    for table in ("institutions", "needs", "capacities", "commitments"):
        assert (first / f"{table}.csv").read_text() == (second / f"{table}.csv").read_text()
    assert ",,rp," in (first / "needs.csv").read_text()


def test_only_a_body_may_hold_a_record_without_a_country(session: Session, tmp_path: Path) -> None:
    tables = {
        "institutions": TABLES["institutions"],
        "needs": [
            TABLES["needs"][0],
            [
                "x-n1",
                "",
                "per-min",
                "A national ministry without its country",
                "education",
                "open",
                "",
            ],
            ["x-n2", "", "", "Nobody holds this one", "education", "open", ""],
        ],
    }
    with pytest.raises(BundleError) as info:
        import_bundle(session, write_bundle(tmp_path / "bad", tables), load_vocabulary())
    problems = [str(p) for p in info.value.problems]
    assert len(problems) == 2, problems
    assert "needs.csv:2: country: required field is empty" in problems[0]
    assert "'per-min' is not one" in problems[0]
    assert problems[1].startswith("needs.csv:3: ") and "country is required" in problems[1]
    assert session.get(Need, "x-n1") is None  # nothing written


def test_bodies_stay_out_of_country_counts_profiles_and_matching(
    session: Session, bodies: None
) -> None:
    vocab = load_vocabulary()
    activity = {a.code: a for a in countries_activity(session, vocab, viewer=SYSTEM)}
    assert set(activity) == {"PER"} and activity["PER"].needs == 1  # its own, not the body's
    assert [
        n.id for n in country_profile(session, vocab, "PER", date(2026, 12, 6), viewer=SYSTEM).needs
    ] == ["p-n1"]
    assert open_needs(session) == ["p-n1"]
    corpus = build_corpus(session, vocab)
    assert [n.id for n in corpus.needs] == ["p-n1"] and corpus.capacities == []
    assert corpus.commitments == []
    board = dashboard(session, today=date(2021, 1, 1))
    # a body's commitment recorded from the documents: past due, counted apart from live ones
    assert [k.id for k in board.historical_overdue] == ["b-k1"] and board.by_country == {}
    assert board.overdue == []


@pytest.mark.parametrize("who", ["secretariat", "analyst", "focal_gtm"])
def test_pages_show_the_body_as_what_it_is(as_user: Any, bodies: None, who: str) -> None:
    client = as_user(who)
    for url in ("/needs/b-n1", "/capacities/b-c1", "/needs", "/capacities"):
        html = client.get(url).get_data(as_text=True)
        assert BODY in html and "international body" in html, url
    need_page = client.get("/needs/b-n1").get_data(as_text=True)
    assert "/countries/PER" not in need_page  # the seat does not stand in for the body
    if who != "focal_gtm":  # the follow-up pages are the secretariat's and analysts'
        for url in ("/followup", "/followup/commitments/b-k1"):
            html = client.get(url).get_data(as_text=True)
            assert BODY in html, url


def test_the_secretariat_edits_a_body_record_without_giving_it_a_country(
    as_user: Any, bodies: None, session: Session
) -> None:
    client = as_user("secretariat")
    form = client.get("/needs/b-n1/edit").get_data(as_text=True)
    assert 'value="rp"' in form  # the body is offered as the holder
    response = client.post(
        "/needs/b-n1/edit",
        data={
            "country": "",
            "institution": "rp",
            "title": "Funding for the platform's secretariat (2020-2021)",
            "themes": ["financing-budgets"],
            "languages": "es",
            "priority": "medium",
            "status": "open",
            "version": "1",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    session.expire_all()
    need = session.get(Need, "b-n1")
    assert need is not None and need.country is None and need.title.endswith("(2020-2021)")


def test_a_profile_explains_body_records_only_where_a_seat_still_stands_in(
    app: Flask, as_user: Any, bodies: None, tmp_path: Path
) -> None:
    """A bundle made before bodies had records of their own may still file one under the seat:
    the profile then says what the badge means; with the bodies' records as they are, it does not."""
    hint = "Records marked"
    client = as_user("analyst")
    assert hint not in client.get("/countries/PER").get_data(as_text=True)
    legacy = {
        "needs": [
            ["id", "country", "institution", "title", "themes", "status"],
            ["old-n1", "PER", "rp", "A need filed under the seat", "financing-budgets", "open"],
        ]
    }
    with session_scope(app.extensions["sscmatch.engine"]) as s:
        import_bundle(s, write_bundle(tmp_path / "legacy", legacy), load_vocabulary())
    html = client.get("/countries/PER").get_data(as_text=True)
    assert hint in html and "A need filed under the seat" in html
