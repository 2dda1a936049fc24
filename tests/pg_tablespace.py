"""A tablespace in memory for the PostgreSQL test schemas, when the server is on this machine.

Why: every PostgreSQL test empties the tables it used with ``TRUNCATE`` (``tests/conftest.
_truncate_used_tables`` says why not DELETE), and a TRUNCATE builds each emptied table's
indexes anew; PostgreSQL 15 syncs every index it builds to disk before the commit returns. The
most frequent wait of a PostgreSQL test pass was that sync (``IO:DataFileImmediateSync``, 50 of
the 56 waits sampled from ``pg_stat_activity`` once a second over 200 s of ``tests/web`` and
``tests/workflow``). A test's tables live in a tablespace whose directory is in ``/dev/shm``,
where a sync returns at once. Nothing a test checks depends on where a table's files are: the
SQL, the locks, the plans and the catalogue are the same.

The tablespace is made once a run (by the controller, before the test processes start, which
read its name from ``SSCMATCH_TEST_TABLESPACE``) and kept between runs. It is only tried when
the server answers on this machine and this process may give the directory to the server's
owner; anything else (another host, no rights, a tablespace whose directory a reboot emptied
and that cannot be dropped) keeps the tables where the server puts them, as before. Setting
``SSCMATCH_TEST_TABLESPACE`` to an empty string turns it off.

Do not delete the directory while the server runs: PostgreSQL stops (PANIC, then recovers by
itself) when a file it has to sync is gone. Tried on purpose on 2026-12-07: the server was back
in 20 s, and the next run dropped and made the tablespace again. After a reboot the directory is
empty and the server was restarted: the run drops the tablespace and makes it again.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.engine.url import make_url
from sqlalchemy.exc import SQLAlchemyError

NAME = "sscmatch_test_ram"
DIRECTORY = Path("/dev/shm/sscmatch-test-tablespace")
ENV = "SSCMATCH_TEST_TABLESPACE"
LOCAL_HOSTS = {None, "", "localhost", "127.0.0.1", "::1"}


def chosen() -> str:
    """The tablespace the test schemas' tables go to ("" for the server's default)."""
    return os.environ.get(ENV, "")


def prepare(url: str, engine: Engine) -> str:
    """Make the tablespace ready and say so in the environment (for the test processes);
    returns its name, or "" when the tables stay where they were. ``engine`` is an AUTOCOMMIT
    engine of the test database (CREATE TABLESPACE cannot run in a transaction)."""
    if ENV in os.environ:  # set by hand, or by the controller of this run
        return chosen()
    name = NAME if make_url(url).host in LOCAL_HOSTS and _ready(engine) else ""
    os.environ[ENV] = name
    return name


def _ready(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            found = conn.execute(
                text("SELECT pg_tablespace_location(oid) FROM pg_tablespace WHERE spcname = :n"),
                {"n": NAME},
            ).scalar()
            if found is not None and not Path(found).is_dir():  # a reboot emptied /dev/shm
                conn.execute(text(f"DROP TABLESPACE {NAME}"))
                found = None
            if found is None:
                owner = Path(conn.execute(text("SHOW data_directory")).scalar_one()).stat()
                DIRECTORY.mkdir(mode=0o700, exist_ok=True)
                os.chown(DIRECTORY, owner.st_uid, owner.st_gid)
                conn.execute(text(f"CREATE TABLESPACE {NAME} LOCATION '{DIRECTORY}'"))
            # a table can be made there (a temporary one, gone with the connection)
            conn.execute(text(f"CREATE TEMPORARY TABLE probe (x int) TABLESPACE {NAME}"))
            conn.execute(text("DROP TABLE probe"))
        return True
    except (OSError, SQLAlchemyError):
        return False
