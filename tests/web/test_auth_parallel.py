"""Parallel sign-in attacks against the app served by gunicorn (3 worker processes × 4 threads),
on SQLite and PostgreSQL: real concurrent clients, each with its own connection and cookies,
released together by a barrier after fetching the sign-in form (CSRF on, as deployed).

The app runs behind one trusted proxy (``TRUSTED_PROXIES=1``), so each client names its address
in ``X-Forwarded-For``, as a reverse proxy would for clients all over the world.

- many clients guessing one account at once check exactly ``ACCOUNT.attempts`` passwords; the
  rest are refused without a check; the owner's browser still signs in;
- one client guessing many e-mails at once checks exactly ``CLIENT.attempts`` passwords;
- an e-mail with an account and one without get the same answers, status and page.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from sscmatch.db import make_engine, session_scope
from sscmatch.workflow import throttle
from sscmatch.workflow.users import create_user
from tests.conftest import (
    ACCOUNTS,
    BACKENDS,
    PASSWORD,
    _empty_pg,
    _migrate_and_seed,
    fresh_pg_schema,
)

WRONG = "not-the-password"
GUNICORN = Path(sys.executable).with_name("gunicorn")


@dataclass
class Browser:
    """A client with its own connection, address and cookies. Cookies are kept by hand: the
    session cookie is ``Secure`` as deployed, and a cookie jar would not send it over HTTP."""

    base: str
    address: str
    cookies: dict[str, str] = field(default_factory=dict)
    http: requests.Session = field(default_factory=requests.Session)

    def _send(self, method: str, path: str, **kw: Any) -> requests.Response:
        response = self.http.request(
            method,
            self.base + path,
            headers={"X-Forwarded-For": self.address},
            cookies=self.cookies,
            allow_redirects=False,
            timeout=60,
            **kw,
        )
        self.cookies.update(response.cookies.get_dict())
        self.http.cookies.clear()
        return response

    def form_token(self) -> str:
        page = self._send("GET", "/login").text
        found = re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', page)
        assert found, page[:500]
        return found.group(1)

    def sign_in(self, email: str, password: str, token: str | None = None) -> requests.Response:
        data = {"email": email, "password": password, "csrf_token": token or self.form_token()}
        return self._send("POST", "/login", data=data)

    def get(self, path: str) -> requests.Response:
        return self._send("GET", path)


@pytest.fixture(scope="module", params=BACKENDS)
def _database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database of this module's own (countries loaded), on each backend."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path_factory.mktemp("parallel") / "served.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    with fresh_pg_schema("sscmatch_parallel") as url:
        engine = make_engine(url)
        _migrate_and_seed(engine)
        engine.dispose()
        yield url


@pytest.fixture(scope="module")
def _server(_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """gunicorn serving the module's database; yields its base URL. One server for the module:
    starting one (3 workers, each importing the app) took 6-19 s on a busy machine, most of
    each test's time; ``served`` gives each test the database as it was when it started."""
    folder = tmp_path_factory.mktemp("gunicorn")
    env = {
        **os.environ,
        "SSCMATCH_DATABASE_URL": _database,
        "SECRET_KEY": "parallel-test-secret",
        "SSCMATCH_INSTANCE_PATH": str(folder / "served-instance"),
        "SSCMATCH_TRUSTED_PROXIES": "1",
        "SSCMATCH_WARM_CACHE": "false",
    }
    env.pop("DATABASE_URL", None)
    log_path = folder / "gunicorn.log"
    with log_path.open("w") as log:
        command = [str(GUNICORN), "-w", "3", "--threads", "4", "-b", "127.0.0.1:0"]
        server = subprocess.Popen(
            [*command, "--timeout", "120", "sscmatch:create_app()"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield _wait_until_up(server, log_path)
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def served(_server: str, _database: str, sqlite_template: Path) -> str:
    """The served base URL, its database brought back to a fresh one (migrated, countries
    loaded: every other table as in the migrated template, on PostgreSQL emptied as each test's
    database is) with one user per role (the ``users`` fixture's accounts)."""
    if _database.startswith("sqlite"):
        _restore_sqlite(_database, sqlite_template)
    else:
        _empty_pg(_database)
    engine = make_engine(_database)
    try:
        with session_scope(engine) as s:
            for key, (email, role, country, constituency) in ACCOUNTS.items():
                create_user(
                    s, email, PASSWORD, role, country=country, constituency=constituency, name=key
                )
    finally:
        engine.dispose()
    return _server


def _restore_sqlite(url: str, template: Path) -> None:
    """Every table of the SQLite database at ``url`` holds what the template's holds (the
    change-version row too, which the triggers of the other tables write while they are
    emptied and filled)."""
    conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, timeout=60)
    try:
        conn.execute("PRAGMA foreign_keys=OFF")
        conn.execute("ATTACH DATABASE ? AS template", (str(template),))
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM template.sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%'"
            )
        ]
        tables.sort(key=lambda table: table == "data_change")  # written by the others' triggers
        conn.execute("BEGIN IMMEDIATE")
        for table in tables:
            conn.execute(f'DELETE FROM main."{table}"')
        for table in tables:
            conn.execute(f'INSERT INTO main."{table}" SELECT * FROM template."{table}"')
        conn.execute('DELETE FROM main."data_change"')
        conn.execute('INSERT INTO main."data_change" SELECT * FROM template."data_change"')
        conn.execute("COMMIT")
        conn.execute("DETACH DATABASE template")
    finally:
        conn.close()


def _wait_until_up(server: subprocess.Popen[bytes], log_path: Path) -> str:
    """The base URL once gunicorn listens (on a free port it chose) and answers."""
    for _ in range(600):
        assert server.poll() is None, log_path.read_text()
        found = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", log_path.read_text())
        if found:
            try:
                with requests.get(found.group(1) + "/login", timeout=30) as response:
                    if response.status_code == 200:
                        return found.group(1)
            except requests.RequestException:  # not listening yet, or a worker still booting
                pass
        threading.Event().wait(0.1)
    raise AssertionError(f"gunicorn did not answer:\n{log_path.read_text()}")


def _all_at_once(browsers: list[Browser], emails: list[str], password: str) -> list[Any]:
    """Each browser fetches its form, then all post together; returns the responses in order."""
    tokens = [b.form_token() for b in browsers]
    barrier = threading.Barrier(len(browsers))
    results: list[Any] = [None] * len(browsers)

    def attempt(index: int) -> None:
        barrier.wait(timeout=60)
        try:
            results[index] = browsers[index].sign_in(emails[index], password, tokens[index])
        except Exception as exc:  # shown by the assertion below
            results[index] = exc

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(len(browsers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a client hung"
    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    return results


def test_parallel_guesses_at_one_account_check_the_limit_and_no_more(served: str) -> None:
    owner = Browser(served, "10.0.0.1")
    assert owner.sign_in("sec@test.org", PASSWORD).status_code == 302  # their usual browser

    attackers = [Browser(served, f"10.1.{i // 250}.{i % 250 + 1}") for i in range(30)]
    answers = _all_at_once(attackers, ["sec@test.org"] * len(attackers), WRONG)
    statuses = Counter(r.status_code for r in answers)
    assert statuses == {401: throttle.ACCOUNT.attempts, 429: 30 - throttle.ACCOUNT.attempts}

    stranger = Browser(served, "10.2.0.1")  # the right password, from a browser never used
    assert stranger.sign_in("sec@test.org", PASSWORD).status_code == 429
    signed_in = owner.sign_in("sec@test.org", PASSWORD)  # the owner is not locked out
    assert signed_in.status_code == 302
    assert owner.get("/account").status_code == 200


def test_one_client_guessing_many_emails_in_parallel_is_held_to_its_limit(served: str) -> None:
    count = throttle.CLIENT.attempts * 2
    browsers = [Browser(served, "10.3.0.1") for _ in range(count)]
    emails = [f"guess{i}@test.org" for i in range(count)]
    answers = _all_at_once(browsers, emails, WRONG)
    statuses = Counter(r.status_code for r in answers)
    assert statuses == {401: throttle.CLIENT.attempts, 429: count - throttle.CLIENT.attempts}
    assert Browser(served, "10.3.0.1").sign_in("gtm@test.org", PASSWORD).status_code == 429
    assert Browser(served, "10.3.0.2").sign_in("gtm@test.org", PASSWORD).status_code == 302


def _page(response: Any, email: str) -> str:
    page = response.text.replace(email, "<e-mail>")
    return re.sub(r'name="csrf_token"( type="hidden")? value="[^"]*"', "csrf", page)


def test_an_email_with_an_account_and_one_without_get_the_same_answers(served: str) -> None:
    known, unknown = "analyst@test.org", "no-such-person@test.org"
    per_email = 12
    browsers = [Browser(served, f"10.4.{i // 200}.{i % 200 + 1}") for i in range(2 * per_email)]
    emails = [known] * per_email + [unknown] * per_email
    answers = _all_at_once(browsers, emails, WRONG)
    by_email: dict[str, Counter[int]] = {known: Counter(), unknown: Counter()}
    pages: dict[tuple[str, int], set[str]] = {}
    for email, response in zip(emails, answers, strict=True):
        by_email[email][response.status_code] += 1
        pages.setdefault((email, response.status_code), set()).add(_page(response, email))
    expected = {401: throttle.ACCOUNT.attempts, 429: per_email - throttle.ACCOUNT.attempts}
    assert by_email[known] == by_email[unknown] == expected
    for status in (401, 429):
        assert pages[(known, status)] == pages[(unknown, status)], status
        assert len(pages[(known, status)]) == 1
