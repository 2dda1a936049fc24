"""Registry use cases: search, create/update with version checks, endorsement, audit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from sscmatch.bundle.load import import_bundle
from sscmatch.dates import PartialDate
from sscmatch.db import StaleVersion
from sscmatch.models import AuditEvent, Need
from sscmatch.vocab import load_vocabulary
from sscmatch.workflow import registry as reg
from sscmatch.workflow.registry import RecordFilter
from sscmatch.workflow.visibility import SYSTEM
from tests.conftest import audit_trail

ROOT = Path(__file__).resolve().parents[2]
VOCAB = load_vocabulary()
DAY = date(2025, 3, 14)  # the day the callers pass: not the clock's
YEAR = DAY.year


@dataclass(frozen=True)
class Who:
    id: int | None
    role: str
    country: str | None = None


SEC = Who(None, "secretariat")
GTM = Who(None, "focal_point", "GTM")
BRA = Who(None, "focal_point", "BRA")
ANALYST = Who(None, "analyst")


def capacity_data(**extra: object) -> dict[str, object]:
    return {
        "title": "Mobile labour inspection units",
        "description": "Inspectors travel to rural farms to detect child labour.",
        "themes": ["labour-inspection"],
        "languages": ["es"],
        "modalities": ["study_tour"],
        **extra,
    }


def need_data(**extra: object) -> dict[str, object]:
    return {
        "title": "Child labour monitoring in coffee farms",
        "description": "We need a monitoring system for coffee harvests.",
        "themes": ["labour-inspection"],
        "languages": "es",
        **extra,
    }


@pytest.fixture
def kb(session: Session) -> Session:
    import_bundle(session, ROOT / "data", VOCAB)
    session.commit()
    return session


def test_create_capacity_numbers_ids_and_audits(session: Session) -> None:
    first = reg.create_capacity(session, VOCAB, GTM, capacity_data(), today=DAY)
    second = reg.create_capacity(session, VOCAB, GTM, capacity_data(title="Second"), today=DAY)
    assert (first.id, second.id) == (f"C-{YEAR}-0001", f"C-{YEAR}-0002")
    assert first.country == "GTM" and first.version == 1 and first.created == DAY.isoformat()
    events = audit_trail(session, AuditEvent.entity == "capacity")
    assert [(e.action, e.entity_id) for e in events] == [
        ("create", first.id),
        ("create", second.id),
    ]
    assert events[0].before is None and events[0].after["title"] == first.title


def test_focal_point_is_bound_to_their_country(session: Session) -> None:
    with pytest.raises(reg.Forbidden, match="only for GTM"):
        reg.create_capacity(session, VOCAB, GTM, capacity_data(country="BRA"), today=DAY)
    record = reg.create_capacity(session, VOCAB, BRA, capacity_data(), today=DAY)
    with pytest.raises(reg.Forbidden, match="BRA"):
        reg.update_capacity(session, VOCAB, GTM, record.id, {"title": "x"}, 1)
    with pytest.raises(reg.Forbidden):
        reg.create_capacity(session, VOCAB, ANALYST, capacity_data(country="BRA"), today=DAY)
    # the secretariat may edit any country's record
    edited = reg.update_capacity(session, VOCAB, SEC, record.id, {"title": "Edited"}, 1)
    assert edited.title == "Edited" and edited.version == 2


def test_validation_names_each_field(session: Session) -> None:
    with pytest.raises(reg.InvalidRecord) as caught:
        reg.create_capacity(
            session,
            VOCAB,
            GTM,
            capacity_data(
                title="", themes=[], languages=["klingon"], available_from="2020-13", extra=1
            ),
            today=DAY,
        )
    errors = caught.value.errors
    assert set(errors) >= {"title", "themes", "languages", "available_from", "extra"}
    assert "theme" in errors["themes"] and "klingon" in errors["languages"]
    with pytest.raises(reg.InvalidRecord) as unknown:
        reg.create_capacity(session, VOCAB, GTM, capacity_data(themes=["no-such-theme"]), today=DAY)
    assert "unknown theme" in unknown.value.errors["themes"]
    with pytest.raises(reg.InvalidRecord, match="too long"):
        reg.create_capacity(session, VOCAB, GTM, capacity_data(title="x" * 5000), today=DAY)
    assert session.exec(select(AuditEvent)).all() == []


def test_stale_version_is_refused(session: Session) -> None:
    record = reg.create_need(session, VOCAB, GTM, need_data(), today=DAY)
    reg.update_need(session, VOCAB, GTM, record.id, {"title": "First edit"}, 1)
    with pytest.raises(StaleVersion, match=r"version 1.*version 2"):
        reg.update_need(session, VOCAB, GTM, record.id, {"title": "Late edit"}, 1)
    assert session.get(Need, record.id).title == "First edit"  # type: ignore[union-attr]


def test_update_snapshot_before_and_after(session: Session) -> None:
    record = reg.create_need(session, VOCAB, GTM, need_data(), today=DAY)
    reg.update_need(session, VOCAB, GTM, record.id, {"priority": "high"}, 1)
    events = reg.history(session, "need", record.id)
    assert [e.action for e in events] == ["create", "update"]
    assert events[1].before["priority"] is None and events[1].after["priority"] == "high"
    assert events[1].before["version"] == 1 and events[1].after["version"] == 2


def test_endorsement_flow(session: Session) -> None:
    need = reg.create_need(session, VOCAB, GTM, need_data(), today=DAY)
    assert need.status == "draft"
    with pytest.raises(reg.Forbidden):
        reg.create_need(session, VOCAB, GTM, need_data(status="open"), today=DAY)
    with pytest.raises(reg.Conflict, match="submitted"):
        reg.endorse_need(session, SEC, need.id)
    reg.submit_need(session, GTM, need.id)
    assert need.submitted_at is not None and reg.submitted_count(session) == 1
    with pytest.raises(reg.Forbidden):
        reg.endorse_need(session, GTM, need.id)
    with pytest.raises(reg.InvalidRecord, match="note"):
        reg.return_need(session, SEC, need.id, "  ")
    reg.return_need(session, SEC, need.id, "Name the region of the coffee farms.")
    assert (need.status, need.submitted_at, need.review_note) == (
        "draft",
        None,
        "Name the region of the coffee farms.",
    )
    reg.submit_need(session, GTM, need.id)
    reg.endorse_need(session, SEC, need.id)
    assert need.status == "open" and need.review_note is None
    with pytest.raises(reg.Conflict):
        reg.submit_need(session, GTM, need.id)
    actions = [e.action for e in reg.history(session, "need", need.id)]
    assert actions == ["create", "submit", "return", "submit", "endorse"]


def test_search_filters(kb: Session) -> None:
    everything = reg.search_capacities(kb, VOCAB, RecordFilter(), per_page=1000, viewer=SYSTEM)
    bra = reg.search_capacities(
        kb, VOCAB, RecordFilter(country="BRA"), per_page=1000, viewer=SYSTEM
    )
    assert 0 < bra.total < everything.total
    assert all(c.country == "BRA" for c in bra.items)
    # a parent theme includes its children
    parent = "policy-governance"
    family = {parent, *VOCAB.children(parent)}
    themed = reg.search_needs(kb, VOCAB, RecordFilter(theme=parent), per_page=1000, viewer=SYSTEM)
    assert themed.total > 0 and all(family & set(n.themes) for n in themed.items)
    only_children = [n for n in themed.items if parent not in n.themes]
    assert only_children, "children of the theme should match too"
    # region: M49 sub-region
    latam = reg.search_needs(
        kb,
        VOCAB,
        RecordFilter(region="Latin America and the Caribbean"),
        per_page=1000,
        viewer=SYSTEM,
    )
    assert latam.total > 0
    assert all(
        VOCAB.countries[n.country].subregion == "Latin America and the Caribbean"
        for n in latam.items
    )
    # language and year
    pt = reg.search_capacities(kb, VOCAB, RecordFilter(language="pt"), per_page=1000, viewer=SYSTEM)
    assert pt.total > 0 and all("pt" in c.languages for c in pt.items)
    y = reg.search_exchanges(kb, VOCAB, RecordFilter(year="2008"), per_page=1000)
    assert y.total > 0 and all(e.start.year == 2008 for e in y.items)
    with_bra = reg.search_exchanges(kb, VOCAB, RecordFilter(country="BRA"), per_page=1000)
    assert all("BRA" in (e.providers + e.recipients + e.participants) for e in with_bra.items)


def test_paging_counts(kb: Session) -> None:
    total = reg.search_needs(kb, VOCAB, RecordFilter(), per_page=1000, viewer=SYSTEM).total
    first = reg.search_needs(
        kb, VOCAB, RecordFilter(sort="title"), page=1, per_page=10, viewer=SYSTEM
    )
    second = reg.search_needs(
        kb, VOCAB, RecordFilter(sort="title"), page=2, per_page=10, viewer=SYSTEM
    )
    assert first.total == total and first.pages == -(-total // 10)
    assert len(first.items) == 10
    assert not {n.id for n in first.items} & {n.id for n in second.items}
    titles = [n.title for n in first.items + second.items]
    assert titles == sorted(titles)


def test_bad_filters_are_refused(kb: Session) -> None:
    for flt in (
        RecordFilter(theme="no-such-theme"),
        RecordFilter(country="Atlantis"),
        RecordFilter(region="Middle Earth"),
        RecordFilter(year="20x9"),
        RecordFilter(status="weird"),
        RecordFilter(sort="sideways"),
    ):
        with pytest.raises(reg.BadFilter):
            reg.search_needs(kb, VOCAB, flt, viewer=SYSTEM)


def test_fuzzy_and_multilingual_search(kb: Session) -> None:
    # a typo still finds the Bolsa Escola capacity
    typo = reg.search_capacities(kb, VOCAB, RecordFilter(q="bolsa escola"), viewer=SYSTEM)
    assert any("Bolsa Escola" in c.title for c in typo.items)
    misspelt = reg.search_capacities(kb, VOCAB, RecordFilter(q="bolsa escolla"), viewer=SYSTEM)
    assert any("Bolsa Escola" in c.title for c in misspelt.items)
    # a Spanish query resolves to the labour-inspection theme
    es = reg.search_capacities(kb, VOCAB, RecordFilter(q="inspección laboral"), viewer=SYSTEM)
    assert es.total > 0
    family = {"labour-inspection", *VOCAB.children("labour-inspection")}
    assert any(family & set(c.themes) for c in es.items)
    # a Portuguese query too
    pt = reg.search_capacities(kb, VOCAB, RecordFilter(q="inspeção do trabalho"), viewer=SYSTEM)
    assert pt.total > 0 and any(family & set(c.themes) for c in pt.items)
    nothing = reg.search_capacities(kb, VOCAB, RecordFilter(q="qwxzv plorf"), viewer=SYSTEM)
    assert nothing.total == 0


def test_drafts_of_other_countries_are_hidden_from_focal_points(session: Session) -> None:
    draft = reg.create_need(session, VOCAB, GTM, need_data(), today=DAY)
    seen_by_bra = reg.search_needs(session, VOCAB, RecordFilter(), viewer=BRA)
    seen_by_gtm = reg.search_needs(session, VOCAB, RecordFilter(), viewer=GTM)
    seen_by_sec = reg.search_needs(session, VOCAB, RecordFilter(), viewer=SEC)
    assert draft.id not in {n.id for n in seen_by_bra.items}
    assert draft.id in {n.id for n in seen_by_gtm.items}
    assert draft.id in {n.id for n in seen_by_sec.items}


def test_submitted_queue_filter(session: Session) -> None:
    a = reg.create_need(session, VOCAB, GTM, need_data(), today=DAY)
    reg.create_need(session, VOCAB, GTM, need_data(title="Other"), today=DAY)
    reg.submit_need(session, GTM, a.id)
    queue = reg.search_needs(session, VOCAB, RecordFilter(submitted=True), viewer=SYSTEM)
    assert [n.id for n in queue.items] == [a.id]


def test_suggest_themes_is_multilingual_and_fuzzy() -> None:
    es = reg.suggest_themes(VOCAB, "inspección", "es")
    assert es and es[0][0] == "labour-inspection"
    assert es[0][1] == VOCAB.themes["labour-inspection"].label("es")
    fr = reg.suggest_themes(VOCAB, "labour inspection", "fr")
    assert fr[0] == ("labour-inspection", VOCAB.themes["labour-inspection"].label("fr"))
    typo = reg.suggest_themes(VOCAB, "inspecion laboral", "en")
    assert "labour-inspection" in [t for t, _ in typo]
    assert reg.suggest_themes(VOCAB, "", "en") == []


def test_exchanges_are_written_by_the_secretariat(session: Session) -> None:
    data = {
        "start": "2024-05",
        "providers": ["BRA"],
        "recipients": ["GTM"],
        "themes": ["education"],
    }
    with pytest.raises(reg.Forbidden):
        reg.create_exchange(session, VOCAB, GTM, data, today=DAY)
    exchange = reg.create_exchange(session, VOCAB, SEC, data, today=DAY)
    assert exchange.id == f"E-{YEAR}-0001"
    updated = reg.update_exchange(session, VOCAB, SEC, exchange.id, {"title": "Visit"}, 1)
    assert updated.title == "Visit" and updated.version == 2
    with pytest.raises(reg.InvalidRecord, match="is before the start") as refused:
        reg.update_exchange(session, VOCAB, SEC, exchange.id, {"end": "2020"}, 2)
    assert set(refused.value.errors) == {"end"}  # beside the end, not a record's problem
    with pytest.raises(reg.NotFound):
        reg.update_exchange(session, VOCAB, SEC, "E-nope", {"title": "x"}, 1)


FIELDS = {
    "needs": ("id", "country", "title", "themes", "languages", "desired_from", "status"),
    "capacities": ("id", "country", "institution", "title", "themes", "modalities", "status"),
    "exchanges": ("id", "title", "start", "providers", "recipients", "partners", "study_tour"),
}
RECORD_CASES = (
    RecordFilter(),
    RecordFilter(country="BRA", sort="title"),
    RecordFilter(theme="policy-governance", sort="oldest"),
    RecordFilter(region="Latin America and the Caribbean"),
    RecordFilter(language="es", year="2008"),
    RecordFilter(q="bolsa escola"),  # fuzzy text, relevance order
    RecordFilter(q="inspección laboral", sort="title"),  # a theme named in Spanish
    RecordFilter(q="qwxzv plorf"),
)


def _listed(
    kb: Session, kind: str, flt: RecordFilter, viewer: Who | None, limit: int
) -> tuple[Any, list[dict[str, Any]], int]:
    """The page of ``kind`` under ``flt`` (every record) and its export records (``limit``)."""
    fields = FIELDS[kind]
    if kind == "exchanges":
        page = reg.search_exchanges(kb, VOCAB, flt, per_page=10_000)
    else:
        search = reg.search_needs if kind == "needs" else reg.search_capacities
        page = search(kb, VOCAB, flt, per_page=10_000, viewer=viewer)
    found = reg.list_records(kb, VOCAB, kind, flt, fields=fields, limit=limit, viewer=viewer)
    return page, *found


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, PartialDate) else value


def test_export_records_are_what_the_lists_list(kb: Session) -> None:
    """The exports' column reads list what the pages list, in their order, with the same values
    and total, under each filter and viewer (drafts as visibility allows), and cut at ``limit``."""
    reg.create_need(
        kb, VOCAB, GTM, need_data(title="Inspección laboral en fincas (borrador)"), today=DAY
    )
    kb.commit()
    compared = 0
    for kind, fields in FIELDS.items():
        viewers: tuple[Who | None, ...] = (None,) if kind == "exchanges" else (SEC, GTM, BRA)
        for flt in RECORD_CASES:
            for viewer in viewers:
                page, rows, total = _listed(kb, kind, flt, viewer, 10_000)
                # a partial date as its text, as the export writes it
                expected = [{f: _plain(getattr(item, f)) for f in fields} for item in page.items]
                assert rows == expected, (kind, flt, viewer)
                assert total == page.total
                compared += bool(rows)
                _page, cut, cut_total = _listed(kb, kind, flt, viewer, 3)
                assert cut == expected[:3] and cut_total == page.total
    assert compared >= 30  # most cases list records: equal empty lists cannot pass alone
    draft = RecordFilter(q="borrador")
    assert _listed(kb, "needs", draft, GTM, 10)[1]  # the draft: its country's focal point only
    assert not _listed(kb, "needs", draft, BRA, 10)[1]
