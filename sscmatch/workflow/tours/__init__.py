"""Study tours: from an accepted proposal to a planned, agreed, completed and closed exchange.

A tour (or another modality: technical assistance, expert or virtual exchange) is drafted
automatically from an accepted :class:`~sscmatch.models.Proposal` and then edited by the
secretariat and the focal points of the two countries. One concept a module:

- :mod:`.base`: errors (with messages of the catalogue), limits, who acts, field problems;
- :mod:`.drafting`: the draft (languages, dates, funders, the whole first version);
- :mod:`.programme`: the delegation and the agenda (tripartite rule, validation, calendar);
- :mod:`.costing`: the cost estimate and its rates;
- :mod:`.lifecycle`: reading, editing and the state machine.

Everything is re-exported here, so ``from sscmatch.workflow import tours`` reads as one module.
"""

from __future__ import annotations

from sscmatch.workflow.base import EDITORS, N_, Actor, Page, User
from sscmatch.workflow.tours.base import (
    MAX_DAYS,
    MAX_LANGUAGES,
    MAX_MEMBERS,
    MAX_SESSIONS,
    MAX_TOUR_DAYS,
    MODALITIES,
    Problem,
    TourBadFilter,
    TourConflict,
    TourError,
    TourForbidden,
    TourNotFound,
    TourProblems,
)
from sscmatch.workflow.tours.costing import (
    COST_ITEMS,
    DEFAULT_RATES,
    cost_for,
    estimate_cost,
    rates,
    tour_days,
)
from sscmatch.workflow.tours.drafting import (
    DEFAULT_DAYS,
    FUNDER_KINDS,
    INTERPRETATION_THRESHOLD,
    LEAD_DAYS,
    VIRTUAL_DAYS,
    choose_dates,
    create_tour,
    draft_from_proposal,
    plan_languages,
    suggest_funders,
)
from sscmatch.workflow.tours.lifecycle import (
    FOCAL_POINT_TRANSITIONS,
    OPEN_STATUSES,
    STATUSES,
    TRANSITIONS,
    TourChanges,
    allowed_transitions,
    can_edit_tour,
    exchange_id,
    get_tour,
    list_tours,
    live_tours,
    record_exchange,
    reopen_need_of,
    step_refusal,
    steps,
    themes_of,
    transition,
    update_tour,
)
from sscmatch.workflow.tours.programme import (
    FILLERS,
    GENERATED,
    SESSION_KINDS,
    SIDES,
    TRIPARTITE,
    TRIPARTITE_THEMES,
    agenda_ics,
    build_agenda,
    default_delegation,
    delegation_problems,
    missing_constituencies,
    needs_tripartite,
    validate_agenda,
    validate_delegation,
)

__all__ = [
    "COST_ITEMS",
    "DEFAULT_DAYS",
    "DEFAULT_RATES",
    "EDITORS",
    "FILLERS",
    "FOCAL_POINT_TRANSITIONS",
    "FUNDER_KINDS",
    "GENERATED",
    "INTERPRETATION_THRESHOLD",
    "LEAD_DAYS",
    "MAX_DAYS",
    "MAX_LANGUAGES",
    "MAX_MEMBERS",
    "MAX_SESSIONS",
    "MAX_TOUR_DAYS",
    "MODALITIES",
    "N_",
    "OPEN_STATUSES",
    "SESSION_KINDS",
    "SIDES",
    "STATUSES",
    "TRANSITIONS",
    "TRIPARTITE",
    "TRIPARTITE_THEMES",
    "VIRTUAL_DAYS",
    "Actor",
    "Page",
    "Problem",
    "TourBadFilter",
    "TourChanges",
    "TourConflict",
    "TourError",
    "TourForbidden",
    "TourNotFound",
    "TourProblems",
    "User",
    "agenda_ics",
    "allowed_transitions",
    "build_agenda",
    "can_edit_tour",
    "choose_dates",
    "cost_for",
    "create_tour",
    "default_delegation",
    "delegation_problems",
    "draft_from_proposal",
    "estimate_cost",
    "exchange_id",
    "get_tour",
    "list_tours",
    "live_tours",
    "missing_constituencies",
    "needs_tripartite",
    "plan_languages",
    "rates",
    "record_exchange",
    "reopen_need_of",
    "step_refusal",
    "steps",
    "suggest_funders",
    "themes_of",
    "tour_days",
    "transition",
    "update_tour",
    "validate_agenda",
    "validate_delegation",
]  # fmt: skip
