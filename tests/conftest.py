"""Fixtures: an app on a fresh database per test, for SQLite and (when configured) PostgreSQL.

Migrating per test would be slow, so each backend is migrated once per session: SQLite into a
template file copied for each test, PostgreSQL into a schema of its own that each test empties.
Set ``SSCMATCH_TEST_DATABASE_URL`` (CI does) to add PostgreSQL to the ``backend`` parameter.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import uuid
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session
from werkzeug.routing.rules import Rule

from sscmatch import caches, create_app
from sscmatch.db import VersionedSession, init_db, make_engine, normalise_url, session_scope
from sscmatch.workflow import users as users_module
from tests import pg_tablespace

PG_URL = os.environ.get("SSCMATCH_TEST_DATABASE_URL")

# Real deployments hash with scrypt (tests/web/test_auth.py checks); tests use a cheap method.
users_module.HASH_METHOD = "pbkdf2:sha256:1000"
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
KEEP_TABLES = {"alembic_version", "country"}


# Every engine that has opened a connection and was not disposed by this module: those of
# session- or package-scoped fixtures, and those of the current test (apps built by
# make_test_app, engines of the code under test, of the test itself).
_ENGINES_IN_TEST: weakref.WeakSet[Engine] = weakref.WeakSet()


# Every PostgreSQL schema a run creates carries the run's mark, shared with its xdist workers
# through the environment (set before they start), so the run can check at its end that it
# dropped all of its own and none of another run's on the same server.
_RUN_MARK = os.environ.setdefault("SSCMATCH_TEST_RUN", uuid.uuid4().hex[:6])


def _drop_run_schemas() -> list[str]:
    """Drop the schemas of this run still there; returns their names."""
    assert PG_URL
    engine = make_engine(PG_URL)
    try:
        with engine.begin() as conn:
            found = conn.execute(
                text(
                    "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE :m"
                ),
                {"m": f"sscmatch\\_%\\_{_RUN_MARK}\\_%"},
            )
            left = sorted(found.scalars())
            for schema in left:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            return left
    finally:
        engine.dispose()


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """The run fails if it left a PostgreSQL schema of its own behind (after every worker has
    exited: this runs in the controller, last). Each left schema is some 40 tables more in the
    catalogue that every later run's queries scan; they were dropped here too."""
    if PG_URL is None or hasattr(session.config, "workerinput"):
        return
    left = _drop_run_schemas()
    if not left:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write("\n")  # after the progress line, which ensure_newline does not see
        reporter.write_line(
            f"the run left {len(left)} PostgreSQL schema(s) behind (dropped now): {left}; a "
            "process-long schema belongs in a session fixture (process_schemas)",
            red=True,
        )
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_sessionstart(session: pytest.Session) -> None:
    """Vacuum the PostgreSQL test database once a run (not in each test process), and make its
    tables' tablespace in memory ready (``tests/pg_tablespace.py``). Every test
    schema is created, migrated and dropped, which leaves dead rows in PostgreSQL's own
    catalog; with autovacuum off (as on this machine's server) they pile up from run to run:
    640,000 dead rows of ``pg_class`` after a day's runs made every PostgreSQL test slower
    (the suite 614 -> 726 s). ``VACUUM`` takes about a second."""
    if PG_URL is None or hasattr(session.config, "workerinput"):
        return
    engine = make_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("VACUUM"))
        pg_tablespace.prepare(PG_URL, engine)
    finally:
        engine.dispose()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``same_on_every_database`` run on SQLite alone: they check what the HTML,
    the CSS and the scripts make of a page (layout on a phone, the folding menus and filters,
    the words of every page, accessibility), which the database does not change. Every
    journey, and every walk of what the server answers (status codes, errors in the reader's
    language, records, permissions, odd input), still runs on both databases. About 60
    process-seconds of PostgreSQL passes (README, Tests).

    ``one_case_on_postgresql(lang="es")``: a test walked over languages or roles runs every
    case on SQLite and the one named on PostgreSQL: the database does not change what a
    language or a role sees, and the journey still runs on it.

    ``on_database("postgresql")``: a test of one database's own behaviour (a real deadlock,
    SQLite's write lock, a connection setting) runs on that database alone; on the other it is
    deselected, not reported as skipped."""
    kept, dropped = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        on_postgres = "postgresql" in params.values()
        one_case = item.get_closest_marker("one_case_on_postgresql")
        other_case = one_case is not None and any(
            params.get(name) != value for name, value in one_case.kwargs.items()
        )
        only = item.get_closest_marker("on_database")
        elsewhere = (
            only is not None
            and bool(params)
            and only.args[0] != ("postgresql" if on_postgres else "sqlite")
        )
        if elsewhere or (
            on_postgres and (item.get_closest_marker("same_on_every_database") or other_case)
        ):
            dropped.append(item)
        else:
            kept.append(item)
    named = {i.originalname for i in dropped if i.get_closest_marker("one_case_on_postgresql")}
    running = {getattr(i, "originalname", "") for i in kept if "postgresql" in i.nodeid}
    if named - running:  # a value that names no case would drop the journey from PostgreSQL
        raise pytest.UsageError(f"one_case_on_postgresql names no case of {named - running}")
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@event.listens_for(Engine, "engine_connect")
def _remember_engine(connection: Connection) -> None:
    _ENGINES_IN_TEST.add(connection.engine)


@pytest.fixture(autouse=True)
def _forget_process_caches(request: pytest.FixtureRequest) -> Iterator[None]:
    """Caches keyed by database URL and data version must not carry over between tests: the
    PostgreSQL tests reuse one URL, and two empty databases have the same version.

    After the test, every engine it used is disposed: a pool left open is garbage-collected
    during some later test, and psycopg's "connection deleted while still open"
    ResourceWarning then fails that innocent test (warnings are errors here). Disposing is
    harmless for an engine the test no longer uses. Engines of wider-scoped fixtures (the
    browser tests' live server and its job worker) connected before the test began and are
    left alone: disposing a pool under a thread that holds one of its connections would orphan
    that connection."""
    caches.clear_all()
    outer = weakref.WeakSet(_ENGINES_IN_TEST)
    threads_before = set(threading.enumerate())
    yield
    # The browser tests share a live server whose worker and browser threads come and go.
    if "live_server" not in request.fixturenames:
        _fail_on_threads_left_running(threads_before)
    for engine in list(_ENGINES_IN_TEST):
        if engine not in outer:
            engine.dispose()
            _ENGINES_IN_TEST.discard(engine)


def _fail_on_threads_left_running(before: set[threading.Thread], patience: float = 10.0) -> None:
    """A thread a test started (a job worker, a signer, a request in parallel) must have ended
    with it: left running, it goes on using a database whose engine is disposed next, and its
    connection surfaces as a ResourceWarning in a later test. Threads that are ending are
    given ``patience`` seconds in all."""
    import time

    deadline = time.monotonic() + patience
    left = [t for t in threading.enumerate() if t not in before]
    for thread in left:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    running = [t.name for t in left if t.is_alive()]
    assert not running, f"the test left threads running: {running}"


def _migrate_and_seed(engine: Engine) -> None:
    from sscmatch.vocab import load_vocabulary
    from sscmatch.workflow.countries import sync_countries

    init_db(engine)
    with session_scope(engine) as session:
        sync_countries(session, load_vocabulary())


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    _migrate_and_seed(engine)
    with engine.connect() as conn:
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    engine.dispose()
    return path


@contextlib.contextmanager
def fresh_pg_schema(prefix: str = "sscmatch_test") -> Iterator[str]:
    """The URL of a new, empty PostgreSQL schema of the test database, dropped afterwards."""
    assert PG_URL, "PostgreSQL backend requested without SSCMATCH_TEST_DATABASE_URL"
    schema = f"{prefix}_{_RUN_MARK}_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    try:
        # no wait for the disk at each commit: nothing here outlives the server
        options = f"-csearch_path%3D{schema}%20-csynchronous_commit%3Doff"
        tablespace = pg_tablespace.chosen()  # its tables' files in memory, when the run could
        if tablespace:
            options += f"%20-cdefault_tablespace%3D{tablespace}"
        yield f"{normalise_url(PG_URL)}{sep}options={options}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def process_schemas() -> Iterator[contextlib.ExitStack]:
    """Where a test process keeps what it opens for its whole life (the shared worlds'
    PostgreSQL schemas), closed with the session's fixtures.

    Not a ``config.add_cleanup``: that runs after an xdist worker has told the controller it
    finished, and the controller kills a worker that has not exited 10 s later
    (``NodeManager.EXIT_TIMEOUT``), so on a slow machine the drops were cut short and whole runs
    left ``sscmatch_world_*`` schemas behind. A session fixture's teardown runs in
    ``pytest_sessionfinish``, before the worker reports."""
    with contextlib.ExitStack() as stack:
        yield stack


@pytest.fixture(scope="session")
def pg_schema_url() -> Iterator[str]:
    with fresh_pg_schema() as url:
        engine = make_engine(url)
        _migrate_and_seed(engine)
        engine.dispose()
        yield url


# The tables a test left rows in, and those whose id sequence it drew from (emptied or not):
# emptying only those is what TRUNCATE of every table did, at a fraction of its cost (each table
# truncated is a new file on disk, about 3 ms apiece with 40 tables, on every PostgreSQL test).
# The schema's own sequences are chosen first (a materialised CTE, which the planner does not
# merge): pg_sequence_last_value locks the sequence it reads, and asked of another test
# process's sequences it waited for that process's TRUNCATE ... RESTART IDENTITY (seen in
# pg_stat_activity: one test process's emptying waiting on the other's).
_USED_SEQUENCES = text(
    """WITH own AS MATERIALIZED (
        SELECT oid FROM pg_class
        WHERE relkind = 'S' AND relnamespace = current_schema()::regnamespace
    )
    SELECT t.relname FROM own s
    JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass
        AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
    JOIN pg_class t ON t.oid = d.refobjid
    WHERE pg_sequence_last_value(s.oid) IS NOT NULL"""
)


def _empty_pg(url: str, attempts: int = 5) -> None:
    """Every table but KEEP_TABLES emptied and every id sequence restarted, as after migrating.

    A match run or an import ends with a database-wide ``ANALYZE`` (sscmatch.db.
    refresh_statistics), which also reads the other test processes' schemas: met by this
    TRUNCATE, PostgreSQL may break the deadlock by cancelling the TRUNCATE, which is tried
    again then."""
    engine = make_engine(url)
    try:
        for attempt in range(attempts):
            try:
                _truncate_used_tables(engine)
                return
            except OperationalError as error:
                if "deadlock detected" not in str(error) or attempt == attempts - 1:
                    raise
    finally:
        engine.dispose()


def _truncate_used_tables(engine: Engine) -> None:
    """TRUNCATE, not DELETE, although a TRUNCATE costs about 150 ms a test (ba81ba7 tried
    DELETE and was reverted): a DELETE leaves the emptied table's pages, dead rows and planner
    statistics behind, and this server does not vacuum by itself. After a database-wide ANALYZE
    had met a table emptied that way (0 rows in 647 pages), the next test's 80 exchanges were
    planned as 1 row, nested loops over bloated indexes, and one analytics test on the
    knowledge base ran past 11 minutes: the CI of 2026-12-07 did not finish in its 90. A
    TRUNCATE gives the table new, empty files, and the planner then estimates from them."""
    with engine.begin() as conn:
        tables = [
            r[0]
            for r in conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            )
            if r[0] not in KEEP_TABLES
        ]
        probe = " UNION ALL ".join(
            f"SELECT '{t}' WHERE EXISTS (SELECT 1 FROM \"{t}\")" for t in tables
        )
        used = {r[0] for r in conn.execute(text(probe))} if tables else set()
        used |= {r[0] for r in conn.execute(_USED_SEQUENCES)} & set(tables)
        if used:
            quoted = ", ".join(f'"{t}"' for t in sorted(used))
            conn.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database (countries loaded) on each configured backend."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "test.db"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("pg_schema_url")
    _empty_pg(url)
    return url


class _CompiledTemplates(BytecodeCache):
    """Jinja's compiled templates kept in memory for every app of this test process.

    Each test builds an app of its own, and each app's Jinja environment compiled every template
    it rendered again (50-120 ms for a page's first rendering, 5-10 ms from compiled code). The
    code of a template depends on its source alone here (every app is made by ``create_app``, with
    the same Jinja options), and Jinja keys an entry by the template's name and checks it against
    a checksum of the source, so an edited template is compiled afresh."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = _CompiledTemplates()


def _share_url_builders() -> None:
    """Every app of this test process shares werkzeug's compiled URL builders.

    Binding a route to an app's URL map compiles two builder functions for it (Python code
    generated and compiled per rule: 30 ms of the 40 ms ``create_app`` took, for each test's
    app). A builder is a function of the rule's parsed parts alone (static text, argument names,
    whether unknown arguments are appended); it reaches the rule's converters through its first
    argument, the rule it is bound to, when it runs. So the function compiled for one app's rule
    serves the same rule of the next app. Rules with defaults are compiled as before (a default
    that appears in the path is turned into text by the rule's own converter when compiling)."""
    compile_builder = getattr(Rule, "_compile_builder", None)
    if compile_builder is None:  # another werkzeug: every app compiles its own, as before
        return
    compiled: dict[tuple[Any, ...], Any] = {}

    def shared(self: Rule, append_unknown: bool = True) -> Any:
        if self.defaults:
            return compile_builder(self, append_unknown)
        key = (self.rule, append_unknown, tuple(self._trace))
        builder = compiled.get(key)
        if builder is None:
            builder = compiled[key] = compile_builder(self, append_unknown)
        return builder

    Rule._compile_builder = shared  # type: ignore[method-assign]


_share_url_builders()


def make_test_app(database_url: str, tmp_path: Path, **extra: Any) -> Flask:
    config = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        # No warming thread unless a test asks for one: an app made with TESTING false (the
        # cookie's test) would warm the network at its first request, in a thread that outlives
        # the test and holds a connection of the engine the test disposes (a ResourceWarning,
        # an error, in whichever test of that process comes next).
        "WARM_CACHE": False,
        **extra,
    }
    app = create_app(config, instance_path=str(tmp_path / "instance"))
    app.jinja_env.bytecode_cache = COMPILED_TEMPLATES
    return app


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    application = make_test_app(database_url, tmp_path)
    yield application
    application.extensions["sscmatch.engine"].dispose()


@pytest.fixture
def client(app: Flask) -> Any:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A session like the app's: a flush that finds a row changed meanwhile raises StaleVersion."""
    with VersionedSession(app.extensions["sscmatch.engine"], expire_on_commit=False) as s:
        yield s


PASSWORD = "correct-horse-battery"
ACCOUNTS = {
    "admin": ("admin@test.org", "admin", None, None),
    "secretariat": ("sec@test.org", "secretariat", None, None),
    "analyst": ("analyst@test.org", "analyst", None, None),
    "focal_gtm": ("gtm@test.org", "focal_point", "GTM", "government"),
    "focal_bra": ("bra@test.org", "focal_point", "BRA", "government"),
}


def create_accounts(engine: Engine) -> dict[str, int]:
    """The users of ``ACCOUNTS`` (one per role, two focal points); returns their ids."""
    from sscmatch.workflow.users import create_user

    ids = {}
    with session_scope(engine) as s:
        for key, (email, role, country, constituency) in ACCOUNTS.items():
            user = create_user(
                s, email, PASSWORD, role, country=country, constituency=constituency, name=key
            )
            ids[key] = user.id
    return ids


@pytest.fixture
def users(app: Flask) -> dict[str, int]:
    """One user per role (two focal points, of Guatemala and Brazil); returns their ids."""
    return create_accounts(app.extensions["sscmatch.engine"])


def sign_in(client: Any, who: str) -> Any:
    email = ACCOUNTS[who][0]
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.data[:500]
    return client


@pytest.fixture
def as_user(app: Flask, users: dict[str, int]) -> Any:
    """``as_user("secretariat")`` gives a test client signed in as that account."""

    def make(who: str) -> Any:
        return sign_in(app.test_client(), who)

    return make


def audit_trail(session: Session, *where: Any) -> list[Any]:
    """The audit events matching ``where``, in the order they were written.

    A query without ORDER BY returns rows in whatever order the database finds them: on a table
    that has had rows deleted, PostgreSQL puts new rows in the freed space, so "create, update"
    can come back "update, create". Tests that compare a record's trail read it through here."""
    from sqlmodel import col, select

    from sscmatch.models import AuditEvent

    return list(session.exec(select(AuditEvent).where(*where).order_by(col(AuditEvent.id))))
