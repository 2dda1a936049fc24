"""Settings and commands are declared once in code and documented in the README (datasette-style)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sscmatch.config import SETTINGS
from tests.source_trees import source_tree

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


def test_every_setting_read_by_the_code_is_declared() -> None:
    """``config.get("X")`` or ``config["X"]`` anywhere in the package needs a Setting for X."""
    import ast

    declared = {s.name for s in SETTINGS} | {
        "TESTING",
        "DEBUG",
        "BABEL_TRANSLATION_DIRECTORIES",
        "MAX_CONTENT_LENGTH",
        "SESSION_COOKIE_HTTPONLY",
        "SESSION_COOKIE_SAMESITE",
        "SESSION_COOKIE_SECURE",
        "REMEMBER_COOKIE_HTTPONLY",
        "REMEMBER_COOKIE_SAMESITE",
        "REMEMBER_COOKIE_SECURE",
        "WTF_CSRF_ENABLED",
        "WTF_CSRF_TIME_LIMIT",  # Flask-WTF's: the app sets it (a token lives with its session)
    }
    package = Path(__file__).resolve().parents[1] / "sscmatch"
    read: set[str] = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(source_tree(path)):
            key = None
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"get", "setdefault"}
                and node.args
                and isinstance(node.func.value, ast.Attribute | ast.Name)
                and getattr(node.func.value, "attr", getattr(node.func.value, "id", ""))
                in {"config", "cfg"}
            ):
                key = node.args[0]
            elif isinstance(node, ast.Subscript) and getattr(node.value, "attr", "") == "config":
                key = node.slice
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                read.add(key.value)
    assert read - declared == set(), (
        f"settings read but not declared in config.SETTINGS: {sorted(read - declared)}"
    )
