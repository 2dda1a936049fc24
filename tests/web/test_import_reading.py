"""The import page reads a bundle as the command line does (``tests/test_bundle_reading.py``): a
Mac's or Windows' own files in the zip are passed over, headers written ``Title`` name their
column, and a zip beyond the limits is refused whole, by the form and by the import job's
reader alike, writing nothing."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, select

from sscmatch.models import Job, Need
from tests.test_bundle_reading import DEBRIS, _declaring, _zip
from tests.web.test_fuzz_api import JOB_TABLES, table_digest
from tests.web.test_hardening import GOOD_NEED, NEEDS_HEADER, _count, _upload


def _text(response: Any) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", response.get_data(as_text=True)))


def test_a_zip_made_on_a_mac_or_windows_imports_without_a_word(
    app: Flask, users: dict[str, int], as_user: Any
) -> None:
    content = _zip({"needs.csv": NEEDS_HEADER + GOOD_NEED, **DEBRIS})
    response = _upload(as_user("secretariat"), "bundle.zip", content)
    text = _text(response)
    assert response.status_code == 200, text[:2000]
    assert "Bundle imported" in text and 'class="problems"' not in text
    assert _count(app, Need) == 1


def test_a_zip_of_nothing_but_such_files_holds_no_csv_file(
    app: Flask, users: dict[str, int], as_user: Any
) -> None:
    response = _upload(as_user("secretariat"), "bundle.zip", _zip(DEBRIS))
    assert response.status_code == 400
    assert "bundle.zip:1: file: the archive holds no CSV file" in _text(response)


def test_a_spreadsheets_headers_import(app: Flask, users: dict[str, int], as_user: Any) -> None:
    header = ",".join(f" {c.title()} " for c in NEEDS_HEADER.strip().split(",")) + "\n"
    response = _upload(
        as_user("secretariat"), "bundle.zip", _zip({"needs.csv": header + GOOD_NEED})
    )
    assert response.status_code == 200, _text(response)[:2000]
    assert _count(app, Need) == 1


BOMB = _declaring(_zip({"needs.csv": NEEDS_HEADER + GOOD_NEED}), 2**32 - 1)
LIMIT = 20 * 1024 * 1024
SAID = (
    f"bundle.zip:1: file: the archive unpacks to {2**32 - 1} bytes, more than the limit of "
    f"{LIMIT} bytes; nothing of it was read"
)


def test_the_form_refuses_a_zip_bomb(app: Flask, users: dict[str, int], as_user: Any) -> None:
    engine = app.extensions["sscmatch.engine"]
    client = as_user("secretariat")
    before = table_digest(engine)
    response = _upload(client, "bundle.zip", BOMB)
    assert response.status_code == 400
    assert "Nothing was imported" in _text(response) and SAID in _text(response)
    assert table_digest(engine) == before  # no job either


def test_the_import_job_reads_within_the_limits_too(
    app: Flask, users: dict[str, int], as_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Were the form's check ever skipped, the job's reader refuses the zip itself, within the
    configured limit, and writes nothing."""
    import sscmatch.web.imports as page

    monkeypatch.setattr(page, "check_zip", lambda *args: None)
    engine = app.extensions["sscmatch.engine"]
    client = as_user("secretariat")
    before = table_digest(engine, skip=JOB_TABLES)
    response = _upload(client, "bundle.zip", BOMB)
    assert response.status_code == 400 and SAID in _text(response), _text(response)[:2000]
    assert table_digest(engine, skip=JOB_TABLES) == before
    with Session(engine) as s:
        (job,) = s.exec(select(Job)).all()
    assert job.status == "failed" and job.result["problem_count"] == 1
