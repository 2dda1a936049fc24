"""The export routes (see :mod:`sscmatch.web.exports`): ``/needs/export.<fmt>``,
``/capacities/export.<fmt>``, ``/exchanges/export.<fmt>``, ``/review/export.<fmt>`` (the
proposals of the review queue's filters) and ``/followup/export.<fmt>`` (commitments)."""

from __future__ import annotations

from typing import Any

from sscmatch.web import followup, followup_list, registry, review
from sscmatch.web.access import SIGNED_IN, access
from sscmatch.web.db import get_session
from sscmatch.web.exports import (
    MAX_ROWS,
    Rows,
    bad_filter,
    send_kept,
    viewer,
)
from sscmatch.web.tours import today
from sscmatch.workflow import commitment_list
from sscmatch.workflow import commitments as commitments_wf
from sscmatch.workflow import proposals as proposals_wf
from sscmatch.workflow import registry as reg

NEED_FIELDS = (
    "id", "country", "institution", "title", "description", "themes", "languages", "priority",
    "modalities", "desired_from", "desired_to", "status", "created", "source",
)  # fmt: skip
CAPACITY_FIELDS = (
    "id", "country", "institution", "title", "description", "themes", "languages", "maturity",
    "modalities", "max_per_year", "available_from", "available_to", "status", "created",
    "source",
)  # fmt: skip
EXCHANGE_FIELDS = (
    "id", "title", "start", "end", "providers", "recipients", "participants", "partners",
    "themes", "modality", "languages", "direction", "source", "study_tour",
)  # fmt: skip
PROPOSAL_FIELDS = (
    "id", "run_id", "need", "need_title", "capacity", "capacity_title", "basis", "provider",
    "recipient", "rank", "score", "status", "recipient_fit",
)  # fmt: skip
# basis: "capacity" (a registered offer) or "experience" (a fallback proposal: no capacity of the
# provider fits the need, proposed for its record of exchanges; capacity and its title empty)
COMMITMENT_FIELDS = (
    "id", "owner_country", "owner_institution", "description", "due", "status", "overdue",
    "days_left", "evidence", "study_tour", "exchange", "recorded_from", "source",
)  # fmt: skip


def _registry(kind: str, fmt: str, fields: tuple[str, ...], who: Any = None) -> Any:
    """The list's records as its page filters them (one query of columns, no ORM object)."""

    def make() -> Rows:
        flt, _page = registry._filter_from_args()
        db, vocab = registry._db(), registry._vocab()
        try:
            rows, total = reg.list_records(
                db, vocab, kind, flt, fields=fields, limit=MAX_ROWS, viewer=who
            )
        except reg.BadFilter as exc:
            bad_filter(str(exc))
        return rows, fields, total > len(rows)

    return send_kept(kind, fmt, make)


@registry.bp.get("/needs/export.<fmt>")
@access(SIGNED_IN)
def needs_export(fmt: str) -> Any:
    """The needs list as it is filtered, drafts only for those who may see them."""
    return _registry("needs", fmt, NEED_FIELDS, viewer())


@registry.bp.get("/capacities/export.<fmt>")
@access(SIGNED_IN)
def capacities_export(fmt: str) -> Any:
    return _registry("capacities", fmt, CAPACITY_FIELDS, viewer())


@registry.bp.get("/exchanges/export.<fmt>")
@access(SIGNED_IN)
def exchanges_export(fmt: str) -> Any:
    return _registry("exchanges", fmt, EXCHANGE_FIELDS)


@review.bp.get("/export.<fmt>")
@access("secretariat", "admin", "analyst")
def proposals_export(fmt: str) -> Any:
    """The review queue's proposals under its filters (the queue's own parsing and use case)."""
    try:
        filters = review.parse_filters(_args())
    except proposals_wf.ProposalError as exc:
        return bad_filter(str(exc))
    return _proposals(fmt, filters, "proposals")


@review.bp.get("/mine/export.<fmt>")
@access("focal_point")
def my_proposals_export(fmt: str) -> Any:
    """A focal point's proposals (their country providing or receiving) under the filters of
    their "Our proposals" page, open ones by default as on the page."""
    from flask import abort
    from flask_babel import gettext as _
    from flask_login import current_user

    country = current_user.country
    if not country:
        abort(403, description=_("Your account is not bound to a country."))
    args = _args().copy()
    if not args.getlist("status"):
        args.setlist("status", list(proposals_wf.OPEN_STATUSES))
    try:
        filters = review.parse_filters(args, involving=country)
    except proposals_wf.ProposalError as exc:
        return bad_filter(str(exc))
    return _proposals(fmt, filters, "proposals")


def _proposals(fmt: str, filters: Any, kind: str) -> Any:
    def make() -> Rows:
        try:
            rows, total = proposals_wf.proposal_records(
                get_session(), filters, viewer=viewer(), limit=MAX_ROWS
            )
        except proposals_wf.ProposalError as exc:
            bad_filter(str(exc))
        for record in rows:
            score = record["score"]
            record["score"] = round(float(score), 4) if score is not None else None
        return rows, PROPOSAL_FIELDS, total > len(rows)

    return send_kept(kind, fmt, make)


def _args() -> Any:
    from flask import request

    return request.args


@followup.bp.get("/export.<fmt>")
@access(SIGNED_IN)
def commitments_export(fmt: str) -> Any:
    """The follow-up's list of commitments under its filters (a focal point's own country by
    default), with whether each is overdue and whether it was recorded from the documents."""
    flt, _own = followup_list.chosen_filter()
    day = today()

    def make() -> Rows:
        try:
            rows = commitment_list.filtered_records(followup._db(), flt, today=day)
        except commitments_wf.CommitmentError as exc:
            bad_filter(str(exc))
        for record in rows[:MAX_ROWS]:
            record["recorded_from"] = "documents" if record["study_tour"] is None else "study_tour"
        return rows[:MAX_ROWS], COMMITMENT_FIELDS, len(rows) > MAX_ROWS

    # the day: what is overdue moves with it; the country: a focal point's default is not in
    # the address (their scope names it too)
    return send_kept("commitments", fmt, make, key=(day.isoformat(), flt.country))
