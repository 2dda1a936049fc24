"""The review pages (blueprint `review`): the secretariat's queue, the proposals awaiting their
provider's answer, a proposal's page with its comments, and the page where focal points answer
the proposals that involve their country. The review by need lives in
:mod:`sscmatch.web.review_needs`, decisions (confirmed before they are made), reverts, vetoes,
reopening and bulk actions in :mod:`sscmatch.web.review_actions`; the use cases in
:mod:`sscmatch.workflow.proposals`; the JSON API (``web/api/review.py``) calls the same ones."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlmodel import Session, col, select
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Optional

from sscmatch.db import StaleVersion
from sscmatch.models import AuditEvent, Capacity, Need, StudyTour, User, utcnow
from sscmatch.models import Proposal as StoredProposal
from sscmatch.schemas import MAX_PAGE, MAX_TEXT, whole_number
from sscmatch.vocab import load_vocabulary
from sscmatch.web.access import access
from sscmatch.web.conflict import stale_by_you
from sscmatch.web.db import get_session
from sscmatch.web.errors import error_text
from sscmatch.web.pageform import PageForm
from sscmatch.web.review_notes import event_note
from sscmatch.web.sent_once import sent_once
from sscmatch.web.templating import STATUS_LABELS
from sscmatch.web.textlimit import TextLength
from sscmatch.web.translate import gettext as _
from sscmatch.web.translate import lazy_gettext as _l
from sscmatch.workflow import proposals as wf
from sscmatch.workflow import visibility
from sscmatch.workflow.base import N_, Conflict, country_filter

bp = Blueprint("review", __name__, url_prefix="/review")
bp.add_app_template_global(event_note, "event_note")
# lists in rank order say where it differs from the score order (run, need, alternates)
bp.add_app_template_global(wf.placed_above_higher, "placed_above_higher")


@bp.app_template_global("rank_of")
def rank_of(proposal: StoredProposal) -> int | None:
    """A proposal's rank as the signed-in reader may learn it (None for a provider's focal
    point: :func:`~sscmatch.workflow.visibility.sees_rank`)."""
    return wf.rank_for(proposal, current_user)


@bp.app_template_global("reasons_of")
def reasons_of(proposal: StoredProposal) -> list[Any]:
    """A proposal's reasons as the signed-in reader may read them (no near-tie reason, which
    names the competitor ranked below, for a provider's focal point)."""
    return wf.reasons_for(proposal, current_user)


STAFF = ("secretariat", "admin")
READERS = ("secretariat", "admin", "analyst", "focal_point")

FACTOR_LABELS: dict[str, Any] = {
    "topic": _l("Topic"),
    "text": _l("Text"),
    "language": _l("Language"),
    "region": _l("Region"),
    "experience": _l("Experience"),
    "relationship": _l("Relationship"),
    "maturity": _l("Maturity"),
    "follow_through": _l("Follow-through"),
}
SORT_LABELS: dict[str, Any] = {
    "score": _l("Score, highest first"),
    "score_asc": _l("Score, lowest first"),
    "date": _l("Newest first"),
    "date_asc": _l("Oldest first"),
    "need": _l("Need"),
}
FIT_LABELS: dict[str, Any] = {"fits": _l("fits"), "does_not_fit": _l("does not fit")}


# ----------------------------------------------------------------------------- filters


def _float(args: Mapping[str, str], name: str) -> float | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise wf.BadFilterError(
            N_("%(name)s must be a number between 0 and 1"), name=name
        ) from None


def _int(args: Mapping[str, str], name: str) -> int | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    value = whole_number(raw)
    if value is None:
        raise wf.BadFilterError(N_("%(name)s must be a whole number"), name=name)
    return value


def parse_filters(args: Any, *, involving: str | None = None) -> wf.Filters:
    """Filters from query arguments (``status`` may repeat or be comma-separated; ``all``).

    Raises :class:`~sscmatch.workflow.proposals.ProposalError` with a readable message."""
    raw_statuses = [s for v in args.getlist("status") for s in v.split(",") if s.strip()]
    if not raw_statuses:
        statuses: tuple[str, ...] = wf.QUEUE_DEFAULT
    elif "all" in raw_statuses:
        statuses = ()
    else:
        statuses = tuple(dict.fromkeys(s.strip() for s in raw_statuses))
    country = country_filter(args.get("country"), wf.BadFilterError)
    filters = wf.Filters(
        statuses=statuses,
        theme=(args.get("theme") or "").strip() or None,
        region=(args.get("region") or "").strip() or None,
        country=country,
        min_score=_float(args, "min_score"),
        max_score=_float(args, "max_score"),
        run_id=_int(args, "run"),
        need=(args.get("need") or "").strip() or None,
        involving=involving,
        sort=(args.get("sort") or "score").strip(),
        q=(args.get("q") or "").strip()[:200] or None,
    )
    wf.check_filters(filters)
    return filters


def page_number(args: Mapping[str, str]) -> int:
    number = whole_number(args.get("page") or "1", 1, MAX_PAGE)
    if number is None:
        raise wf.BadFilterError(N_("page must be a whole number from 1 to %(n)s"), n=MAX_PAGE)
    return number


def _theme_choices() -> list[tuple[str, str]]:
    from sscmatch.web.templating import theme_label

    vocab = load_vocabulary()
    return sorted(((t, theme_label(t)) for t in vocab.themes), key=lambda x: x[1].lower())


# ----------------------------------------------------------------------------- the queue


@bp.get("/queue")
@access("secretariat", "admin", "analyst")
def queue() -> Any:
    db = get_session()
    size = int(current_app.config["PAGE_SIZE"])
    status = 200
    try:
        filters = parse_filters(request.args)
        page = wf.list_proposals(db, filters, page_number(request.args), size, viewer=current_user)
    except wf.ProposalError as exc:
        flash(_("These filters cannot be used: %(why)s", why=error_text(exc)), "error")
        filters, page, status = wf.Filters(), wf.Page([], 1, size, 0), 400
    return render_template(
        "review/queue.html",
        page=page,
        filters=filters,
        statuses=wf.STATUSES,
        regions=wf.regions(db),
        themes=_theme_choices(),
        sorts=SORT_LABELS,
        fit_labels=FIT_LABELS,
    ), status


def awaiting_args(args: Any) -> Any:
    """The awaiting list's filters: proposals waiting for an answer, the longest waiting first
    unless another order is asked (its page and its export)."""
    args = args.copy()
    args.setlist("status", ["proposed"])
    if not args.get("sort"):
        args["sort"] = "date_asc"
    return args


@bp.get("/awaiting")
@access("secretariat", "admin", "analyst")
def awaiting() -> Any:
    """Proposals waiting for their provider's answer, the longest waiting first."""
    db = get_session()
    size = int(current_app.config["PAGE_SIZE"])
    status = 200
    args = awaiting_args(request.args)
    try:
        filters = parse_filters(args)
        page = wf.list_proposals(db, filters, page_number(args), size, viewer=current_user)
    except wf.ProposalError as exc:
        flash(_("These filters cannot be used: %(why)s", why=error_text(exc)), "error")
        filters, page, status = wf.Filters(), wf.Page([], 1, size, 0), 400
    return render_template(
        "review/awaiting.html",
        page=page,
        filters=filters,
        regions=wf.regions(db),
        themes=_theme_choices(),
        now=utcnow(),
    ), status


@bp.get("/mine")
@access("focal_point")
def my_proposals() -> Any:
    db = get_session()
    size = int(current_app.config["PAGE_SIZE"])
    status = 200
    country = current_user.country
    if not country:
        abort(403, description=_("Your account is not bound to a country."))
    args = request.args.copy()
    if not args.getlist("status"):
        args.setlist("status", list(wf.OPEN_STATUSES))
    try:
        filters = parse_filters(args, involving=country)
        page = wf.list_proposals(db, filters, page_number(args), size, viewer=current_user)
    except wf.ProposalError as exc:
        flash(_("These filters cannot be used: %(why)s", why=error_text(exc)), "error")
        filters, page, status = wf.Filters(), wf.Page([], 1, size, 0), 400
    return render_template(
        "review/mine.html",
        page=page,
        filters=filters,
        country=country,
        statuses=wf.STATUSES,
        themes=_theme_choices(),
        sorts=SORT_LABELS,
        fit_labels=FIT_LABELS,
        notes={r.proposal.id: wf.notes_by_side(r.proposal) for r in page.items},
        sides={r.proposal.id: wf.side_of(r.proposal, country) for r in page.items},
        final=wf.FINAL,
    ), status


# ----------------------------------------------------------------------------- one proposal


class ResponseForm(PageForm):
    response = SelectField(
        _l("Answer"),
        choices=[SelectChoice(r, r) for r in wf.RESPONSES],
        validators=[InputRequired(message=_l("Choose an answer."))],
    )
    note = TextAreaField(_l("Note"), validators=[Optional(), TextLength(max=MAX_TEXT)])
    version = IntegerField(validators=[InputRequired(message=_l("The form is incomplete."))])
    back = StringField(validators=[Optional()])


def _can_read(proposal: StoredProposal) -> bool:
    return visibility.may_see(current_user, proposal)


def _load(db: Session, proposal_id: int) -> StoredProposal:
    proposal = db.get(StoredProposal, proposal_id)
    if proposal is None:
        abort(404, description=_("There is no proposal %(id)s.", id=proposal_id))
    if not _can_read(proposal):
        abort(403, description=_("This proposal does not involve your country."))
    return proposal


def _timeline(db: Session, proposal_id: int) -> list[tuple[AuditEvent, str]]:
    rows = db.exec(
        select(AuditEvent, User.name, User.email)
        .join(User, col(User.id) == col(AuditEvent.user_id), isouter=True)
        .where(AuditEvent.entity == "proposal", AuditEvent.entity_id == str(proposal_id))
        .order_by(col(AuditEvent.at), col(AuditEvent.id))
    ).all()
    return [(event, name or email or "") for event, name, email in rows]


EXPERIENCE_REASONS = ("topic.fallback", "experience.", "text.fallback")


def experience_reasons(proposal: StoredProposal) -> list[Any]:
    """The reasons of a fallback proposal that say what experience it is proposed for."""
    if not wf.is_fallback(proposal):
        return []
    return [
        r
        for r in proposal.reasons
        if isinstance(r, dict) and str(r.get("code", "")).startswith(EXPERIENCE_REASONS)
    ]


def _render_proposal(
    db: Session,
    proposal: StoredProposal,
    status: int = 200,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
) -> Any:
    assert proposal.id is not None
    vetoed = wf.pair_veto_of(db, proposal)
    side = (
        wf.side_of(proposal, current_user.country) if current_user.role == "focal_point" else None
    )
    can_decide = current_user.role in STAFF
    return render_template(
        "review/proposal.html",
        p=proposal,
        need=db.get(Need, proposal.need),
        capacity=db.get(Capacity, proposal.capacity) if proposal.capacity else None,
        experience_reasons=experience_reasons(proposal),
        breakdown=wf.breakdown(proposal),
        damping=(proposal.components or {}).get("damping", 1.0),
        factor_labels=FACTOR_LABELS,
        evidence=wf.evidence(db, proposal, load_vocabulary()),
        alternates=wf.alternates(db, proposal, viewer=current_user),
        every_alternate=wf.sees_every_alternate(proposal, current_user),
        timeline=_timeline(db, proposal.id),
        notes=wf.notes_by_side(proposal),
        vetoed=vetoed,
        tours=db.exec(select(StudyTour).where(StudyTour.proposal_id == proposal.id)).all(),
        can_decide=can_decide,
        fallback=wf.is_fallback(proposal),
        comments=wf.comments_of(db, proposal.id),
        can_comment=wf.may_comment(current_user, proposal.provider, proposal.recipient),
        last_decision=wf.latest_decision(db, proposal.id) if can_decide else None,
        revert_blocked=_revert_blocked(db, proposal) if can_decide else None,
        side=side,
        final=wf.FINAL,
        fit_labels=FIT_LABELS,
        errors=errors or {},
        typed=typed or {},
    ), status


@bp.get("/proposals/<int:proposal_id>")
@access(*READERS)
def proposal(proposal_id: int) -> Any:
    db = get_session()
    return _render_proposal(db, _load(db, proposal_id))


def _refused(
    db: Session, proposal_id: int, exc: wf.ProposalError | StaleVersion, field: str
) -> Any:
    """Answer a refused decision or answer: 403/404 pages, flash + 409, or 400 with the field."""
    db.rollback()
    db.expire_all()
    if isinstance(exc, wf.NotFoundError | wf.ForbiddenError):
        raise exc  # the error page (404, 403)
    found = _load(db, proposal_id)
    typed = {k: v for k, v in request.form.items() if k != "csrf_token"}
    if isinstance(exc, StaleVersion):
        if stale_by_you(exc):  # a second click, the same form again, another tab of theirs
            flash(
                _(
                    "Nothing more was changed: you changed this proposal yourself meanwhile "
                    "(a second click, or another tab); it is now %(status)s, as shown here.",
                    status=STATUS_LABELS.get(found.status, found.status),
                ),
                "error",
            )
            return _render_proposal(db, found, 409, typed=typed)
        flash(
            _(
                "Someone decided this proposal meanwhile; the page now shows its current state. "
                "Nothing was changed by you."
            ),
            "error",
        )
        return _render_proposal(db, found, 409, typed=typed)
    if isinstance(exc, wf.IllegalTransitionError):
        flash(
            _(
                "This proposal is %(status)s: that step is not possible (%(why)s).",
                status=STATUS_LABELS.get(exc.current, exc.current),
                why=error_text(exc),
            ),
            "error",
        )
        return _render_proposal(db, found, 409, typed=typed)
    if isinstance(exc, Conflict):  # a revert or a veto the proposal's state refuses now
        flash(_("Nothing was changed: %(why)s", why=error_text(exc)), "error")
        return _render_proposal(db, found, 409, typed=typed)
    message = (
        _("A reason is required.") if isinstance(exc, wf.ReasonRequiredError) else error_text(exc)
    )
    flash(_("Nothing was saved: %(why)s", why=message), "error")
    return _render_proposal(db, found, 400, errors={field: message}, typed=typed)


def _revert_blocked(db: Any, proposal: Any) -> str | None:
    """Why the decision on ``proposal`` cannot be reverted now, in the reader's language."""
    refusal = wf.revert_refusal(db, proposal)
    return None if refusal is None else error_text(refusal)


def _safe_back(target: str | None, proposal_id: int) -> str:
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and urlsplit(target).netloc == ""
    ):
        return target
    return url_for("review.proposal", proposal_id=proposal_id)


@bp.post("/proposals/<int:proposal_id>/response")
@access("focal_point")
def respond(proposal_id: int) -> Any:
    db = get_session()
    form = ResponseForm()
    if not form.validate_on_submit():
        found = _load(db, proposal_id)
        errors = {name: " ".join(str(e) for e in errs) for name, errs in form.errors.items()}
        flash(_("Nothing was saved: please correct the form."), "error")
        return _render_proposal(db, found, 400, errors=errors, typed=dict(request.form))
    try:
        wf.respond(
            db,
            proposal_id,
            form.response.data,
            user_id=current_user.id,
            country=current_user.country,
            version=form.version.data,
            note=form.note.data,
        )
    except (wf.ProposalError, StaleVersion) as exc:
        return _refused(db, proposal_id, exc, "note")
    db.commit()
    flash(_("Thank you, your answer was recorded."), "info")
    return redirect(_safe_back(form.back.data, proposal_id))


class CommentForm(PageForm):
    body = TextAreaField(
        _l("Comment"),
        validators=[InputRequired(message=_l("Write a comment.")), TextLength(max=MAX_TEXT)],
    )


@bp.post("/proposals/<int:proposal_id>/comments")
@access("secretariat", "admin", "focal_point")
@sent_once
def comment(proposal_id: int) -> Any:
    """A remark on the proposal (the secretariat and the focal points of its two countries)."""
    db = get_session()
    found = _load(db, proposal_id)
    if not wf.may_comment(current_user, found.provider, found.recipient):
        abort(403, description=_("This proposal does not involve your country."))
    form = CommentForm()
    if not form.validate_on_submit():
        errors = {name: " ".join(str(e) for e in errs) for name, errs in form.errors.items()}
        flash(_("Nothing was saved: please correct the form."), "error")
        return _render_proposal(db, found, 400, errors=errors, typed=dict(request.form))
    try:
        wf.add_comment(
            db, proposal_id, viewer=current_user, user_id=current_user.id, body=form.body.data
        )
    except wf.ProposalError as exc:
        return _refused(db, proposal_id, exc, "body")
    db.commit()
    flash(_("Comment added."), "info")
    return redirect(url_for("review.proposal", proposal_id=proposal_id) + "#comments-h")
