"""What every part of a study tour shares: its errors, its limits, who acts, and problems that
name the field they belong to (so a form shows every one of them beside its field at once)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sscmatch.enums import TOUR_MODALITIES

EDITORS = ("secretariat", "admin")
MODALITIES = TOUR_MODALITIES

MAX_DAYS = 60
MAX_SESSIONS = 40
MAX_MEMBERS = 100
MAX_LANGUAGES = 20
MAX_TOUR_DAYS = 366


def N_(message: str) -> str:
    """Marks an English message for the catalogue without translating it here (the use cases
    know no reader; ``scripts/i18n`` extracts ``N_``); the edge shows it in the reader's
    language with :attr:`Problem.params`."""
    return message


class TourError(ValueError):
    """Bad input for a study tour; the message says what is wrong.

    ``message`` is an English message of the catalogue (marked with :func:`N_`) and ``params``
    its values, so the edge can say it in the reader's language; ``str()`` is the English."""

    status = 400

    def __init__(self, message: str, **params: Any) -> None:
        self.message = message
        self.params = params
        super().__init__(message % params if params else message)


class TourNotFound(TourError):
    status = 404


class TourForbidden(TourError):
    """The user may not change this record (403)."""

    status = 403


class TourConflict(TourError):
    """The change does not fit the record's state (409); a stale version is StaleVersion."""

    status = 409


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


class Actor(Protocol):
    """Who acts: the signed-in user (``web.auth.CurrentUser`` fits) or a test stand-in."""

    @property
    def id(self) -> int | None: ...

    @property
    def role(self) -> str: ...

    @property
    def country(self) -> str | None: ...


@dataclass(frozen=True)
class User:
    """A plain :class:`Actor` for commands and tests."""

    id: int | None
    role: str
    country: str | None = None
