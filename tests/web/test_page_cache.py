"""Network and country pages keep their rendered body by data version: what is kept must never
show stale data, another language, another day's overdue status or another user's menu."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, select

from sscmatch.bundle import import_bundle
from sscmatch.models import Capacity, Commitment
from sscmatch.vocab import load_vocabulary

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def kb(app: Flask) -> None:
    with Session(app.extensions["sscmatch.engine"]) as s:
        import_bundle(s, ROOT / "data", load_vocabulary())
        s.commit()


CSRF_TOKEN = re.compile(r'name="csrf_token" value="[^"]*"')


def page(client: Any, url: str) -> str:
    """The page's HTML with its CSRF tokens blanked: a token carries the second it was signed
    in, so two renderings a second apart differ there whatever the cache did."""
    response = client.get(url)
    assert response.status_code == 200, url
    return CSRF_TOKEN.sub('name="csrf_token" value=""', str(response.get_data(as_text=True)))


def add_pending_commitment(
    session: Session, commitment_id: str, country: str, description: str, *, due: str
) -> None:
    session.add(
        Commitment(
            id=commitment_id,
            owner_country=country,
            description=description,
            due=due,
            status="pending",
        )
    )
    session.commit()


def test_a_second_visit_is_served_from_the_kept_body(
    as_user: Any, kb: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading pages writes nothing (on PostgreSQL a request that wrote would skip the cache)."""
    import sscmatch.web.network as network

    built: list[str] = []
    real = network.node_records

    def counting(*args: Any, **kwargs: Any) -> Any:
        built.append("view")
        return real(*args, **kwargs)

    monkeypatch.setattr(network, "node_records", counting)
    client = as_user("analyst")
    first = page(client, "/network")
    assert page(as_user("focal_gtm"), "/network") != first  # another menu around it…
    assert len(built) == 1  # …and the same body, built once


def test_a_new_record_shows_at_once(as_user: Any, kb: None, session: Session) -> None:
    client = as_user("analyst")
    before = page(client, "/countries/BRA")
    assert "Cache-proof capacity" not in before
    assert page(client, "/countries/BRA") == before  # kept: the same body again
    session.add(
        Capacity(
            id="cache-proof",
            country="BRA",
            title="Cache-proof capacity",
            description="Shows at once.",
            themes=["labour-inspection"],
            status="published",
        )
    )
    session.commit()
    assert "Cache-proof capacity" in page(client, "/countries/BRA")


def test_an_edit_shows_at_once(as_user: Any, kb: None, session: Session) -> None:
    client = as_user("analyst")
    page(client, "/countries/BRA")
    capacity = session.exec(select(Capacity).where(Capacity.country == "BRA")).first()
    assert capacity is not None
    old_title = capacity.title
    assert old_title in page(client, f"/countries/{capacity.country}")
    # An edit that leaves the clock where it was still shows: the version moves.
    capacity.title = "Retitled without a new timestamp"
    capacity.version += 1
    session.add(capacity)
    session.commit()
    html = page(client, f"/countries/{capacity.country}")
    assert "Retitled without a new timestamp" in html and old_title not in html


def test_each_language_has_its_own_body(as_user: Any, kb: None) -> None:
    client = as_user("analyst")
    assert "Cooperation network" in page(client, "/network")
    client.post("/language", data={"lang": "es", "next": "/network"})
    spanish = page(client, "/network")
    assert "Red de cooperación" in spanish and "<h1>Cooperation network</h1>" not in spanish


def test_the_menu_is_each_users_own(as_user: Any, kb: None) -> None:
    assert 'href="/admin/users"' in page(as_user("admin"), "/network")
    focal = page(as_user("focal_gtm"), "/network")  # the body is kept from the admin's visit
    assert 'href="/admin/users"' not in focal
    assert "Cooperation network" in focal


def test_overdue_follows_the_day(as_user: Any, app: Flask, kb: None, session: Session) -> None:
    """The kept page is keyed by the day the service works on (TODAY when pinned, config.today),
    so a commitment turns overdue the day after its period ends."""
    add_pending_commitment(session, "cache-due", "BRA", "Report on the pilot", due="2030-01")
    client = as_user("analyst")

    def on(day: dt.date) -> str:
        app.config["TODAY"] = day.isoformat()
        html = page(client, "/countries/BRA")
        return html[html.index("Report on the pilot") :][:400]

    assert "overdue" not in on(dt.date(2030, 1, 31))
    assert "overdue" in on(dt.date(2030, 2, 1))


def test_filters_are_part_of_the_key(as_user: Any, kb: None) -> None:
    client = as_user("analyst")
    everything = page(client, "/network/charts")
    education = page(client, "/network/charts?theme=education-skills")
    assert everything != education
    assert page(client, "/network/charts") == everything


def test_dashboard_follows_a_commitment_update(as_user: Any, kb: None, session: Session) -> None:
    add_pending_commitment(session, "cache-dash", "GTM", "Draft the inspection plan", due="2001-01")
    client = as_user("focal_gtm")
    before = page(client, "/followup")
    # recorded without a study tour: past due, listed with those recorded from the documents
    section = ('id="historical"', 'id="by-country"')
    assert "cache-dash" in before[before.index(section[0]) : before.index(section[1])]
    form = page(client, "/followup/commitments/cache-dash")
    assert 'name="version"' in form
    answer = client.post(
        "/followup/commitments/cache-dash",
        data={
            "status": "fulfilled",
            "evidence": "https://example.org/plan",
            "version": "1",
            "confirmed": "y",  # a focal point's decision is confirmed first
        },
    )
    assert answer.status_code in (200, 302)
    after = page(client, "/followup")
    assert "cache-dash" not in after[after.index(section[0]) : after.index(section[1])]


def test_countries_list_is_kept_per_visibility_scope(
    as_user: Any, kb: None, session: Session
) -> None:
    """The list of countries counts the drafts its reader may see: a focal point of Brazil, one
    of Guatemala and the staff each get their own body, and a committed draft shows at once."""

    def brazil_capacities(role: str) -> str:
        html = page(as_user(role), "/countries")
        row = html.split('href="/countries/BRA"', 1)[1].split("</tr>", 1)[0]
        return re.findall(r'<td\b[^>]*\bclass="n"[^>]*>(\d+)</td>', row)[0]

    before = {role: brazil_capacities(role) for role in ("analyst", "focal_bra", "focal_gtm")}
    session.add(Capacity(id="bra-draft", country="BRA", title="A draft", status="draft"))
    session.commit()
    after = {role: brazil_capacities(role) for role in ("focal_gtm", "analyst", "focal_bra")}
    assert after["focal_gtm"] == before["focal_gtm"]  # not theirs to see
    assert int(after["analyst"]) == int(before["analyst"]) + 1
    assert int(after["focal_bra"]) == int(before["focal_bra"]) + 1
