"""The knowledge base in data/ passes scripts/check_data, and the check catches what it claims to."""

from __future__ import annotations

import csv
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


def _edit(folder: Path, table: str, record_id: str, **values: str) -> None:
    """Change fields of one record of a CSV table in ``folder`` (a copy of data/)."""
    path = folder / f"{table}.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        header, rows = list(reader.fieldnames or []), list(reader)
    found = [r for r in rows if r["id"] == record_id]
    assert found, record_id
    found[0].update(values)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _row(folder: Path, table: str, record_id: str) -> dict[str, str]:
    """One record of a CSV table in ``folder``, with the line its row starts on (``line``)."""
    path = folder / f"{table}.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            if row["id"] == record_id:
                return {**row, "line": str(reader.line_num)}
    raise AssertionError(record_id)


def _append_copy(folder: Path, table: str, record_id: str, new_id: str, **values: str) -> None:
    path = folder / f"{table}.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        header, rows = list(reader.fieldnames or []), list(reader)
    copy = dict(next(r for r in rows if r["id"] == record_id), id=new_id, **values)
    with path.open("a", encoding="utf-8", newline="") as handle:
        csv.DictWriter(handle, fieldnames=header, lineterminator="\n").writerow(copy)


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(ROOT / "data", copy)
    return copy


def test_check_catches_a_body_standing_in_as_a_country(check, data_copy: Path) -> None:  # type: ignore[no-untyped-def]
    _edit(data_copy, "needs", "s002-n02", country="PER")  # the Regional Initiative's need
    _edit(data_copy, "commitments", "s003-k05", owner_country="CHE")  # the ILO's commitment
    problems = check(data_copy)
    assert any("PER stands in for the international body 'ri-lac'" in p for p in problems)
    assert any("CHE stands in for the international body 'ilo'" in p for p in problems)


SEED_004 = ROOT.parent / "shared" / "seeds" / "004_f48400ffd3335327.txt"


@pytest.mark.skipif(not SEED_004.exists(), reason="the source documents are not at hand")
def test_check_catches_words_copied_from_a_document(check, data_copy: Path) -> None:  # type: ignore[no-untyped-def]
    # 004 line 113, twelve words in a row; then a name in quotes, which may stay.
    copied = "The process should be led by the ministries of labour and involve tripartite partners"
    _edit(data_copy, "exchanges", "s004-e01", description=f"Lessons: {copied.lower()}.")
    _edit(
        data_copy,
        "exchanges",
        "s003-e01",
        description='They applied the "Model for the Identification of the Risk of Child Labour".',
    )
    _edit(data_copy, "needs", "s004-n32", description=f'Quoted, but no name: "{copied.lower()}".')
    problems = [p for p in check(data_copy) if "copies 12+ words" in p]
    assert sorted(p.split(":")[0] for p in problems) == ["exchanges.csv", "needs.csv"], problems


def test_check_catches_themes_that_are_only_cooperation_types(check, data_copy: Path) -> None:  # type: ignore[no-untyped-def]
    _edit(data_copy, "capacities", "s000-c01", themes="triangular-cooperation;peer-learning")
    _edit(data_copy, "needs", "s000-n01", themes="sdg-8-7")  # target 8.7 is a subject
    problems = [p for p in check(data_copy) if "only cooperation types" in p]
    assert len(problems) == 1 and problems[0].startswith("capacities.csv:2: themes:"), problems


def test_check_catches_one_event_told_twice_unless_a_note_says_why(check, data_copy: Path) -> None:  # type: ignore[no-untyped-def]
    _append_copy(data_copy, "exchanges", "s000-e16", "s000-e90", title="Another title entirely")
    problems = [p for p in check(data_copy) if "one event told twice" in p]
    assert len(problems) == 1 and "s000-e90" in problems[0] and "s000-e16" in problems[0]
    _edit(
        data_copy, "exchanges", "s000-e90", description="A second tour, not s000-e16: it went on."
    )
    assert not [p for p in check(data_copy) if "one event told twice" in p]


def test_a_record_may_cite_several_documents(check, data_copy: Path) -> None:  # type: ignore[no-untyped-def]
    _edit(data_copy, "needs", "s000-n01", source="000_9148a8ca8a7c6ecc.txt:44; nowhere.txt:2")
    _edit(
        data_copy,
        "needs",
        "s000-n02",
        source="000_9148a8ca8a7c6ecc.txt:44; 004_f48400ffd3335327.txt:1",
    )
    problems = [p for p in check(data_copy) if "source" in p]
    assert len(problems) == 1 and "unknown document 'nowhere.txt'" in problems[0], problems


@pytest.mark.skipif(not SEED_004.exists(), reason="the source documents are not at hand")
def test_check_catches_a_country_the_cited_lines_do_not_name(check, data_copy: Path) -> None:  # type: ignore[no-untyped-def]
    # 000 line 693 tells of the CSEC agreement but names no country; the project's title (line
    # 689) names the Dominican Republic. A commitment citing 693 alone does not support DOM.
    _edit(data_copy, "commitments", "s000-k59", source="000_9148a8ca8a7c6ecc.txt:693")
    # Named by its adjective ("the Brazilian experience", line 106) or with a space for the
    # hyphen ("Guinea Bissau", line 100): supported.
    _edit(data_copy, "capacities", "s000-c07", source="000_9148a8ca8a7c6ecc.txt:106,108")
    line_100 = "000_9148a8ca8a7c6ecc.txt:100"
    _edit(data_copy, "exchanges", "s000-e19", participants="GNB", source=line_100)
    # "us" in a sentence (line 15, "will assist us") is not the United States: short capitalised
    # aliases ("US") match in capitals only.
    _edit(data_copy, "needs", "s000-n01", country="USA", source="000_9148a8ca8a7c6ecc.txt:15")
    problems = [p for p in check(data_copy) if "is not named in the cited lines" in p]
    assert len(problems) == 2, problems
    assert any(p.startswith("commitments.csv:") and "owner_country: DOM" in p for p in problems)
    assert any(p.startswith("needs.csv:") and "country: USA" in p for p in problems)


@pytest.mark.skipif(not SEED_004.exists(), reason="the source documents are not at hand")
def test_check_catches_a_year_the_cited_lines_do_not_give(check, data_copy: Path) -> None:  # type: ignore[no-untyped-def]
    # The 2006-2009 phase is dated in 000 line 693, not in 695-709.
    _edit(data_copy, "exchanges", "s000-e34", source="000_9148a8ca8a7c6ecc.txt:695-699,703-709")
    # An undated exchange may take its document's year only if its date_note says so ...
    _edit(data_copy, "exchanges", "s002-e07", date_note="")
    # ... there, not in its description (which tells what the exchange was) ...
    note = "No start date is given; the reporting year is used."
    row = _row(data_copy, "exchanges", "s002-e11")
    _edit(
        data_copy, "exchanges", "s002-e11", description=f"{row['description']} {note}", date_note=""
    )
    # ... and only the year of a document it cites (002 is of 2019, not 2014).
    _edit(data_copy, "exchanges", "s002-e16", start="2014")
    problems = [p for p in check(data_copy) if "is not in the cited lines" in p]
    lines = {
        _row(data_copy, "exchanges", i)["line"]: i
        for i in ("s000-e34", "s002-e07", "s002-e11", "s002-e16")
    }
    found = sorted((lines.get(p.split(":")[1], p), p.split(": ")[1]) for p in problems)
    assert found == [
        ("s000-e34", "end"),
        ("s000-e34", "start"),
        ("s002-e07", "start"),
        ("s002-e11", "start"),
        ("s002-e16", "start"),
    ], problems


@pytest.mark.skipif(not SEED_004.exists(), reason="the source documents are not at hand")
def test_check_catches_a_year_in_a_text_the_cited_lines_do_not_give(check, data_copy: Path) -> None:  # type: ignore[no-untyped-def]
    # "the criteria for its 2018 round" is 004 line 106 (the session's heading), not 108-119.
    _edit(data_copy, "capacities", "s004-c25", source="004_f48400ffd3335327.txt:30,108-119")
    # "the 2007 Brasilia event" is dated in 000 line 104, not 106-108.
    _edit(data_copy, "capacities", "s000-c07", source="000_9148a8ca8a7c6ecc.txt:106,108")
    # A year read from "as from next year" is not in the lines ...
    row = _row(data_copy, "commitments", "s002-k26")
    _edit(data_copy, "commitments", "s002-k26", description=f"{row['description']} From 2020.")
    # ... the year of a cited document is (002 is of 2019), and so is the end of a range the
    # lines abbreviate ("2012-15", 001 line 659, for s001-k17's "2012-2015").
    row = _row(data_copy, "needs", "s002-n08")
    _edit(data_copy, "needs", "s002-n08", description=f"{row['description']} Said in 2019.")
    problems = [p for p in check(data_copy) if "its text gives the year" in p]
    found = sorted(p.split(": ")[1] + " " + p.split("the year ")[1][:4] for p in problems)
    assert found == ["s000-c07 2007", "s002-k26 2020", "s004-c25 2018"], problems
    assert "2012-2015" in _row(data_copy, "commitments", "s001-k17")["description"]
