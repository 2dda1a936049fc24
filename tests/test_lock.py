"""The lock files (requirements/, made by scripts/lock) match pyproject.toml: made from its
current dependencies, pinning every declared package with hashes, run.txt within dev.txt."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+?)(?: ;.*?)? \\$", re.M)


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pins(lock: str) -> dict[str, str]:
    text = (ROOT / "requirements" / lock).read_text(encoding="utf-8")
    return {name.lower().replace("_", "-"): version for name, version in PIN.findall(text)}


def _declared() -> str:
    script = ROOT / "scripts" / "_dependencies_digest.py"
    return subprocess.run(
        [sys.executable, str(script), str(ROOT)], capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.mark.parametrize("lock", ["dev.txt", "run.txt"])
def test_lock_is_made_from_the_current_pyproject(lock: str) -> None:
    text = (ROOT / "requirements" / lock).read_text(encoding="utf-8")
    recorded = re.search(r"^# pyproject-dependencies: (\S+)$", text, re.M)
    assert recorded and recorded.group(1) == _declared(), "run scripts/lock"


def test_every_declared_dependency_is_pinned_with_hashes() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    run, dev = _pins("run.txt"), _pins("dev.txt")
    for requirement in project["dependencies"] + project["optional-dependencies"]["postgres"]:
        assert _name(requirement) in run, requirement
    for requirement in project["optional-dependencies"]["dev"]:
        assert _name(requirement) in dev, requirement
    for lock in ("dev.txt", "run.txt"):
        text = (ROOT / "requirements" / lock).read_text(encoding="utf-8")
        blocks = [b for b in re.split(r"\n(?=[A-Za-z0-9])", text) if "==" in b.split("\n")[0]]
        assert blocks and all("--hash=sha256:" in b for b in blocks), lock


def test_run_uses_the_versions_dev_tests() -> None:
    run, dev = _pins("run.txt"), _pins("dev.txt")
    assert {name: dev.get(name) for name in run} == run
