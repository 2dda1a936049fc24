"""A world of records built once per test process and shared by the route walks that only read.

The walks over every route (odd page numbers, visibility, accessible pages, every word
translated, every list page, query names…) each built the same world for themselves: the
knowledge base, a match run, a tour, users of every role with their tokens
(``test_authorization._world``). Here it is built once per test process and backend, with each
role signed in once (its browser's cookies are kept: signing in writes an audit event), and
every walk that only reads gets an app of its own on that database.

Nothing may change the shared world: after each test its tables are compared with what they
were when it was built (``table_digest``), and a test that wrote fails (the world is built
afresh for the next). A walk that writes keeps a fresh database of its own (``app`` and
``_world``).

A module whose walks need more records defines its own world with :func:`world_fixture` and a
function that adds them; that world is built once too (per process and backend) and shared by
the module's tests alone. On SQLite it starts from a copy of the plain world's database (its users,
tokens and sessions too) rather than building the knowledge base and the match run again.
"""

from __future__ import annotations

import contextlib
import copy
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from sscmatch.db import make_engine
from tests.conftest import (
    ACCOUNTS,
    BACKENDS,
    _migrate_and_seed,
    create_accounts,
    fresh_pg_schema,
    make_test_app,
    sign_in,
)
from tests.web.test_authorization import world_values
from tests.web.test_fuzz_api import build_world, table_digest


@dataclass
class World:
    """A built world: its database, users, records and each role's signed-in cookies."""

    url: str
    users: dict[str, int]
    built: dict[str, Any]  # build_world's answer: proposal_id, run_id, tour_id, tokens, ids
    values: dict[str, Any]  # a value for every URL argument (test_authorization._world)
    tokens: dict[str, str]
    cookies: dict[str, list[tuple[str, str, str, bool, str]]] = field(default_factory=dict)
    digest: str = ""
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class Walk:
    """What a test gets: an app of its own on the shared world, and the world."""

    app: Flask
    world: World
    signed_in: set[str] = field(default_factory=set)  # the roles whose cookies were checked

    @property
    def users(self) -> dict[str, int]:
        return self.world.users

    @property
    def values(self) -> dict[str, Any]:
        return self.world.values

    @property
    def tokens(self) -> dict[str, str]:
        return self.world.tokens

    @property
    def engine(self) -> Engine:
        engine: Engine = self.app.extensions["sscmatch.engine"]
        return engine

    def client(self, who: str) -> FlaskClient:
        """A test client signed in as ``who`` (its cookies from signing in at the build), or
        anonymous for ``"anonymous"``."""
        client = self.app.test_client()
        if who == "anonymous":
            return client
        for key, value, domain, origin_only, path in self.world.cookies[who]:
            client.set_cookie(key, value, domain=domain, origin_only=origin_only, path=path)
        if who not in self.signed_in:  # signed in: one's own account page, not the sign-in
            account = client.get("/account")
            assert account.status_code == 200, f"{who}'s cookies do not sign in: {account.status}"
            self.signed_in.add(who)
        return client


Extra = Callable[[Flask, World], None]
"""Adds a module's records to a world being built (its app, the world so far)."""

_BUILT: dict[tuple[str, str], World] = {}


def _row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in SQLModel.metadata.sorted_tables
        }


def _copy_of_base(request: pytest.FixtureRequest, folder: Path, extra: Extra) -> World:
    """A SQLite world with ``extra``'s records made from a copy of the plain world (built first
    if it is not yet): building one (the knowledge base, a match run, users, sign-ins) takes
    10-15 s, adding a module's records a fraction of that. The copy keeps the plain world's
    users, tokens and sessions."""
    base = _BUILT.get(("sqlite", ""))
    if base is None:
        base = _BUILT[("sqlite", "")] = _build(request, "sqlite", None)
    path = folder / "world.db"
    source, target = sqlite3.connect(base.url.removeprefix("sqlite:///")), sqlite3.connect(path)
    try:
        source.backup(target)  # with what the write-ahead log holds, unlike a file copy
    finally:
        source.close()
        target.close()
    url = f"sqlite:///{path}"
    world = World(url, dict(base.users), copy.deepcopy(base.built), copy.deepcopy(base.values),
                  dict(base.tokens), cookies=copy.deepcopy(base.cookies))  # fmt: skip
    app = make_test_app(url, folder)
    engine: Engine = app.extensions["sscmatch.engine"]
    try:
        extra(app, world)
        world.digest = table_digest(engine)
        world.counts = _row_counts(engine)
    finally:
        engine.dispose()
    return world


def _build(request: pytest.FixtureRequest, backend: str, extra: Extra | None) -> World:
    if not _BUILT:
        request.config.add_cleanup(_BUILT.clear)
    folder: Path = request.getfixturevalue("tmp_path_factory").mktemp("world")
    if extra is not None and backend == "sqlite":
        return _copy_of_base(request, folder, extra)
    if backend == "sqlite":
        path = folder / "world.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        # dropped with the session's fixtures: see process_schemas
        closing: contextlib.ExitStack = request.getfixturevalue("process_schemas")
        url = closing.enter_context(fresh_pg_schema("sscmatch_world"))
        migrating = make_engine(url)
        _migrate_and_seed(migrating)
        migrating.dispose()
    app = make_test_app(url, folder)
    engine: Engine = app.extensions["sscmatch.engine"]
    try:
        users = create_accounts(engine)
        built = build_world(app, users)
        found = world_values(app, users, built)
        world = World(url, users, built, found["values"], found["tokens"])
        if extra is not None:
            extra(app, world)
        for who in ACCOUNTS:
            client = sign_in(app.test_client(), who)
            world.cookies[who] = [
                (c.key, c.decoded_value, c.domain, c.origin_only, c.path)
                for c in client._cookies.values()
            ]
            assert world.cookies[who], f"signing in as {who} left no cookie"
        world.digest = table_digest(engine)
        world.counts = _row_counts(engine)
    finally:
        engine.dispose()
    return world


def _use_world(
    request: pytest.FixtureRequest, tmp_path: Path, extra: Extra | None = None
) -> Iterator[Walk]:
    """The shared world of ``request.param``'s backend (with ``extra``'s records), an app of
    the test's own on it, and after the test the check that nothing changed."""
    backend = request.param
    key = (backend, f"{extra.__module__}.{extra.__qualname__}" if extra else "")
    world = _BUILT.get(key)
    if world is None:
        world = _BUILT[key] = _build(request, backend, extra)
    app = make_test_app(world.url, tmp_path)
    walk = Walk(app, world)
    try:
        yield walk
        digest = table_digest(walk.engine)
        if digest != world.digest:
            del _BUILT[key]  # the next test gets a world built afresh
            counts = _row_counts(walk.engine)
            changed = {
                t: f"{world.counts.get(t)} -> {n}"
                for t, n in counts.items()
                if world.counts.get(t) != n
            }
            pytest.fail(
                "the test wrote to the shared, read-only world (a walk that writes needs a "
                f"database of its own: the app and _world fixtures); rows: {changed or 'same'}"
            )
    finally:
        walk.engine.dispose()


def world_fixture(extra: Extra | None = None) -> Any:
    """A fixture of the shared world with ``extra``'s records, on each configured backend."""

    @pytest.fixture(params=BACKENDS)
    def fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Walk]:
        yield from _use_world(request, tmp_path, extra)

    return fixture
