"""The command line's date options read by the one rule of :mod:`sscmatch.dates`.

A bundle, the API and every form's ISO text take ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` in ASCII
digits, years 1900 to 2100. Options read with ``date.fromisoformat`` took more and other
things (``20261206``, the week date ``2026-W01-1``, ``0001-01-01``), and each command said its
refusal its own way; these callbacks refuse as click does (naming the option, exit 2).
"""

from __future__ import annotations

from datetime import date

import click

from sscmatch.dates import NOT_A_DATE, PartialDate, PartialDateError, shown


def _read(value: str) -> PartialDate:
    try:
        return PartialDate.parse(value.strip())
    except PartialDateError as exc:
        raise click.BadParameter(str(exc)) from None


def period(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    """An option's ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``: the first day of that period."""
    return None if value is None else _read(value).first


def day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    """An option's day, ``YYYY-MM-DD``; a refusal says why when the text has a date's shape
    (``'2026-02-30' is not a real date: that month has no day 30``)."""
    if value is None:
        return None
    expected = f"expected a date YYYY-MM-DD, got {shown(value)}"
    try:
        found = PartialDate.parse(value.strip())
    except PartialDateError as exc:
        raise click.BadParameter(
            expected if exc.message == NOT_A_DATE else f"{expected}: {exc}"
        ) from None
    if found.precision != "day":
        raise click.BadParameter(expected)
    return found.first
