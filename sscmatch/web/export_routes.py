"""The export routes (see :mod:`sscmatch.web.exports`): ``/needs/export.<fmt>``,
``/capacities/export.<fmt>``, ``/exchanges/export.<fmt>``, ``/review/export.<fmt>`` (the
proposals of the review queue's filters), ``/followup/export.<fmt>`` (commitments), and the
other paged lists' (:func:`~sscmatch.web.exports.send_list`: the page's own query): the
proposals awaiting an answer, the needs to review, study tours, match runs, calibrations,
users and the audit log. ``tests/web/test_every_list_page.py`` walks every list page for its
pager, filter and export."""

from __future__ import annotations

from typing import Any

from sscmatch.web import (
    admin,
    followup,
    followup_list,
    imports,
    main,
    matching,
    network,
    registry,
    review,
    review_actions,
    review_needs,
)
from sscmatch.web import tours as tours_web
from sscmatch.web.access import SIGNED_IN, access
from sscmatch.web.db import get_session
from sscmatch.web.exports import (
    MAX_ROWS,
    Rows,
    bad_filter,
    moment,
    send_kept,
    send_list,
    viewer,
)
from sscmatch.web.tours import today
from sscmatch.workflow import admin as admin_wf
from sscmatch.workflow import calibrations as calibrations_wf
from sscmatch.workflow import commitment_list
from sscmatch.workflow import commitments as commitments_wf
from sscmatch.workflow import matchruns as matchruns_wf
from sscmatch.workflow import proposals as proposals_wf
from sscmatch.workflow import registry as reg
from sscmatch.workflow import tours as tours_wf

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
            bad_filter(exc)
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
    return _queue(fmt, _args())


def _queue(fmt: str, args: Any, name: str = "proposals") -> Any:
    """The proposals of the review queue's filters ``args``, the file named ``name``."""
    try:
        filters = review.parse_filters(args)
    except proposals_wf.ProposalError as exc:
        return bad_filter(exc)
    return _proposals(fmt, filters, name)


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
        return bad_filter(exc)
    return _proposals(fmt, filters, "our-proposals")


def _proposals(fmt: str, filters: Any, name: str) -> Any:
    """The proposals of ``filters`` (JSON key ``proposals``), the file named ``name``."""

    def make() -> Rows:
        try:
            rows, total = proposals_wf.proposal_records(
                get_session(), filters, viewer=viewer(), limit=MAX_ROWS
            )
        except proposals_wf.ProposalError as exc:
            bad_filter(exc)
        for record in rows:
            score = record["score"]
            record["score"] = round(float(score), 4) if score is not None else None
        return rows, PROPOSAL_FIELDS, total > len(rows)

    return send_kept("proposals", fmt, make, name=name)


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
            bad_filter(exc)
        for record in rows[:MAX_ROWS]:
            record["recorded_from"] = "documents" if record["study_tour"] is None else "study_tour"
        return rows[:MAX_ROWS], COMMITMENT_FIELDS, len(rows) > MAX_ROWS

    # the day: what is overdue moves with it; the country: a focal point's default is not in
    # the address (their scope names it too)
    return send_kept("commitments", fmt, make, key=(day.isoformat(), flt.country))


@review.bp.get("/awaiting/export.<fmt>")
@access("secretariat", "admin", "analyst")
def awaiting_export(fmt: str) -> Any:
    """The proposals awaiting their provider's answer, under the page's filters."""
    return _queue(fmt, review.awaiting_args(_args()), "proposals-awaiting")


NEED_REVIEW_FIELDS = (
    "id", "country", "institution", "title", "status", "candidates", "confirmed", "declined",
    "awaiting", "best", "since",
)  # fmt: skip


@review.bp.get("/needs/export.<fmt>")
@access("secretariat", "admin", "analyst")
def review_needs_export(fmt: str) -> Any:
    """The needs with proposals to decide, under the page's filters and in its order."""
    try:
        filters = review_needs.need_filters(_args())
    except proposals_wf.ProposalError as exc:
        return bad_filter(exc)

    def listing(size: int) -> tuple[Any, int]:
        try:
            page = proposals_wf.needs_to_review(get_session(), filters, 1, size, viewer=viewer())
        except proposals_wf.ProposalError as exc:
            bad_filter(exc)
        return page.items, page.total

    def row(item: Any) -> dict[str, Any]:
        need = item.need
        return {
            "id": need.id,
            "country": need.country,
            "institution": need.institution,
            "title": need.title,
            "status": need.status,
            "candidates": item.candidates,
            "confirmed": item.confirmed,
            "declined": item.declined,
            "awaiting": item.awaiting,
            "best": round(float(item.best), 4),
            "since": moment(item.since),
        }

    return send_list(
        "needs", fmt, listing, row, NEED_REVIEW_FIELDS, kept=True, name="needs-to-review"
    )


TOUR_FIELDS = (
    "id", "title", "status", "modality", "host_country", "visiting_country", "start", "end",
    "need", "capacity", "proposal_id", "languages", "interpretation",
)  # fmt: skip


@tours_web.bp.get("/export.<fmt>")
@access(SIGNED_IN)
def tours_export(fmt: str) -> Any:
    """The study tours under the list's filters (status, a country on either side)."""

    def listing(size: int) -> tuple[Any, int]:
        try:
            page = tours_web.tours_listing(1, size)
        except tours_wf.TourError as exc:
            bad_filter(exc)
        return page.items, page.total

    def row(tour: Any) -> dict[str, Any]:
        record = {f: getattr(tour, f) for f in TOUR_FIELDS if f not in ("start", "end")}
        record["start"] = str(tour.start) if tour.start else None
        record["end"] = str(tour.end) if tour.end else None
        return record

    return send_list("tours", fmt, listing, row, TOUR_FIELDS, kept=True)


RUN_FIELDS = (
    "id", "created_at", "created_by", "status", "as_of", "top_k", "needs_total", "needs_done",
    "proposal_count", "finished_at", "error",
)  # fmt: skip


@matching.bp.get("/runs/export.<fmt>")
@access(*matching.READERS)
def runs_export(fmt: str) -> Any:
    """The match runs, newest first, under the page's filters (status, who started them)."""

    def listing(size: int) -> tuple[Any, int]:
        status, by = matching.work_filters()
        runs, pager = matching.runs_page(get_session(), 1, size, status, by)
        return runs, pager.total

    return send_list("match-runs", fmt, listing, _work_row(RUN_FIELDS), RUN_FIELDS, kept=False)


def _work_row(fields: tuple[str, ...]) -> Any:
    """The row of a piece of background work listed with who started it (a run, a
    calibration): its ``fields``, its moments as the exports write them."""

    def row(item: Any) -> dict[str, Any]:
        work, who = item
        record = {f: getattr(work, f) for f in fields}
        record.update(created_by=who, created_at=moment(work.created_at))
        record["finished_at"] = moment(work.finished_at)
        return record

    return row


CALIBRATION_FIELDS = (
    "id", "created_at", "created_by", "status", "as_of", "window", "cases", "projects",
    "finished_at", "error",
)  # fmt: skip


@matching.bp.get("/calibrations/export.<fmt>")
@access(*matching.READERS)
def calibrations_export(fmt: str) -> Any:
    """The calibrations, newest first, under the page's filters (status, who made them)."""

    def listing(size: int) -> tuple[Any, int]:
        status, by = matching.work_filters()
        return calibrations_wf.history(get_session(), 1, size, status=status, by=by)

    row = _work_row(CALIBRATION_FIELDS)
    return send_list("calibrations", fmt, listing, row, CALIBRATION_FIELDS, kept=False)


USER_FIELDS = (
    "id", "email", "name", "role", "country", "constituency", "language", "active",
    "last_login_at",
)  # fmt: skip


@admin.bp.get("/users/export.<fmt>")
@access("admin")
def users_export(fmt: str) -> Any:
    """The users under the list's filters (no password, no lock: who they are and may do)."""

    def listing(size: int) -> tuple[Any, int]:
        form, page, _status = admin.users_listing(1, size)
        if page is None:
            bad_filter(admin.form_problems(form))
        return page.items, page.total

    def row(user: Any) -> dict[str, Any]:
        record = {f: getattr(user, f) for f in USER_FIELDS}
        record["last_login_at"] = moment(user.last_login_at)
        return record

    return send_list("users", fmt, listing, row, USER_FIELDS, kept=False)


# note: the person's words; note_code: what the service said of the step, as a code and its
# values ({"code": "decision_reverted", "params": {}}; the pages say it in the reader's words)
AUDIT_FIELDS = ("id", "at", "user", "action", "entity", "entity_id", "changed", "note", "note_code")


@admin.bp.get("/audit/export.<fmt>")
@access("admin")
def audit_export(fmt: str) -> Any:
    """The audit log's events under its filters, newest first (which fields each changed; the
    values before and after are on each event's page).

    The changed fields follow every export's rule (:mod:`sscmatch.web.exports`): CSV and JSON
    are the machine formats and keep the fields' codes (``due_date;status``, a list in JSON),
    as they keep status and country codes; the spreadsheet is the reader's and names each field
    by its label in the reader's language, as the audit page does
    (:func:`sscmatch.web.auditfields.audit_field_label`, the ``fields`` show of
    :mod:`sscmatch.web.spreadsheet`)."""

    def listing(size: int) -> tuple[Any, int]:
        form, page, _status = admin.audit_listing(1, size)
        if page is None:
            bad_filter(admin.form_problems(form))
        return page.items, page.total

    def row(item: Any) -> dict[str, Any]:
        event, email = item
        return {
            "id": event.id,
            "at": moment(event.at),
            "user": email or event.user_id,
            "action": event.action,
            "entity": event.entity,
            "entity_id": event.entity_id,
            "changed": admin_wf.changed_fields(event.before, event.after),
            "note": event.note,
            "note_code": event.note_code,
        }

    return send_list("audit", fmt, listing, row, AUDIT_FIELDS, kept=False)


COUNTRY_FIELDS = (
    "country", "region", "capacities", "needs", "open_needs", "provided", "received", "joint",
    "commitments",
)  # fmt: skip


@network.bp.get("/countries/export.<fmt>")
@access(SIGNED_IN)
def countries_export(fmt: str) -> Any:
    """The countries with activity in the page's region, with their counts (the drafts counted
    only where the reader may see them: the body is kept per visibility scope)."""

    def listing(size: int) -> tuple[Any, int]:
        rows, _region, error = network.countries_listing()
        if error:
            bad_filter(error)
        return rows[:size], len(rows)

    def row(item: Any) -> dict[str, Any]:
        record = {f: getattr(item, f, None) for f in COUNTRY_FIELDS}
        record["country"] = item.code
        return record

    return send_list("countries", fmt, listing, row, COUNTRY_FIELDS, kept=True)


VETO_FIELDS = ("id", "provider", "recipient", "reason", "created_by", "created_at")


@review.bp.get("/vetoes/export.<fmt>")
@access("secretariat", "admin", "analyst")
def vetoes_export(fmt: str) -> Any:
    """The vetoed pairs under the page's ``country`` (either side), newest first, with who
    vetoed each (vetoes are not tracked by the change version: made at each request)."""

    def listing(size: int) -> tuple[Any, int]:
        page = review_actions.vetoes_listing(1, size)
        return page.items, page.total

    def row(item: Any) -> dict[str, Any]:
        veto, who = item
        record = {f: getattr(veto, f) for f in VETO_FIELDS}
        record.update(created_by=who, created_at=moment(veto.created_at))
        return record

    return send_list("vetoes", fmt, listing, row, VETO_FIELDS, kept=False)


NOTICE_FIELDS = ("id", "created_at", "kind", "entity", "entity_id", "text", "read_at")


@main.bp.get("/notices/export.<fmt>")
@access(SIGNED_IN)
def notices_export(fmt: str) -> Any:
    """One's own notices under the page's filters (read or not, about what), each as the page
    writes it in the reader's language (made at each request: they are one's own, and notices
    are not tracked by the change version)."""

    def listing(size: int) -> tuple[Any, int]:
        found, _page = main.notices_listing(1, size)
        return found.items, found.total

    def row(notice: Any) -> dict[str, Any]:
        record = {f: getattr(notice, f, None) for f in NOTICE_FIELDS}
        record.update(
            created_at=moment(notice.created_at),
            read_at=moment(notice.read_at),
            text=main.notice_text(notice),
        )
        return record

    return send_list("notices", fmt, listing, row, NOTICE_FIELDS, kept=False)


IMPORT_FIELDS = (
    "id", "file", "status", "created_at", "created_by", "finished_at", "problem_count",
)  # fmt: skip


@admin.bp.get("/import/export.<fmt>")
@access("secretariat", "admin")
def imports_export(fmt: str) -> Any:
    """The imports under the import page's filters (the state of each one's job, who started
    it), newest first; each import's page has its report (made at each request: jobs are not
    tracked by the change version)."""

    def listing(size: int) -> tuple[Any, int]:
        page = imports.imports_listing(1, size)
        return page.items, page.total

    def row(item: Any) -> dict[str, Any]:
        job, who = item
        result = job.result or {}
        return {
            "id": job.id,
            "file": (job.params or {}).get("name", ""),
            "status": job.status,
            "created_at": moment(job.created_at),
            "created_by": who,
            "finished_at": moment(job.finished_at),
            "problem_count": result.get("problem_count", len(result.get("problems", []))),
        }

    return send_list("imports", fmt, listing, row, IMPORT_FIELDS, kept=False)


RUN_PROPOSAL_FIELDS = (
    "need", "title", "recipient", "rank", "provider", "capacity", "score", "status", "id",
)  # fmt: skip


@matching.bp.get("/runs/<int:run_id>/export.<fmt>")
@access(*matching.READERS)
def run_export(fmt: str, run_id: int) -> Any:
    """A run's needs as its page lists them (by need, then rank), one row per proposal, under
    the page's ``country`` (the recipient); the review queue's export has every column."""
    matching.run_or_404(run_id)

    def listing(size: int) -> tuple[Any, int]:
        return matchruns_wf.run_proposals(get_session(), run_id, matching.run_recipient(), size)

    def row(item: Any) -> dict[str, Any]:
        proposal, title = item
        record = {f: getattr(proposal, f, None) for f in RUN_PROPOSAL_FIELDS}
        record.update(title=title, score=round(float(proposal.score), 4))
        return record

    return send_list("match-run", fmt, listing, row, RUN_PROPOSAL_FIELDS, kept=True)
