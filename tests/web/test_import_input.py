"""Bundles that used to be half-imported or silently cut (issue 13, classes 6 and 9): a NUL in a
CSV cell or a JSON string (PostgreSQL cannot store it: the import failed half-way, or a backup
could not be restored), JSON nested thousands deep (a RecursionError), and a zip holding one
table twice (the last one silently won). Each is refused with a message naming the file, line
and field, and nothing is written, on SQLite and PostgreSQL."""

from __future__ import annotations

import html
import io
import json
import re
import warnings
import zipfile
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from sscmatch.bundle import BundleError, Problem, import_bundle
from sscmatch.vocab import load_vocabulary
from tests.web.test_fuzz_api import JOB_TABLES, table_digest
from tests.web.test_hardening import GOOD_NEED, NEEDS_HEADER, _upload, _zip


def _zip_with_twice(name: str, first: bytes, second: bytes) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name: the point here
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(name, first)
            archive.writestr(name, second)
    return buffer.getvalue()


OTHER_NEED = "N-UP-7,GTM,Another need,labour-inspection,es,open\n"


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        (
            "bundle.zip",
            _zip(
                {
                    "needs.csv": (
                        NEEDS_HEADER + "N-UP-3,GTM,Bad\x00title,labour-inspection,es,open\n"
                    ).encode()
                }
            ),
            "needs.csv:2: title: contains a NUL character",
        ),
        (
            "bundle.json",
            json.dumps(
                {
                    "needs": [
                        {
                            "id": "N-UP-4",
                            "country": "GTM",
                            "title": "x\u0000y",
                            "themes": ["labour-inspection"],
                        }
                    ]
                }
            ).encode(),
            "title: contains a NUL character",
        ),
        (
            "bundle.json",
            json.dumps(
                {
                    "needs": [
                        {
                            "id": "N-UP-5",
                            "country": "GTM",
                            "title": "t",
                            "themes": ["labour-inspection", "a\u0000b"],
                        }
                    ]
                }
            ).encode(),
            "themes: contains a NUL character",
        ),
        ("bundle.json", b'{"needs": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deep"),
        (
            "bundle.zip",
            _zip_with_twice(
                "needs.csv",
                (NEEDS_HEADER + GOOD_NEED).encode(),
                (NEEDS_HEADER + OTHER_NEED).encode(),
            ),
            "needs.csv:1: file: the archive holds this table twice",
        ),
        (
            "bundle.zip",
            _zip(
                {
                    "needs.csv": (NEEDS_HEADER + GOOD_NEED).encode(),
                    "NEEDS.csv": (NEEDS_HEADER + OTHER_NEED).encode(),
                }
            ),
            "the archive holds this table twice",
        ),
    ],
    ids=["nul-csv", "nul-json", "nul-json-list", "deep-json", "zip-twice", "zip-twice-case"],
)
def test_import_page_refuses_and_writes_nothing(
    app: Flask, users: dict[str, int], as_user: Any, name: str, content: bytes, expected: str
) -> None:
    engine = app.extensions["sscmatch.engine"]
    client = as_user("secretariat")  # signing in writes; the import must not
    before = table_digest(engine, skip=JOB_TABLES)
    response = _upload(client, name, content)
    text = html.unescape(re.sub(r"<[^>]+>", "", response.get_data(as_text=True)))  # as read
    assert response.status_code == 400, text[:1500]
    assert "Nothing was imported" in text and expected in text, text[:3000]
    assert table_digest(engine, skip=JOB_TABLES) == before
    assert_refused_job(engine, expected)


def assert_refused_job(engine: Any, expected: str) -> None:
    """A problem found in the records ends the import job failed, its problems kept for its
    page; one found in the upload's form (the zip itself) queues no job at all."""
    from sqlmodel import Session, select

    from sscmatch.models import Job, JobPayload

    with Session(engine) as s:
        found = s.exec(select(Job)).all()
        assert s.exec(select(JobPayload)).all() == []  # the upload is not kept
    if not found:
        return
    (job,) = found
    # each stored as its message id and values (said in the reader's language by the page)
    shown = [str(Problem(*row)) for row in job.result["problems"]]
    assert job.status == "failed" and any(expected in line for line in shown), shown


def test_command_line_import_refuses_a_nul_too(app: Flask, tmp_path: Path) -> None:
    folder = tmp_path / "bundle"
    folder.mkdir()
    (folder / "needs.csv").write_text(
        NEEDS_HEADER + "N-CLI-1,GTM,Null\x00here,labour-inspection,es,open\n", encoding="utf-8"
    )
    engine = app.extensions["sscmatch.engine"]
    before = table_digest(engine)
    from sqlmodel import Session

    with Session(engine) as s, pytest.raises(BundleError) as refused:
        import_bundle(s, folder, load_vocabulary())
    shown = [f"{p.file}:{p.line}: {p.field}: {p.message}" for p in refused.value.problems]
    assert any(line.startswith("needs.csv:2: title: contains a NUL character") for line in shown)
    assert table_digest(engine) == before


@pytest.mark.parametrize("lang", ["es", "fr"])
def test_a_web_import_waits_for_a_worker_then_shows_its_outcome_translated(
    app: Flask, users: dict[str, int], as_user: Any, lang: str
) -> None:
    """Without JOBS_SYNC the upload only queues the import: its page (in the reader's language,
    no English on it) says it waits for a worker; a worker imports it; the page shows the
    counts, and the upload is no longer kept."""
    from sqlmodel import Session, func, select

    from sscmatch.jobs.worker import run_worker
    from sscmatch.models import JobPayload, Need
    from tests.web.english_text import Detector, visible_texts
    from tests.web.test_every_word_translated import _data_texts, _known_english

    app.config.update(JOBS_SYNC=False, REMIND_AT="off")
    engine = app.extensions["sscmatch.engine"]
    client = as_user("secretariat")
    client.post("/language", data={"lang": lang, "next": "/"})
    detector = Detector(lang, _known_english(), _data_texts(app))

    def page(path: str) -> str:
        response = client.get(path)
        assert response.status_code == 200, response.get_data(as_text=True)[:1500]
        text = response.get_data(as_text=True)
        assert list(detector.findings(visible_texts(text))) == [], path
        return html.unescape(text)

    response = _upload(
        client, "bundle.zip", _zip({"needs.csv": (NEEDS_HEADER + GOOD_NEED).encode()})
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:1500]
    path = response.headers["Location"]
    waiting = page(path)
    assert 'id="job-progress"' in waiting and "sscmatch worker" in waiting
    status = client.get(f"{path}/status").get_json()
    assert status["state"] == "queued" and status["waiting_for_worker"], status
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Need)).one() == 0
    assert run_worker(app, once=True, name="import-worker:1") == 1
    done = page(path)
    assert 'class="import-created">1<' in done and 'id="job-progress"' not in done
    assert client.get(f"{path}/status").get_json()["state"] == "done"
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Need)).one() == 1
        assert s.exec(select(JobPayload)).all() == []


def test_every_bundle_table_is_named_in_the_readers_language() -> None:
    from sscmatch.bundle import TABLES
    from sscmatch.web.imports import TABLE_LABELS

    assert set(TABLE_LABELS) == set(TABLES)
