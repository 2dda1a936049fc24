"""Every reference of the migrated schema, on SQLite and PostgreSQL, read from the database itself
(not from the models): each foreign key is the leading part of an index, so finding a record's
children (a user's audit events, a proposal's tours) and deleting or re-keying the parent read an
index range instead of the whole child table (PostgreSQL indexes the referenced side only)."""

from __future__ import annotations

from sqlalchemy import inspect

from sscmatch.db import make_engine


def _unindexed_references(database_url: str) -> list[str]:
    engine = make_engine(database_url)
    try:
        found = inspect(engine)
        missing = []
        for table in found.get_table_names():
            leads = [tuple(i["column_names"]) for i in found.get_indexes(table)]
            leads.append(tuple(found.get_pk_constraint(table)["constrained_columns"]))
            leads += [tuple(u["column_names"]) for u in found.get_unique_constraints(table)]
            for fk in found.get_foreign_keys(table):
                columns = tuple(fk["constrained_columns"])
                if not any(lead[: len(columns)] == columns for lead in leads):
                    missing.append(f"{table}.{','.join(columns)} -> {fk['referred_table']}")
        return sorted(missing)
    finally:
        engine.dispose()


def test_every_foreign_key_leads_an_index(database_url: str) -> None:
    assert _unindexed_references(database_url) == []
