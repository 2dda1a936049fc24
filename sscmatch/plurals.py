"""A plural message's count written the reader's way: "3 993 jours de retard", "3,993 days
overdue", "3.993 días" (``%(num)d`` printed "3993" in every language).

Pure: the caller passes how its reader writes a number (Babel's ``format_decimal`` in the
reader's locale on the pages and in the digests; ``str`` for plain output). Only the count the
plural form was chosen for is grouped, with any variable that holds the same count (``count``
beside ``num``): a year or an id beside it is not a quantity and stays as it is.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Any

_INTEGER_SLOT = re.compile(r"%\((\w+)\)d")


@functools.lru_cache(maxsize=2048)
def _as_text_slots(message: str, names: frozenset[str]) -> str:
    return _INTEGER_SLOT.sub(lambda m: f"%({m[1]})s" if m[1] in names else m[0], message)


def count_slots(
    message: str, num: int, variables: Mapping[str, Any], number: Callable[[int], str]
) -> tuple[str, dict[str, Any]]:
    """``message`` and ``variables`` ready for ``%``: the variables holding ``num`` replaced by
    ``number(num)`` and their ``%(name)d`` slots made ``%(name)s``. Counts below 1,000 are
    written alike in every language this service speaks, so they are left as they are."""
    if isinstance(num, bool) or not isinstance(num, int) or -1000 < num < 1000:
        return message, dict(variables)
    grouped = number(num)
    names = frozenset(k for k, v in variables.items() if type(v) is int and v == num)
    filled = {k: (grouped if k in names else v) for k, v in variables.items()}
    return _as_text_slots(message, names), filled


def NP_(singular: str, plural: str) -> tuple[str, str]:
    """A singular/plural message pair for the catalogues (``scripts/i18n`` extracts it)."""
    return singular, plural


DAYS_LATE = NP_("%(num)d day overdue", "%(num)d days overdue")
MONTHS_LATE = NP_("%(num)d month overdue", "%(num)d months overdue")
YEARS_LATE = NP_("%(num)d year overdue", "%(num)d years overdue")


def lateness(days: int) -> tuple[str, str, int]:
    """How late something due is, in the unit a reader takes in at a glance: days up to eight
    weeks, then whole months up to two years, then whole years ("13 years overdue", where the
    follow-up pages wrote "5088 days overdue"). Returns the message pair and its count."""
    if days < 60:
        return (*DAYS_LATE, days)
    if days < 730:
        return (*MONTHS_LATE, days // 30)
    return (*YEARS_LATE, days // 365)
