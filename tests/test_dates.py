from __future__ import annotations

from datetime import date

import pytest

from sscmatch.dates import PartialDateError, parse_partial_date, period_end


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2017", date(2017, 1, 1), date(2017, 12, 31)),
        ("2019-02", date(2019, 2, 1), date(2019, 2, 28)),
        ("2020-02", date(2020, 2, 1), date(2020, 2, 29)),
        ("2019-12", date(2019, 12, 1), date(2019, 12, 31)),
        ("2019-10-22", date(2019, 10, 22), date(2019, 10, 22)),
    ],
)
def test_partial_dates(text: str, start: date, end: date) -> None:
    assert parse_partial_date(text) == start
    assert period_end(text) == end


@pytest.mark.parametrize("bad", ["", "17", "2017-13", "2017-02-30", "22/10/2019", "2017-1"])
def test_bad_dates_are_refused(bad: str) -> None:
    with pytest.raises(PartialDateError):
        parse_partial_date(bad)
