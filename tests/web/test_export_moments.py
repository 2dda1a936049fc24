"""Every export writes its moments (timestamps) one way: ISO 8601 in UTC to the second with
``Z`` (``2026-12-04T21:03:07Z``), what a spreadsheet and a script read without surprise.

The exports are those of every list page, as ``tests/web/test_every_list_page.py`` discovers
them from the URL map (its CSV and its JSON, read by the first role that may); every value of
every row (nested ones too) and every CSV cell that looks like a moment (a date then a time)
is checked: no fractional second, it parses as ISO 8601 with a zone, and the zone is UTC
written ``Z``. The JSON's own ``exported`` moment too.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask

from sscmatch.web.exports import moment
from tests.web.test_every_list_page import PAGE, _export_links, _lists, _reader, _seed

LOOKS_LIKE_A_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
EXPORTED_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def _texts(value: Any) -> list[str]:
    """Every text in a JSON value, nested ones too."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    return []


def _wrong(text: str) -> str | None:
    """What is wrong with a moment as an export writes it, or None."""
    if not EXPORTED_MOMENT.match(text):
        if re.search(r":\d{2}[.,]\d", text):
            return "a fractional second"
        return "not YYYY-MM-DDTHH:MM:SSZ"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return "not ISO 8601"
    if parsed.tzinfo is None or parsed.utcoffset() != timedelta(0):
        return "not in UTC"
    return None


def test_moment_is_utc_to_the_second() -> None:
    """The one shared writer: a fractional second is dropped (the moment's second, never the
    next one), another zone is said in UTC, a naive value is UTC (the tables store UTC)."""
    from zoneinfo import ZoneInfo

    late = datetime(2026, 12, 4, 21, 3, 7, 999_999, tzinfo=UTC)
    assert moment(late) == "2026-12-04T21:03:07Z"
    assert moment(datetime(2026, 12, 4, 21, 3, 7, 123_456)) == "2026-12-04T21:03:07Z"
    lima = datetime(2026, 12, 4, 16, 3, 7, 500_000, tzinfo=ZoneInfo("America/Lima"))
    assert moment(lima) == "2026-12-04T21:03:07Z"
    assert moment(datetime(2026, 12, 4, 21, 3, tzinfo=UTC)) == "2026-12-04T21:03:00Z"
    assert moment(None) is None


def test_every_export_writes_moments_in_utc_to_the_second(
    app: Flask, users: dict[str, int]
) -> None:
    world = _seed(app, users)
    app.config["PAGE_SIZE"] = PAGE
    wrong: list[str] = []
    moments = 0
    exports_with_moments: set[str] = set()
    for _endpoint, rule in _lists(app, world):
        _who, client = _reader(app, rule)
        links = _export_links(client.get(rule).get_data(as_text=True))
        assert set(links) == {"csv", "json", "xlsx"}, rule
        body = client.get(links["json"])
        assert body.status_code == 200, links["json"]
        data = body.get_json()
        problem = _wrong(data["exported"])
        if problem:
            wrong.append(f"{links['json']} exported {data['exported']!r}: {problem}")
        found = [t for t in _texts(data[data["kind"]]) if LOOKS_LIKE_A_MOMENT.match(t)]
        table = client.get(links["csv"])
        assert table.status_code == 200, links["csv"]
        cells = [
            cell
            for row in csv.reader(io.StringIO(table.get_data(as_text=True)))
            for cell in row
            if LOOKS_LIKE_A_MOMENT.match(cell)
        ]
        for where, texts in ((links["json"], found), (links["csv"], cells)):
            for text in texts:
                moments += 1
                problem = _wrong(text)
                if problem:
                    wrong.append(f"{where}: {text!r}: {problem}")
        if found:
            exports_with_moments.add(rule)
    assert not wrong, "\n".join(sorted(set(wrong))[:60])
    # the walk saw moments: runs, calibrations, users, the audit log, notices, imports...
    assert moments >= 40, moments
    assert len(exports_with_moments) >= 6, sorted(exports_with_moments)
