"""``TODAY`` (a demo's or a test's pinned day) is read by one rule, and a value the service cannot
use stops it when it starts, in one line, instead of a 500 on every page that reads the day.

The class: every reader of the day (the pages' ``today``, the tours', the worker's reminders,
``sscmatch calibrate``) goes through ``config.today``; every way a setting arrives (the app's
mapping, the environment, where ``SSCMATCH_TODAY=20261206`` is parsed as a JSON number) is
checked by ``config.pinned_today`` when the app is made."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sscmatch import create_app
from sscmatch.cli import cli
from sscmatch.config import SettingError, pinned_today, today
from tests.source_trees import source_tree

PACKAGE = Path(__file__).resolve().parents[1] / "sscmatch"
NOT_DAYS: tuple[Any, ...] = ("tomorrow", "2026-13-01", "2026-02-30", "2026-W01-1", "2026-07",
                             "0001-01-01", 20261206, 2026.5, True)  # fmt: skip


@pytest.mark.parametrize("value", NOT_DAYS)
def test_a_today_that_is_no_day_stops_the_app_naming_the_setting(
    value: Any, tmp_path: Path
) -> None:
    with pytest.raises(SettingError, match="TODAY must be a date YYYY-MM-DD"):
        create_app(
            {"TODAY": value, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}, str(tmp_path)
        )


def test_the_command_line_says_it_in_one_line(tmp_path: Path) -> None:
    env = {
        "SSCMATCH_TODAY": "20261206",  # a JSON number once parsed
        "SSCMATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
        "SSCMATCH_INSTANCE_PATH": str(tmp_path),
    }
    result = CliRunner().invoke(cli, ["jobs"], env=env)
    assert result.exit_code != 0
    assert "TODAY must be a date YYYY-MM-DD" in result.output
    assert "Traceback" not in result.output


def test_a_day_or_nothing_is_what_runs_read() -> None:
    assert pinned_today("2026-07-15") == date(2026, 7, 15)
    assert pinned_today(" 2026-07-15 ") == date(2026, 7, 15)
    assert pinned_today(date(2026, 7, 15)) == date(2026, 7, 15)
    assert pinned_today(None) is None and pinned_today("") is None
    assert today({"TODAY": "2026-07-15"}) == date(2026, 7, 15)
    assert isinstance(today({}), date)


def test_every_reader_of_today_goes_through_the_one_rule() -> None:
    """No module reads the TODAY setting itself (``config.get("TODAY")``) but config.py."""
    readers = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "config.py":
            continue
        for node in ast.walk(source_tree(path)):
            if isinstance(node, ast.Constant) and node.value == "TODAY":
                readers.append(str(path.relative_to(PACKAGE)))
    assert not readers, readers
