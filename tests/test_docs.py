"""Settings and commands are declared once in code and documented in the README (datasette-style)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sscmatch.config import SETTINGS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented() -> None:
    missing = [s.name for s in SETTINGS if f"| `{s.name}` |" not in README]
    assert missing == [], f"settings missing from the README's configuration table: {missing}"


def test_every_command_is_documented(app: Any) -> None:
    documented = set(re.findall(r"^\| `sscmatch ([a-z-]+)", README, re.M))
    commands = set(app.cli.list_commands(None)) | {"run"}
    missing = sorted(commands - documented)
    assert missing == [], f"commands missing from the README's command table: {missing}"


def test_readme_shows_the_two_commands() -> None:
    assert "./scripts/run" in README and "./scripts/test" in README
