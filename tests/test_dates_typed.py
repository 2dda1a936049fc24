"""Properties of :func:`sscmatch.dates.parse_typed`, the one reading of a date typed in a form.

- every ISO date of the rule round-trips, in every language;
- a day, month and year typed day first (``/``, ``-`` or ``.``, padded or not) in es, pt and fr
  is the ISO date, as is the month and year (``3/2019``) and the date in the reader's words
  (what :meth:`PartialDate.format` writes: ``15 de marzo de 2019``, ``mars 2019``);
- what a form shows to edit (:func:`typed_text`) reads back as the same date;
- in English a numeric day and month are read only when one reading is possible;
- any text at all is a date or a :class:`PartialDateError` of the documented messages, never
  another exception.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sscmatch.dates import (
    AMBIGUOUS,
    MAX_YEAR,
    MESSAGES,
    MIN_YEAR,
    NEEDS_A_DAY,
    TYPED_MESSAGES,
    PartialDate,
    PartialDateError,
    parse_typed,
    shown,
    typed_text,
)

LANGS = ("en", "es", "pt", "fr")
DAY_FIRST = ("es", "pt", "fr")

days = st.dates(min_value=date(MIN_YEAR, 1, 1), max_value=date(MAX_YEAR, 12, 31))
precisions = st.sampled_from(("year", "month", "day"))


@st.composite
def periods(draw: st.DrawFn) -> PartialDate:
    day, precision = draw(days), draw(precisions)
    first = day if precision == "day" else day.replace(day=1)
    return PartialDate(first.replace(month=1) if precision == "year" else first, precision)


@settings(max_examples=300, deadline=None)
@given(periods(), st.sampled_from(LANGS), st.sampled_from(("", " ", "  ")))
def test_every_iso_date_round_trips(value: PartialDate, lang: str, pad: str) -> None:
    assert parse_typed(f"{pad}{value}{pad}", lang) == value


@settings(max_examples=300, deadline=None)
@given(days, st.sampled_from(DAY_FIRST), st.sampled_from("/-."), st.booleans())
def test_day_first_is_the_iso_date(day: date, lang: str, sep: str, padded: bool) -> None:
    d, m = (f"{day.day:02d}", f"{day.month:02d}") if padded else (str(day.day), str(day.month))
    assert parse_typed(f"{d}{sep}{m}{sep}{day.year}", lang) == PartialDate(day, "day")
    month = PartialDate(day.replace(day=1), "month")
    assert parse_typed(f"{m}{sep}{day.year}", lang) == month
    with pytest.raises(PartialDateError) as refused:
        parse_typed(f"{m}/{day.year}", lang, partial=False)
    assert refused.value.message == NEEDS_A_DAY


@settings(max_examples=300, deadline=None)
@given(periods(), st.sampled_from(LANGS))
def test_a_date_in_the_readers_words_and_as_a_form_shows_it_reads_back(
    value: PartialDate, lang: str
) -> None:
    assert parse_typed(value.format(lang), lang) == value
    assert parse_typed(value.format(lang).upper(), lang) == value
    assert parse_typed(typed_text(value, lang), lang) == value


@settings(max_examples=300, deadline=None)
@given(days)
def test_english_reads_a_numeric_day_only_when_it_is_one_day(day: date) -> None:
    text = f"{day.day:02d}/{day.month:02d}/{day.year}"
    if day.day > 12 or day.day == day.month:
        assert parse_typed(text, "en") == PartialDate(day, "day")
        return
    with pytest.raises(PartialDateError) as refused:
        parse_typed(text, "en")
    assert refused.value.message == AMBIGUOUS
    assert refused.value.params["value"] == repr(text)


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.text(max_size=40),
        st.text(alphabet="0123456789/-. ", max_size=14),
        st.from_regex(r"\A[0-9]{1,4}[/.\- ]{1,2}[0-9]{1,4}([/.\- ][0-9]{1,5})?\Z"),
    ),
    st.sampled_from(LANGS),
    st.booleans(),
)
def test_nothing_raises_but_the_documented_error(text: str, lang: str, partial: bool) -> None:
    try:
        found = parse_typed(text, lang, partial)
    except PartialDateError as exc:
        assert exc.message in MESSAGES + TYPED_MESSAGES
        assert exc.params["value"] == shown(text.strip())  # what was typed, quoted
    else:
        assert MIN_YEAR <= found.year <= MAX_YEAR
        assert partial or found.precision == "day"
