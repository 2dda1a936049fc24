from __future__ import annotations

from datetime import date

import pytest

from sscmatch import dates
from sscmatch.dates import PartialDate, PartialDateError, parse_partial_date, period_end


@pytest.mark.parametrize(
    ("text", "start", "end", "precision"),
    [
        ("2017", date(2017, 1, 1), date(2017, 12, 31), "year"),
        ("2019-02", date(2019, 2, 1), date(2019, 2, 28), "month"),
        ("2020-02", date(2020, 2, 1), date(2020, 2, 29), "month"),
        ("2019-12", date(2019, 12, 1), date(2019, 12, 31), "month"),
        ("2019-10-22", date(2019, 10, 22), date(2019, 10, 22), "day"),
    ],
)
def test_partial_dates(text: str, start: date, end: date, precision: str) -> None:
    assert parse_partial_date(text) == start
    assert period_end(text) == end
    value = PartialDate.parse(f" {text} ")
    assert (value.first, value.last, value.precision) == (start, end, precision)
    assert str(value) == text  # the text it came from, exactly
    assert PartialDate.of(value.first, value.precision) == value  # and back from its columns
    assert value.__composite_values__() == (start, precision)


@pytest.mark.parametrize(
    "bad", ["", "17", "2017-13", "2017-02-30", "22/10/2019", "2017-1", "２０１７"]
)
def test_bad_dates_are_refused(bad: str) -> None:
    with pytest.raises(PartialDateError):
        parse_partial_date(bad)
    with pytest.raises(PartialDateError):
        PartialDate.parse(bad)


def test_columns_that_are_not_a_period_are_refused() -> None:
    """A precision the first day does not begin (2017-03-01 is no year), or no precision at all."""
    with pytest.raises(PartialDateError):
        PartialDate(date(2017, 3, 1), "year")
    with pytest.raises(PartialDateError):
        PartialDate(date(2017, 3, 2), "month")
    with pytest.raises(PartialDateError):
        PartialDate(date(2017, 3, 1), "week")  # type: ignore[arg-type]
    assert PartialDate.of(None, None) is None


def test_order_is_by_first_day_then_precision() -> None:
    texts = ["2019-10-02", "2018-12-31", "2019", "2019-10", "2019-01", "2019-01-01"]
    ordered = sorted(PartialDate.parse(t) for t in texts)
    assert [str(d) for d in ordered] == [
        "2018-12-31", "2019", "2019-01", "2019-01-01", "2019-10", "2019-10-02"
    ]  # fmt: skip
    assert PartialDate.parse("2019") < PartialDate.parse("2019-01")
    assert PartialDate.parse("2019-03") > PartialDate.parse("2019-02-28")
    assert PartialDate.parse("2019") == PartialDate.parse("2019")
    assert PartialDate.parse("2019") != PartialDate.parse("2019-01")


def test_coerce() -> None:
    assert PartialDate.coerce(None) is None
    assert PartialDate.coerce("  ") is None
    assert PartialDate.coerce("2014-03") == PartialDate(date(2014, 3, 1), "month")
    value = PartialDate.parse("2014")
    assert PartialDate.coerce(value) is value


@pytest.mark.parametrize(
    ("text", "locale", "shown"),
    [
        ("2014", "en", "2014"),
        ("2014-03", "en", "March 2014"),
        ("2014-03", "es", "marzo de 2014"),
        ("2014-03", "fr", "mars 2014"),
        ("2014-03-12", "en", "March 12, 2014"),
        ("2014-03-12", "pt", "12 de março de 2014"),
    ],
)
def test_format_for_readers(text: str, locale: str, shown: str) -> None:
    assert PartialDate.parse(text).format(locale) == shown


@pytest.mark.parametrize(
    ("text", "message", "params"),
    [
        ("0", dates.NOT_A_DATE, {"value": "'0'"}),
        ("0000", dates.OUT_OF_YEARS, {"value": "'0000'", "low": 1900, "high": 2100}),
        ("1899-12-31", dates.OUT_OF_YEARS, {"value": "'1899-12-31'", "low": 1900, "high": 2100}),
        ("2101", dates.OUT_OF_YEARS, {"value": "'2101'", "low": 1900, "high": 2100}),
        ("9999", dates.OUT_OF_YEARS, {"value": "'9999'", "low": 1900, "high": 2100}),
        ("2030-13", dates.NO_SUCH_MONTH, {"value": "'2030-13'", "month": "13"}),
        ("2030-00-05", dates.NO_SUCH_MONTH, {"value": "'2030-00-05'", "month": "00"}),
        ("2030-02-30", dates.NO_SUCH_DAY, {"value": "'2030-02-30'", "day": "30"}),
        ("2031-02-29", dates.NO_SUCH_DAY, {"value": "'2031-02-29'", "day": "29"}),
    ],
)
def test_a_refused_date_says_why_in_a_message_of_the_catalogue(
    text: str, message: str, params: dict[str, object]
) -> None:
    """The one rule on dates: a refusal carries its message of the catalogue and its values
    (the edge says it in the reader's language), never Python's own reason ("year 0 is out of
    range", "day is out of range for month")."""
    with pytest.raises(PartialDateError) as refused:
        PartialDate.parse(text)
    assert (refused.value.message, refused.value.params) == (message, params)
    assert message in dates.MESSAGES
    assert str(refused.value) == message % params
    assert "out of range" not in str(refused.value) and "must be in" not in str(refused.value)


def test_years_from_1900_to_2100() -> None:
    """The bound is wide enough for the knowledge base (its records begin in the 1990s)."""
    assert PartialDate.parse("1900").first == date(1900, 1, 1)
    assert PartialDate.parse("2100-12-31").last == date(2100, 12, 31)
    assert (dates.MIN_YEAR, dates.MAX_YEAR) == (1900, 2100)


def test_a_window_ends_after_it_starts() -> None:
    dates.check_window("2026-05", "2026")  # the year 2026 ends after May begins
    dates.check_window(None, "2026")
    dates.check_window("2026", "")
    with pytest.raises(PartialDateError) as refused:
        dates.check_window("2027-05-01", "2026-01-01")
    assert refused.value.message == dates.ENDS_BEFORE
    assert refused.value.params == {"end": "2026-01-01", "start": "2027-05-01"}
