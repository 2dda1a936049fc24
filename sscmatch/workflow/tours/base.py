"""What every part of a study tour shares: its errors, its limits, and problems that
name the field they belong to (so a form shows every one of them beside its field at once)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sscmatch.enums import TOUR_MODALITIES
from sscmatch.workflow.base import BadParameter, Conflict, DomainError, Forbidden, NotFound

MODALITIES = TOUR_MODALITIES

MAX_DAYS = 60
MAX_SESSIONS = 40
MAX_MEMBERS = 100
MAX_LANGUAGES = 20
MAX_TOUR_DAYS = 366
MAX_STEP_NOTE = 500
"""A status step's note (a cancellation's reason): the API's limit, the page's form and its
confirmation's text box."""


class TourError(DomainError):
    """Bad input for a study tour; the message says what is wrong.

    ``message`` is an English message of the catalogue (marked with :func:`N_`) and ``params``
    its values, so the edge can say it in the reader's language; ``str()`` is the English."""


class TourNotFound(TourError, NotFound):
    pass


class TourForbidden(TourError, Forbidden):
    """The user may not change this record (403)."""


class TourConflict(TourError, Conflict):
    """The change does not fit the record's state (409); a stale version is StaleVersion."""


class TourBadFilter(TourError, BadParameter):
    """A list's filter that cannot be used (400)."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an edit: the field it belongs to (``title``, ``start``,
    ``delegation-2-constituency``, ``agenda-3-day``, ``funders``…), an English message of the
    catalogue and its values."""

    field: str
    message: str
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __str__(self) -> str:
        return self.message % dict(self.params) if self.params else self.message


class TourProblems(TourError):
    """Every problem of an edit at once (nothing was written)."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))
        self.message, self.params = str(self), {}


def _shown(value: Any) -> str:
    """A value quoted in a message, cut short (a message must not echo megabytes)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
