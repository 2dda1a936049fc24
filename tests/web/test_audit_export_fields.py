"""The audit log's export names the fields an event changed as every export names coded values
(``sscmatch.web.export_routes.audit_export``): CSV and JSON, the machine formats, keep the fields'
codes; the reader's spreadsheet names each by its label in the reader's language, as the audit
page does, for every field an audit event can carry (the names derived by
``test_audit_field_labels``), and through the export itself for an edit of a need."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import openpyxl
import pytest
from flask import Flask, session

from sscmatch.web import spreadsheet
from sscmatch.web.auditfields import audit_field_label
from tests.conftest import sign_in
from tests.web.test_audit_field_labels import _hand_written_fields, _snapshot_fields
from tests.web.test_registry import NEED_FORM

LANGUAGES = ("es", "pt", "fr")
CHANGED = {"title": "A new title", "priority": "low"}  # what the edit changes


def _changed_column(fields: list[str]) -> Any:
    """The spreadsheet's cell of the audit export's ``changed`` column for ``fields``."""
    column = spreadsheet.columns("audit", ["changed"])[0]
    return spreadsheet.SHOWS[column.show](fields)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_field_an_event_carries_is_named_by_its_label_in_the_spreadsheet(
    app: Flask, lang: str
) -> None:
    names = sorted(set().union(*_snapshot_fields().values()) | _hand_written_fields())
    with app.test_request_context(headers={"Accept-Language": lang}):
        session["lang"] = lang
        wrong = {
            name: shown
            for name in names
            if (shown := _changed_column([name])) != audit_field_label(name)
        }
        both = _changed_column(["due", "status"])
        assert both == f"{audit_field_label('due')}, {audit_field_label('status')}"
        assert _changed_column("due;status") == both  # as the CSV's row has it
    assert not wrong, wrong


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_audit_export_keeps_codes_in_csv_and_json_and_labels_in_the_spreadsheet(
    app: Flask, users: dict[str, int], lang: str
) -> None:
    gtm = sign_in(app.test_client(), "focal_gtm")
    assert gtm.post("/needs/new", data=NEED_FORM).status_code == 302
    need_id = f"N-{date.today().year}-0001"
    edited = gtm.post(f"/needs/{need_id}/edit", data={**NEED_FORM, **CHANGED, "version": "1"})
    assert edited.status_code == 302, edited.get_data(as_text=True)[:1000]
    admin = sign_in(app.test_client(), "admin")
    admin.post("/language", data={"lang": lang, "next": "/"})
    query = f"?action=update&entity=need&entity_id={need_id}"

    rows = list(csv.DictReader(io.StringIO(
        admin.get(f"/admin/audit/export.csv{query}").data.decode("utf-8-sig")
    )))  # fmt: skip
    updates = [r for r in rows if r["entity_id"] == need_id and r["action"] == "update"]
    assert len(updates) == 1, rows
    codes = updates[0]["changed"].split(";")
    assert set(CHANGED) <= set(codes), codes
    listed = admin.get(f"/admin/audit/export.json{query}").get_json()["audit"]
    assert [e["changed"] for e in listed if e["entity_id"] == need_id] == [codes]

    book = openpyxl.load_workbook(io.BytesIO(admin.get(f"/admin/audit/export.xlsx{query}").data))
    sheet = [[c.value for c in row] for row in book.worksheets[0].iter_rows()]
    with app.test_request_context(headers={"Accept-Language": lang}):
        session["lang"] = lang
        header = str(spreadsheet.COLUMNS["changed"].header)
        labels = [audit_field_label(code) for code in codes]
        entity_id = str(spreadsheet.COLUMNS["entity_id"].header)
    column, id_column = sheet[0].index(header), sheet[0].index(entity_id)
    cells = [row[column] for row in sheet[1:] if row[id_column] == need_id]
    assert cells == [", ".join(labels)], (cells, labels)
    assert not set(cells[0].split(", ")) & set(codes), cells  # no code left
