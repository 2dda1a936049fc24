"""Every enumerated value of the records, declared once: statuses, modalities, roles and kinds.

Each is a ``Literal`` (what API and record schemas validate against, so ``openapi.json`` lists the
values) and a tuple of its values in their natural order (what forms, filters and lifecycles
iterate over). Everything else takes them from here: :mod:`sscmatch.schemas`, the lifecycles of
:mod:`sscmatch.workflow`, the forms and the labels of :mod:`sscmatch.web` (which translate each
value; ``tests/test_enums.py`` fails when a value has no label or a label no value). The tables
keep them as text (``status: str``) that the database checks against these values (a check
constraint per column, :func:`sscmatch.schema.restrictions`), so adding a value needs a
migration that changes its constraint (``tests/test_schema_restricted.py`` fails until then).
"""

from __future__ import annotations

from typing import Literal, get_args

Constituency = Literal[
    "government",
    "employers",
    "workers",
    "un_agency",
    "cooperation_agency",
    "ngo",
    "academia",
    "other",
]
Maturity = Literal["pilot", "operational", "scaled", "institutionalised"]
Modality = Literal[
    "study_tour",
    "technical_assistance",
    "training",
    "expert_exchange",
    "virtual_exchange",
    "twinning",
    "conference",
    "project",
]
"""How a cooperation is carried out (capacities, needs and exchanges)."""
TourModality = Literal["study_tour", "technical_assistance", "expert_exchange", "virtual_exchange"]
"""The modalities a planned exchange (``StudyTour``) can take: those of :data:`Modality` that the
tour planner drafts an agenda, a delegation and a cost for."""
CapacityStatus = Literal["draft", "published", "archived"]
NeedStatus = Literal["draft", "open", "matched", "closed"]
ProposalStatus = Literal[
    "proposed",
    "provider_confirmed",
    "provider_declined",
    "accepted",
    "rejected",
    "superseded",
]
TourStatus = Literal["draft", "proposed", "agreed", "scheduled", "completed", "closed", "cancelled"]
CommitmentStatus = Literal["pending", "in_progress", "fulfilled", "dropped"]
Priority = Literal["high", "medium", "low"]
Direction = Literal["one_way", "reciprocal", "multilateral"]
Role = Literal["focal_point", "secretariat", "analyst", "admin"]

CONSTITUENCIES: tuple[str, ...] = get_args(Constituency)
MATURITIES: tuple[str, ...] = get_args(Maturity)
MODALITIES: tuple[str, ...] = get_args(Modality)
TOUR_MODALITIES: tuple[str, ...] = get_args(TourModality)
CAPACITY_STATUSES: tuple[str, ...] = get_args(CapacityStatus)
NEED_STATUSES: tuple[str, ...] = get_args(NeedStatus)
PROPOSAL_STATUSES: tuple[str, ...] = get_args(ProposalStatus)
TOUR_STATUSES: tuple[str, ...] = get_args(TourStatus)
COMMITMENT_STATUSES: tuple[str, ...] = get_args(CommitmentStatus)
PRIORITIES: tuple[str, ...] = get_args(Priority)
DIRECTIONS: tuple[str, ...] = get_args(Direction)
ROLES: tuple[str, ...] = get_args(Role)

DatePrecision = Literal["year", "month", "day"]
"""How precise a record's date is (:class:`sscmatch.dates.PartialDate`): ``2014``, ``2014-03``,
``2014-03-12``. In the order of the text's length (the number of ``-`` in it is the index)."""
DATE_PRECISIONS: tuple[str, ...] = get_args(DatePrecision)

ExchangeRole = Literal["provider", "recipient", "participant"]
"""The role of a country in an exchange (a bundle's ``providers``, ``recipients``,
``participants``)."""
EXCHANGE_ROLES: tuple[str, ...] = get_args(ExchangeRole)

# The statuses in which a record is still under way.
OPEN_PROPOSAL_STATUSES = ("proposed", "provider_confirmed", "provider_declined")
OPEN_TOUR_STATUSES = ("draft", "proposed", "agreed", "scheduled")
OPEN_COMMITMENT_STATUSES = ("pending", "in_progress")
