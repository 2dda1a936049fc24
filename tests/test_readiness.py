"""A database the code cannot use (not set up, an older or a newer version's schema, out of
reach) is refused with what to do, by every route of the app and every command of the CLI, and
nothing is written (sscmatch/schema.py, sscmatch/web/readiness.py, sscmatch/cli.py). Before, an
update deployed without ``sscmatch init-db`` answered every page 500 and ``/healthz`` "ok", and
the commands printed tracebacks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, url_for
from sqlalchemy import inspect, text

from sscmatch.cli import RUN_ON_ANY_SCHEMA
from sscmatch.db import alembic_config, init_db, make_engine
from sscmatch.schema import schema_state
from sscmatch.workflow.reminders import catalogue
from tests.conftest import BACKENDS, create_accounts, fresh_pg_schema, make_test_app, sign_in

# Arguments each command needs to get past its own usage checks (a command added without an
# entry here runs with none: if it needs some, this test says so by its usage error).
COMMAND_ARGS: dict[str, list[str]] = {
    "backup": ["{tmp}/backup.json"],
    "create-user": ["--email", "a@b.org", "--role", "admin", "--password", "x" * 16],
    "export": ["{tmp}/out"],
    "export-network": ["{tmp}/net.gexf"],
    "import": ["data"],
    "restore": ["{tmp}/backup.json"],
    "worker": ["--once"],
}


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no schema at all, on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    with fresh_pg_schema("sscmatch_ready") as url:
        yield url


def _app(url: str, tmp_path: Path) -> Flask:
    app = make_test_app(url, tmp_path)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a 500 is answered, not raised into the test
    return app


def _every_route(app: Flask) -> list[tuple[str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        with app.test_request_context():
            path = url_for(rule.endpoint, **dict.fromkeys(rule.arguments, 1))
        found += [(m, path) for m in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})]
    return found


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_every_route_answers_503_with_the_cause_on_a_database_not_set_up(
    empty_url: str, tmp_path: Path
) -> None:
    app = _app(empty_url, tmp_path)
    client = app.test_client()
    with client.session_transaction() as session:  # a signed-in visitor's cookie, too
        session["_user_id"] = "1"
    wrong = []
    for method, path in _every_route(app):
        answer = client.open(path, method=method, headers={"Accept-Language": "es"})
        said = answer.get_data(as_text=True)
        if answer.status_code != 503 or "sscmatch init-db" not in said:
            wrong.append(f"{method} {path}: {answer.status_code} {said[:80]!r}")
        elif path.startswith("/api/") and answer.json["error"] != "database_not_ready":
            wrong.append(f"{method} {path}: {answer.json}")
        elif answer.headers.get("Retry-After") != "30":
            wrong.append(f"{method} {path}: no Retry-After")
    assert not wrong, "\n".join(wrong)
    assert len(_every_route(app)) > 100  # the walk saw the app
    with client.get("/static/css/app.css") as style:  # the page's own style is served
        assert style.status_code == 200
    assert _tables(empty_url) <= {"alembic_version"}  # nothing was written


@pytest.mark.parametrize("lang", ["en", "es", "pt", "fr"])
def test_the_refusal_is_said_in_the_visitors_language(tmp_path: Path, lang: str) -> None:
    app = _app(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path)
    expected = catalogue(lang).ugettext("Not available")
    if lang != "en":
        assert expected != "Not available", f"no {lang} translation"
    by_browser = app.test_client().get("/", headers={"Accept-Language": lang})
    assert f'<html lang="{lang}">' in by_browser.get_data(as_text=True)
    assert expected in by_browser.get_data(as_text=True)
    chosen = app.test_client()
    with chosen.session_transaction() as session:  # the language the visitor picked wins
        session["lang"] = lang
    answer = chosen.get(
        "/api/v1/needs", headers={"Accept-Language": "en" if lang != "en" else "fr"}
    )
    assert answer.status_code == 503
    message = answer.json["message"]
    assert message == catalogue(lang).ugettext(
        "The service's database has not been set up yet: an administrator runs "
        "“sscmatch init-db”, then this page works."
    )


def test_an_older_schema_is_refused_until_init_db_then_served_without_a_restart(
    empty_url: str, tmp_path: Path
) -> None:
    from alembic import command

    engine = make_engine(empty_url)
    head = schema_state(engine).head
    command.upgrade(alembic_config(engine), "head-1")
    older = schema_state(engine).current
    assert older and older != head
    app = _app(empty_url, tmp_path)
    client = app.test_client()
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.json["status"] == "database_not_ready"
    assert (health.json["database_revision"], health.json["needed_revision"]) == (older, head)
    page = client.get("/login").get_data(as_text=True)
    assert older in page and head in page and "sscmatch init-db" in page
    init_db(engine)  # what the page says to run
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/login").status_code == 200
    engine.dispose()


def test_a_newer_versions_schema_is_refused(database_url: str, tmp_path: Path) -> None:
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    try:
        app = _app(database_url, tmp_path)
        answer = app.test_client().get("/healthz")
        assert answer.status_code == 503
        assert "newer version" in answer.json["message"]
        result = app.test_cli_runner().invoke(args=["jobs"])
        assert result.exit_code == 1
        assert "does not know" in result.output
    finally:
        with engine.begin() as connection:
            head = schema_state(engine).head
            connection.execute(text("UPDATE alembic_version SET version_num = :h"), {"h": head})
        engine.dispose()


def test_a_database_out_of_reach_is_a_503_not_a_500(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no-such-folder' / 'x.db'}"  # SQLite cannot open it
    app = _app(url, tmp_path)
    for path in ("/", "/login", "/healthz", "/api/v1/needs"):
        answer = app.test_client().get(path)
        assert answer.status_code == 503, path
        assert "cannot reach its database" in answer.get_data(as_text=True), path
    result = app.test_cli_runner().invoke(args=["jobs"])
    assert result.exit_code == 1 and "cannot reach the database" in result.output


def test_every_command_refuses_a_database_not_set_up_and_writes_nothing(
    empty_url: str, tmp_path: Path
) -> None:
    app = _app(empty_url, tmp_path)
    runner = app.test_cli_runner()
    (tmp_path / "backup.json").write_text("{}")
    checked = []
    for name in sorted(set(app.cli.commands) - RUN_ON_ANY_SCHEMA):
        args = [a.format(tmp=tmp_path) for a in COMMAND_ARGS.get(name, [])]
        result = runner.invoke(args=[name, *args])
        assert result.exit_code == 1, f"{name}: exit {result.exit_code}\n{result.output}"
        assert "run `sscmatch init-db`" in result.output, f"{name}: {result.output}"
        assert "Traceback" not in result.output
        checked.append(name)
    assert _tables(empty_url) <= {"alembic_version"}
    assert {"import", "match", "worker", "calibrate", "create-user"} <= set(checked)


def test_init_db_runs_on_a_database_not_set_up(empty_url: str, tmp_path: Path) -> None:
    result = _app(empty_url, tmp_path).test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert schema_state(make_engine(empty_url)).ready


def test_a_database_lost_while_serving_is_a_503_then_checked_again(
    database_url: str, tmp_path: Path
) -> None:
    """Ready, then the database goes (a restart, the network): every page and the API answer
    503 with the cause instead of a 500, and serve again once it is back, without a restart."""
    app = _app(database_url, tmp_path)
    create_accounts(app.extensions["sscmatch.engine"])
    client = sign_in(app.test_client(), "secretariat")  # pages that read the database
    assert client.get("/needs").status_code == 200  # ready: the checks have ended
    kept = app.extensions["sscmatch.engine"]
    app.extensions["sscmatch.engine"] = make_engine(
        f"sqlite:///{tmp_path / 'gone' / 'x.db'}"
        if database_url.startswith("sqlite")
        else "postgresql://nobody@127.0.0.1:1/gone"
    )
    try:
        for path in ("/", "/needs", "/review/queue", "/healthz"):
            answer = client.get(path)
            assert answer.status_code == 503, (path, answer.status_code)
            assert "cannot reach its database" in answer.get_data(as_text=True), path
    finally:
        app.extensions["sscmatch.engine"].dispose()
        app.extensions["sscmatch.engine"] = kept
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/needs").status_code == 200
