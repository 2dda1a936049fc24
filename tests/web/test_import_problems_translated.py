"""A refused bundle's problems in the reader's language: every kind of problem an upload can
meet (the zip's form, CSV and JSON syntax, headers, values, the schemas, references), read in
Spanish, Portuguese and French, says its message in that language, never the English.

Each upload is read once in English, then in each language: a refused import's job page read
again (the problems are stored as message ids and values and said when the page is read, so a
Spanish and a French reader see the same job each in their own language), or, for a zip refused
at the form, uploaded again. Line for line, the place is the same data (file, line), the message
differs from its English and is a message of the reader's catalogue (its msgstr, values filled
in), and the page shows no English. The uploads are checked to reach every message of
``sscmatch.bundle`` and of the import page, so a new kind of problem needs an upload here.
"""

from __future__ import annotations

import functools
import html
import io
import json
import re
import struct
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from flask import Flask
from sqlmodel import Session, col, select

from sscmatch.bundle.format import PLACES
from sscmatch.dates import MESSAGES as DATE_MESSAGES
from sscmatch.models import Job
from sscmatch.web.messages import SHAPES
from tests.web.english_text import Detector, visible_texts
from tests.web.test_every_word_translated import _data_texts, _known_english

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = ROOT / "sscmatch" / "translations"
LANGUAGES = ("es", "pt", "fr")
PROBLEM_MODULES = (
    "sscmatch/bundle/format.py",
    "sscmatch/bundle/read.py",
    "sscmatch/bundle/validate.py",
)
PAGE_MODULE = "sscmatch/web/imports.py"  # its N_ messages are the upload's problems

NOT_FROM_THE_WEB = {
    "%(n)s problem(s) in the bundle": "BundleError's own message, not a problem",
    "not a bundle (expected a folder of CSV files, a .zip of them or a .json file)": "the command line's path",
    "no such file or folder": "the command line's path",
    "invalid JSON": "a reason of the JSON parser that Python does not give today",
    "broken CSV": "a reason of the CSV reader that Python does not give today",
    "broken CSV quoting; quote fields that contain commas, quotes or line breaks, doubling "
    "inner quotes": "a reason of the CSV reader that Python does not give today",
    "required field is missing": "every field a schema requires is in bundle.format.REQUIRED, "
    "checked first ('required field is empty')",
    "must not be empty": "every field with a minimum length is in REQUIRED, checked first",
    "this is not a file that can be read (a folder, a link to nothing or a device); put the "
    "table's CSV file here": "a CSV folder's, which only the command line reads",
    "this file cannot be read (no permission, or the disk refused); check it opens": "a file on "
    "the command line's disk (tests/test_hostile_bundle.py)",
}
"""Messages of the bundle no upload reaches, each with why (kept for the command line, or
should a schema and ``REQUIRED`` ever drift apart)."""

# --------------------------------------------------------------------------- the uploads


def _zip(files: dict[str, str | bytes], stored: bool = False) -> bytes:
    buffer = io.BytesIO()
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a name twice: one upload's point
        with zipfile.ZipFile(buffer, "w", compression=method) as archive:
            for name, content in files.items():
                archive.writestr(name.split("#")[0], content)
    return buffer.getvalue()


def _central_entry(data: bytes) -> int:
    return data.index(b"PK\x01\x02")


def _with_flag(data: bytes, flag: int) -> bytes:
    """The zip with its (first) member's general purpose flag set in the central directory."""
    out = bytearray(data)
    at = _central_entry(data) + 8
    out[at : at + 2] = struct.pack("<H", flag)
    return bytes(out)


def _with_method(data: bytes, method: int) -> bytes:
    out = bytearray(data)
    at = _central_entry(data) + 10
    out[at : at + 2] = struct.pack("<H", method)
    return bytes(out)


def _with_byte_flipped(data: bytes, offset: int) -> bytes:
    out = bytearray(data)
    out[offset] ^= 0xFF
    return bytes(out)


NEED = "n-ok,BRA,A need,labour-inspection\n"
TITLE_TOO_LONG = "T" * 301

RECORDS_CSV = {
    "institutions.csv": (
        "id,name,country,constituency,international\n"
        "i-guild,Inst One,BRA,guild,\n"
        "i-near,Inst Two,Atlantis,government,\n"
        "i-far,Inst Three,Qxqxqxqz,government,\n"
        "i-twice,Inst Four,Nigera,government,\n"
        "i-bool,Inst Five,BRA,government,maybe\n"
        "i-empty,,BRA,government,\n"
        "bad id!,Inst Six,BRA,government,\n"
        "i-guild,Inst Again,BRA,government,\n"
        "i-national,National Inst,BRA,government,false\n"
    ),
    "themes.csv": "id,label_en,parent\nt-orphan,Orphan theme,no-such-parent\n",
    "capacities.csv": (
        "id,country,institution,title,themes,languages,max_per_year,available_from,available_to\n"
        "c-inst,BRA,no-such-inst,Title,labour-inspection,,,,\n"
        "c-neg,BRA,,Title,labour-inspection,,-1,,\n"
        "c-big,BRA,,Title,labour-inspection,,5000,,\n"
        "c-nan,BRA,,Title,labour-inspection,,abc,,\n"
        "c-near,BRA,,Title,underwater basket weaving,Klingonish,,,\n"
        "c-far,BRA,,Title,qqqqzzzz,zzzzzzzzzz,,,\n"
        "c-month,BRA,,Title,labour-inspection,,,2019-13,\n"
        "c-day,BRA,,Title,labour-inspection,,,2019-02-30,\n"
        "c-year,BRA,,Title,labour-inspection,,,1850,\n"
        "c-soon,BRA,,Title,labour-inspection,,,soon,\n"
        "c-window,BRA,,Title,labour-inspection,,,2026-05,2026-01\n"
        "c-nobody,,,Title,labour-inspection,,,,\n"
        "c-national,,i-national,Title,labour-inspection,,,,\n"
        f"c-long,BRA,,{TITLE_TOO_LONG},labour-inspection,,,,\n"
    ),
    "needs.csv": "id,country,title,themes\nn-short,BRA,Three cells\nn-nul,BRA,A\x00B,education\n",
    "exchanges.csv": (
        "id,start,providers,recipients,themes,direction\n"
        "e-alone,2019,,,labour-inspection,\n"
        "e-one-way,2019,BRA,,labour-inspection,one_way\n"
    ),
    "commitments.csv": (
        "id,exchange,study_tour,owner_country,owner_institution,description\n"
        "k-refs,no-such-exchange,no-such-tour,BRA,no-such-inst,Do it\n"
        "k-empty,,,BRA,,\n"
    ),
}
HEADERS_CSV = {
    "needs.csv": "id,country,title,themes,colour,,title\n",
    "capacities.csv": "id,country,title\n",
    "commitments.csv": "id,owner_country,description\nk1,BRA,Acci\xf3n\n".encode("latin-1"),
}
BROKEN_CSV = {
    "needs.csv": 'id,"country"x,title\n',
    "exchanges.csv": 'id,"start\n',
    "themes.csv": "id," + "y" * 140_000 + "\n",
    "capacities.csv": 'id,country,title,themes\nc1,"BRA"x,t,labour-inspection\n',
    "institutions.csv": 'id,name,country\ni1,"unterminated\n',
    "commitments.csv": "id,owner_country,description\nk1,BRA," + "x" * 140_000 + "\n",
}
GOOD = {"id": "j-ok", "country": "BRA", "title": "T", "themes": ["labour-inspection"]}
RECORDS_JSON = {
    "people": [],
    "needs": {"id": "x"},
    "exchanges": [1],
    "capacities": [
        {**GOOD, "id": "j-colour", "colour": "red"},
        {**GOOD, "id": "j-type", "title": 5},
        {**GOOD, "id": "j-list", "themes": {"a": 1}},
        {**GOOD, "id": "j-many", "themes": ["labour-inspection"] * 201},
        {**GOOD, "id": "j-float", "max_per_year": 1.5},
        {**GOOD, "id": "j-nul", "title": "x\u0000y"},
        {**GOOD, "id": "j-twice"},
        {**GOOD, "id": "j-twice"},
    ],
    "institutions": [{"id": "j-bool", "name": "N", "country": "BRA", "international": [1]}],
}


def _uploads() -> dict[str, tuple[str, bytes]]:
    stored = _zip({"needs.csv": "id,country,title,themes\n" + NEED * 40}, stored=True)
    deflated = _zip({"needs.csv": "id,country,title,themes\n" + NEED * 40})
    data_at = 30 + len("needs.csv")  # the local header, then the name, then the data
    return {
        "records-csv": ("records.zip", _zip(RECORDS_CSV)),
        "headers-csv": ("headers.zip", _zip(HEADERS_CSV)),
        "broken-csv": ("broken.zip", _zip(BROKEN_CSV)),
        "records-json": ("records.json", json.dumps(RECORDS_JSON).encode()),
        "json-property": ("a.json", b"{not json"),
        "json-value": ("a.json", b'{"needs": [1,]}'),
        "json-colon": ("a.json", b'{"needs" []}'),
        "json-comma": ("a.json", b'{"needs": [1 2]}'),
        "json-escape": ("a.json", b'{"needs": ["x\\q"]}'),
        "json-unicode": ("a.json", b'{"needs": ["\\u12"]}'),
        "json-control": ("a.json", b'{"needs": ["a\nb"]}'),
        "json-unterminated": ("a.json", b'{"needs": ["abc'),
        "json-extra": ("a.json", b"{} x"),
        "json-deep": ("a.json", b'{"needs": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
        "json-array": ("a.json", b"[1]"),
        "json-long-number": ("a.json", b'{"needs": [], "n": ' + b"9" * 5000 + b"}"),
        "json-table-twice": ("a.json", b'{"needs": [], "needs": []}'),
        "json-no-table": ("a.json", b"{}"),
        "json-field-twice": ("a.json", b'{"needs": [{"id": "j-1", "id": "j-2"}]}'),
        "json-bytes": ("a.json", b"\xff\xfe{}"),
        "suffix": ("bundle.exe", b"MZ"),
        "zip-unreadable": ("bundle.zip", b"garbage"),
        "zip-too-large": ("bundle.zip", _zip({"needs.csv": b"\x00" * (21 * 1024 * 1024)})),
        "zip-too-many": ("bundle.zip", _zip({f"__MACOSX/._{i}": b"" for i in range(1001)})),
        "zip-twice": ("bundle.zip", _zip({"needs.csv#1": NEED, "needs.csv#2": NEED})),
        "zip-path": ("bundle.zip", _zip({"sub/needs.csv": NEED})),
        "zip-unknown": ("bundle.zip", _zip({"people.csv": NEED})),
        "zip-empty": ("bundle.zip", _zip({})),
        "zip-checksum": ("bundle.zip", _with_byte_flipped(stored, data_at + 40)),
        "zip-stream": ("bundle.zip", _with_byte_flipped(deflated, data_at)),
        "zip-encrypted": ("bundle.zip", _with_flag(deflated, 0x1)),
        "zip-method": ("bundle.zip", _with_method(deflated, 99)),
    }


# --------------------------------------------------------------------------- reading pages

LINE = re.compile(
    r"^(?P<file>[^:]+):(?P<line>\d+): (?:(?P<record>\w+\[\d+\](?: \(id '[^']*'\))?): )?"
    r"(?P<field>.*?): (?P<message>.*)$",
    re.S,
)
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _pattern(text: str) -> re.Pattern[str]:
    parts = PLACEHOLDER.split(text)
    return re.compile(
        "".join(re.escape(p) if i % 2 == 0 else ".+?" for i, p in enumerate(parts)), re.S
    )


def _problem_lines(page: str) -> list[str]:
    found = re.search(r'<ul class="problems">(.*?)</ul>', page, re.S)
    assert found is not None, page[:3000]
    items = re.findall(r"<li><code>(.*?)</code></li>", found[1], re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", item)) for item in items]


@functools.cache
def _catalogue(lang: str) -> dict[str, str]:
    with (CATALOGUES / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return {
            str(m.id): str(m.string)
            for m in read_po(handle)
            if isinstance(m.id, str) and m.id and m.string and not m.fuzzy
        }


@functools.cache
def _said(lang: str) -> tuple[re.Pattern[str], ...]:
    """Every message of ``lang``'s catalogue as a pattern (its values: anything)."""
    return tuple(_pattern(text) for text in set(_catalogue(lang).values()))


@functools.cache
def _problem_messages() -> dict[str, str]:
    """Every problem message of the bundle and the import page (their N_ msgids), by msgid."""
    out = {}
    for module in (*PROBLEM_MODULES, PAGE_MODULE):
        for _line, msgid, _comments, _context in extract_from_file(
            "python", str(ROOT / module), keywords={"N_": None}
        ):
            if msgid not in PLACES:
                out[msgid] = msgid
    return out


def _which(english: str) -> str:
    """The msgid an English problem message was said from: ours, a partial date's, or a schema
    sentence's shape (the most specific when several fit)."""
    candidates = [*_problem_messages(), *DATE_MESSAGES, *SHAPES]
    fits = [m for m in candidates if _pattern(m).fullmatch(english)]
    assert fits, f"no message of the catalogue says {english!r}"
    return max(fits, key=lambda m: len(PLACEHOLDER.sub("", m)))


class Reader:
    """One signed-in secretariat member, switching language."""

    def __init__(self, app: Flask, client: Any) -> None:
        self.app, self.client = app, client

    def speak(self, lang: str) -> None:
        self.client.post("/language", data={"lang": lang, "next": "/"})

    def upload(self, name: str, content: bytes) -> tuple[str, int | None]:
        """The answer's page and the import's job (None when the form refused the upload)."""
        before = self._last_job()
        response = self.client.post(
            "/admin/import",
            data={"bundle": (io.BytesIO(content), name)},
            content_type="multipart/form-data",
        )
        page = response.get_data(as_text=True)
        assert response.status_code == 400, page[:2000]
        job = self._last_job()
        return page, job if job != before else None

    def job_page(self, job: int) -> str:
        response = self.client.get(f"/admin/import/{job}")
        assert response.status_code == 200
        return str(response.get_data(as_text=True))

    def _last_job(self) -> int | None:
        with Session(self.app.extensions["sscmatch.engine"]) as s:
            return s.exec(select(Job.id).order_by(col(Job.id).desc())).first()


def _pairs(english: list[str], said: list[str]) -> Iterator[tuple[dict[str, str], dict[str, str]]]:
    assert len(english) == len(said), (english, said)
    for one, other in zip(english, said, strict=True):
        a, b = LINE.match(one), LINE.match(other)
        assert a is not None and b is not None, (one, other)
        yield a.groupdict(), b.groupdict()


# --------------------------------------------------------------------------- the tests


def test_every_problem_of_a_bundle_is_said_in_the_readers_language(
    app: Flask, users: dict[str, int], as_user: Any
) -> None:
    reader = Reader(app, as_user("secretariat"))
    data = _data_texts(app)
    detectors = {lang: Detector(lang, _known_english(), data) for lang in LANGUAGES}
    seen: set[str] = set()
    wrong: list[str] = []
    for label, (name, content) in _uploads().items():
        reader.speak("en")
        page, job = reader.upload(name, content)
        english = _problem_lines(page)
        assert english, f"{label}: no problem listed"
        for line in english:
            found = LINE.match(line)
            assert found is not None, line
            seen.add(_which(found["message"]))
        for lang in LANGUAGES:
            reader.speak(lang)
            page = reader.job_page(job) if job is not None else reader.upload(name, content)[0]
            for finding in detectors[lang].findings(visible_texts(page)):
                wrong.append(f"{label} [{lang}]: English on the page: {finding}")
            for en, said in _pairs(english, _problem_lines(page)):
                where = f"{label} [{lang}] {en['file']}:{en['line']}: {en['message']!r}"
                if (said["file"], said["line"], said["record"]) != (
                    en["file"],
                    en["line"],
                    en["record"],
                ):
                    wrong.append(f"{where}: another place {said['file']}:{said['line']}")
                if said["message"] == en["message"]:
                    wrong.append(f"{where}: said in English")
                elif not any(p.fullmatch(said["message"]) for p in _said(lang)):
                    wrong.append(f"{where}: {said['message']!r} is no message of the catalogue")
                if en["field"] in PLACES and said["field"] == en["field"]:
                    wrong.append(f"{where}: the place {en['field']!r} said in English")
    assert wrong == [], "\n".join(wrong)
    unreached = set(_problem_messages()) - seen - set(NOT_FROM_THE_WEB)
    assert unreached == set(), f"no upload here meets: {sorted(unreached)}"
    assert set(NOT_FROM_THE_WEB) <= set(_problem_messages()), (
        "NOT_FROM_THE_WEB names a message gone"
    )
    # the schemas' own sentences and the partial dates' reach the page too, said by shape
    assert {m for m in seen if m in SHAPES or m in DATE_MESSAGES} >= {
        *DATE_MESSAGES,
        "%(what)s is required (only a record held by an international or regional body, "
        "named as its institution, has no country)",
        "an exchange needs at least one country (providers, recipients or participants)",
        "a one_way exchange needs both providers and recipients",
    }


@pytest.mark.parametrize("lang", LANGUAGES)
def test_problems_stored_by_an_older_version_still_show(
    app: Flask, users: dict[str, int], as_user: Any, lang: str
) -> None:
    """An import refused before problems were message ids stored ``[file, line, field, English]``:
    its page still lists them as stored, beside rows of the new form said in the reader's
    language."""
    old = "unknown value 'Atlantis' (expected a country code or name, e.g. BRA or Brasil)"
    with Session(app.extensions["sscmatch.engine"]) as s:
        job = Job(
            kind="import",
            status="failed",
            params={"name": "old.zip"},
            created_by=users["secretariat"],
            error="2 problem(s) in the bundle; nothing was imported",
            result={
                "problems": [
                    ["institutions.csv", 3, "country", old],
                    ["needs.csv", 2, "file", "required field is empty", {}],
                ],
                "problem_count": 2,
            },
        )
        s.add(job)
        s.commit()
        job_id = job.id
    reader = Reader(app, as_user("secretariat"))
    reader.speak(lang)
    lines = _problem_lines(reader.job_page(int(job_id or 0)))
    place = _catalogue(lang)["file"]
    assert lines == [
        f"institutions.csv:3: country: {old}",
        f"needs.csv:2: {place}: {_catalogue(lang)['required field is empty']}",
    ]
