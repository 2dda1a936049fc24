"""Who may see which record: one rule per entity, used by every record page, list, profile,
count, chart, export and API collection (a page that shows a record or counts it asks here).

- **Capacities and needs**: a draft is seen by the focal points of its country and by the
  secretariat, admins and analysts; anything else by everyone signed in. A draft of an
  international body (no country) is seen by the staff only.
- **Proposals**: a focal point sees those that involve their country (as provider or recipient);
  the secretariat, admins and analysts see all. A provider's focal point sees neither the other
  providers' proposals for a need nor its own proposal's rank (:func:`sees_rank`).
- **Everything else** people read in the app (exchanges, institutions, study tours,
  commitments, countries) is seen by everyone signed in; match runs and the review queue are
  closed to focal points by their routes' access rules.

``viewer`` is the signed-in user (anything with ``role`` and ``country``) or None for someone not
signed in (the home page's counts): None sees what every signed-in user sees (no draft, no
proposal); which pages need a sign-in at all is the routes' business (:mod:`sscmatch.web.access`).
:data:`SYSTEM` stands for the service itself (commands, background work): it sees everything.
"""

from __future__ import annotations

from typing import Any, Protocol, cast

from sqlalchemy import ColumnElement, case, false, null, or_, true
from sqlmodel import col

from sscmatch.models import Capacity, Need, Proposal

STAFF_ROLES = ("secretariat", "admin", "analyst")
"""Roles that see every record (analysts read everything, change nothing)."""


class Viewer(Protocol):
    @property
    def role(self) -> str: ...

    @property
    def country(self) -> str | None: ...


class _System:
    role = "system"
    country = None


SYSTEM: Viewer = _System()
"""The service itself: commands and background work see every record."""


def sees_everything(viewer: Viewer | None) -> bool:
    return viewer is not None and (viewer is SYSTEM or viewer.role in STAFF_ROLES)


def _own_country(viewer: Viewer | None) -> str | None:
    """The country whose private records ``viewer`` sees besides the public ones."""
    if viewer is None or viewer.role != "focal_point":
        return None
    return viewer.country or None


def sees_drafts_of(viewer: Viewer | None, country: str | None) -> bool:
    """May ``viewer`` see the draft capacities and needs of ``country``?"""
    if sees_everything(viewer):
        return True
    own = _own_country(viewer)
    return own is not None and own == country


def scope(viewer: Viewer | None) -> tuple[str, str | None]:
    """What decides which records ``viewer`` sees, as a cache key: two viewers of one scope see
    the same records of every entity (``("all", None)`` for the staff and the service,
    ``("country", own)`` for a focal point, ``("public", None)`` otherwise). A cached list or
    export is shared only within a scope.

    >>> scope(SYSTEM), scope(None)
    (('all', None), ('public', None))
    """
    if sees_everything(viewer):
        return ("all", None)
    own = _own_country(viewer)
    return ("country", own) if own else ("public", None)


def may_see(viewer: Viewer | None, record: Any) -> bool:
    """The rule for one record, as its page applies it."""
    if isinstance(record, Capacity | Need):
        return record.status != "draft" or sees_drafts_of(viewer, record.country)
    if isinstance(record, Proposal):
        if sees_everything(viewer):
            return True
        own = _own_country(viewer)
        return own is not None and own in (record.provider, record.recipient)
    return True


def sees_every_proposal_for(viewer: Viewer | None, recipient: str | None) -> bool:
    """May ``viewer`` see every proposal made to ``recipient``, whatever its provider? The staff
    and the recipient's focal points do; a provider's focal point sees its own country's only
    (the other providers are its competitors), so a list of a need's proposals it reads is not
    all there is, and must not be taken for it."""
    if sees_everything(viewer):
        return True
    own = _own_country(viewer)
    return own is not None and own == recipient


def sees_rank(viewer: Viewer | None, proposal: Any) -> bool:
    """May ``viewer`` learn ``proposal``'s rank, or anything that follows from it (its place in
    a list in rank order, a near-tie reason naming the provider it was placed above)? Only who
    sees every proposal for its recipient (:func:`sees_every_proposal_for`): to a provider's
    focal point, "rank 2" says that one competitor stands above it. The pages, lists, exports
    and API show such a reader no rank (null in JSON, an empty cell in a file)."""
    return sees_every_proposal_for(viewer, proposal.recipient)


def rank_seen(viewer: Viewer | None) -> ColumnElement[Any]:
    """:func:`sees_rank` as a SQL expression on the proposal table: its rank where ``viewer``
    may learn it, else NULL (what an export writes, what a list is ordered by)."""
    if sees_everything(viewer):
        return cast(ColumnElement[Any], col(Proposal.rank))
    own = _own_country(viewer)
    if own is None:
        return null()
    return case((col(Proposal.recipient) == own, col(Proposal.rank)), else_=null())


def visible(model: type[Any], viewer: Viewer | None) -> ColumnElement[bool]:
    """The same rule as a SQL condition on ``model``'s rows, for lists and counts."""
    if sees_everything(viewer):
        return true()
    own = _own_country(viewer)
    if model is Capacity or model is Need:
        public = col(model.status) != "draft"
        return or_(public, col(model.country) == own) if own else public
    if model is Proposal:
        if own is None:
            return false()
        return or_(col(Proposal.provider) == own, col(Proposal.recipient) == own)
    return true()
