"""Configuration: documented defaults, then ``instance/config.py``, then the environment.

Every setting the service reads is declared once in :data:`DEFAULTS` with a line of documentation;
``tests/test_docs.py`` fails when one is missing from the README. Environment variables
``SSCMATCH_<NAME>`` override ``<NAME>`` (values are parsed as JSON where they parse, so
``SSCMATCH_DEMO=true`` gives ``True``); ``DATABASE_URL`` and ``SECRET_KEY`` are read as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    doc: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "DATABASE_URL",
        None,
        "SQLAlchemy URL; unset means SQLite in the instance folder. "
        "`postgresql://…` uses psycopg 3.",
    ),
    Setting(
        "SECRET_KEY",
        None,
        "Signs sessions and CSRF tokens. Unset: a random key is "
        "generated once and kept in `instance/secret_key`.",
    ),
    Setting(
        "DEMO",
        False,
        "Demo mode: creates one demo user per role with a published password "
        "and says so on every page. Never enable it on a real deployment.",
    ),
    Setting(
        "DATA_DIR",
        None,
        "Folder of the knowledge base and vocabularies; default `data/` of the checkout.",
    ),
    Setting("PAGE_SIZE", 25, "Rows per page in lists."),
    Setting("MAX_UPLOAD_MB", 20, "Largest bundle accepted by upload, in MiB."),
)

DEFAULTS: dict[str, Any] = {s.name: s.default for s in SETTINGS}
