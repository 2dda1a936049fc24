"""A grid of cards never asks for a column wider than a phone.

``repeat(auto-fit, minmax(20rem, 1fr))`` lays cards out in as many columns as fit, but each column
is at least 20rem (320 px) wide even when the screen holds less: the secretariat's home page was
332 px wide on a 320 px phone (its worklist cards). Written ``minmax(min(20rem, 100%), 1fr)``, a
column is never wider than its container, and wider screens are laid out as before. This test
reads every stylesheet and holds every such repeated track to that form (or a minimum of 0)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REPEATED = re.compile(r"repeat\(\s*auto-(?:fit|fill)\s*,\s*minmax\(")
SAFE = re.compile(r"^(0|min\(.*\b100%.*\))$")


def _first_argument(text: str) -> str:
    """The text up to the first comma outside parentheses."""
    depth = 0
    for at, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            return text[:at].strip()
    return text.strip()


def offending(css: str) -> list[str]:
    """The minimums of repeated grid tracks that may be wider than their container."""
    lows = [_first_argument(css[m.end() :]) for m in REPEATED.finditer(css)]
    return [low for low in lows if not SAFE.match(low)]


def test_the_check_finds_what_it_looks_for() -> None:
    assert offending(".w { grid-template-columns: repeat(auto-fit, minmax(20rem, 1fr)); }")
    assert offending("x { grid-template-columns:repeat(auto-fill,minmax(12rem,1fr)) }") == ["12rem"]
    assert (
        offending("x { grid-template-columns: repeat(auto-fit, minmax(min(20rem, 100%), 1fr)) }")
        == []
    )
    assert (
        offending("x { grid-template-columns: repeat(auto-fit, minmax(min(100%, 30rem), 1fr)) }")
        == []
    )
    assert offending("x { grid-template-columns: repeat(auto-fit, minmax(0, 1fr)) }") == []


@pytest.mark.parametrize(
    "sheet", sorted((ROOT / "static" / "css").glob("*.css")), ids=lambda p: p.name
)
def test_no_repeated_grid_column_is_wider_than_its_container(sheet: Path) -> None:
    assert offending(sheet.read_text(encoding="utf-8")) == [], sheet.name
