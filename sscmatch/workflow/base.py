"""What every use case shares, written once: the domain error and what it means in HTTP, the
acting user, a page of a list, and the editors' rule.

- :class:`DomainError` is the one error type of the use cases. Its ``status`` and ``code`` say
  what it means to a client (``invalid`` 422 by default; :class:`NotFound` 404,
  :class:`Forbidden` 403, :class:`Conflict` 409, :class:`BadParameter` 400 for a query argument
  or filter that cannot be used); ``message`` is English, marked with :func:`N_` when it is a
  message of the catalogue, and ``params`` its values, so the edge says it in the reader's
  language. Each area derives its family from it (``RegistryError``, ``TourError``,
  ``ProposalError``…) and its kinds from both (``class NotFound(RegistryError, base.NotFound)``);
  the edge maps every one of them in one handler (:mod:`sscmatch.web.errors`).
- :class:`Actor` is who acts: the signed-in user (``web.auth.CurrentUser``), the token's user
  (API), or a plain :class:`User` (commands, tests).
- :class:`Page` is one page of any list.
- :func:`can_edit` is the editors' rule: the secretariat and admins change every country's
  records, a focal point their own country's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from sscmatch.schemas import whole_number
from sscmatch.vocab import Vocabulary, load_vocabulary

T = TypeVar("T")

EDITORS = ("secretariat", "admin")
"""Roles that may change any country's records (focal points change their own country's)."""


def N_(message: str) -> str:
    """Marks an English message for the catalogue without translating it here (the use cases
    know no reader; ``scripts/i18n`` extracts ``N_``); the edge shows it in the reader's
    language with the error's ``params``."""
    return message


# --------------------------------------------------------------------------- errors


class DomainError(ValueError):
    """A use case refused: nothing was written, and the message says why.

    ``status`` is the HTTP answer it deserves (422 for input that cannot be used: the pages
    answer a refused form with 400), ``code`` the API's ``error`` field."""

    status: int = 422
    code: str = "invalid"

    def __init__(self, message: str = "", /, **params: Any) -> None:
        self.message = message
        self.params = params
        super().__init__(message % params if params else message)


class NotFound(DomainError):
    """The record asked for does not exist (404)."""

    status = 404
    code = "not_found"


class Forbidden(DomainError):
    """The acting user may not do this (403)."""

    status = 403
    code = "forbidden"


class Conflict(DomainError):
    """The change does not fit the record's state (409); a stale version is
    :class:`sscmatch.db.StaleVersion`."""

    status = 409
    code = "conflict"


class BadParameter(DomainError):
    """A query argument or filter that cannot be used (400)."""

    status = 400
    code = "bad_parameter"


def country_filter(
    text: str | None,
    error: type[BadParameter] = BadParameter,
    vocab: Vocabulary | None = None,
) -> str | None:
    """The country a list's filter names, as its alpha-3 code (a code in any case, or a name
    the vocabulary resolves: ``gtm``, ``Guatemala``); None when it names none. A country the
    vocabulary does not know raises ``error`` (the area's :class:`BadParameter`: 400, the one
    handler says it in the reader's language): a list never answers "nothing" for a typo.

    Every list that filters on a country reads it through here."""
    raw = (text or "").strip()
    if not raw:
        return None
    vocab = vocab or load_vocabulary()
    code = raw.upper()
    if code in vocab.countries:
        return code
    resolved = vocab.resolve_country(raw)
    if resolved.ok and resolved.value is not None:
        return resolved.value
    raise error(
        N_("unknown country %(value)s (expected an ISO alpha-3 code such as GTM)"),
        value=repr(raw[:40]),
    )


def status_filter(
    text: str | None, known: Sequence[str], error: type[BadParameter] = BadParameter
) -> str | None:
    """The status a list's filter names, one of ``known``; None when it names none. Another
    raises ``error`` (400, said in the reader's language by the one handler)."""
    return choice_filter(
        text, known, error, N_("unknown status %(value)s (expected one of %(known)s)")
    )


NAMED_CHOICE = N_("%(name)s: unknown choice %(value)s (expected %(known)s)")
"""A filter of fixed choices refused, named (``name``: the argument, said by its label)."""


def choice_filter(
    text: str | None,
    known: Sequence[str],
    error: type[BadParameter] = BadParameter,
    message: str = N_("unknown choice %(value)s (expected %(known)s)"),
    name: str | None = None,
) -> str | None:
    """The value a list's filter of fixed choices names, one of ``known``; None when it names
    none. Another raises ``error`` with ``message``, or, given the filter's ``name`` (its query
    argument), with :data:`NAMED_CHOICE`, which names it."""
    raw = (text or "").strip()
    if not raw:
        return None
    if raw in known:
        return raw
    if name is not None:
        raise error(NAMED_CHOICE, name=name, value=repr(raw[:40]), known=", ".join(known))
    raise error(message, value=repr(raw[:40]), known=", ".join(known))


def user_filter(
    text: str | None, error: type[BadParameter] = BadParameter, name: str | None = None
) -> int | None:
    """The user a list's "by" filter names, by their number; None when it names none. A value
    that is not a user's number raises ``error`` (naming the filter ``name``, its argument,
    when given)."""
    raw = (text or "").strip()
    if not raw:
        return None
    number = whole_number(raw)
    if number is not None:
        return number
    if name is not None:
        raise error(
            N_("%(name)s: unknown user %(value)s (expected a user's number)"),
            name=name,
            value=repr(raw[:40]),
        )
    raise error(N_("unknown user %(value)s (expected a user's number)"), value=repr(raw[:40]))


# --------------------------------------------------------------------------- who acts


class Actor(Protocol):
    """Who acts: anything with ``id``, ``role`` and ``country``."""

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


def can_edit(actor: Actor | None, *countries: str | None) -> bool:
    """May ``actor`` change a record of one of ``countries``?

    >>> can_edit(User(1, "focal_point", "GTM"), "BRA", "GTM"), can_edit(User(2, "analyst"), "GTM")
    (True, False)
    """
    if actor is None:
        return False
    if actor.role in EDITORS:
        return True
    return actor.role == "focal_point" and bool(actor.country) and actor.country in countries


# --------------------------------------------------------------------------- lists


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its ``items``, its ``number`` (from 1), the ``size`` of a page, the
    ``total`` of the list and, for a text search, each item's relevance (``scores``)."""

    items: list[T]
    number: int
    size: int
    total: int
    scores: Mapping[str, float] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        """How many pages the list has (at least 1)."""
        return max(1, math.ceil(self.total / self.size)) if self.size else 1
