"""Every reference of the migrated schema, on SQLite and PostgreSQL, read from the database itself
(not from the models): each foreign key is the leading part of an index, so finding a record's
children (a user's audit events, a proposal's tours) and deleting or re-keying the parent read an
index range instead of the whole child table (PostgreSQL indexes the referenced side only)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect
from sqlmodel import SQLModel

from sscmatch import relations
from sscmatch.columns import JSONList
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


# Tables with two or more references to records that are records of their own, not links: the
# same pair may stand in many of them.
NOT_LINKS = {
    "capacity": "a country's or a body's offers: many per country and institution",
    "need": "a country's or a body's requests: many per country and institution",
    "proposal": "a run's suggestion with its own review; a later run suggests the pair again",
    "review": "each decision on a proposal is kept, reverts included",
    "study_tour": "a pair of countries may plan several tours from one proposal's need",
    "commitment": "an exchange or tour leaves many commitments of one owner",
}


def _links_kept_twice(database_url: str) -> tuple[list[str], set[str]]:
    """The link tables (the association tables, and every table of two or more references to
    records, who wrote it aside) with no primary key or unique key within the link's columns,
    and the tables of two or more references found."""
    engine = make_engine(database_url)
    try:
        found = inspect(engine)
        associations = {t.name for t in relations.TABLES}
        twice, referring = [], set()
        for table in found.get_table_names():
            references = [
                column
                for fk in found.get_foreign_keys(table)
                if fk["referred_table"] != "user"
                for column in fk["constrained_columns"]
            ]
            if len(references) >= 2:
                referring.add(table)
            if table not in associations and (len(references) < 2 or table in NOT_LINKS):
                continue
            link = set(references)
            if table in associations:  # the record, its role and the value: all but position
                link = {c["name"] for c in found.get_columns(table)} - {"position"}
            keys: list[list[Any]] = [found.get_pk_constraint(table)["constrained_columns"]]
            keys += [u["column_names"] for u in found.get_unique_constraints(table)]
            keys += [i["column_names"] for i in found.get_indexes(table) if i["unique"]]
            if not any(key and set(key) <= link for key in keys):
                twice.append(f"{table} ({', '.join(sorted(link))})")
        return sorted(twice), referring
    finally:
        engine.dispose()


def test_every_link_is_kept_once(database_url: str) -> None:
    """The same link twice (a veto of one pair, a theme of one need) is refused: a second veto
    of a pair left the pair vetoed after one was lifted."""
    twice, referring = _links_kept_twice(database_url)
    assert set(NOT_LINKS) <= referring  # no reason kept for a table that is gone
    assert twice == []


# Every list kept as JSON text (columns.JSONList) holds record keys, kept as rows with a foreign
# key to what they name (KEYS), or says what it holds instead (NOT_KEYS).
KEYS = {
    **{("exchange", role): "country" for role in ("providers", "recipients", "participants")},
    ("institution", "members"): "country",
    ("study_tour", "funders"): "institution",
}
THEMES = "theme ids of the built-in vocabulary (data/vocab, files) or of theme: no table has all"
LANGUAGES = "ISO 639 codes of the vocabulary (files), checked by their form (ck_*_language)"
NOT_KEYS = {
    **{(t, "themes"): THEMES for t in ("capacity", "need", "exchange")},
    **{(t, "languages"): LANGUAGES for t in ("capacity", "need", "exchange", "institution")},
    ("study_tour", "languages"): LANGUAGES,
    ("capacity", "modalities"): "values of enums.MODALITIES",
    ("need", "modalities"): "values of enums.MODALITIES",
    ("exchange", "partners"): "an institution's id or the name of one the records do not hold",
    ("theme", "synonyms"): "words",
    ("theme", "sdg_targets"): "the UN's SDG target codes",
    ("proposal", "reasons"): "reason codes with their parameters",
    ("study_tour", "agenda"): "the tour's days",
    ("study_tour", "delegation"): "the people of the visiting delegation",
    ("reminder", "items"): "the commitments one digest carried: a record of what was sent",
}


def test_every_list_of_keys_is_rows_with_a_foreign_key(database_url: str) -> None:
    """A country or institution named in a list (a body's members, a tour's funders, an
    exchange's countries) cannot be deleted or re-keyed from under it, nor a key no table holds
    be stored: the list is kept as rows whose foreign key says what they name."""
    lists = {
        (table.name, column.name)
        for table in SQLModel.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, JSONList)
    }
    assert sorted(lists - set(KEYS) - set(NOT_KEYS)) == []  # each list says what it holds
    assert sorted((set(KEYS) | set(NOT_KEYS)) - lists) == []
    engine = make_engine(database_url)
    try:
        found = inspect(engine)
        unlinked = []
        for (table, field), target in sorted(KEYS.items()):
            kept = [r for r in relations.RELATIONS.get(table, ()) if r.field == field]
            references = {
                (tuple(fk["constrained_columns"]), fk["referred_table"])
                for r in kept
                for fk in found.get_foreign_keys(r.table.name)
            }
            if not kept or ((kept[0].value,), target) not in references:
                unlinked.append(f"{table}.{field} -> {target}")
    finally:
        engine.dispose()
    assert unlinked == []
