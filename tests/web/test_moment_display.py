"""Stored moments on pages: one filter (``moment``) writes each in the reader's language with its
time in UTC, said so, inside a ``<time>`` the browser rewrites in the reader's time zone
(``static/js/moments.js``, checked in ``tests/e2e/test_moments.py``); no template formats a
moment or a day by itself."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from flask import Flask

from sscmatch.schemas import MOMENT_PATTERN
from sscmatch.web.templating import moment

ROOT = Path(__file__).resolve().parents[2]
WHEN = datetime(2026, 12, 3, 13, 5, 7)  # naive: the tables store UTC
EXPECTED = {
    "en": "Dec 3, 2026 13:05 UTC",
    "es": "3 dic 2026 13:05 UTC",
    "pt": "3 de dez. de 2026 13:05 UTC",
    "fr": "3 déc. 2026 13:05 UTC",
}


def _in(app: Flask, lang: str, *args: object) -> str:
    with app.app_context(), app.test_request_context(headers={"Accept-Language": lang}):
        return str(moment(*args))  # type: ignore[arg-type]


@pytest.mark.parametrize("lang", sorted(EXPECTED))
def test_a_moment_is_written_in_the_readers_language_with_its_utc_time(
    app: Flask, lang: str
) -> None:
    html = _in(app, lang, WHEN)
    found = re.fullmatch(r'<time datetime="([^"]+)" data-moment="minute">([^<]+)</time>', html)
    assert found, html
    assert re.fullmatch(MOMENT_PATTERN, found.group(1)) and found.group(1) == "2026-12-03T13:05:07Z"
    assert found.group(2) == EXPECTED[lang]


def test_precision_other_zones_and_no_moment(app: Flask) -> None:
    assert "13:05:07 UTC</time>" in _in(app, "es", WHEN, "second")
    day = _in(app, "es", WHEN, "day")
    assert day.endswith(">3 dic 2026</time>") and 'data-moment="day"' in day
    guatemala = WHEN.replace(tzinfo=timezone(timedelta(hours=-6)))  # 13:05 there is 19:05 UTC
    assert 'datetime="2026-12-03T19:05:07Z"' in _in(app, "en", guatemala)
    assert _in(app, "en", None) == ""
    with pytest.raises(ValueError, match="precision"):
        _in(app, "en", WHEN, "hour")


@pytest.mark.parametrize(
    ("microsecond", "written"),
    [(0, "07Z"), (270566, "07.270Z"), (999, "07.000Z"), (5000, "07.005Z")],
)
def test_a_moment_with_a_fraction_of_a_second_is_valid_html(
    app: Flask, microsecond: int, written: str
) -> None:
    """HTML's ``datetime`` takes at most three digits of a second; the tables store six."""
    html = _in(app, "en", WHEN.replace(microsecond=microsecond))
    assert f'datetime="2026-12-03T13:05:{written}"' in html, html


def test_no_template_formats_a_moment_or_a_day_by_itself() -> None:
    """strftime and isoformat in a template bypass the reader's language and the time zone."""
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in sorted((ROOT / "templates").rglob("*.html"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if re.search(r"\.(strftime|isoformat)\(", line)
    ]
    assert offenders == []


def test_every_page_loads_the_script_that_localises_moments() -> None:
    base = (ROOT / "templates" / "base.html").read_text(encoding="utf-8")
    assert "js/moments.js" in base
    assert (ROOT / "static" / "js" / "moments.js").is_file()
