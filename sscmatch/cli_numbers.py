"""Whole-number arguments of the scripts (argparse), refused in one line when out of range.

``int`` alone takes ``0`` and ``-1`` for a count, and the script then fails deep inside with a
traceback (``scripts/synth --countries 0``: ZeroDivisionError) or quietly does nothing.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable


def bounded(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high``.

    >>> bounded(1, 50)("3")
    3
    >>> bounded(1, 50)("0")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: expected a whole number from 1 to 50
    """

    def read(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected a whole number from {low} to {high}")
        return value

    return read
