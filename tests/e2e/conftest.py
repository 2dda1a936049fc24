"""Browser tests: the real app on a loopback port, driven by Playwright in Debian's Chromium.

One server per database backend and one browser per test session (fast); each test gets a fresh
browser context (no cookies carried over) through the ``page`` fixture. The database is a fresh
SQLite file, and with ``SSCMATCH_TEST_DATABASE_URL`` also a fresh PostgreSQL schema (every browser
test then runs on both, like the other database tests: ``live_server`` is parametrised by backend,
so pytest runs all of them on SQLite, then all of them on PostgreSQL), with the knowledge base of
``data/`` imported and the demo accounts created, as ``scripts/run`` would make it; it is shared
by every browser test of the session, so a journey creates records with names of its own rather
than counting on an empty table. Screenshots are the SQLite pass's: the PostgreSQL pass walks
the same steps through the same templates, and its 150 full-page screenshots took 36 s of the
suite's time for pictures nobody compared (its downloads and digests still go to
``test-artifacts/e2e/postgresql/``).

Writing a journey::

    pytestmark = pytest.mark.e2e

    def test_something(page, sign_in, shot):
        sign_in(page, "secretariat")          # a demo account, by role or country key
        page.goto("/review")
        shot(page, "queue")                   # test-artifacts/e2e/<test>/01-queue.png
        page.locator("form button[type=submit]").click()
        expect(page.locator(".flash")).to_contain_text("...")   # waits for the page it leads to

A journey judges the page with Playwright's web-first assertions (``expect``, re-exported here,
and ``expect_at_least``), which retry until the page is in that state: a click that submits a form
returns before the next page is there, and a ``locator.count()`` or ``inner_text()`` read at that
instant reads the old page (``tests/test_e2e_waits.py`` holds every journey to that).

When Chromium (``/usr/bin/chromium``, or ``SSCMATCH_CHROMIUM``) or Playwright is missing, every
browser test is skipped with the way to get them: ``scripts/e2e_setup``. CI runs that first.
"""

from __future__ import annotations

import contextlib
import faulthandler
import importlib
import logging
import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from sscmatch import PROJECT_ROOT, create_app
from sscmatch.bundle import import_bundle
from sscmatch.db import init_db, session_scope
from sscmatch.vocab import load_vocabulary
from sscmatch.workflow.countries import sync_countries
from sscmatch.workflow.users import DEMO_ACCOUNTS, DemoAccount, ensure_demo_users
from tests.conftest import BACKENDS, fresh_pg_schema

CHROMIUM = Path(os.environ.get("SSCMATCH_CHROMIUM", "/usr/bin/chromium"))
SKIP_REASON = "Chromium not installed: run scripts/e2e_setup"
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "e2e"
# Chromium as this machine runs it: headless, no sandbox as root, no calls to Google's services.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
TIMEOUT_MS = 20_000
"""How long an action or an expectation may wait for the page. Not a speed check (the benchmarks
are): on the 2-core machine under the whole suite a page once came after 10 s, the form sent and
answered, the user created, while the slowest tests ran 20-50% slower than twenty minutes before
(docs/test-time.md, 2026-12-06 late evening); a page that never comes still fails."""

try:
    from playwright.sync_api import expect
except ImportError:  # every browser test is skipped then (the browser fixture says why)
    expect = None
else:
    expect.set_options(timeout=TIMEOUT_MS)  # as long as an action may wait


def expect_at_least(locator: Any, n: int) -> None:
    """Waits until ``locator`` matches ``n`` elements or more: ``locator.count() >= n``, retried
    (hidden ones count too, as they do for ``count()``)."""
    expect(locator.nth(n - 1)).to_be_attached()


# The elements that reach past the screen's right edge, innermost first (what a failure names).
# An element inside a box that scrolls or clips sideways (a table on a phone scrolls inside
# itself) does not widen the page, so it is left out (naming it hid the real culprit once); a
# scrolling box that itself sticks out is named.
WIDE_JS = """w => { const out = [];
  const clipped = el => { for (let p = el.parentElement; p && p !== document.body; p = p.parentElement)
      if (getComputedStyle(p).overflowX !== 'visible') return true;
    return false; };
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    const leaf = !el.querySelector('*:not(:empty)');
    const scroller = getComputedStyle(el).overflowX !== 'visible';
    if (r.width && r.right > w + 1 && (leaf || scroller) && !clipped(el))
      out.push(el.tagName.toLowerCase() + (el.className ? '.' + el.className : '') + ' ' +
        Math.round(r.right) + ' px: ' + (el.textContent || '').trim().slice(0, 60));
  } return out.slice(0, 5); }"""


def assert_fits(page: Any, width: int = 390) -> None:
    """The page does not scroll sideways on a ``width`` px screen; a failure names what sticks
    out (a one-off in CI said only the page's width, which nobody could reproduce). It judges
    the loaded page: a page still fetching its style sheets is laid out without them."""
    page.wait_for_load_state("load")
    wide = page.evaluate("document.documentElement.scrollWidth")
    if wide > width + 1:
        culprits = page.evaluate(WIDE_JS, width)
        raise AssertionError(f"{page.url} is {wide} px wide on a {width} px screen: {culprits}")


# Demo accounts by a short key: the role, or the country code (lower case) for focal points.
DEMO: dict[str, DemoAccount] = {
    (a.country.lower() if a.country else a.role): a for a in DEMO_ACCOUNTS
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when == "call":
        item.stash[_FAILED] = report.failed
        if report.failed:
            report.sections.append(
                ("pages at the failure", _pages_shown(item.stash.get(_PAGES, [])))
            )


_FAILED = pytest.StashKey[bool]()
_PAGES = pytest.StashKey[list[Any]]()
SHOWN_CHARS = 1500


def _pages_shown(pages: list[Any]) -> str:
    """Each page's address and the start of what its ``main`` showed, in the failure's report:
    CI keeps the log, not the screenshots (a journey once found a commitment fulfilled without
    its evidence link in CI, and nothing said what the page held)."""
    out = []
    for number, page in enumerate(pages, start=1):
        try:
            text = page.locator("main").first.inner_text(timeout=2000)
        except Exception as exc:  # a closed or stuck page must not hide the test's failure
            text = f"(not read: {type(exc).__name__})"
        out.append(f"page {number}: {page.url}\n{text[:SHOWN_CHARS]}")
    return "\n\n".join(out)


@dataclass(frozen=True)
class LiveServer:
    url: str
    app: Flask
    backend: str = "sqlite"

    @property
    def artifacts(self) -> Path:
        """Where this backend's screenshots go."""
        return artifacts_root(self.backend)


def artifacts_root(backend: str) -> Path:
    return ARTIFACTS if backend == "sqlite" else ARTIFACTS / backend


@contextlib.contextmanager
def _database(backend: str, folder: Path) -> Iterator[str]:
    """A fresh SQLite file, or a fresh PostgreSQL schema dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'e2e.db'}"
        return
    with fresh_pg_schema("sscmatch_e2e") as url:
        yield url


def _prepare_database(app: Flask) -> None:
    """What ``sscmatch init-db``, ``import data`` and ``demo-users`` do for ``scripts/run``."""
    engine = app.extensions["sscmatch.engine"]
    vocab = load_vocabulary()
    init_db(engine)
    with session_scope(engine) as session:
        sync_countries(session, vocab)
    with session_scope(engine) as session:
        import_bundle(session, PROJECT_ROOT / "data", vocab)
    with session_scope(engine) as session:
        ensure_demo_users(session, True)


def _start_worker(app: Flask, stop: threading.Event) -> threading.Thread | None:
    """A job worker beside the server, as ``scripts/run`` starts one: match runs, imports and
    calibrations begun in the browser are carried out by it (None when this tree has no job
    workers and the web process computes them itself)."""
    try:
        worker = importlib.import_module("sscmatch.jobs.worker")
    except ImportError:
        return None
    thread = threading.Thread(
        target=worker.run_worker,
        args=(app,),
        kwargs={"stop": stop, "name": "e2e-worker", "poll": 0.2},
        name="e2e-worker",
        daemon=True,
    )
    thread.start()
    return thread


def _whole_answers(app: Any) -> Any:
    """The app, each answer read whole (and closed) before it is sent. A browser that leaves a
    page drops the connections of what it was still fetching; werkzeug's development server
    then leaves the answer unclosed (a static file's handle), and the ResourceWarning of its
    collection failed whichever test ran at that moment (``test_phone_filters``, once). The
    answers here are small and none streams without end."""

    def whole(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        answer = app(environ, start_response)
        try:
            return [b"".join(answer)]
        finally:
            close = getattr(answer, "close", None)
            if close is not None:
                close()

    return whole


@pytest.fixture(scope="package", params=BACKENDS)
def live_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The app in demo mode on 127.0.0.1 and a free port, served from a background thread, on
    each configured database backend. Package scope: the server and its job worker stop when
    the browser tests end, so the worker's thread does not go on reading the database (and
    flushing sessions) under the tests that come after them."""
    backend = str(request.param)
    folder = tmp_path_factory.mktemp(f"e2e-{backend}")
    with _database(backend, folder) as url:
        app = create_app(
            {
                "DATABASE_URL": url,
                "SECRET_KEY": "e2e-secret",
                "DEMO": True,
                # The journeys send the day's digests themselves (`sscmatch remind`), so the
                # worker does not send them first.
                "REMIND_AT": "off",
            },
            instance_path=str(folder / "instance"),
        )
        _prepare_database(app)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        server = make_server("127.0.0.1", 0, _whole_answers(app), threaded=True)
        thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
        thread.start()
        stop_worker = threading.Event()
        worker = _start_worker(app, stop_worker)
        try:
            yield LiveServer(f"http://127.0.0.1:{server.server_port}", app, backend)
        finally:
            stop_worker.set()
            if worker is not None:
                worker.join(timeout=30)
            server.shutdown()
            thread.join(timeout=10)
            server.server_close()
            app.extensions["sscmatch.engine"].dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole session (skipped when it is not installed)."""
    if not CHROMIUM.exists():
        pytest.skip(SKIP_REASON)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip(SKIP_REASON)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_page(
    browser: Any, live_server: LiveServer, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Any]]:
    """``new_page(locale="es-ES")`` opens a page in a fresh context (a second person, say)."""
    contexts: list[Any] = []
    pages: list[Any] = []

    def make(locale: str = "en-GB") -> Any:
        context = browser.new_context(
            base_url=live_server.url, locale=locale, viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        pages.append(page)
        request.node.stash[_PAGES] = pages
        return page

    yield make
    if request.node.stash.get(_FAILED, False):
        folder = _artifact_folder(request.node.name, live_server.backend)
        # The live server and its job worker run in this process: where each of their threads
        # stands when a page did not come (a request waiting on a lock, a job holding one) is
        # what a timeout needs to be understood (test_layout once waited 10 s for a page).
        with (folder / "failure-threads.txt").open("w") as out:
            faulthandler.dump_traceback(out, all_threads=True)
        for number, page in enumerate(pages, start=1):
            # A failed screenshot must not hide the test's own failure.
            with contextlib.suppress(Exception):
                page.screenshot(path=str(folder / f"failure-{number}.png"), full_page=True)
    for context in contexts:
        context.close()


HELD = "(window.sscHeld = window.sscHeld || []).push(function () {\n%s\n});"


def hold_scripts(page: Any) -> Callable[[], None]:
    """Holds back the page's scripts (``static/js``) from the next page load on; returns what
    runs them, in their order. As on a slow connection, the person can click and type before
    any script has run (what a script does on load must not undo what they did meanwhile)."""

    def held(route: Any) -> None:
        script = route.fetch()
        route.fulfill(response=script, body=HELD % script.text())

    page.route("**/static/js/*.js", held)
    return lambda: page.evaluate("() => (window.sscHeld || []).forEach(function (run) { run(); })")


@pytest.fixture
def page(new_page: Callable[..., Any]) -> Any:
    """A page in a fresh browser context, English by default, with relative ``goto`` URLs."""
    return new_page()


def _artifact_folder(test_name: str, backend: str = "sqlite") -> Path:
    """``test-artifacts/e2e/[postgresql/]<test>``: the backend is a folder of its own, not a
    part of the test's folder name (``test_x[sqlite]`` → ``test_x``, ``[admin-sqlite]`` →
    ``[admin]``)."""
    base, _, params = test_name.partition("[")
    kept = [p for p in params.rstrip("]").split("-") if p and p not in ("sqlite", "postgresql")]
    name = f"{base}[{'-'.join(kept)}]" if kept else base
    folder = artifacts_root(backend) / re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def artifacts(request: pytest.FixtureRequest, live_server: LiveServer) -> Path:
    """This test's artifact folder (screenshots, downloads, digests) for its backend."""
    return _artifact_folder(request.node.name, live_server.backend)


@pytest.fixture
def shot(request: pytest.FixtureRequest, live_server: LiveServer) -> Callable[[Any, str], Path]:
    """``shot(page, "step")`` saves a numbered full-page screenshot of the step (on SQLite; on
    PostgreSQL it only names the file it would be: see the module's docstring)."""
    folder = _artifact_folder(request.node.name, live_server.backend)
    for old in folder.glob("*.png"):
        old.unlink()
    counter = iter(range(1, 1000))

    def take(page: Any, name: str) -> Path:
        path = folder / f"{next(counter):02d}-{name}.png"
        if live_server.backend == "sqlite":
            page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def sign_in() -> Callable[[Any, str], DemoAccount]:
    """``sign_in(page, "admin")`` signs a demo account in through the login form."""

    def go(page: Any, who: str) -> DemoAccount:
        account = DEMO[who]
        page.goto("/login")
        form = page.locator("main form")
        form.locator("input[name=email]").fill(account.email)
        form.locator("input[name=password]").fill(account.password)
        form.locator("button[type=submit]").click()
        expect(page, f"sign-in as {who} failed").not_to_have_url(re.compile("/login"))
        page.wait_for_load_state()  # the next page's, now that it is there
        return account

    return go
