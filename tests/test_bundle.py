"""Bundle import/export: validation before writing, all-or-nothing, idempotence, round trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from sscmatch.bundle import BundleError, export_bundle, import_bundle
from sscmatch.models import AuditEvent, Capacity, Commitment, Exchange, Institution, Need, Theme
from sscmatch.vocab import load_vocabulary

GOOD = {
    "themes.csv": (
        "id,label_en,parent,synonyms\ncocoa-sector,Cocoa sector,agriculture,cacao;cocoa farms\n"
    ),
    "institutions.csv": (
        "id,name,country,constituency,languages,source\n"
        "bra-abc,Brazilian Cooperation Agency,Brasil,cooperation_agency,pt,doc.txt:1\n"
        "per-sunafil,National Labour Inspection Authority,PER,government,español,doc.txt:2\n"
    ),
    "capacities.csv": (
        "id,country,institution,title,description,themes,languages,maturity,modalities,max_per_year,created,status,source\n"
        'c1,BRA,bra-abc,"Inspection, at scale",Mobile units,labour-inspection,pt,institutionalised,study_tour;training,3,2010,published,doc.txt:3\n'
        "c2,PER,per-sunafil,Cocoa inspections,,cocoa-sector;inspección laboral,es,,,,2019-10,published,doc.txt:4\n"
    ),
    "needs.csv": (
        "id,country,title,themes,priority,status,created,source\n"
        "n1,Guatamala,Inspectors for agriculture,agriculture;labour-inspection,high,open,2019,doc.txt:5\n"
    ),
    "exchanges.csv": (
        "id,title,start,end,providers,recipients,participants,partners,themes,modality,languages,direction,source\n"
        "e1,Inspection visit,2019-05,2019-06,PER,DOM,,esp-aecid,labour-inspection,study_tour,es,one_way,doc.txt:6\n"
        "e2,Regional meeting,2019-10-22,,,,PER;BRA;MEX,ilo,sdg-8-7,conference,es;pt,multilateral,doc.txt:7\n"
    ),
    "commitments.csv": (
        "id,exchange,owner_country,owner_institution,description,due,status,evidence,source\n"
        "k1,e1,DOM,,Draft an inspection protocol,2020-06,fulfilled,Protocol adopted,doc.txt:8\n"
    ),
}


def write_bundle(folder: Path, files: dict[str, str | bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        (folder / name).write_bytes(data)
    return folder


def count(session: Session, model: type) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def test_import_good_bundle_resolves_names(session: Session, tmp_path: Path) -> None:
    report = import_bundle(session, write_bundle(tmp_path / "b", GOOD), load_vocabulary())
    session.commit()
    assert report.created == {
        "themes": 1,
        "institutions": 2,
        "capacities": 2,
        "needs": 1,
        "exchanges": 2,
        "commitments": 1,
    }
    assert session.get(Institution, "bra-abc").country == "BRA"
    assert session.get(Institution, "per-sunafil").languages == ["es"]
    assert session.get(Capacity, "c2").themes == ["cocoa-sector", "labour-inspection"]
    assert session.get(Need, "n1").country == "GTM"
    assert session.get(Exchange, "e2").participants == ["PER", "BRA", "MEX"]
    assert session.get(Capacity, "c1").title == "Inspection, at scale"
    fuzzy = {(r.given, r.value) for r in report.fuzzy}
    assert ("Guatamala", "GTM") in fuzzy
    assert count(session, AuditEvent) == 1


def test_import_twice_changes_nothing(session: Session, tmp_path: Path) -> None:
    path = write_bundle(tmp_path / "b", GOOD)
    import_bundle(session, path, load_vocabulary())
    session.commit()
    before = session.get(Capacity, "c1").updated_at
    report = import_bundle(session, path, load_vocabulary())
    session.commit()
    assert not report.created and not report.updated
    assert sum(report.unchanged.values()) == 9
    assert session.get(Capacity, "c1").updated_at == before
    assert session.get(Capacity, "c1").version == 1


def test_import_updates_by_id(session: Session, tmp_path: Path) -> None:
    import_bundle(session, write_bundle(tmp_path / "a", GOOD), load_vocabulary())
    session.commit()
    changed = dict(GOOD)
    changed["needs.csv"] = GOOD["needs.csv"].replace(
        "Inspectors for agriculture", "Rural inspectors"
    )
    report = import_bundle(session, write_bundle(tmp_path / "b", changed), load_vocabulary())
    session.commit()
    assert report.updated == {"needs": 1}
    need = session.get(Need, "n1")
    assert need.title == "Rural inspectors" and need.version == 2


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_round_trip_gives_identical_files(app, tmp_path: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import make_test_app

    engine = app.extensions["sscmatch.engine"]
    with Session(engine) as s:
        import_bundle(s, write_bundle(tmp_path / "src", GOOD), load_vocabulary())
        s.commit()
        first = tmp_path / ("one.json" if fmt == "json" else "one")
        export_bundle(s, first, fmt)
    # Empty the database by importing into a brand new one of the same backend.
    with Session(engine) as s:
        for model in (Commitment, Exchange, Need, Capacity, Institution, Theme, AuditEvent):
            for row in s.exec(select(model)):
                s.delete(row)
            s.commit()
        assert count(s, Capacity) == 0
        import_bundle(s, first, load_vocabulary())
        s.commit()
        second = tmp_path / ("two.json" if fmt == "json" else "two")
        export_bundle(s, second, fmt)
    if fmt == "json":
        assert json.loads(first.read_text()) == json.loads(second.read_text())
        assert first.read_bytes() == second.read_bytes()
    else:
        for file in sorted(first.iterdir()):
            assert file.read_bytes() == (second / file.name).read_bytes(), file.name
    assert make_test_app  # the helper stays importable for other tests


def test_json_bundle_imports_like_csv(session: Session, tmp_path: Path) -> None:
    bundle = {
        "institutions": [{"id": "bra-abc", "name": "ABC", "country": "BRA"}],
        "capacities": [
            {
                "id": "c1",
                "country": "Brésil",
                "title": "Cash transfers",
                "themes": ["transferencias monetarias condicionadas"],
                "languages": ["pt"],
                "status": "published",
                "institution": "bra-abc",
            }
        ],
    }
    path = tmp_path / "b.json"
    path.write_text(json.dumps(bundle, indent=1))
    report = import_bundle(session, path, load_vocabulary())
    assert report.created == {"institutions": 1, "capacities": 1}
    capacity = session.get(Capacity, "c1")
    assert capacity.country == "BRA" and capacity.themes == ["conditional-cash-transfers"]


def test_json_problems_point_at_lines(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text(
        '{"needs": [\n  {"id": "n1", "country": "BRA", "title": "x", "themes": ["education"]},\n'
        '  {"id": "n2", "country": "ZZZ", "title": "y", "themes": ["education"]}\n]}\n'
    )
    with pytest.raises(BundleError) as info:
        import_bundle(session, path, load_vocabulary())
    assert [str(p).split(": ")[0:3] for p in info.value.problems] == [
        ["b.json:3", "needs[1] (id 'n2')", "country"]
    ]


BAD: dict[str, str | bytes] = {
    "institutions.csv": (
        "id,name,country,constituency\n"
        "i1,Ministry,BRA,government\n"  # fine
        "i2,Union,BRA,guild\n"  # 1 bad constituency
    ),
    "capacities.csv": (
        "id,country,institution,title,themes,maturity,max_per_year\n"
        "c1,Atlantis,,Something,education,,\n"  # 2 bad country
        "c2,BRA,,,education,,\n"  # 3 missing required title
        "c3,BRA,no-such-inst,Thing,education,,\n"  # 4 unknown institution
        "c4,BRA,,Thing,education,,-2\n"  # 5 negative quota
    ),
    "needs.csv": (
        "id,country,title,themes\n"
        "n1,PER,Need,underwater basket weaving\n"  # 6 unknown theme
        "n2,PER,Need,education\n"
        "n2,PER,Again,education\n"  # 7 duplicate id
    ),
    "exchanges.csv": (
        "id,start,providers,recipients,themes,direction\n"
        "e1,2019-13-45,BRA,TLS,education,one_way\n"  # 8 bad date
        'e2,2019,BRA,"TLS,education,one_way\n'  # 9 broken quoting
    ),
    "commitments.csv": "id,owner_country,description\nk1,BRA,Acci\xf3n\n".encode("latin-1"),  # 10
}


def test_bad_bundle_gives_ten_clear_messages_and_writes_nothing(
    runner, app, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    path = write_bundle(tmp_path / "bad", BAD)
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.count(":") >= 3]
    expected = [
        ("institutions.csv", 3, "constituency", "guild"),
        ("capacities.csv", 2, "country", "Atlantis"),
        ("capacities.csv", 3, "title", "empty"),
        ("capacities.csv", 4, "institution", "no-such-inst"),
        ("capacities.csv", 5, "max_per_year", "≥ 0"),
        ("needs.csv", 2, "themes", "underwater basket weaving"),
        ("needs.csv", 4, "id", "duplicate id 'n2' (first at line 3"),
        ("exchanges.csv", 2, "start", "2019-13-45"),
        ("exchanges.csv", 3, "row", "quoting"),
        ("commitments.csv", 2, "file", "not UTF-8"),
    ]
    assert len(lines) == 10, result.output
    for (file, line, field, words), message in zip(expected, lines, strict=True):
        assert message.startswith(f"{file}:{line}: {field}: "), message
        assert words in message, message
    assert "10 problem(s) found; nothing was imported" in result.output
    with Session(app.extensions["sscmatch.engine"]) as s:
        assert count(s, Institution) == 0 and count(s, Capacity) == 0 and count(s, AuditEvent) == 0


def test_unknown_columns_and_files_are_reported(session: Session, tmp_path: Path) -> None:
    path = write_bundle(
        tmp_path / "b",
        {
            "needs.csv": "id,country,title,themes,colour\nn1,BRA,x,education,red\n",
            "people.csv": "id\n1\n",
        },
    )
    with pytest.raises(BundleError) as info:
        import_bundle(session, path, load_vocabulary())
    text = "\n".join(str(p) for p in info.value.problems)
    assert "people.csv:1: file: unknown table" in text
    assert "needs.csv:1: colour: unknown column" in text


def test_missing_path_is_a_clear_error(session: Session, tmp_path: Path) -> None:
    with pytest.raises(BundleError) as info:
        import_bundle(session, tmp_path / "nope", load_vocabulary())
    assert "no such file or folder" in str(info.value.problems[0])


def test_cli_import_and_export(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write_bundle(tmp_path / "b", GOOD)
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 0, result.output
    assert "capacities: 2 created" in result.output
    assert "'Guatamala' → GTM (fuzzily" in result.output
    again = runner.invoke(args=["import", str(path), "--if-empty"])
    assert "nothing imported" in again.output
    out = tmp_path / "out.json"
    result = runner.invoke(args=["export", str(out)])
    assert result.exit_code == 0 and "2 capacities" in result.output
    assert len(json.loads(out.read_text())["exchanges"]) == 2


def test_synthetic_bundle_imports_cleanly(session: Session, tmp_path: Path) -> None:
    """scripts/synth's output is a valid bundle (the load test and benchmarks import it)."""
    from sscmatch.matching.synth import SynthSize, generate
    from sscmatch.synthio import read_themes, write_bundle

    corpus = generate(SynthSize(countries=30, capacities=300, needs=120, exchanges=1500, seed=3),
                      read_themes())
    write_bundle(corpus, tmp_path / "synth")
    report = import_bundle(session, tmp_path / "synth", load_vocabulary())
    assert report.created["exchanges"] == 1500 and report.created["capacities"] == 300
