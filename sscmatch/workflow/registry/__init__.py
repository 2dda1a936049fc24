"""The registry: capacities, needs and exchanges, their search, their forms and need endorsement.

One concept a module: :mod:`.errors`, :mod:`.search` (reading and lists), :mod:`.themes` (the
theme picker), :mod:`.records` (creating and editing), :mod:`.endorsement` (a need's steps);
everything is re-exported here, so ``from sscmatch.workflow import registry`` reads as one module.

The pages and the JSON API call the same functions. Each takes a ``Session`` (never commits) and,
for changes, the acting user (anything with ``id``, ``role`` and ``country``). Errors are
:class:`RegistryError` subclasses whose message a user can read:

- :class:`NotFound` (404), :class:`Forbidden` (403), :class:`Conflict` (409: an illegal
  transition or a taken id), :class:`InvalidRecord` (400/422, with one message per field),
  :class:`BadFilter` (400, a query argument that makes no sense); a stale ``version`` is
  :class:`sscmatch.db.StaleVersion` (409), as for every record.

Rules:
- A focal point creates and edits records of their own country only; the secretariat and admin
  edit any; analysts read only. Exchanges are written by the secretariat and admin.
- A focal point's need starts as ``draft``; ``submit_need`` asks for endorsement (taken back by
  ``take_back_submission`` while it waits); the secretariat ``endorse_need`` (→ ``open``) or
  ``return_need`` (back to draft, with a note). The country (or the secretariat) withdraws a
  need it no longer wants (``withdraw_need`` → ``closed``; undone by ``reinstate_need`` right
  after): :mod:`.withdrawal`.
- Every change bumps ``version`` (refusing a stale one) and writes an AuditEvent with the record
  before and after.
"""

from __future__ import annotations

from sscmatch.workflow.registry.endorsement import (
    endorse_need,
    return_need,
    submit_need,
    take_back_submission,
    withdraw_endorsement,
)
from sscmatch.workflow.registry.errors import (
    BadFilter,
    Conflict,
    Forbidden,
    InvalidRecord,
    NotFound,
    RegistryError,
)
from sscmatch.workflow.registry.records import (
    create_capacity,
    create_exchange,
    create_need,
    next_id,
    update_capacity,
    update_exchange,
    update_need,
)
from sscmatch.workflow.registry.search import (
    RecordFilter,
    get_capacity,
    get_exchange,
    get_institution,
    get_need,
    history,
    list_records,
    region_choices,
    search_capacities,
    search_exchanges,
    search_institutions,
    search_needs,
    submitted_count,
)
from sscmatch.workflow.registry.themes import suggest_themes
from sscmatch.workflow.registry.withdrawal import (
    pending_proposals,
    reinstate_need,
    withdraw_need,
    withdrawal_refusal,
)

__all__ = [
    "BadFilter",
    "Conflict",
    "Forbidden",
    "InvalidRecord",
    "NotFound",
    "RecordFilter",
    "RegistryError",
    "create_capacity",
    "create_exchange",
    "create_need",
    "endorse_need",
    "get_capacity",
    "get_exchange",
    "get_institution",
    "get_need",
    "history",
    "list_records",
    "next_id",
    "pending_proposals",
    "region_choices",
    "reinstate_need",
    "return_need",
    "search_capacities",
    "search_exchanges",
    "search_institutions",
    "search_needs",
    "submit_need",
    "submitted_count",
    "suggest_themes",
    "take_back_submission",
    "update_capacity",
    "update_exchange",
    "update_need",
    "withdraw_endorsement",
    "withdraw_need",
    "withdrawal_refusal",
]
