"""Partial dates as the documents give them: ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``.

Records keep the text (so an export gives back exactly what was imported) and the matcher works on
the first day of the period (``2017`` means 2017-01-01), which is what "started before DATE" needs.
"""

from __future__ import annotations

import re
from datetime import date

_PARTIAL = re.compile(r"^([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?$")  # ASCII digits only


class PartialDateError(ValueError):
    """Raised for text that is not ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``."""


def parse_partial_date(text: str) -> date:
    """Return the first day of the period ``text`` names.

    >>> parse_partial_date("2017"), parse_partial_date("2019-10")
    (datetime.date(2017, 1, 1), datetime.date(2019, 10, 1))
    """
    match = _PARTIAL.match(text.strip())
    if not match:
        raise PartialDateError(f"{text!r} is not a date (expected YYYY, YYYY-MM or YYYY-MM-DD)")
    year, month, day = (int(g) if g else 1 for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise PartialDateError(f"{text!r} is not a real date ({exc})") from None


def period_end(text: str) -> date:
    """Return the last day of the period ``text`` names (``2017`` → 2017-12-31)."""
    start = parse_partial_date(text)
    parts = text.strip().count("-")
    if parts == 2:
        return start
    if parts == 1:
        next_month = date(start.year + start.month // 12, start.month % 12 + 1, 1)
        return date.fromordinal(next_month.toordinal() - 1)
    return date(start.year, 12, 31)


def normalise_partial_date(text: str) -> str:
    """Validate ``text`` and return it stripped (the stored form)."""
    parse_partial_date(text)
    return text.strip()
