"""Partial dates as the documents give them: ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``.

A :class:`PartialDate` is the first day of the period (``2017`` is 2017-01-01, which is what
"started before DATE" needs) and its precision (year, month or day,
:data:`sscmatch.enums.DATE_PRECISIONS`). Records store the two as a ``date`` column and a
precision column; ``str()`` gives back exactly the text it was parsed from (so an export gives
back what was imported), values compare and sort by their first day, and :meth:`PartialDate.format`
writes them for a reader in their language.

Every date a person or a document gives is read by :meth:`PartialDate.parse`, and that is where
the one rule on what a date may be lives: ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``, a real day, in
a year from :data:`MIN_YEAR` to :data:`MAX_YEAR`. A refusal is a :class:`PartialDateError`
whose ``message`` is one of :data:`MESSAGES` (English, a message of the catalogue) and whose
``params`` are its values, so the edge says it in the reader's language; ``str()`` is the English.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import cast

from babel import Locale
from babel.dates import (
    format_date,
    format_interval,
    format_skeleton,
    format_time,
    get_month_names,
    match_skeleton,
)
from babel.lists import format_list

from sscmatch.enums import DATE_PRECISIONS, DatePrecision

_PARTIAL = re.compile(r"^([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?$")  # ASCII digits only
_WIDTH = {"year": 4, "month": 7, "day": 10}
"""How many characters of the ISO date the text of each precision keeps."""
_RANK = {name: rank for rank, name in enumerate(DATE_PRECISIONS)}


def N_(message: str) -> str:
    """Marks an English message for the catalogue (``scripts/i18n`` extracts ``N_``); this
    module sits below :mod:`sscmatch.workflow.base`, whose ``N_`` is the same."""
    return message


MIN_YEAR = 1900
"""The earliest year a date may have. The knowledge base's records begin in the 1990s (the
bundle's dates, ``data/``); a year before this one is a typing slip ("0000", "0201")."""
MAX_YEAR = 2100
"""The latest year a date may have: plans reach a few years ahead, never to "9999"."""

NOT_A_DATE = N_("%(value)s is not a date (expected YYYY, YYYY-MM or YYYY-MM-DD)")
NO_SUCH_MONTH = N_("%(value)s is not a real date: there is no month %(month)s")
NO_SUCH_DAY = N_("%(value)s is not a real date: that month has no day %(day)s")
OUT_OF_YEARS = N_("%(value)s: a date's year must be from %(low)s to %(high)s")
ENDS_BEFORE = N_("the end (%(end)s) is before the start (%(start)s)")
MESSAGES = (NOT_A_DATE, NO_SUCH_MONTH, NO_SUCH_DAY, OUT_OF_YEARS, ENDS_BEFORE)
"""Every way a date or a pair of dates is refused. The edge recognises these sentences (a schema's
field error arrives as text, :mod:`sscmatch.web.messages`) or reads ``message`` and ``params``."""


class PartialDateError(ValueError):
    """Raised for text that is not a date of :data:`MESSAGES`' rule; ``message`` is the English
    message of the catalogue and ``params`` its values (never Python's own English)."""

    def __init__(self, message: str, /, **params: object) -> None:
        self.message = message
        self.params = params
        super().__init__(message % params if params else message)


def shown(text: str) -> str:
    """Text someone typed, quoted in a message and cut short (a message must not echo
    megabytes)."""
    quoted = repr(text)
    return quoted if len(quoted) <= 40 else quoted[:37] + "..."


@dataclass(frozen=True, slots=True)
class PartialDate:
    """A year, a month or a day: the first day of the period and how precise it is.

    >>> d = PartialDate.parse("2019-10")
    >>> d.first, d.precision, str(d), d.last
    (datetime.date(2019, 10, 1), 'month', '2019-10', datetime.date(2019, 10, 31))
    >>> sorted([PartialDate.parse("2019-10-02"), d, PartialDate.parse("2019")])
    [PartialDate('2019'), PartialDate('2019-10'), PartialDate('2019-10-02')]
    """

    first: date
    precision: DatePrecision

    def __post_init__(self) -> None:
        if self.precision not in _RANK:
            raise PartialDateError(
                "%(value)s is not a precision %(known)s",
                value=repr(self.precision),
                known=str(DATE_PRECISIONS),
            )
        day = self.first.day if self.precision != "day" else 1
        month = self.first.month if self.precision == "year" else 1
        if (day, month) != (1, 1):
            raise PartialDateError(
                "%(day)s is not the first day of a %(precision)s",
                day=str(self.first),
                precision=self.precision,
            )

    @staticmethod
    def parse(text: str) -> PartialDate:
        """The period ``text`` names (surrounding spaces ignored); :class:`PartialDateError`
        for anything else."""
        return _parse(text.strip())

    @staticmethod
    def of(first: date | None, precision: str | None) -> PartialDate | None:
        """The value of a record's two columns (``None`` when the date is not set)."""
        if first is None:
            return None
        return PartialDate(first, cast(DatePrecision, precision or "day"))

    @staticmethod
    def coerce(value: PartialDate | str | None) -> PartialDate | None:
        """``value`` as a partial date: parsed if text, ``None`` if blank."""
        if value is None or isinstance(value, PartialDate):
            return value
        return PartialDate.parse(value) if value.strip() else None

    def __str__(self) -> str:
        return text_of(self.first, self.precision)

    def __repr__(self) -> str:
        return f"PartialDate({str(self)!r})"

    def __composite_values__(self) -> tuple[date, str]:
        return self.first, self.precision

    def _key(self) -> tuple[date, int]:
        return self.first, _RANK[self.precision]

    def __lt__(self, other: PartialDate) -> bool:
        return self._key() < other._key()

    def __le__(self, other: PartialDate) -> bool:
        return self._key() <= other._key()

    def __gt__(self, other: PartialDate) -> bool:
        return self._key() > other._key()

    def __ge__(self, other: PartialDate) -> bool:
        return self._key() >= other._key()

    @property
    def year(self) -> int:
        return self.first.year

    @property
    def last(self) -> date:
        """The last day of the period (``2017`` → 2017-12-31)."""
        first = self.first
        if self.precision == "day":
            return first
        if self.precision == "month":
            following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
            return date.fromordinal(following.toordinal() - 1)
        return date(first.year, 12, 31)

    def format(self, locale: str) -> str:
        """The period as a reader of ``locale`` writes it: ``2014``, ``March 2014`` /
        ``marzo de 2014``, ``March 12, 2014`` / ``12 de marzo de 2014``."""
        if self.precision == "year":
            return str(format_skeleton("y", self.first, locale=locale))
        if self.precision == "month":
            return str(format_skeleton("yMMMM", self.first, locale=locale))
        return str(format_date(self.first, format="long", locale=locale))


_SKELETONS = {"year": "y", "month": "yMMMM", "day": "yMMMMd"}


def format_range(
    start: PartialDate | None, end: PartialDate | None, locale: str, open_end: str = ""
) -> str:
    """A period from ``start`` to ``end`` as a reader of ``locale`` writes it, saying what the
    two ends share once (Babel's interval formats, from CLDR): ``22–25 de octubre de 2019``,
    ``Oct 22 – 25, 2019``, ``octobre – décembre 2019``, ``2016–2018``; equal ends are one
    period (``2016``, not ``2016–2016``). Ends of different precisions are each written whole
    (``2016 – March 2018``). Without an end the start alone, or ``start – open_end`` when
    ``open_end`` is given (``2026 – …``); without a start, ``open_end – end`` or the end.

    >>> format_range(PartialDate.parse("2019-10-22"), PartialDate.parse("2019-10-25"), "es")
    '22–25 de octubre de 2019'
    >>> format_range(PartialDate.parse("2016"), PartialDate.parse("2016"), "en")
    '2016'
    """
    if start is None or end is None or start == end:
        one = start or end
        if one is None:
            return ""
        if not open_end or start == end:
            return one.format(locale)
        ends = (one.format(locale), open_end) if end is None else (open_end, one.format(locale))
        return _joined(*ends, locale=locale)
    if start.precision == end.precision:
        if start.precision == "year" and start.year == end.year:
            return start.format(locale)
        return _interval(start.first, end.first, _SKELETONS[start.precision], locale)
    return _joined(start.format(locale), end.format(locale), locale=locale)


_SHORT_MONTH = re.compile(r"(?<![ML])(M{3}|L{3})(?![ML])")


def _interval(first: date, last: date, skeleton: str, locale: str) -> str:
    """CLDR's interval of ``skeleton``, its months written whole as :meth:`PartialDate.format`
    writes them (several locales have only an abbreviated day interval: "22–25 oct. 2019" is
    said "22–25 octobre 2019", beside "22 octobre 2019" on the same page)."""
    formats = Locale.parse(locale).interval_formats
    matched = match_skeleton(skeleton, formats)
    differs = "y" if first.year != last.year else "M" if first.month != last.month else "d"
    parts = formats.get(matched, {}).get(differs) if matched else None
    if not parts or len(parts) != 2:
        return str(format_interval(first, last, skeleton, locale=locale))
    return "".join(
        str(format_date(day, _SHORT_MONTH.sub(lambda m: m[1] + m[1][0], part), locale=locale))
        for day, part in zip((first, last), parts, strict=True)
    )


def _joined(first: str, last: str, locale: str) -> str:
    """Two ends written whole, joined as the locale joins an interval's (``{0} – {1}``)."""
    pattern = Locale.parse(locale).interval_formats.get(None) or "{0} – {1}"
    return str(pattern).replace("{0}", first).replace("{1}", last)


def moment_words(value: datetime, locale: str) -> str:
    """A moment (its clock as given: the callers' are UTC) as a reader of ``locale`` writes it,
    in a sentence or a digest: ``6 déc. 2026 04:36``, ``Dec 6, 2026 04:36``."""
    day = format_date(value, format="medium", locale=locale)
    return f"{day} {format_time(value, format='short', locale=locale)}"


def text_of(first: date, precision: str) -> str:
    """The text of a partial date from its two columns, without making a value (for reading
    many rows at once): ``text_of(date(2014, 3, 1), "month") == "2014-03"``."""
    return first.isoformat()[: _WIDTH[precision]]


PRECISION_RANK = _RANK
"""Each precision's place in the order of partial dates of the same first day (year first)."""


def as_text(value: PartialDate | None) -> str | None:
    """A partial date's text, or ``None`` (for JSON and form fields)."""
    return None if value is None else str(value)


def window(start: PartialDate | None, end: PartialDate | None) -> tuple[date | None, date | None]:
    """The days a window of two partial dates covers: from the first day of ``start`` to the last
    of ``end`` (``None`` for an open side)."""
    return (start.first if start else None, end.last if end else None)


def _first_day(text: str) -> date:
    match = _PARTIAL.match(text)
    if not match:
        raise PartialDateError(NOT_A_DATE, value=shown(text))
    year, month, day = (int(g) if g else 1 for g in match.groups())
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise PartialDateError(OUT_OF_YEARS, value=shown(text), low=MIN_YEAR, high=MAX_YEAR)
    if not 1 <= month <= 12:
        raise PartialDateError(NO_SUCH_MONTH, value=shown(text), month=match.group(2))
    try:
        return date(year, month, day)
    except ValueError:  # the only thing left: a day the month does not have
        raise PartialDateError(NO_SUCH_DAY, value=shown(text), day=match.group(3)) from None


@lru_cache(maxsize=65_536)  # a pure function of its text; a corpus repeats the same few thousand
def _parse(text: str) -> PartialDate:
    first = _first_day(text)
    return PartialDate(first, cast(DatePrecision, DATE_PRECISIONS[text.count("-")]))


def parse_partial_date(text: str) -> date:
    """Return the first day of the period ``text`` names.

    >>> parse_partial_date("2017"), parse_partial_date("2019-10")
    (datetime.date(2017, 1, 1), datetime.date(2019, 10, 1))
    """
    return PartialDate.parse(text).first


def period_end(text: str) -> date:
    """Return the last day of the period ``text`` names (``2017`` → 2017-12-31)."""
    return PartialDate.parse(text).last


def check_window(start: PartialDate | str | None, end: PartialDate | str | None) -> None:
    """A period from ``start`` to ``end`` (either open) must not end before it starts:
    :data:`ENDS_BEFORE` if the last day of ``end`` is before the first of ``start`` (``2026-05``
    to ``2026`` is a window: the year 2026 ends after May begins)."""
    first, last = PartialDate.coerce(start), PartialDate.coerce(end)
    if first is not None and last is not None and last.last < first.first:
        raise PartialDateError(ENDS_BEFORE, end=str(last), start=str(first))


def normalise_partial_date(text: str) -> str:
    """Validate ``text`` and return it stripped (the stored form)."""
    return str(PartialDate.parse(text))


# --------------------------------------------------------------------------- typed by a person

TYPED_NOT_A_DATE = N_("%(value)s is not a date: write it like %(examples)s")
NEEDS_A_DAY = N_("%(value)s is not a day: this date needs its day too, like %(example)s")
AMBIGUOUS = N_(
    "%(value)s could be %(first)s or %(second)s: write the month in words, like %(example)s, "
    "or the date as YYYY-MM-DD"
)
TYPED_MESSAGES = (TYPED_NOT_A_DATE, NEEDS_A_DAY, AMBIGUOUS)
"""The refusals of :func:`parse_typed` beyond :data:`MESSAGES` (whose ``value`` it sets to the
text as typed); their values are already written the reader's way (examples, readings)."""

EITHER_ORDER = frozenset({"en"})
"""Languages whose readers write a numeric date day first or month first (``15/03/2019`` in
London, ``03/15/2019`` in New York): there a numeric date is read only when one reading is
possible, and ``05/03/2019`` is refused as ambiguous rather than guessed. Every other language
reads its CLDR short date's order (``d/M/yy``: day first, in es, pt and fr)."""

EXAMPLE = date(2019, 3, 15)
"""The day examples show: its day (15) cannot be a month, so it reads one way only."""

_SEPARATED = re.compile(
    r"^([0-9]{1,4})(?:\s*([/.\-])\s*([0-9]{1,4}))?(?:\s*([/.\-])\s*([0-9]{1,4}))?$"
)
_WORDS = re.compile(r"[\s,/\-]+")
_ORDINAL = re.compile(r"^([0-9]{1,2})(?:st|nd|rd|th|er|re|e|º|°|ª|o|a)?$")
_FILLERS = frozenset({"de", "del", "do", "da", "of", "the", "le", "el", "o"})
"""Words between a date's parts that say nothing (``15 de marzo de 2019``, ``1st of March``)."""


def _folded(word: str) -> str:
    """``word`` compared without case, accents or a closing full stop (``Févr.`` → ``fevr``)."""
    plain = unicodedata.normalize("NFKD", word.casefold().rstrip("."))
    return "".join(c for c in plain if not unicodedata.combining(c))


@lru_cache(maxsize=32)
def _month_names(locale: str) -> tuple[tuple[str, int], ...]:
    """Each month's full names in ``locale`` (as dates and standing alone), folded."""
    out: dict[str, int] = {}
    for context in ("format", "stand-alone"):
        for number, name in get_month_names("wide", context, locale=locale).items():
            out.setdefault(_folded(str(name)), number)
    return tuple(out.items())


def _month_of(word: str, locale: str) -> int | None:
    """The month ``word`` names in ``locale``: a full name or the start of just one (three
    letters or more: ``mar``, ``sept``, ``févr.``, ``dez``), else None."""
    folded = _folded(word)
    if len(folded) < 3:
        return None
    found = {n for name, n in _month_names(locale) if name.startswith(folded)}
    return found.pop() if len(found) == 1 else None


def _day_first(locale: str) -> bool:
    pattern = str(Locale.parse(locale).date_formats["short"].pattern)
    return pattern.find("d") < pattern.find("M")


def typed_text(value: PartialDate | None, locale: str) -> str:
    """``value`` as a reader of ``locale`` types it (what a form shows to edit, and reads back
    with :func:`parse_typed`): ``15/03/2019``, ``03/2019``, ``2019`` where dates are written day
    first; the ISO text where the numeric order is ambiguous (:data:`EITHER_ORDER`) or month
    first."""
    if value is None:
        return ""
    if locale.split("_")[0] in EITHER_ORDER or not _day_first(locale):
        return str(value)
    first = value.first
    if value.precision == "year":
        return f"{first.year:04d}"
    if value.precision == "month":
        return f"{first.month:02d}/{first.year:04d}"
    return f"{first.day:02d}/{first.month:02d}/{first.year:04d}"


def typed_examples(locale: str, partial: bool = True) -> str:
    """How a reader of ``locale`` may type a date, as examples in their words (``15/03/2019,
    03/2019 o 2019``; ``2019-03-15, 15 March 2019, March 2019 or 2019`` in English); only days
    unless ``partial``."""
    day, month = PartialDate(EXAMPLE, "day"), PartialDate(EXAMPLE.replace(day=1), "month")
    if locale.split("_")[0] in EITHER_ORDER:
        shown_ = [str(day), _in_words(day, locale)]
        shown_ += [_in_words(month, locale), str(EXAMPLE.year)] if partial else []
    else:
        shown_ = [typed_text(day, locale)]
        shown_ += [typed_text(month, locale), str(EXAMPLE.year)] if partial else []
    return str(format_list(shown_, style="or", locale=locale))


def _in_words(value: PartialDate, locale: str) -> str:
    """``15 March 2019``, ``March 2019``: a day before its month, as a typed date is read in any
    language (not ``March 15, 2019``, which reads the same)."""
    month = str(get_month_names("wide", locale=locale)[value.first.month])
    if value.precision == "month":
        return f"{month} {value.year}"
    return f"{value.first.day} {month} {value.year}"


def parse_typed(text: str, locale: str, partial: bool = True) -> PartialDate:
    """The date ``text`` names as a reader of ``locale`` types it in a form; the web forms'
    one reading of a typed date (the API and imports keep :meth:`PartialDate.parse`'s ISO).

    Read, surrounding spaces ignored: the ISO text (``2019``, ``2019-03``, ``2019-03-15``, in
    every language); a day, month and year in the locale's order separated by ``/``, ``-`` or
    ``.`` (``15/03/2019``, ``15.3.2019``), a month and year (``3/2019``), or year first
    (``2019/03/15``); a month by name in ``locale`` with a year and perhaps a day, in any order
    (``15 de marzo de 2019``, ``mars 2019``, ``March 15, 2019``, ``1er févr. 2019``). In
    :data:`EITHER_ORDER` languages a numeric day and month are read only when one reading is
    possible. ``partial`` False: only a whole day.

    Anything else is a :class:`PartialDateError`: one of :data:`MESSAGES` or
    :data:`TYPED_MESSAGES`, quoting ``text`` as typed and giving examples in the reader's way.

    >>> parse_typed("15/03/2019", "es"), parse_typed("3/2019", "fr"), parse_typed("mars 2019", "fr")
    (PartialDate('2019-03-15'), PartialDate('2019-03'), PartialDate('2019-03'))
    >>> try:
    ...     parse_typed("05/03/2019", "en")
    ... except PartialDateError as exc:
    ...     print(exc.params["first"], "or", exc.params["second"])
    5 March 2019 or 3 May 2019
    """
    typed = text.strip()  # what a refusal quotes
    stripped = " ".join(typed.split())[:100]
    language = locale.split("_")[0]
    try:
        if _PARTIAL.match(stripped):
            found = PartialDate.parse(stripped)
        else:
            parts = _separated(stripped, language) or _worded(stripped, locale)
            if parts is None:
                raise PartialDateError(
                    TYPED_NOT_A_DATE, value=typed, examples=typed_examples(locale, partial)
                )
            year, month, day = parts
            found = PartialDate.parse(
                f"{year:04d}-{month:02d}" + ("" if day is None else f"-{day:02d}")
            )
    except PartialDateError as exc:
        raise PartialDateError(exc.message, **{**exc.params, "value": shown(typed)}) from None
    if not partial and found.precision != "day":
        example = typed_examples(locale, partial=False)
        raise PartialDateError(NEEDS_A_DAY, value=shown(typed), example=example)
    return found


def _separated(text: str, language: str) -> tuple[int, int, int | None] | None:
    """(year, month, day or None) of a numeric date with a month, else None."""
    found = _SEPARATED.match(text)
    if not found:
        return None
    first, sep1, second, sep2, third = found.groups()
    if sep1 and sep2 and sep1 != sep2:
        return None
    numbers = [p for p in (first, second, third) if p]
    if len(numbers) == 1:
        return None  # a year alone is ISO; another number is not a date
    if len(numbers[0]) == 4:  # year first: always year, month, day
        if any(len(n) > 2 for n in numbers[1:]):
            return None
        return int(numbers[0]), int(numbers[1]), int(numbers[2]) if len(numbers) == 3 else None
    if len(numbers[-1]) != 4 or any(len(n) > 2 for n in numbers[:-1]):
        return None  # a two-digit year names no century
    year = int(numbers[-1])
    if len(numbers) == 2:
        return year, int(numbers[0]), None
    a, b = int(numbers[0]), int(numbers[1])
    if language not in EITHER_ORDER:
        day, month = (a, b) if _day_first(language) else (b, a)
        return year, month, day
    if a > 12 >= b or a == b:
        return year, b, a
    if b > 12 >= a:
        return year, a, b
    if (a > 12 and b > 12) or not a or not b:
        return year, b, a  # no reading is a date: refused as the day-first one
    raise PartialDateError(
        AMBIGUOUS,
        value=shown(text),
        first=_in_words(PartialDate(date(year, b, a), "day"), language),
        second=_in_words(PartialDate(date(year, a, b), "day"), language),
        example=_in_words(PartialDate(EXAMPLE, "day"), language),
    )


def _worded(text: str, locale: str) -> tuple[int, int, int | None] | None:
    """(year, month, day or None) of a date whose month is a name in ``locale``, else None:
    one month, a four-digit year, at most one day, and words that say nothing."""
    year = month = 0
    day: int | None = None
    for word in _WORDS.split(text):
        if not word or _folded(word) in _FILLERS:
            continue
        number = _ORDINAL.match(word)
        if word.isascii() and word.isdigit() and len(word) == 4 and not year:
            year = int(word)
        elif number and day is None:
            day = int(number.group(1))
        elif (found := _month_of(word, locale)) and not month:
            month = found
        else:
            return None
    if not (year and month):
        return None
    return year, month, day
