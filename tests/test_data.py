"""The knowledge base in data/ passes scripts/check_data, and the check catches what it claims to."""

from __future__ import annotations

import runpy
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def check():  # type: ignore[no-untyped-def]
    return runpy.run_path(str(ROOT / "scripts" / "check_data"))["check"]


def test_knowledge_base_passes_the_check(check) -> None:  # type: ignore[no-untyped-def]
    assert check(ROOT / "data") == []


def test_knowledge_base_has_the_expected_scale() -> None:
    def rows(name: str) -> int:
        return len((ROOT / "data" / f"{name}.csv").read_text(encoding="utf-8").splitlines()) - 1

    assert rows("capacities") >= 150
    assert rows("needs") >= 150
    assert rows("commitments") >= 100
    assert rows("exchanges") >= 75
    assert rows("institutions") >= 50


def test_check_catches_bad_sources_and_near_duplicates(check, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    copy = tmp_path / "data"
    shutil.copytree(ROOT / "data", copy)
    needs = copy / "needs.csv"
    lines = needs.read_text(encoding="utf-8").splitlines()
    header, first = lines[0], lines[1]
    cells = first.split(",")
    # A second copy of the first need under a new id is a near-duplicate title.
    lines.append(",".join(["s999-n01", *cells[1:]]))
    # A citation of a document that does not exist.
    lines.append(
        "s999-n02,BRA,,Unique need title for the test,,education,,,,,,open,2019,nowhere.txt:3"
    )
    needs.write_text("\n".join([header, *lines[1:]]) + "\n", encoding="utf-8")
    problems = check(copy)
    assert any("nearly repeats" in p for p in problems), problems
    assert any("unknown document 'nowhere.txt'" in p for p in problems), problems
