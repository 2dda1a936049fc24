"""Every setting is checked when the app is made: a value the service cannot use stops it in one
line naming the setting, what it must be and what it got, instead of a 500 on the first page
that reads it, a job that fails every day, or a value silently taken for another.

The class: every setting of ``config.SETTINGS`` (a new one fails here until it has a wrong value
below), by every way it arrives: the app's mapping (``instance/config.py``, a test's config) and
the environment (``SSCMATCH_<NAME>``, parsed as JSON where it parses; text settings as typed).
What these values did before the check (seen before the fix): ``PAGE_SIZE`` 0 or ``"abc"`` a 500
on the lists (``ZeroDivisionError``, ``ValueError``); ``MAX_UPLOAD_MB`` 0 a 413 on every form,
signing in included, ``"big"`` a traceback; ``TOUR_RATES`` ``{"per_diem_usd": 180}`` (the
documented example) "unknown cost rate" on every tour drafted, ``180`` silently the defaults;
``SMTP_PORT`` ``"x"`` and ``REMIND_AT`` ``"7 o'clock"`` a failure of the day's reminders;
``DEMO`` ``"False"`` (not JSON, so text) demo mode with published passwords;
``SSCMATCH_SMTP_PASSWORD=12345678`` a number handed to the mail server."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sscmatch import config, create_app
from sscmatch.cli import cli
from sscmatch.config import SETTINGS, SettingError
from sscmatch.workflow.tours import TourError, rates

DATA = Path(__file__).resolve().parents[1] / "data"

WRONG: dict[str, tuple[Any, ...]] = {
    "DATABASE_URL": (5432, "5432", "localhost/sscmatch", True, ["sqlite://"]),
    "SECRET_KEY": (12345, True, {"key": "x"}),
    "DEMO": ("False", "yes", 1, 0, ""),
    "DATA_DIR": ("/no/such/folder", 3, str(DATA / "vocab")),
    "TRUSTED_PROXIES": ("x", -1, 1.5, True, "1"),
    "PAGE_SIZE": (0, -3, "abc", "25", 25.5, True, 10_000, None),
    "MAX_UPLOAD_MB": ("big", 0, -1, 0.5, True, None, ""),
    "JOBS_SYNC": ("no", 1, ""),
    "REMIND_AT": ("7 o'clock", "25:00", 7, True, "07:00+02:00"),
    "WARM_CACHE": ("false ", 0, "off"),
    "TOUR_RATES": (
        {"per_diem_usd": 180},
        180,
        "per_diem=180",
        [["per_diem", 180]],
        {"per_diem": -1},
        {"per_diem": "180"},
        {"per_diem": True},
        {"per_diem": math.nan},
        {"air_per_km": math.inf},
        {"currency": 840},
        {"currency": ""},
    ),
    "SMTP_HOST": (25, True),
    "SMTP_PORT": ("x", 0, 65536, -25, True, 25.5),
    "SMTP_USER": (1234, False),
    "SMTP_PASSWORD": (12345678, True),
    "SMTP_FROM": ("sscmatch", 1, True),
    "SMTP_STARTTLS": ("true ", "no", 1),
    "SECRETARIAT_EMAIL": ("secretariat", 1, True),
    "TODAY": ("tomorrow", 20261206, "2026-02-30"),
}
"""Values each setting refuses, as a mapping (``instance/config.py``) may give them."""

ANY_VALUE_IS_FINE: dict[str, str] = {}
"""Settings that take any value, each with the reason (none so far)."""

VALID: dict[str, tuple[Any, ...]] = {
    "DATABASE_URL": ("sqlite:///x.db", "postgresql://u@h/db", ""),
    "SECRET_KEY": ("s3cret", "12345"),
    "DEMO": (True, False),
    "DATA_DIR": (str(DATA), DATA, ""),
    "TRUSTED_PROXIES": (0, 1, 2),
    "PAGE_SIZE": (1, 10, 200),
    "MAX_UPLOAD_MB": (1, 200),
    "JOBS_SYNC": (True, False),
    "REMIND_AT": ("off", "00:00", "23:59", "07:30:00", False, ""),
    "WARM_CACHE": (True, False),
    "TOUR_RATES": (
        {},
        {"per_diem": 180},
        {"per_diem": 180.5, "currency": "EUR"},
        {"delegation_size": 6, "air_per_km": 0},
    ),
    "SMTP_HOST": ("mail.example.org", ""),
    "SMTP_PORT": (25, 587, 65535),
    "SMTP_USER": ("reminders",),
    "SMTP_PASSWORD": ("12345678", "correct horse"),
    "SMTP_FROM": ("sscmatch@example.org", "SSC Match <sscmatch@example.org>"),
    "SMTP_STARTTLS": (True, False),
    "SECRETARIAT_EMAIL": ("secretariat@example.org",),
    "TODAY": ("2026-07-15", ""),
}
"""Values each setting accepts besides its default (and ``None``, unset, where it is the default)."""

ENV_WRONG: dict[str, str] = {
    "DATABASE_URL": "5432",
    "DEMO": "False",
    "DATA_DIR": "/no/such/folder",
    "TRUSTED_PROXIES": "one",
    "PAGE_SIZE": "0",
    "MAX_UPLOAD_MB": "big",
    "JOBS_SYNC": "yes",
    "REMIND_AT": "7 o'clock",
    "WARM_CACHE": "off",
    "TOUR_RATES": '{"per_diem_usd": 180}',
    "SMTP_PORT": "x",
    "SMTP_FROM": "sscmatch",
    "SMTP_STARTTLS": "1",
    "SECRETARIAT_EMAIL": "secretariat",
    "TODAY": "20261206",
}
"""What an operator may type in ``SSCMATCH_<NAME>`` that the setting refuses."""

TEXT_AS_TYPED: dict[str, str] = {
    "SECRET_KEY": "12345",
    "SMTP_HOST": "10",
    "SMTP_USER": "true",
    "SMTP_PASSWORD": "12345678",
}
"""Settings where any text is right: typed in the environment, they arrive as that text, not as
the number or boolean JSON makes of it (a password ``12345678`` was the number 12345678)."""

SECRETS = {"DATABASE_URL", "SECRET_KEY", "SMTP_PASSWORD"}
"""Settings whose value a refusal does not repeat (a URL may hold a password)."""


def _cases(table: dict[str, tuple[Any, ...]]) -> list[Any]:
    return [
        pytest.param(s.name, value, id=f"{s.name}={value!r}")
        for s in SETTINGS
        for value in table.get(s.name, ())
    ]


def _url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'x.db'}"


def test_every_setting_has_wrong_values_or_a_reason() -> None:
    names = {s.name for s in SETTINGS}
    unwalked = sorted(n for n in names if not WRONG.get(n) and n not in ANY_VALUE_IS_FINE)
    assert unwalked == [], f"settings with no wrong value to refuse: {unwalked}"
    assert set(WRONG) | set(ANY_VALUE_IS_FINE) | set(VALID) <= names, "a stale name"
    by_env = set(ENV_WRONG) | set(TEXT_AS_TYPED) | set(ANY_VALUE_IS_FINE)
    assert sorted(names - by_env) == [], "settings the environment walk misses"


@pytest.mark.parametrize(("name", "value"), _cases(WRONG))
def test_a_wrong_value_stops_the_app_naming_the_setting(
    name: str, value: Any, tmp_path: Path
) -> None:
    extra = {} if name == "DATABASE_URL" else {"DATABASE_URL": _url(tmp_path)}
    with pytest.raises(SettingError) as refused:
        create_app({**extra, name: value}, str(tmp_path))
    said = str(refused.value)
    assert said.startswith(f"{name} must be "), said
    assert "\n" not in said and "; got " in said, said
    if name in SECRETS:  # a secret is not written to the logs
        assert repr(value) not in said.split("; got ")[1], said


def test_the_defaults_are_accepted() -> None:
    config.check(config.DEFAULTS)


@pytest.mark.parametrize(("name", "value"), _cases(VALID))
def test_a_valid_value_is_accepted(name: str, value: Any) -> None:
    config.check({**config.DEFAULTS, name: value})


@pytest.mark.parametrize("name", sorted(ENV_WRONG))
def test_the_command_line_says_it_in_one_line(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for setting in SETTINGS:  # only the setting under test comes from the environment
        monkeypatch.delenv(f"SSCMATCH_{setting.name}", raising=False)
        monkeypatch.delenv(setting.name, raising=False)
    env = {
        "SSCMATCH_DATABASE_URL": _url(tmp_path),
        "SSCMATCH_INSTANCE_PATH": str(tmp_path),
        f"SSCMATCH_{name}": ENV_WRONG[name],
    }
    result = CliRunner().invoke(cli, ["jobs"], env=env)
    assert result.exit_code != 0
    assert f"{name} must be " in result.output, result.output
    assert "Traceback" not in result.output
    said = [li for li in result.output.splitlines() if li.strip()]
    assert len(said) == 1 and said[0].startswith(f"Error: {name} must be "), said  # no more
    assert "; got " in said[0]


@pytest.mark.parametrize("name", sorted(TEXT_AS_TYPED))
def test_text_settings_arrive_as_typed(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(name, raising=False)  # SECRET_KEY, unprefixed, would come first
    monkeypatch.setenv(f"SSCMATCH_{name}", TEXT_AS_TYPED[name])
    app = create_app({"DATABASE_URL": _url(tmp_path)}, str(tmp_path))
    assert app.config[name] == TEXT_AS_TYPED[name]
    app.extensions["sscmatch.engine"].dispose()


@pytest.mark.parametrize(
    ("name", "typed", "value"),
    [
        ("PAGE_SIZE", "50", 50),
        ("DEMO", "true", True),
        ("SMTP_STARTTLS", "false", False),
        ("TOUR_RATES", '{"per_diem": 180}', {"per_diem": 180}),
        ("REMIND_AT", "off", "off"),
        ("TODAY", "2026-07-15", "2026-07-15"),
    ],
)
def test_valid_environment_values_work_as_before(
    name: str, typed: str, value: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(f"SSCMATCH_{name}", typed)
    app = create_app({"DATABASE_URL": _url(tmp_path)}, str(tmp_path))
    assert app.config[name] == value
    app.extensions["sscmatch.engine"].dispose()


def test_the_documented_examples_are_accepted() -> None:
    """The examples of TOUR_RATES in its documentation (config.py, the README) are rates."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    docs = [s.doc for s in SETTINGS if s.name == "TOUR_RATES"] + [
        line for line in readme.splitlines() if line.startswith("| `TOUR_RATES` |")
    ]
    examples = [part.split("`")[0] for doc in docs for part in doc.split("`{")[1:]]
    assert examples, docs
    for example in examples:
        config.check({**config.DEFAULTS, "TOUR_RATES": json.loads("{" + example)})


def test_the_costing_refuses_what_the_setting_refuses() -> None:
    """One rule on cost rates (``config.cost_rate_wrong``): the tours' ``rates`` refuses every
    object the setting refuses, and takes every one it takes."""
    for overrides in WRONG["TOUR_RATES"]:
        if isinstance(overrides, dict):
            with pytest.raises(TourError):
                rates(overrides)
    for overrides in VALID["TOUR_RATES"]:
        assert rates(overrides)["per_diem"] == overrides.get("per_diem", 220.0)


def test_another_data_dir_is_taken_from_the_environment_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The vocabularies are read once a process from SSCMATCH_DATA_DIR (or data/): another
    folder named only in instance/config.py was checked, then silently not used."""
    other = tmp_path / "kb"
    shutil.copytree(DATA / "vocab", other / "vocab")
    monkeypatch.delenv("SSCMATCH_DATA_DIR", raising=False)
    with pytest.raises(SettingError, match=r"^DATA_DIR must be given in the environment"):
        config.check({**config.DEFAULTS, "DATA_DIR": str(other)})
    monkeypatch.setenv("SSCMATCH_DATA_DIR", str(other))
    config.check({**config.DEFAULTS, "DATA_DIR": str(other)})
