"""Is the database at the schema this version of sscmatch was written for?

Code and schema move together: a deployment that updates the code without running
``sscmatch init-db`` (or starts on an empty database) would fail on every page that touches a
table it lacks, with a server error that says nothing of the cause, while ``/healthz`` said "ok".
:func:`schema_state` compares the database's Alembic revision with this version's newest one;
the web app (:mod:`sscmatch.web.readiness`) and every command that reads or writes records
(:mod:`sscmatch.cli`) refuse to go on until they agree, and say what to run.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from sscmatch.db import MIGRATIONS_DIR


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
