"""Reading the theme vocabulary and writing a synthetic bundle (outside the engine)."""

from __future__ import annotations

import csv
from pathlib import Path

from sscmatch.matching.synth import SynthSize, generate
from sscmatch.synthio import THEMES_CSV, read_themes, write_bundle


def test_read_themes_gives_the_theme_tree_of_the_vocabulary() -> None:
    themes = read_themes()
    assert THEMES_CSV.name == "themes.csv" and themes == read_themes(THEMES_CSV)
    ids = {t.id for t in themes}
    assert "policy-governance" in ids
    assert all(t.parent is None or t.parent in ids for t in themes)
    assert all(t.terms == (t.label,) and t.label for t in themes)


def test_write_bundle_writes_every_table(tmp_path: Path) -> None:
    corpus = generate(SynthSize(countries=8, capacities=20, needs=10, exchanges=30, seed=1))
    counts = write_bundle(corpus, tmp_path / "bundle")
    assert counts["capacities"] == 20 and counts["needs"] == 10 and counts["exchanges"] == 30
    with open(tmp_path / "bundle" / "needs.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["id"] for r in rows] == [n.id for n in corpus.needs]
