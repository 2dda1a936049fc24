"""Registry pages: browse, filters, search, paging, record pages, forms, endorsement."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from markupsafe import escape
from sqlmodel import Session, select

from sscmatch.bundle.load import import_bundle
from sscmatch.db import session_scope
from sscmatch.models import AuditEvent, Capacity, Exchange, Need
from sscmatch.vocab import load_vocabulary
from tests.conftest import audit_trail, make_test_app

ROOT = Path(__file__).resolve().parents[2]
YEAR = date.today().year


@pytest.fixture
def kb(app: Flask) -> None:
    with session_scope(app.extensions["sscmatch.engine"]) as s:
        import_bundle(s, ROOT / "data", load_vocabulary())


def text(response: Any) -> str:
    return str(response.get_data(as_text=True))


def record_ids(html: str, kind: str) -> list[str]:
    return [i for i in re.findall(rf'href="/{kind}/([^"/?]+)"', html) if i != "new"]


CAPACITY_FORM = {
    "title": "Mobile inspection units for coffee farms",
    "description": "Teams of inspectors visit farms during the harvest.",
    "themes": ["labour-inspection", "agriculture"],
    "languages": "es; English",
    "modalities": ["study_tour", "training"],
    "maturity": "operational",
    "available_from": "2026-01",
    "available_to": "2027",
    "max_per_year": "3",
    "status": "published",
}

NEED_FORM = {
    "title": "Monitoring child labour in the coffee harvest",
    "description": "A monitoring system for the harvest months.",
    "themes": ["child-labour-monitoring"],
    "languages": "español",
    "priority": "high",
    "desired_from": "2026-06",
}


# --------------------------------------------------------------------------- browse


def test_lists_need_sign_in(client: Any) -> None:
    for url in ("/capacities", "/needs", "/exchanges", "/themes/suggest?q=x"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("who", ["focal_gtm", "secretariat", "analyst", "admin"])
def test_every_role_reads(as_user: Any, kb: None, who: str) -> None:
    client = as_user(who)
    for url, kind in (
        ("/capacities", "capacities"),
        ("/needs", "needs"),
        ("/exchanges", "exchanges"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        ids = record_ids(text(response), kind)
        assert ids, url
        assert client.get(f"/{kind}/{ids[0]}").status_code == 200


def test_an_exchange_page_says_how_its_dates_were_read_beside_them(
    as_user: Any, kb: None, app: Flask
) -> None:
    """Every exchange with a ``date_note`` shows it as a small line under its dates, and its
    description (what the exchange was) does not carry it; one without shows no such line."""
    client = as_user("analyst")
    with Session(app.extensions["sscmatch.engine"]) as s:
        exchanges = s.exec(select(Exchange)).all()
    noted = [e for e in exchanges if e.date_note]
    assert len(noted) >= 19
    for record in exchanges:
        html = text(client.get(f"/exchanges/{record.id}"))
        when = re.search(r"<dt>When</dt><dd>(.*?)</dd>", html, re.S)
        line = re.findall(r'<p class="meta date-note">(.*?)</p>', html, re.S)
        if not record.date_note:
            assert not line, record.id
            continue
        assert when and line == [str(escape(record.date_note))], record.id
        assert line[0] in when[1], record.id
        assert record.date_note not in (record.description or ""), record.id


def test_filters_theme_country_region_year(as_user: Any, kb: None, app: Flask) -> None:
    client = as_user("analyst")
    html = text(client.get("/capacities?country=BRA&per_page=1000"))
    with Session(app.extensions["sscmatch.engine"]) as s:
        bra = s.exec(select(Capacity).where(Capacity.country == "BRA")).all()
        assert f"{len(bra)} capacities found" in html
    # a parent theme lists needs whose themes are only its children
    html = text(client.get("/needs?theme=knowledge-data"))
    ids = record_ids(html, "needs")
    assert ids
    with Session(app.extensions["sscmatch.engine"]) as s:
        family = {"knowledge-data", *load_vocabulary().children("knowledge-data")}
        for need_id in ids:
            need = s.get(Need, need_id)
            assert need is not None and family & set(need.themes)
    html = text(client.get("/needs?region=Africa"))
    assert "needs found" in html and "0 needs found" not in html
    html = text(client.get("/exchanges?year=2008"))
    assert re.search(r"[1-9]\d* exchanges found", html)
    response = client.get("/needs?year=abc")
    assert response.status_code == 400 and "Year must be four digits" in text(response)
    assert client.get("/needs?page=zero").status_code == 400
    assert client.get("/needs?theme=nope").status_code == 400


def test_filter_bar_shows_each_address_its_own_filter(as_user: Any, app: Flask) -> None:
    """The filter form (kept per language, mount point, list and filter) shows what each
    address asked for, escaped, in the reader's language, whoever asked first."""
    client = as_user("analyst")
    for path in ("/needs", "/capacities", "/exchanges"):
        for country, q in (("BRA", "water"), ("MEX", '<b>"x"'), ("BRA", "water")):
            html = text(client.get(f"{path}?country={country}&q={q}"))
            assert f'<option value="{country}" selected>' in html
            form = html.split("registry-filters", 1)[1].split("</form>", 1)[0]
            assert form.count(" selected>") == 1  # nothing else chosen
            assert "<b>" not in html.split('id="f-q"', 1)[1].split(">", 1)[0]
        assert 'value="water"' in text(client.get(f"{path}?q=water"))
        assert 'value="water"' not in text(client.get(path))
    spanish = as_user("focal_gtm")
    spanish.post("/language", data={"lang": "es", "next": "/"})
    assert "Cualquier tema" in text(spanish.get("/needs?country=BRA"))
    assert "Any theme" in text(client.get("/needs?country=BRA"))


def test_paging(as_user: Any, kb: None, app: Flask) -> None:
    app.config["PAGE_SIZE"] = 10
    client = as_user("analyst")
    first = text(client.get("/needs?sort=title"))
    second = text(client.get("/needs?sort=title&page=2"))
    a, b = record_ids(first, "needs"), record_ids(second, "needs")
    assert len(a) == 10 and len(b) == 10 and not set(a) & set(b)
    assert "Page 1 of" in first and 'rel="next"' in first
    assert 'rel="prev"' in second


def test_search_in_spanish_and_portuguese(as_user: Any, kb: None, app: Flask) -> None:
    client = as_user("focal_gtm")
    vocab = load_vocabulary()
    family = {"labour-inspection", *vocab.children("labour-inspection")}
    for query in ("inspección laboral", "inspeção do trabalho"):
        html = text(client.get("/capacities", query_string={"q": query}))
        ids = record_ids(html, "capacities")
        assert ids, query
        with Session(app.extensions["sscmatch.engine"]) as s:
            themed = [i for i in ids if family & set(s.get(Capacity, i).themes)]  # type: ignore[union-attr]
        assert themed, query
    html = text(client.get("/capacities?q=bolsa+escolla"))
    assert "Bolsa Escola" in html
    assert "0 capacities found" in text(client.get("/capacities?q=zzqxv+wplkj"))


def test_names_in_the_interface_language(as_user: Any, kb: None) -> None:
    client = as_user("analyst")
    client.post("/language", data={"lang": "es", "next": "/"})
    html = text(client.get("/capacities?country=BRA"))
    assert "Brasil" in html
    label_es = load_vocabulary().themes["labour-inspection"].label("es")
    assert label_es in text(client.get("/capacities?theme=labour-inspection"))


def test_theme_suggestions(as_user: Any) -> None:
    client = as_user("focal_gtm")
    client.post("/language", data={"lang": "es", "next": "/"})
    items = client.get("/themes/suggest?q=inspection").get_json()["items"]
    assert items[0]["id"] == "labour-inspection"
    assert items[0]["label"] == load_vocabulary().themes["labour-inspection"].label("es")
    assert client.get("/themes/suggest?q=").get_json() == {"items": []}


# --------------------------------------------------------------------------- forms


def test_focal_point_registers_a_capacity(as_user: Any, app: Flask) -> None:
    client = as_user("focal_gtm")
    form = client.get("/capacities/new")
    assert form.status_code == 200 and "data-theme-picker" in text(form)
    assert "theme-picker.js" in text(form)
    response = client.post("/capacities/new", data=CAPACITY_FORM)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/capacities/C-{YEAR}-0001"
    with Session(app.extensions["sscmatch.engine"]) as s:
        record = s.get(Capacity, f"C-{YEAR}-0001")
        assert record is not None
        assert (record.country, record.languages, record.max_per_year) == ("GTM", ["es", "en"], 3)
        assert record.themes == ["labour-inspection", "agriculture"]
        event = s.exec(select(AuditEvent).where(AuditEvent.entity_id == record.id)).one()
        assert event.action == "create" and event.after["title"] == CAPACITY_FORM["title"]
    page = text(client.get(f"/capacities/C-{YEAR}-0001"))
    assert CAPACITY_FORM["title"] in page and "History" in page


def test_failed_submit_keeps_values_and_names_fields(as_user: Any, app: Flask) -> None:
    client = as_user("focal_gtm")
    bad = {**CAPACITY_FORM, "themes": [], "available_from": "2026-14", "languages": "qqxyzz"}
    response = client.post("/capacities/new", data=bad)
    html = text(response)
    assert response.status_code == 400
    assert "nothing was saved" in html
    assert "choose at least one theme" in html
    assert "qqxyzz" in html and "unknown language" in html
    assert "2026-14" in html  # the typed value is still in the field
    assert CAPACITY_FORM["description"] in html
    with Session(app.extensions["sscmatch.engine"]) as s:
        assert s.exec(select(Capacity)).all() == []


def test_other_countrys_record_is_refused(as_user: Any) -> None:
    bra = as_user("focal_bra")
    assert bra.post("/needs/new", data=NEED_FORM).status_code == 302
    gtm = as_user("focal_gtm")
    need_id = f"N-{YEAR}-0001"
    bra.post(f"/needs/{need_id}/submit", data={"version": "1"})
    response = gtm.get(f"/needs/{need_id}/edit")
    assert response.status_code == 403 and "your own country" in text(response)
    response = gtm.post(f"/needs/{need_id}/edit", data={**NEED_FORM, "version": "2"})
    assert response.status_code == 403
    # a focal point cannot register for another country either (country is not theirs to pick)
    gtm.post("/needs/new", data={**NEED_FORM, "country": "BRA"})
    # the secretariat may edit it
    sec = as_user("secretariat")
    response = sec.post(
        f"/needs/{need_id}/edit", data={**NEED_FORM, "country": "BRA", "version": "2"}
    )
    assert response.status_code == 302


def test_stale_edit_gets_a_conflict_and_keeps_values(as_user: Any, app: Flask) -> None:
    client = as_user("focal_gtm")
    client.post("/capacities/new", data=CAPACITY_FORM)
    cid = f"C-{YEAR}-0001"
    edit = text(client.get(f"/capacities/{cid}/edit"))
    assert 'name="version" type="hidden" value="1"' in edit or 'value="1"' in edit
    first = client.post(
        f"/capacities/{cid}/edit", data={**CAPACITY_FORM, "title": "First", "version": "1"}
    )
    assert first.status_code == 302
    late = client.post(
        f"/capacities/{cid}/edit", data={**CAPACITY_FORM, "title": "Late edit", "version": "1"}
    )
    html = text(late)
    assert late.status_code == 409
    # the first save was this focal point's own: said so, not as someone else's
    assert "yourself meanwhile" in html and "Late edit" in html
    with Session(app.extensions["sscmatch.engine"]) as s:
        record = s.get(Capacity, cid)
        assert record is not None and record.title == "First" and record.version == 2
        events = audit_trail(s, AuditEvent.entity_id == cid)
        assert [e.action for e in events] == ["create", "update"]
        assert events[1].before["title"] == CAPACITY_FORM["title"]
        assert events[1].after["title"] == "First"


def test_analyst_cannot_open_forms(as_user: Any) -> None:
    client = as_user("analyst")
    assert client.get("/capacities/new").status_code == 403
    assert client.get("/needs/new").status_code == 403


def test_drafts_of_other_countries_are_not_shown(as_user: Any) -> None:
    gtm = as_user("focal_gtm")
    gtm.post("/needs/new", data=NEED_FORM)
    need_id = f"N-{YEAR}-0001"
    bra = as_user("focal_bra")
    assert need_id not in text(bra.get("/needs"))
    assert bra.get(f"/needs/{need_id}").status_code == 403
    assert need_id in text(as_user("analyst").get("/needs"))


# --------------------------------------------------------------------------- endorsement


def test_endorsement_flow(as_user: Any, app: Flask) -> None:
    gtm = as_user("focal_gtm")
    assert gtm.post("/needs/new", data={**NEED_FORM, "status": "open"}).status_code == 302
    need_id = f"N-{YEAR}-0001"
    page = text(gtm.get(f"/needs/{need_id}"))
    assert "Submit for endorsement" in page
    assert gtm.post(f"/needs/{need_id}/endorse").status_code == 403
    assert gtm.post(f"/needs/{need_id}/submit", data={"version": "1"}).status_code == 302

    sec = as_user("secretariat")
    queue = text(sec.get("/needs?queue=submitted"))
    assert need_id in record_ids(queue, "needs")
    assert "1 need awaits your endorsement" in text(sec.get("/needs"))  # one need, singular
    # returning needs a note
    response = sec.post(f"/needs/{need_id}/return", data={"note": " ", "version": "2"})
    assert response.status_code == 400 and "a note is required" in text(response)
    response = sec.post(
        f"/needs/{need_id}/return", data={"note": "Say which departments.", "version": "2"}
    )
    assert response.status_code == 302
    page = text(gtm.get(f"/needs/{need_id}"))
    assert "Say which departments." in page and "Returned by the technical secretariat" in page

    gtm.post(f"/needs/{need_id}/submit", data={"version": "3"})
    # a stale endorsement is refused
    assert sec.post(f"/needs/{need_id}/endorse", data={"version": "3"}).status_code == 409
    assert sec.post(f"/needs/{need_id}/endorse", data={"version": "4"}).status_code == 302
    with Session(app.extensions["sscmatch.engine"]) as s:
        need = s.get(Need, need_id)
        assert need is not None and need.status == "open"
        actions = [
            e.action
            for e in s.exec(
                select(AuditEvent).where(AuditEvent.entity_id == need_id).order_by(AuditEvent.id)  # type: ignore[arg-type]
            )
        ]
    assert actions == ["create", "submit", "return", "submit", "endorse"]
    assert sec.post(f"/needs/{need_id}/endorse", data={"version": "5"}).status_code == 409


def test_csrf_is_required_on_forms(database_url: str, tmp_path: Path, users: Any) -> None:
    strict = make_test_app(database_url, tmp_path / "csrf", WTF_CSRF_ENABLED=True)
    client = strict.test_client()
    login = client.get("/login")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', text(login))
    assert token
    client.post(
        "/login",
        data={"email": "gtm@test.org", "password": "correct-horse-battery", "csrf_token": token[1]},
    )
    response = client.post("/capacities/new", data=CAPACITY_FORM)
    assert response.status_code == 400
    strict.extensions["sscmatch.engine"].dispose()


def test_fast_select_writes_what_wtforms_writes() -> None:
    from wtforms import Form, SelectField, SelectMultipleField, widgets
    from wtforms.fields.choices import SelectChoice

    from sscmatch.web.widgets import FastSelect

    pairs = [("", "Choose"), ("GTM", "Guatemala"), ('a"<b', "x & y"), ("e", ""), ("GTM", "dup")]
    objects = [SelectChoice(v, label or None) for v, label in pairs]
    kinds = [*objects[:-1], SelectChoice("x", "with attribute", render_kw={"disabled": True})]

    class Fast(Form):
        one = SelectField(widget=FastSelect())
        many = SelectMultipleField(widget=FastSelect(multiple=True))
        number = SelectField(coerce=int, widget=FastSelect())

    class Plain(Form):
        one = SelectField()
        many = SelectMultipleField(widget=widgets.Select(multiple=True))
        number = SelectField(coerce=int)

    def render(form_class: type[Form], choices: list[Any], one: Any, many: Any) -> list[str]:
        form = form_class(data={"one": one, "many": many, "number": 1})
        for name in ("one", "many"):
            form[name].choices = choices  # as the app's forms do: set after construction
        form["number"].choices = [SelectChoice(1, "one")]
        big = {"size": 8, "aria-invalid": "true", "required": True}
        return [str(form[name](**kw)) for name in ("one", "many", "number") for kw in ({}, big)]

    for choices in (pairs, objects, kinds):
        for one, many in ((None, None), ("GTM", ["GTM", 'a"<b']), ('a"<b', []), ("zzz", ["e"])):
            assert render(Fast, choices, one, many) == render(Plain, choices, one, many)
    assert render(Fast, pairs, "GTM", None)[0].count("<option selected") == 2


def test_a_records_history_names_the_changed_fields_in_the_readers_language(
    as_user: Any, app: Flask
) -> None:
    """The history read "alterado · versão 2 (available_from, available_to, max_per_year)":
    the fields' codes. They are their labels, as the form says them."""
    client = as_user("focal_gtm")
    assert client.post("/capacities/new", data=CAPACITY_FORM).status_code == 302
    edited = {**CAPACITY_FORM, "max_per_year": "4", "available_to": "2028", "version": "1"}
    assert client.post(f"/capacities/C-{YEAR}-0001/edit", data=edited).status_code == 302
    client.post("/language", data={"lang": "pt", "next": "/"})
    page = text(client.get(f"/capacities/C-{YEAR}-0001"))
    changed = re.findall(r'<span class="changed">\(([^)]*)\)</span>', page)
    assert changed and not re.search(r"max_per_year|available_to", changed[0]), changed
    assert "Disponível até" in changed[0], changed
