"""Every field name an audit event can carry has a label in every language: the audit log
names the changed fields of users, proposals, tours… by their labels, never their codes.

The names are derived, not listed: the snapshot (:func:`sscmatch.workflow.audit.snapshot`) of
every model the log records (its record types, ``ENTITY_LABELS``), and the keys of every dict
written by hand as an event's ``before`` or ``after`` anywhere in the package (read from the
source)."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest
from flask import Flask
from sqlmodel import SQLModel

import sscmatch
import sscmatch.models as models
from sscmatch.web.auditfields import audit_field_label
from sscmatch.web.templating import ENTITY_LABELS
from sscmatch.workflow.audit import snapshot
from tests.source_trees import source_tree

LANGUAGES = ("es", "pt", "fr")
# Labels that read the same in a language as in English (its catalogue says so).
SAME_IN = {
    "es": {"Agenda", "Id"},
    "pt": {"Agenda", "Website"},
    "fr": {
        "Agenda",
        "Description",
        "Institution",
        "Note",
        "Participants",
        "Score",
        "Source",
        "Version",
    },
}


def _tables() -> dict[str, type[SQLModel]]:
    return {
        str(c.__tablename__): c
        for c in vars(models).values()
        if isinstance(c, type) and issubclass(c, SQLModel) and hasattr(c, "__table__")
    }


def _snapshot_fields() -> dict[str, set[str]]:
    """Each audited model's snapshot keys."""
    tables = _tables()
    out = {}
    for entity in ENTITY_LABELS:
        model = tables.get(entity)
        if model is None:
            continue  # a bundle is no table: its events' keys are written by hand (below)
        out[entity] = set(snapshot(model()) or {})  # a table model takes no arguments
    return out


@functools.cache
def _hand_written_fields() -> frozenset[str]:
    """The keys of every dict literal passed as ``before=`` or ``after=`` in the package."""
    keys: set[str] = set()
    for path in Path(sscmatch.__file__).parent.rglob("*.py"):
        for node in ast.walk(source_tree(path)):
            if not isinstance(node, ast.Call):
                continue
            for kw in node.keywords:
                if kw.arg in ("before", "after") and isinstance(kw.value, ast.Dict):
                    keys |= {k.value for k in kw.value.keys if isinstance(k, ast.Constant)}
    return frozenset(keys)


def test_the_walk_finds_the_fields() -> None:
    fields = _snapshot_fields()
    assert {"need", "proposal", "user", "study_tour", "match_run"} <= set(fields)
    assert {"updated_by", "score", "recipient_fit"} <= fields["proposal"]
    assert {"role", "active", "email"} <= fields["user"]
    assert {"failed_sign_ins", "side", "veto", "created"} <= _hand_written_fields()


@pytest.mark.one_case_on_postgresql(lang="es")
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_field_an_audit_event_carries_has_a_label_in_every_language(
    app: Flask, lang: str
) -> None:
    names = set().union(*_snapshot_fields().values()) | _hand_written_fields()
    with app.test_request_context():
        english = {name: audit_field_label(name) for name in names}
    with app.test_request_context(headers={"Accept-Language": lang}):
        from flask import session

        session["lang"] = lang
        said = {name: audit_field_label(name) for name in names}
    unlabelled = sorted(n for n in names if english[n] == n)
    untranslated = sorted(
        f"{n}: {said[n]!r}"
        for n in names
        if said[n] == english[n] != n and said[n] not in SAME_IN[lang]
    )
    assert not unlabelled, f"no label: {unlabelled}"
    assert not untranslated, f"{lang}: label in English: {untranslated}"
