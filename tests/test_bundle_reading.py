"""What a bundle made by hand carries besides its tables, read as the person meant it:

- an operating system's own files (a Mac's ``__MACOSX/`` and ``.DS_Store``, Windows'
  ``Thumbs.db`` and ``desktop.ini``…) are passed over without a word, in a zip and in a folder;
- a CSV header written ``Title`` or `` title `` names the column ``title``, in every table; a
  column named twice that way, or a name the format does not know, is refused naming it;
- a zip beyond the limits (bytes unpacked, as its entries declare them, and entries) is refused
  whole by the shared reader, before anything of it is unpacked, from the command line as on the
  web, and nothing is written.
"""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from sscmatch.bundle.format import COLUMNS, REQUIRED, TABLES, RawBundle
from sscmatch.bundle.read import (
    DEBRIS_FILES,
    DEBRIS_FOLDERS,
    TOO_LARGE,
    TOO_MANY,
    ZipLimits,
    read_bundle,
)
from tests.test_bundle import GOOD
from tests.web.test_fuzz_api import table_digest

NEEDS = "id,country,title,themes\nn1,BRA,A need,labour-inspection\n"

DEBRIS: dict[str, bytes] = {
    "__MACOSX/._needs.csv": b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ",
    "__MACOSX/.DS_Store": b"\x00\x00\x00\x01Bud1",
    "__MACOSX/bundle/._needs.csv": b"\x00\x05\x16\x07",
    "._needs.csv": b"\x00\x05\x16\x07\x00\x02\x00\x00",
    "._people.csv": b"\x00\x05\x16\x07",
    ".DS_Store": b"\x00\x00\x00\x01Bud1\x00\x00",
    ".ds_store": b"\x00",
    "Thumbs.db": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
    "THUMBS.DB": b"\xd0\xcf\x11\xe0",
    "ehthumbs.db": b"\xd0\xcf\x11\xe0",
    "desktop.ini": b"[.ShellClassInfo]\r\nIconResource=x\r\n",
    "Desktop.ini": b"[.ShellClassInfo]\r\n",
    "Icon\r": b"",
    ".Spotlight-V100/Store-V2/x": b"\x00",
    ".Trashes/501/old.csv": b"id\n",
    ".fseventsd/fseventsd-uuid": b"\x00",
    "sub/.DS_Store": b"\x00",
    "sub/Thumbs.db": b"\x00",
}
"""Every kind of operating-system file a bundle was seen or can be expected to carry, at the top
and inside folders, in the cases the systems write them."""


def _zip(files: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _folder(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content if isinstance(content, bytes) else content.encode())
    return root


def _read(tmp_path: Path, container: str, files: dict[str, str | bytes], **kw: Any) -> RawBundle:
    if container == "zip":
        path = tmp_path / "bundle.zip"
        path.write_bytes(_zip(files))
    else:
        path = _folder(tmp_path / "bundle", files)
    return read_bundle(path, **kw)


# --------------------------------------------------------------------- an operating system's files


def test_the_walk_holds_every_kind_the_reader_passes_over() -> None:
    names = [Path(n.replace("\\", "/")).parts for n in DEBRIS]
    assert {p[-1].lower() for p in names} >= DEBRIS_FILES
    assert {p.lower() for parts in names for p in parts[:-1]} >= DEBRIS_FOLDERS


@pytest.mark.parametrize("container", ["zip", "folder"])
@pytest.mark.parametrize("debris", sorted(DEBRIS), ids=lambda n: n.replace("\r", "\\r"))
def test_an_operating_systems_file_is_passed_over_silently(
    tmp_path: Path, container: str, debris: str
) -> None:
    raw = _read(tmp_path, container, {"needs.csv": NEEDS, debris: DEBRIS[debris]})
    assert raw.problems == []
    assert [r.values["id"] for r in raw.rows["needs"]] == ["n1"]


@pytest.mark.parametrize("container", ["zip", "folder"])
def test_all_of_them_at_once_beside_a_real_problem(tmp_path: Path, container: str) -> None:
    """Passing over the debris hides nothing else: an unknown table is still named, alone."""
    raw = _read(tmp_path, container, {"needs.csv": NEEDS, "people.csv": "id\n", **DEBRIS})
    assert [(p.file, p.field) for p in raw.problems] == [("people.csv", "file")]
    assert len(raw.rows["needs"]) == 1


def test_a_mac_zip_imports_from_the_command_line(runner: Any, tmp_path: Path) -> None:
    path = tmp_path / "bundle.zip"
    path.write_bytes(_zip({"needs.csv": NEEDS, **DEBRIS}))
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 0, result.output
    assert "needs: 1 created" in result.output


# --------------------------------------------------------------------- header names


def _header(table: str, spell: Any) -> list[str]:
    return [spell(c) for c in COLUMNS[table]]


SPELLINGS = {
    "upper": str.upper,
    "title": str.title,
    "padded": lambda c: f" {c} ",
    "tabs-and-nbsp": lambda c: f"\t{c.capitalize()}\xa0",
}


@pytest.mark.parametrize("container", ["zip", "folder"])
@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
@pytest.mark.parametrize("table", TABLES)
def test_a_header_differing_by_case_or_spaces_names_the_column(
    tmp_path: Path, container: str, spelling: str, table: str
) -> None:
    header = _header(table, SPELLINGS[spelling])
    cells = [f"v{i}" for i in range(len(header))]
    text = ",".join(f'"{h}"' for h in header) + "\n" + ",".join(cells) + "\n"
    raw = _read(tmp_path, container, {f"{table}.csv": text})
    assert raw.problems == []
    (row,) = raw.rows[table]
    assert row.values == dict(zip(COLUMNS[table], cells, strict=True))


@pytest.mark.parametrize("table", TABLES)
def test_a_column_named_twice_after_normalising_is_refused_naming_it(
    tmp_path: Path, table: str
) -> None:
    first = REQUIRED[table][-1]
    header = [*REQUIRED[table], f" {first.upper()} "]
    text = ",".join(header) + "\n" + ",".join("x" for _ in header) + "\n"
    raw = _read(tmp_path, "folder", {f"{table}.csv": text})
    shown = [str(p) for p in raw.problems]
    assert shown == [
        f"{table}.csv:1: {first}: this column is named more than once in the header "
        f"('{first}', ' {first.upper()} '); keep one"
    ]


@pytest.mark.parametrize("table", TABLES)
def test_an_unknown_column_is_still_refused_as_written(tmp_path: Path, table: str) -> None:
    header = [*(c.upper() for c in REQUIRED[table]), " Colour "]
    text = ",".join(header) + "\n" + ",".join("x" for _ in header) + "\n"
    raw = _read(tmp_path, "zip", {f"{table}.csv": text})
    assert [(p.file, p.line, p.field, p.msgid[:14]) for p in raw.problems] == [
        (f"{table}.csv", 1, "Colour", "unknown column")
    ]


def test_a_spreadsheets_headers_import_as_the_formats_own(session: Any, tmp_path: Path) -> None:
    """The example bundle with every header capitalised and padded imports as it is: the
    bundle as written imported next changes nothing."""
    from sscmatch.bundle import import_bundle
    from sscmatch.vocab import load_vocabulary

    def respelled(text: str) -> str:
        head, _, rest = text.partition("\n")
        return ",".join(f" {h.title()} " for h in head.split(",")) + "\n" + rest

    path = _folder(tmp_path / "b", {name: respelled(text) for name, text in GOOD.items()})
    assert sum(import_bundle(session, path, load_vocabulary()).created.values()) == 9
    session.commit()
    again = import_bundle(session, _folder(tmp_path / "good", GOOD), load_vocabulary())
    assert not again.created and not again.updated and sum(again.unchanged.values()) == 9


# --------------------------------------------------------------------- a zip's limits


def _declaring(data: bytes, size: int) -> bytes:
    """The zip with every entry declaring ``size`` bytes unpacked (in its local header and
    the central directory), its data unchanged: a zip bomb's figures on a few bytes."""
    out = bytearray(data)
    at = 0
    while (at := data.find(b"PK\x01\x02", at)) >= 0:
        out[at + 24 : at + 28] = struct.pack("<I", size)
        local = struct.unpack("<I", data[at + 42 : at + 46])[0]
        out[local + 22 : local + 26] = struct.pack("<I", size)
        at += 4
    return bytes(out)


def test_a_zip_declaring_more_than_the_limit_is_refused_before_unpacking(tmp_path: Path) -> None:
    path = tmp_path / "bundle.zip"
    path.write_bytes(_declaring(_zip({"needs.csv": NEEDS, "themes.csv": "id\n"}), 600))
    raw = read_bundle(path, ZipLimits(size=1000, entries=10))
    assert [str(p) for p in raw.problems] == [
        "bundle.zip:1: file: the archive unpacks to 1200 bytes, more than the limit of 1000 "
        "bytes; nothing of it was read"
    ]
    assert raw.problems[0].msgid == TOO_LARGE and all(r == [] for r in raw.rows.values())
    # at the limit it is read (what an entry holds beyond its declared size is never unpacked)
    assert [r.values["id"] for r in read_bundle(path, ZipLimits(size=1200)).rows["needs"]] == ["n1"]


def test_a_zip_of_too_many_entries_is_refused_before_unpacking(tmp_path: Path) -> None:
    path = tmp_path / "bundle.zip"
    path.write_bytes(_zip({"needs.csv": NEEDS, **{f"__MACOSX/._{i}": b"" for i in range(5)}}))
    raw = read_bundle(path, ZipLimits(entries=5))
    assert [str(p) for p in raw.problems] == [
        "bundle.zip:1: file: the archive holds 6 entries, more than the limit of 5; nothing of "
        "it was read"
    ]
    assert raw.problems[0].msgid == TOO_MANY and raw.rows["needs"] == []
    assert read_bundle(path, ZipLimits(entries=6)).problems == []


@pytest.mark.parametrize("zip64", [False, True], ids=["zip", "zip64"])
def test_too_many_entries_are_refused_before_zipfile_reads_their_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, zip64: bool
) -> None:
    """The count comes from the archive's end record: a zip of a million entries never has a
    million records read into memory."""
    if zip64:  # Python writes the zip64 end records past 65,535 entries: as if past 2
        monkeypatch.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 2)
    data = _zip({f"__MACOSX/._{i}": b"" for i in range(6)})
    monkeypatch.undo()
    assert (b"PK\x06\x06" in data) is zip64
    path = tmp_path / "bundle.zip"
    path.write_bytes(data)

    def unread(*args: Any, **kw: Any) -> None:
        raise AssertionError("zipfile read the entries' records")

    monkeypatch.setattr(zipfile, "ZipFile", unread)
    assert [str(p) for p in read_bundle(path, ZipLimits(entries=5)).problems] == [
        "bundle.zip:1: file: the archive holds 6 entries, more than the limit of 5; nothing of "
        "it was read"
    ]


def test_the_reader_has_limits_of_its_own(tmp_path: Path) -> None:
    """Whoever reads a zip without saying its limits (a script) gets the upload's."""
    path = tmp_path / "bundle.zip"
    path.write_bytes(_declaring(_zip({"needs.csv": NEEDS}), 2**32 - 1))
    assert [p.msgid for p in read_bundle(path).problems] == [TOO_LARGE]


@pytest.mark.parametrize("upload_mb", [1, 20])
def test_the_command_line_refuses_a_zip_bomb_and_writes_nothing(
    app: Flask, runner: Any, tmp_path: Path, upload_mb: int
) -> None:
    """The command line reads a zip within the upload's limit (``MAX_UPLOAD_MB``), as the web
    does: a zip declaring more is one clear problem, and nothing is written."""
    app.config["MAX_UPLOAD_MB"] = upload_mb
    path = tmp_path / "bomb.zip"
    declared = upload_mb * 1024 * 1024 + 1
    path.write_bytes(_declaring(_zip({"needs.csv": NEEDS}), declared))
    engine = app.extensions["sscmatch.engine"]
    before = table_digest(engine)
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 1, result.output
    assert (
        f"bomb.zip:1: file: the archive unpacks to {declared} bytes, more than the limit of "
        f"{upload_mb * 1024 * 1024} bytes; nothing of it was read" in result.output
    )
    assert "1 problem(s) found; nothing was imported." in result.output
    assert table_digest(engine) == before
