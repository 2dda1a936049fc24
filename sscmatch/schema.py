"""Is the database at the schema this version of sscmatch was written for, and what does that
schema refuse?

Code and schema move together: a deployment that updates the code without running
``sscmatch init-db`` (or starts on an empty database) would fail on every page that touches a
table it lacks, with a server error that says nothing of the cause, while ``/healthz`` said "ok".
:func:`schema_state` compares the database's Alembic revision with this version's newest one;
the web app (:mod:`sscmatch.web.readiness`) and every command that reads or writes records
(:mod:`sscmatch.cli`) refuse to go on until they agree, and say what to run.

:func:`restrictions` says what the database itself refuses, table by table (check constraints
the models declare and migration 0025 built): a value the domain restricts (a status, a role, a
modality, a language code, a year, a count) cannot be stored by a write that goes around the use
cases, and the enumerations of :mod:`sscmatch.enums` are the database's.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Date, Float, Integer, Table
from sqlalchemy.engine import Engine

from sscmatch import enums
from sscmatch.dates import MAX_YEAR, MIN_YEAR
from sscmatch.db import MIGRATIONS_DIR
from sscmatch.vocab import INTERFACE_LANGUAGES


@dataclass(frozen=True)
class SchemaState:
    """``current``: the database's revision (None: no schema yet); ``head``: this version's."""

    current: str | None
    head: str
    known: bool  # current is one of this version's revisions (False: a newer version's)

    @property
    def ready(self) -> bool:
        return self.current == self.head

    @property
    def problem(self) -> str:
        """What is wrong, as a short code: ``""`` when ready, else ``empty`` (no schema),
        ``behind`` (an older revision: upgrade it) or ``ahead`` (a newer version's revision)."""
        if self.ready:
            return ""
        if self.current is None:
            return "empty"
        return "behind" if self.known else "ahead"

    def describe(self) -> str:
        """One English sentence for an operator (command line, logs)."""
        if self.ready:
            return f"The database is at revision {self.head}, as this version expects."
        if self.problem == "empty":
            return "The database has no sscmatch schema yet: run `sscmatch init-db`."
        if self.problem == "behind":
            return (
                f"The database is at revision {self.current}; this version needs {self.head}: "
                "run `sscmatch init-db` to upgrade it."
            )
        return (
            f"The database is at revision {self.current}, which this version does not know "
            f"(its newest is {self.head}): a newer version of sscmatch upgraded it; run that one."
        )


@cache
def _revisions() -> tuple[str, frozenset[str]]:
    """This version's newest revision and all of its revisions (read once: they ship with it)."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    script = ScriptDirectory.from_config(config)
    head = script.get_current_head()
    assert head is not None, "the migrations have one head"
    return head, frozenset(rev.revision for rev in script.walk_revisions())


def schema_state(engine: Engine) -> SchemaState:
    """Reads the database's revision (one small query; raises the driver's error when the
    database cannot be reached)."""
    head, known = _revisions()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    return SchemaState(current=current, head=head, known=current in known)


# ------------------------------------------------------------------ what the schema refuses
# A value the domain restricts is refused by the database too (migration 0025), so a write that
# goes around the use cases (plain SQL, the bulk writer of imports, a migration) cannot store it.
ENUMERATED: dict[str, dict[str, tuple[str, ...]]] = {
    "capacity": {"status": enums.CAPACITY_STATUSES, "maturity": enums.MATURITIES},
    "need": {"status": enums.NEED_STATUSES, "priority": enums.PRIORITIES},
    "exchange": {"modality": enums.MODALITIES, "direction": enums.DIRECTIONS},
    "proposal": {"status": enums.PROPOSAL_STATUSES},
    "study_tour": {"status": enums.TOUR_STATUSES, "modality": enums.TOUR_MODALITIES},
    "commitment": {"status": enums.COMMITMENT_STATUSES},
    "commitment_update": {"status": enums.COMMITMENT_STATUSES},
    "institution": {"constituency": enums.CONSTITUENCIES},
    "user": {
        "role": enums.ROLES,
        "constituency": enums.CONSTITUENCIES,
        "language": ("", *INTERFACE_LANGUAGES),  # "": not chosen, each browser's
    },
    "exchange_country": {"role": enums.EXCHANGE_ROLES},
}
"""Per table, its columns that take one of a few values (``NULL`` aside where allowed)."""
AT_LEAST_ONE = frozenset({"version", "rank", "top_k", "window", "max_attempts"})
LANGUAGE_CODE = (  # ISO 639-1, else 639-3, as the vocabulary keys languages: two or three a-z
    "length({c}) IN (2, 3) AND {c} = lower({c}) AND substr({c}, 1, 1) BETWEEN 'a' AND 'z' AND "
    "substr({c}, 2, 1) BETWEEN 'a' AND 'z' AND (length({c}) = 2 OR substr({c}, 3, 1) BETWEEN "
    "'a' AND 'z')"
)


def _among(values: tuple[str, ...]) -> str:
    return "{c} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def restrictions(table: Table) -> dict[str, str]:
    """``table``'s check constraints, name → SQL, the same text on SQLite and PostgreSQL: its
    enumerated columns, every language code, a count or position never negative (some never
    below one), a score in [0, 1], and each partial date's day in the years
    :data:`~sscmatch.dates.MIN_YEAR` to ``MAX_YEAR``, with its precision
    (:data:`~sscmatch.enums.DATE_PRECISIONS`): both or neither."""
    out: dict[str, str] = {}
    for column in table.columns:
        name, quoted = column.name, f'"{column.name}"'
        rule = None
        if name in ENUMERATED.get(table.name, {}):
            rule = _among(ENUMERATED[table.name][name])
        elif name == "language":
            rule = LANGUAGE_CODE
        elif name.endswith("_precision"):
            rule = _among(enums.DATE_PRECISIONS)
            day = f'"{name.removesuffix("_precision")}_date"'
            out[f"ck_{table.name}_{name.removesuffix('_precision')}_period"] = (
                f"({day} IS NULL) = ({quoted} IS NULL)"
            )
        elif isinstance(column.type, Date):
            rule = f"{{c}} BETWEEN '{MIN_YEAR}-01-01' AND '{MAX_YEAR}-12-31'"
        elif isinstance(column.type, Float):
            rule = "{c} BETWEEN 0 AND 1"
        elif isinstance(column.type, Integer) and not (column.primary_key or column.foreign_keys):
            rule = "{c} >= " + ("1" if name in AT_LEAST_ONE else "0")
        if rule is not None:
            out[f"ck_{table.name}_{name}"] = rule.format(c=quoted)
    return out
