"""The list of commitments the follow-up pages and its export show: filtered, in order, paged.

A :class:`CommitmentFilter` keeps an owner country, a status (or ``open``: pending or in
progress), an origin (``live``: of study tours planned here; ``documents``: recorded from the
documents, see :mod:`sscmatch.workflow.outcomes`) and a time (``overdue``, or ``soon``: open and
due within :data:`SOON_DAYS`, not yet overdue). :func:`filtered_records` gives every commitment it
keeps as plain records (an export), :func:`commitment_page` one page of them as records of the
database: the order of the whole list (overdue first, then by due date, as
:func:`sscmatch.workflow.commitments.list_commitments`) is kept as ids per data version, day and
filter, so walking 40,000 commitments reads one page of rows each time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from sscmatch.caches import Cache
from sscmatch.db import data_key
from sscmatch.models import Commitment
from sscmatch.workflow.base import N_, Page
from sscmatch.workflow.commitments import OPEN, STATUSES, CommitmentBadFilter, commitment_records

OPEN_STATUS = "open"
"""The status filter that keeps the undecided commitments (pending or in progress)."""
ORIGINS = ("live", "documents")
WHENS = ("overdue", "soon")
SOON_DAYS = 30


@dataclass(frozen=True)
class CommitmentFilter:
    """What the list shows; ``None`` is any."""

    country: str | None = None
    status: str | None = None
    origin: str | None = None
    when: str | None = None

    def check(self) -> None:
        """Raise :class:`CommitmentBadFilter` for a value the list does not know."""
        for name, value, known in (
            ("status", self.status, (*STATUSES, OPEN_STATUS)),
            ("origin", self.origin, ORIGINS),
            ("when", self.when, WHENS),
        ):
            if value is not None and value not in known:
                raise CommitmentBadFilter(
                    N_("%(name)s: unknown choice %(value)s (expected %(known)s)"),
                    name=name,
                    value=repr(value),
                    known=", ".join(known),
                )


def filtered_records(
    session: Session, flt: CommitmentFilter, *, today: date
) -> list[dict[str, Any]]:
    """Every commitment ``flt`` keeps, in the list's order, as the plain records of
    :func:`~sscmatch.workflow.commitments.commitment_records` (``overdue``, ``days_left``)."""
    flt.check()
    records = commitment_records(
        session,
        today=today,
        country=flt.country,
        status=None if flt.status == OPEN_STATUS else flt.status,
        overdue=flt.when == "overdue",
    )
    return [r for r in records if _keeps(flt, r)]


def _keeps(flt: CommitmentFilter, record: dict[str, Any]) -> bool:
    if flt.status == OPEN_STATUS and record["status"] not in OPEN:
        return False
    if flt.origin is not None and (record["study_tour"] is None) != (flt.origin == "documents"):
        return False
    if flt.when == "soon":
        left = record["days_left"]
        return (
            record["status"] in OPEN
            and not record["overdue"]
            and left is not None
            and left <= SOON_DAYS
        )
    return True


def commitment_page(
    session: Session, flt: CommitmentFilter, *, today: date, page: int, per_page: int
) -> Page[Commitment]:
    """One page (from 1) of the commitments ``flt`` keeps, in the list's order."""
    flt.check()
    if page < 1:
        raise CommitmentBadFilter(N_("page must be 1 or more"))
    version = data_key(session)  # None: uncommitted writes, keep nothing
    key = None if version is None else (*version, today, flt)
    order = _ORDER.get_or_make(
        key, lambda: tuple(r["id"] for r in filtered_records(session, flt, today=today))
    )
    chosen = order[(page - 1) * per_page : page * per_page]
    rows = session.exec(select(Commitment).where(col(Commitment.id).in_(chosen)))
    found = {k.id: k for k in rows}
    return Page([found[i] for i in chosen if i in found], page, per_page, len(order))


_ORDER: Cache[tuple[str, ...]] = Cache("commitment order", size=64)
"""The ids of each filtered list in order, per data version, day and filter."""


def owner_countries(session: Session) -> list[str]:
    """The countries that own commitments, sorted (a filter's choices), kept per data version."""
    version = data_key(session)
    statement = select(Commitment.owner_country).distinct()
    found = _OWNERS.get_or_make(
        version, lambda: tuple(sorted(c for c in session.exec(statement) if c))
    )
    return list(found)


_OWNERS: Cache[tuple[str, ...]] = Cache("commitment owners", size=4)
