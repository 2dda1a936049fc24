"""A form kept open for hours still saves: its CSRF token lives as long as the session.

Flask-WTF's tokens expired after an hour, so a focal point who took the afternoon to write a
need's description was refused on sending (and reloading sent the refused form again). The
class is every form a browser holds, signed in or not: the sign-in form and a record's form
stand for it (one token per session, whatever the form). What still refuses a form is a token
from another session or none: checked beside it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from itsdangerous.timed import TimestampSigner

from sscmatch.workflow.reminders import catalogue
from tests.conftest import ACCOUNTS, PASSWORD, make_test_app
from tests.web.test_registry import CAPACITY_FORM

LATER = 8 * 3600  # a working day after the form was opened


def _token(page: Any) -> str:
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(True))
    assert found, "the form carries a CSRF token"
    return found[1]


@pytest.fixture
def strict(database_url: str, tmp_path: Path, users: Any) -> Any:
    app: Flask = make_test_app(database_url, tmp_path / "strict", WTF_CSRF_ENABLED=True)
    yield app
    app.extensions["sscmatch.engine"].dispose()


def test_forms_opened_a_working_day_ago_still_save(
    strict: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the signer's clock moves on, never back (a cookie signed "later" is refused earlier)
    offset = [0]
    now = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now(self) + offset[0])
    client = strict.test_client()
    sign_in_token = _token(client.get("/login"))
    offset[0] += LATER
    email = ACCOUNTS["focal_gtm"][0]
    signed = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": sign_in_token}
    )
    assert signed.status_code == 302, signed.get_data(True)[:300]
    form_token = _token(client.get("/capacities/new"))
    offset[0] += LATER
    saved = client.post("/capacities/new", data={**CAPACITY_FORM, "csrf_token": form_token})
    assert saved.status_code == 302, saved.get_data(True)[:300]


@pytest.mark.parametrize("lang", ["en", "es", "pt", "fr"])
def test_a_token_of_another_session_is_still_refused_in_the_readers_words(
    strict: Flask, lang: str
) -> None:
    other = _token(strict.test_client().get("/login"))
    answer = strict.test_client().post(
        "/login",
        data={"email": ACCOUNTS["focal_gtm"][0], "password": PASSWORD, "csrf_token": other},
        headers={"Accept-Language": lang},
    )
    assert answer.status_code == 400
    said = catalogue(lang).ugettext(
        "The form's security check (CSRF) failed: it was sent from another site, or your "
        "session ended meanwhile. Nothing was saved; open the form again and send it again."
    )
    assert lang == "en" or not said.startswith("The form")  # translated
    assert str(said) in answer.get_data(True).replace("&#39;", "'").replace("&#x27;", "'")
