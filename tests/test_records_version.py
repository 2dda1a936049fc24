"""The records' version (``data_change.records``, migration 0020), which the network, the charts
and the gaps are kept under: it moves with every committed write to countries' own records
(:data:`RECORD_TABLES`) and with nothing else, once per transaction on PostgreSQL whatever was
written first; and whatever is kept under it reads no other tracked table (every analytics
page walked, every statement of every computation it keeps)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Hashable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from sscmatch.analytics import data as analytics_data
from sscmatch.analytics.profile import countries_activity
from sscmatch.bundle import import_bundle
from sscmatch.db import CHANGE_TRACKED_TABLES, RECORD_TABLES, change_version, records_version
from sscmatch.vocab import load_vocabulary
from sscmatch.workflow.visibility import SYSTEM

ROOT = Path(__file__).resolve().parents[1]
OTHER_TABLES = sorted(set(CHANGE_TRACKED_TABLES) - set(RECORD_TABLES))
VETO = (
    "INSERT INTO veto (provider, recipient, reason, created_at) "
    "VALUES ('BRA', 'GTM', 'test', CURRENT_TIMESTAMP)"
)
THEME = (
    "INSERT INTO theme (id, label_en, synonyms, sdg_targets) "
    "VALUES ('rv-theme', 'A theme', '[]', '[]')"
)


def _one_row(table: str) -> str:
    """A write to one existing row of ``table`` that changes nothing but fires its triggers."""
    return f'UPDATE "{table}" SET id = id WHERE id = (SELECT min(id) FROM "{table}")'


@pytest.fixture
def kb(app: Flask) -> Engine:
    engine: Engine = app.extensions["sscmatch.engine"]
    with Session(engine) as session:
        import_bundle(session, ROOT / "data", load_vocabulary())
        session.commit()
    with engine.begin() as conn:
        conn.execute(text(THEME))
    return engine


def versions(engine: Engine) -> tuple[Any, Any]:
    with Session(engine) as session:
        return records_version(session), change_version(session)


def test_the_triggers_count_exactly_the_record_tables(kb: Engine) -> None:
    with kb.connect() as conn:
        if kb.dialect.name == "postgresql":
            body = conn.execute(
                text(
                    "SELECT prosrc FROM pg_proc WHERE proname = 'sscmatch_bump_data_change' "
                    "AND pronamespace = current_schema()::regnamespace"
                )
            ).scalar_one()
            listed = re.search(r"TG_TABLE_NAME IN \(([^)]*)\)", body)
            assert listed is not None, body
            counted = set(re.findall(r"'(\w+)'", listed.group(1)))
        else:
            counted = set(
                conn.execute(
                    text(
                        "SELECT DISTINCT tbl_name FROM sqlite_master "
                        "WHERE type = 'trigger' AND name LIKE 'records_change_%'"
                    )
                ).scalars()
            )
    assert counted == set(RECORD_TABLES)


@pytest.mark.parametrize("table", RECORD_TABLES)
def test_a_write_to_a_record_moves_both_versions(kb: Engine, table: str) -> None:
    before = versions(kb)
    with kb.begin() as conn:
        conn.execute(text(_one_row(table)))
    after = versions(kb)
    assert after[0] != before[0] and after[1] != before[1]


def test_writes_to_other_tables_move_only_the_change_version(kb: Engine) -> None:
    for statement in (VETO, _one_row("commitment"), "DELETE FROM veto"):
        before = versions(kb)
        with kb.begin() as conn:
            conn.execute(text(statement))
        after = versions(kb)
        assert after[0] == before[0], statement
        assert after[1] != before[1], statement


@pytest.mark.parametrize("first", ["other", "record"])
def test_once_per_transaction_whichever_table_is_written_first(kb: Engine, first: str) -> None:
    """PostgreSQL bumps each counter once per transaction: a transaction that wrote a veto and
    then an exchange must still move the records' version (and by one)."""
    (records_before, _), (changes_before, _) = versions(kb)
    statements = [VETO, _one_row("exchange"), _one_row("need")]
    if first == "record":
        statements = statements[1:] + statements[:1]
    with kb.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
    (records_after, _), (changes_after, _) = versions(kb)
    assert records_after > records_before and changes_after > changes_before
    if kb.dialect.name == "postgresql":
        assert (records_after, changes_after) == (records_before + 1, changes_before + 1)


class Reads:
    """The statements run while a computation kept under the records' version is made."""

    def __init__(self) -> None:
        self.inside = threading.local()
        self.by_key: dict[Hashable, list[str]] = {}

    def wrap(self, get_or_make: Callable[..., Any]) -> Callable[..., Any]:
        def recording(key: Hashable | None, make: Callable[[], Any]) -> Any:
            def made() -> Any:
                outer = getattr(self.inside, "key", None)  # a drawing makes its view inside
                self.inside.key = key
                self.by_key.setdefault(key, [])
                try:
                    return make()
                finally:
                    self.inside.key = outer

            return get_or_make(key, made)

        return recording

    def statement(self, conn: Any, cursor: Any, sql: str, *args: Any) -> None:
        key = getattr(self.inside, "key", None)
        if key is not None:
            self.by_key.setdefault(key, []).append(sql)


@pytest.fixture
def reads(kb: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Reads]:
    found = Reads()
    views = analytics_data._VIEWS
    monkeypatch.setattr(views, "get_or_make", found.wrap(views.get_or_make))
    event.listen(kb, "before_cursor_execute", found.statement)
    yield found
    event.remove(kb, "before_cursor_execute", found.statement)


def _get_routes(app: Flask) -> list[str]:
    values = {"code": "GTM", "country": "GTM"}
    out = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint == "static":
            continue
        if set(rule.arguments) <= set(values):
            out.append(rule.build({a: values[a] for a in rule.arguments})[1])
    return sorted(set(out))


def test_what_is_kept_under_the_records_version_reads_no_other_table(
    app: Flask, as_user: Any, reads: Reads
) -> None:
    routes = _get_routes(app)
    for who in ("analyst", "secretariat"):
        client = as_user(who)
        for path in routes:
            assert client.get(path).status_code < 500, path
    other = re.compile(
        r'\b(?:FROM|JOIN|INTO|UPDATE)\s+"?(' + "|".join(OTHER_TABLES) + r')"?\b', re.IGNORECASE
    )
    wrong = {
        str(key): sorted({m.group(1) for sql in sqls for m in other.finditer(sql)})
        for key, sqls in reads.by_key.items()
    }
    assert {k: v for k, v in wrong.items() if v} == {}
    made = sorted({str(key[2][0]) for key in reads.by_key})  # (database, version, key)
    assert made == ["charts", "country-records", "drawing", "gaps", "supply-demand", "view"], made


def test_a_decision_keeps_the_counted_charts_and_an_edited_exchange_recounts_them(
    as_user: Any, kb: Engine, reads: Reads
) -> None:
    client = as_user("analyst")
    assert client.get("/network/charts").status_code == 200
    counted = len(reads.by_key)
    assert counted > 0
    with kb.begin() as conn:  # what a secretariat's day writes: vetoes, follow-up
        conn.execute(text(VETO))
        conn.execute(text(_one_row("commitment")))
    assert client.get("/network/charts").status_code == 200
    assert len(reads.by_key) == counted  # nothing counted again
    with kb.begin() as conn:
        conn.execute(text("UPDATE exchange SET title = title || '.' WHERE id = 's000-e02'"))
    assert client.get("/network/charts").status_code == 200
    assert len(reads.by_key) > counted


def test_the_country_list_counts_a_new_commitment_and_a_new_need_at_once(kb: Engine) -> None:
    """The countries' counts are kept in two parts (records, commitments): each follows its
    own writes."""
    vocab = load_vocabulary()

    def counts() -> tuple[int, int]:
        with Session(kb) as session:
            gtm = {a.code: a for a in countries_activity(session, vocab, viewer=SYSTEM)}["GTM"]
            return gtm.commitments, gtm.needs

    commitments, needs = counts()
    with kb.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO commitment (id, owner_country, description, status, created_at, "
                "updated_at, version) VALUES ('rv-c', 'GTM', 'A commitment', 'pending', "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"
            )
        )
    assert counts() == (commitments + 1, needs)
    with kb.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO need (id, country, title, themes, languages, modalities, status, "
                "priority, created_at, updated_at, version) VALUES ('rv-n', 'GTM', 'A need', "
                "'[]', '[]', '[]', 'open', 'medium', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"
            )
        )
    assert counts() == (commitments + 1, needs + 1)
