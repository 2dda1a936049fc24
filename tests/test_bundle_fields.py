"""Every column of every bundle table is read, stored and written back: a record of each table
with all its fields filled survives import and export, in CSV and JSON, and an export imports
back to the same files. The fields are those the format declares (``COLUMNS``), so a field added
to the format is walked here too (and must be given a value below)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, select

from sscmatch.bundle import export_bundle, import_bundle
from sscmatch.bundle.format import COLUMNS, TABLES
from sscmatch.models import (
    AuditEvent,
    Capacity,
    Commitment,
    Exchange,
    Institution,
    Need,
    StudyTour,
    Theme,
)
from sscmatch.vocab import load_vocabulary

TOUR = "T-FULL"
"""The study tour the full commitment names (tours are not part of a bundle)."""

FULL: dict[str, dict[str, str]] = {
    "themes": {
        "id": "full-theme",
        "label_en": "Inspection of cocoa farms",
        "label_es": "Inspección de fincas de cacao",
        "label_pt": "Inspeção de fazendas de cacau",
        "label_fr": "Inspection des plantations de cacao",
        "label_ru": "Инспекция какао-ферм",
        "parent": "agriculture",
        "synonyms": "cocoa inspection;cacao inspections",
        "sdg_targets": "8.7;8.8",
        "description": "Inspectors visiting cocoa farms at harvest time.",
    },
    "institutions": {
        "id": "full-body",
        "name": "Regional Labour Forum",
        "country": "CHE",
        "constituency": "un_agency",
        "international": "true",
        "members": "BRA;GTM",
        "languages": "es;pt",
        "website": "https://example.org/forum",
        "source": "doc.txt:1",
    },
    "capacities": {
        "id": "full-c",
        "country": "BRA",
        "institution": "bra-agency",
        "title": "Mobile inspection units",
        "description": "Teams of inspectors who travel to farms.",
        "themes": "full-theme;labour-inspection",
        "languages": "pt;es",
        "maturity": "operational",
        "modalities": "study_tour;training",
        "max_per_year": "3",
        "available_from": "2020-01",
        "available_to": "2021",
        "status": "published",
        "created": "2019-05-02",
        "source": "doc.txt:2",
    },
    "needs": {
        "id": "full-n",
        "country": "GTM",
        "institution": "gtm-ministry",
        "title": "Inspectors for the coffee harvest",
        "description": "Methods to inspect farms in the harvest months.",
        "themes": "labour-inspection",
        "languages": "es",
        "priority": "high",
        "modalities": "training",
        "desired_from": "2021-03",
        "desired_to": "2022",
        "status": "open",
        "created": "2020",
        "source": "doc.txt:3",
    },
    "exchanges": {
        "id": "full-e",
        "title": "Inspection study visit",
        "description": "Guatemalan inspectors visited Brazilian mobile units.",
        "start": "2019-05",
        "end": "2019-06-30",
        "date_note": "The month comes from a photo caption; the end from the report.",
        "providers": "BRA",
        "recipients": "GTM",
        "participants": "PER",
        "partners": "full-body",
        "themes": "labour-inspection;full-theme",
        "modality": "study_tour",
        "languages": "es;pt",
        "direction": "one_way",
        "outcomes": "An inspection protocol for farms.",
        "source": "doc.txt:4",
    },
    "commitments": {
        "id": "full-k",
        "exchange": "full-e",
        "study_tour": TOUR,
        "owner_country": "GTM",
        "owner_institution": "gtm-ministry",
        "description": "Draft an inspection protocol.",
        "due": "2020-06",
        "status": "in_progress",
        "evidence": "A draft was sent to the ministry.",
        "source": "doc.txt:5",
    },
}
"""One record of each table with every column filled, each value as an export writes it."""

OTHERS: dict[str, list[dict[str, str]]] = {
    "institutions": [
        {"id": "bra-agency", "name": "Cooperation Agency", "country": "BRA"},
        {"id": "gtm-ministry", "name": "Labour Ministry", "country": "GTM"},
    ],
}
"""The records the full ones name."""


def test_the_full_records_fill_every_column_of_the_format() -> None:
    assert list(FULL) == list(TABLES)
    for table in TABLES:
        assert list(FULL[table]) == list(COLUMNS[table]), f"give {table} a value of each column"
        assert all(FULL[table].values()), table


def _write_full_bundle(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for table in TABLES:
        with (folder / f"{table}.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, COLUMNS[table], lineterminator="\n")
            writer.writeheader()
            writer.writerows([FULL[table], *OTHERS.get(table, [])])
    return folder


def _exported(path: Path, fmt: str) -> dict[str, dict[str, Any]]:
    """Each table's full record as the export at ``path`` wrote it."""
    if fmt == "json":
        data = json.loads(path.read_text(encoding="utf-8"))
        return {t: next(r for r in data[t] if r["id"] == FULL[t]["id"]) for t in TABLES}
    out = {}
    for table in TABLES:
        with (path / f"{table}.csv").open(encoding="utf-8", newline="") as handle:
            out[table] = next(r for r in csv.DictReader(handle) if r["id"] == FULL[table]["id"])
    return out


def _empty(engine: Any) -> None:
    with Session(engine) as s:
        for model in (Commitment, Exchange, Need, Capacity, Institution, Theme, AuditEvent):
            for row in s.exec(select(model)):
                s.delete(row)
            s.commit()


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_every_field_of_every_table_survives_export_and_import(
    app: Flask, tmp_path: Path, fmt: str
) -> None:
    engine = app.extensions["sscmatch.engine"]
    vocab = load_vocabulary()
    with Session(engine) as s:
        s.add(
            StudyTour(id=TOUR, title="Inspection tour", host_country="BRA", visiting_country="GTM")
        )
        s.commit()
        report = import_bundle(s, _write_full_bundle(tmp_path / "src"), vocab)
        s.commit()
        assert not report.fuzzy
        first = tmp_path / ("one.json" if fmt == "json" else "one")
        export_bundle(s, first, fmt)
    for table, record in _exported(first, fmt).items():
        assert list(record) == list(COLUMNS[table]), table
        empty = [name for name, value in record.items() if value in (None, "", [])]
        assert not empty, f"{table}: {empty} were not carried through"
        if fmt == "csv":
            assert record == FULL[table], table
    _empty(engine)
    with Session(engine) as s:
        import_bundle(s, first, vocab)
        s.commit()
        second = tmp_path / ("two.json" if fmt == "json" else "two")
        export_bundle(s, second, fmt)
    if fmt == "json":
        assert first.read_bytes() == second.read_bytes()
    else:
        for file in sorted(first.iterdir()):
            assert file.read_bytes() == (second / file.name).read_bytes(), file.name
