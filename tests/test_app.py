"""The factory, its configuration layers and the landing page."""

from __future__ import annotations

from pathlib import Path

import pytest

from sscmatch import create_app
from sscmatch.db import normalise_url


def test_defaults_give_sqlite_in_instance_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app(instance_path=str(tmp_path))
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'sscmatch.db'}"
    assert app.config["PAGE_SIZE"] == 25


def test_environment_overrides_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/env.db")
    monkeypatch.setenv("SSCMATCH_PAGE_SIZE", "50")
    monkeypatch.setenv("SSCMATCH_DEMO", "true")
    app = create_app(instance_path=str(tmp_path))
    assert app.config["DATABASE_URL"].endswith("env.db")
    assert app.config["PAGE_SIZE"] == 50
    assert app.config["DEMO"] is True


def test_instance_config_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSCMATCH_PAGE_SIZE", raising=False)
    (tmp_path / "config.py").write_text("PAGE_SIZE = 7\n")
    assert create_app(instance_path=str(tmp_path)).config["PAGE_SIZE"] == 7


def test_test_config_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSCMATCH_PAGE_SIZE", "50")
    app = create_app({"PAGE_SIZE": 3, "TESTING": True}, instance_path=str(tmp_path))
    assert app.config["PAGE_SIZE"] == 3 and app.testing


def test_secret_key_generated_once_and_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = create_app(instance_path=str(tmp_path)).config["SECRET_KEY"]
    second = create_app(instance_path=str(tmp_path)).config["SECRET_KEY"]
    assert first == second and len(first) == 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_postgres_urls_use_psycopg3(given: str, expected: str) -> None:
    assert normalise_url(given) == expected


def test_landing_page_serves_counts(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/")
    assert response.status_code == 200
    assert b"capacities" in response.data


def test_health_check(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_unknown_page_is_a_friendly_404(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert b"Back to the home page" in response.data


def test_unknown_api_path_answers_json(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_first_request_warms_the_network_cache_in_the_background(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from sscmatch.analytics import data
    from tests.conftest import make_test_app

    called = threading.Event()
    monkeypatch.setattr(data, "warm_cache", lambda engine: called.set())
    app = make_test_app(database_url, tmp_path, WARM_CACHE=True)
    assert not called.is_set()  # creating the app (as CLI commands do) warms nothing
    app.test_client().get("/")
    assert called.wait(5)
    app.extensions["sscmatch.engine"].dispose()


@pytest.mark.parametrize(
    ("testing", "setting", "warms"),
    [(False, None, True), (True, None, False), (False, False, False), (True, True, True)],
)
def test_the_network_cache_is_warmed_as_its_setting_says(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    testing: bool,
    setting: bool | None,
    warms: bool,
) -> None:
    """``WARM_CACHE`` unset means yes, except when testing (config.SETTINGS): before, the
    declared default (None) was always found in the config, so an unset WARM_CACHE never
    warmed, on any server."""
    import threading

    from sscmatch.analytics import data
    from tests.conftest import make_test_app

    called = threading.Event()
    monkeypatch.setattr(data, "warm_cache", lambda engine: called.set())
    app = make_test_app(database_url, tmp_path, TESTING=testing, WARM_CACHE=setting)
    app.test_client().get("/")
    assert called.wait(5 if warms else 0.5) is warms
    app.extensions["sscmatch.engine"].dispose()
