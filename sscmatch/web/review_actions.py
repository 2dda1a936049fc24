"""Consequential review actions, each confirmed before it is made (routes on the ``review``
blueprint): decisions on a proposal, reverting a decision, lifting a veto, reopening a need, and
one decision over many proposals.

A first POST (without ``confirmed``) runs the use case in a savepoint that is rolled back, and
shows what it would do: the exact proposals it would supersede, the need it would match or
reopen, the tour it would draft or cancel, the proposals of a bulk action that changed
meanwhile. The reason due is asked there again. (A study tour's steps are confirmed the same
way: :mod:`sscmatch.web.tour_steps`.) The confirming POST makes the change on the
versions the reviewer saw, so whatever changed in between is refused as a conflict (409).
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlmodel import Session
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Optional

from sscmatch.db import StaleVersion
from sscmatch.models import Need, StudyTour, Veto
from sscmatch.models import Proposal as StoredProposal
from sscmatch.schemas import MAX_TEXT
from sscmatch.web.access import access
from sscmatch.web.confirm import confirm_page, preview, refused
from sscmatch.web.conflict import conflict_message
from sscmatch.web.db import get_session
from sscmatch.web.errors import error_text
from sscmatch.web.pageform import PageForm
from sscmatch.web.paging import page_arg, page_size
from sscmatch.web.review import STAFF, _load, _refused, bp
from sscmatch.web.templating import STATUS_LABELS, country_name
from sscmatch.web.textlimit import TextLength
from sscmatch.web.tours import draft_settings
from sscmatch.web.translate import gettext as _
from sscmatch.web.translate import lazy_gettext as _l
from sscmatch.web.translate import ngettext
from sscmatch.workflow import proposals as wf
from sscmatch.workflow.base import country_filter
from sscmatch.workflow.notices import short_title

PLACEHOLDER = "…"  # stands for a reason not typed yet while previewing


def _db() -> Session:
    return get_session()


def _pair(p: StoredProposal) -> str:
    return f"{country_name(p.provider)} → {country_name(p.recipient)}"


def _status(code: str) -> str:
    return str(STATUS_LABELS.get(code, code))


OVERRIDE_LINE = "override"  # a line of what will happen that holds only with the override


def _acceptance(
    db: Session, accepted: StoredProposal, outcome: wf.Outcome
) -> list[tuple[str, str | None]]:
    lines: list[tuple[str, str | None]] = [
        (
            _(
                "Proposal %(id)s (%(pair)s) becomes accepted.",
                id=accepted.id,
                pair=_pair(accepted),
            ),
            None,
        )
    ]
    if outcome.overridden:
        lines.append(
            (_("It is accepted without the provider's confirmation (override)."), OVERRIDE_LINE)
        )
    need = db.get(Need, accepted.need)
    lines.append(
        (
            _(
                "Need %(need)s becomes matched: later match runs no longer propose providers "
                "for it.",
                need=need.id if need else accepted.need,
            ),
            None,
        )
    )
    if outcome.superseded:
        others = [db.get(StoredProposal, i) for i in outcome.superseded]
        names = ", ".join(f"{p.id} ({country_name(p.provider)})" for p in others if p)
        lines.append(
            (
                ngettext(
                    "%(num)d other open proposal of this need is superseded: %(list)s.",
                    "%(num)d other open proposals of this need are superseded: %(list)s.",
                    len(outcome.superseded),
                    list=names,
                ),
                None,
            )
        )
    if outcome.tour is not None:
        lines.append((_("A draft study tour is prepared from it."), None))
    return lines


def describe_outcome(
    db: Session, decision: str, outcome: wf.Outcome
) -> list[tuple[str, str | None]]:
    """What a decision does, line by line; each line with the choice it holds under
    (:data:`OVERRIDE_LINE`, or None: whatever is chosen)."""
    p = outcome.proposal
    if decision == "accept":
        return _acceptance(db, p, outcome)
    vetoed = (
        _(
            "%(a)s will no longer be proposed to %(b)s by later match runs (until the veto is "
            "lifted).",
            a=country_name(p.provider),
            b=country_name(p.recipient),
        ),
        None,
    )
    if decision == "veto" and outcome.review is None:  # a decided proposal: only its pair
        return [
            vetoed,
            *_withdrawn(db, outcome),
            (
                _(
                    "Proposal %(id)s (%(pair)s) stays %(status)s.",
                    id=p.id,
                    pair=_pair(p),
                    status=_status(p.status),
                ),
                None,
            ),
            (
                _("To undo it, lift the veto (on this proposal's page or the vetoed pairs' list)."),
                None,
            ),
        ]
    lines: list[tuple[str, str | None]] = [
        (_("Proposal %(id)s (%(pair)s) becomes rejected.", id=p.id, pair=_pair(p)), None)
    ]
    if decision == "alternate" and outcome.accepted is not None:
        lines += _acceptance(db, outcome.accepted, outcome)
    if decision == "veto":
        lines += [vetoed, *_withdrawn(db, outcome)]
    return lines


def _proposal_list(db: Session, ids: list[int]) -> str:
    """Each proposal by its id, its need's id and title (``6 (s002-n22, Labour inspection …)``):
    on a phone a need is known by its title, the ids are what the lists show."""
    named = []
    for p in filter(None, (db.get(StoredProposal, i) for i in ids)):
        need = db.get(Need, p.need)
        named.append(f"{p.id} ({p.need}, {short_title(need.title)})" if need else str(p.id))
    return "; ".join(named)


def _withdrawn(db: Session, outcome: wf.Outcome) -> list[tuple[str, str | None]]:
    """The veto's line on the pair's other open proposals it takes out of play."""
    if not outcome.superseded:
        return []
    return [
        (
            ngettext(
                "%(num)d other open proposal of this pair leaves play (its focal points are "
                "told; lifting the veto puts it back): %(list)s.",
                "%(num)d other open proposals of this pair leave play (their focal points are "
                "told; lifting the veto puts them back): %(list)s.",
                len(outcome.superseded),
                list=_proposal_list(db, outcome.superseded),
            ),
            None,
        )
    ]


class DecisionForm(PageForm):
    decision = SelectField(
        _l("Decision"),
        choices=[SelectChoice(d, d) for d in wf.DECISIONS],
        validators=[InputRequired(message=_l("Choose a decision."))],
    )
    reason = TextAreaField(_l("Reason"), validators=[Optional(), TextLength(max=MAX_TEXT)])
    override_reason = TextAreaField(
        _l("Reason for the override"), validators=[Optional(), TextLength(max=MAX_TEXT)]
    )
    alternate = IntegerField(_l("Alternate"), validators=[Optional()])
    override = BooleanField(_l("Accept without the provider's confirmation"))
    confirmed = BooleanField()
    version = IntegerField(validators=[InputRequired(message=_l("The form is incomplete."))])


REASON_DUE = {
    "reject": _l("Why is this proposal rejected?"),
    "veto": _l("Why is this pair vetoed?"),
    "alternate": _l("Why is this proposal rejected in favour of the alternate?"),
}
OVERRIDE_REASON = {
    "accept": _l("Why accept without the provider's confirmation?"),
    "alternate": _l("Why accept the alternate without its provider's confirmation?"),
}


_confirm_page = confirm_page


REQUIRED = _l("A reason is required.")


@bp.post("/proposals/<int:proposal_id>/decision")
@access(*STAFF)
def decide(proposal_id: int) -> Any:
    from sscmatch.web.review import _render_proposal

    db = _db()
    form = DecisionForm()
    if not form.validate_on_submit():
        found = _load(db, proposal_id)
        wrong = {name: " ".join(str(e) for e in errs) for name, errs in form.errors.items()}
        if "reason" in wrong:  # each decision's form has its reason (accept_reason…)
            wrong[f"{form.decision.data}_reason"] = wrong["reason"]
        typed = {k: v for k, v in request.form.items() if k != "csrf_token"}
        flash(_("Nothing was saved: please correct the form."), "error")
        return _render_proposal(db, found, 400, errors=wrong, typed=typed)
    decision = form.decision.data
    reason = (form.reason.data or "").strip()
    override = bool(form.override.data)
    # the proposal page's accept form has one reason: the override's
    override_reason = (form.override_reason.data or "").strip()

    def act(
        reason: str | None = reason,
        override: bool = override,
        override_reason: str | None = override_reason,
    ) -> wf.Outcome:
        return wf.decide(
            db,
            proposal_id,
            decision,
            user_id=current_user.id,
            version=form.version.data,
            reason=reason,
            alternate_id=form.alternate.data,
            override=override,
            override_reason=override_reason if decision == "alternate" else None,
            drafting=draft_settings(),
        )

    # What the decision would do, and whether it needs the override (the provider has not
    # confirmed): worked out in a savepoint rolled back, on the versions the reviewer saw.
    needs_override = False
    try:
        try:
            lines = preview(
                db,
                lambda: act(reason or PLACEHOLDER, False, override_reason or PLACEHOLDER),
                lambda o: describe_outcome(db, decision, o),
            )
        except wf.OverrideRequiredError:
            needs_override = True
            lines = preview(
                db,
                lambda: act(reason or PLACEHOLDER, True, override_reason or PLACEHOLDER),
                lambda o: describe_outcome(db, decision, o),
            )
    except (wf.ProposalError, StaleVersion) as exc:
        return _refused(db, proposal_id, exc, f"{decision}_reason")
    asks_reason = decision in REASON_DUE or (decision == "accept" and needs_override)
    # an alternate accepted without its provider's confirmation: that reason apart
    override_field = decision == "alternate" and needs_override
    errors: dict[str, str] = {}
    if form.confirmed.data:
        if needs_override and not override:
            errors["override"] = _(
                "Tick the override to accept without the provider's confirmation, or go back."
            )
        if asks_reason and not reason:
            errors["reason"] = str(REQUIRED)
        if not errors:
            try:
                outcome = act()
            except (wf.ProposalError, StaleVersion) as exc:
                return _refused(db, proposal_id, exc, f"{decision}_reason")
            db.commit()
            return _decided(decision, outcome, proposal_id)
        flash(_("Nothing was saved: please correct the form."), "error")
    found = _load(db, proposal_id)
    titles = {
        "accept": _("Accept proposal %(id)s?", id=proposal_id),
        "reject": _("Reject proposal %(id)s?", id=proposal_id),
        "alternate": _("Accept the alternate instead of proposal %(id)s?", id=proposal_id),
        "veto": _("Veto the pair of proposal %(id)s?", id=proposal_id),
    }
    page = _confirm_page(
        title=titles[decision],
        lines=lines,
        action=url_for("review.decide", proposal_id=proposal_id),
        back=url_for("review.proposal", proposal_id=proposal_id),
        fields={
            "decision": decision,
            "version": found.version,
            **({"alternate": form.alternate.data} if form.alternate.data else {}),
        },
        reason_label=(
            REASON_DUE.get(decision) or OVERRIDE_REASON["accept"] if asks_reason else None
        ),
        reason=reason,
        reason_error=errors.get("reason"),
        offer_override=needs_override,
        override=override,
        override_error=errors.get("override"),
        override_label=OVERRIDE_REASON["alternate"] if override_field else None,
        override_reason=override_reason,
        danger=decision in ("reject", "veto"),
        warning=(
            _(
                "The provider's focal point has not confirmed this proposal. To accept it "
                "anyway, tick the override and say why."
            )
            if needs_override
            else None
        ),
    )
    if not errors:
        return page
    return page, (409 if "override" in errors else 400)


def _decided(decision: str, outcome: wf.Outcome, proposal_id: int) -> Any:
    """After a decision: say what was done, and show the proposal it leaves in view."""
    messages = {
        "accept": _("Proposal accepted; the need is now matched."),
        "reject": _("Proposal rejected."),
        "alternate": _("Alternate accepted; this proposal was rejected."),
        "veto": _("Pair vetoed for future runs; the proposal was rejected."),
    }
    if decision == "veto" and outcome.review is None:
        messages["veto"] = _("Pair vetoed for future runs; the proposal stays as it was.")
    flash(messages[decision], "info")
    tour_id = getattr(outcome.tour, "id", None)
    if tour_id:
        flash(_("A draft study tour was made: %(id)s", id=tour_id), "info")
    target = outcome.accepted.id if decision == "alternate" and outcome.accepted else proposal_id
    return redirect(url_for("review.proposal", proposal_id=target))


# ----------------------------------------------------------------------------- revert


class ReasonForm(PageForm):
    reason = TextAreaField(_l("Reason"), validators=[Optional(), TextLength(max=MAX_TEXT)])
    version = StringField(validators=[Optional()])
    confirmed = BooleanField()


def _revert_lines(db: Session, proposal: StoredProposal) -> list[str]:
    review = wf.latest_decision(db, proposal.id or 0)
    effects = (review.effects if review else None) or {}
    lines = [
        _(
            "Proposal %(id)s (%(pair)s) goes back to %(status)s.",
            id=proposal.id,
            pair=_pair(proposal),
            status=_status(str(effects.get("status_before") or "proposed")),
        )
    ]
    superseded = effects.get("superseded") or {}
    if superseded:
        lines.append(
            ngettext(
                "%(num)d proposal it superseded is open again.",
                "%(num)d proposals it superseded are open again.",
                len(superseded),
            )
        )
    if effects.get("need_before"):
        lines.append(_("Need %(need)s is open again for matching.", need=proposal.need))
    tour = db.get(StudyTour, effects["tour"]) if effects.get("tour") else None
    if tour is not None and tour.status == "draft":
        lines.append(_("Its draft study tour %(id)s is cancelled.", id=tour.id))
    if effects.get("accepted"):
        lines.append(
            _("The alternate it accepted, proposal %(id)s, goes back too.", id=effects["accepted"])
        )
    if review is not None and review.decision == "accept" and review.alternate_id:
        lines.append(
            _(
                "Proposal %(id)s, rejected for this alternate, goes back too.",
                id=review.alternate_id,
            )
        )
    pair_veto = db.get(Veto, effects["veto"]) if effects.get("veto") else None
    if pair_veto is not None:
        lines += [_("The veto this decision made is lifted."), *_coming_back(db, pair_veto)]
    return lines


@bp.post("/proposals/<int:proposal_id>/revert")
@access(*STAFF)
def revert(proposal_id: int) -> Any:
    db = _db()
    form = ReasonForm()
    wrong = refused(form, "reason")
    found = _load(db, proposal_id)
    missing = bool(form.confirmed.data) and not (form.reason.data or "").strip()
    if wrong is None and missing:
        wrong = str(REQUIRED)
    if not form.confirmed.data or wrong:
        refusal = wf.revert_refusal(db, found)
        if refusal is not None:
            return _refused(db, proposal_id, refusal, "revert_reason")
        if wrong:
            flash(_("Nothing was saved: please correct the form."), "error")
        page = _confirm_page(
            title=_("Revert the decision on proposal %(id)s?", id=proposal_id),
            lines=_revert_lines(db, found),
            action=url_for("review.revert", proposal_id=proposal_id),
            back=url_for("review.proposal", proposal_id=proposal_id),
            fields={"version": form.version.data or found.version},
            reason_label=_l("Why is the decision reverted?"),
            reason=(form.reason.data or "").strip(),
            reason_error=wrong,
        )
        return (page, 400) if wrong else page
    try:
        wf.revert(
            db,
            proposal_id,
            user_id=current_user.id,
            version=form.version.data or None,
            reason=form.reason.data,
        )
    except (wf.ProposalError, StaleVersion) as exc:
        return _refused(db, proposal_id, exc, "revert_reason")
    db.commit()
    flash(_("The decision was reverted."), "info")
    return redirect(url_for("review.proposal", proposal_id=proposal_id))


# ----------------------------------------------------------------------------- vetoes


@bp.get("/vetoes")
@access("secretariat", "admin", "analyst")
def vetoes() -> Any:
    """The vetoed pairs, newest first, a page at a time; ``country``: either side."""
    number = page_arg()
    page = vetoes_listing(number, page_size())
    return render_template("review/vetoes.html", page=page, country=request.args.get("country"))


def vetoes_listing(number: int, size: int) -> wf.Page[tuple[Veto, str]]:
    """Page ``number`` of ``size`` vetoed pairs under the request's ``country`` (either side;
    an unknown country: 400 in the reader's language); the page and its export share it."""
    return wf.list_vetoes(_db(), country_filter(request.args.get("country")), number, size)


def _coming_back(db: Session, pair: Veto) -> list[str]:
    """The lift's line on the proposals the veto took out of play that come back."""
    back = [p.id or 0 for p, _status in wf.restorable(db, pair)]
    if not back:
        return []
    return [
        ngettext(
            "%(num)d proposal the veto took out of play is back in play: %(list)s.",
            "%(num)d proposals the veto took out of play are back in play: %(list)s.",
            len(back),
            list=_proposal_list(db, back),
        )
    ]


@bp.post("/vetoes/<int:veto_id>/lift")
@access(*STAFF)
def lift_veto(veto_id: int) -> Any:
    db = _db()
    form = ReasonForm()
    wrong = refused(form, "reason")
    pair = db.get(Veto, veto_id)
    if pair is None:
        abort(404, description=_("There is no veto %(id)s (it may have been lifted).", id=veto_id))
    back = request.form.get("back") or url_for("review.vetoes")
    back = back if back.startswith("/") and not back.startswith("//") else url_for("review.vetoes")
    if wrong is None and form.confirmed.data and not (form.reason.data or "").strip():
        wrong = str(REQUIRED)
    if not form.confirmed.data or wrong:
        if wrong:
            flash(_("Nothing was saved: %(why)s", why=wrong), "error")
        return _confirm_page(
            title=_(
                "Lift the veto %(a)s → %(b)s?",
                a=country_name(pair.provider),
                b=country_name(pair.recipient),
            ),
            lines=[
                _(
                    "%(a)s may be proposed to %(b)s again by later match runs.",
                    a=country_name(pair.provider),
                    b=country_name(pair.recipient),
                ),
                _("Proposals rejected with the veto stay rejected (revert them one by one)."),
                *_coming_back(db, pair),
            ],
            action=url_for("review.lift_veto", veto_id=veto_id),
            back=back,
            fields={"back": back},
            reason_label=_l("Why is the veto lifted?"),
            reason=(form.reason.data or "").strip(),
            reason_error=wrong,
        ), (400 if wrong else 200)
    try:
        wf.lift_veto(db, veto_id, user_id=current_user.id, reason=form.reason.data)
    except wf.NotFoundError:
        db.rollback()
        abort(404, description=_("There is no veto %(id)s (it may have been lifted).", id=veto_id))
    db.commit()
    flash(_("The veto was lifted."), "info")
    return redirect(back)


# ----------------------------------------------------------------------------- needs


def _reopen_page(need: Need, reason: str, error: str | None = None) -> Any:
    """The confirmation of reopening ``need`` at its current version, with the reason typed."""
    return _confirm_page(
        title=_("Reopen need %(id)s?", id=need.id),
        lines=[
            _(
                "Need %(id)s becomes open: the next match run proposes providers for it.",
                id=need.id,
            ),
            _("Its decided proposals and study tours stay as they are."),
        ],
        action=url_for("review.reopen_need", need_id=need.id),
        back=url_for("review.need", need_id=need.id),
        fields={"version": need.version},
        reason_label=_l("Why is the need reopened?"),
        reason=reason,
        reason_error=error,
    )


@bp.post("/needs/<need_id>/reopen")
@access(*STAFF)
def reopen_need(need_id: str) -> Any:
    db = _db()
    form = ReasonForm()
    wrong = refused(form, "reason")
    need = db.get(Need, need_id)
    if need is None:
        abort(404, description=_("There is no need %(id)s.", id=need_id))
    back = url_for("review.need", need_id=need_id)
    reason = (form.reason.data or "").strip()
    if wrong is None and form.confirmed.data and not reason:
        wrong = _("A reason is required.")
    if wrong:
        flash(_("Nothing was saved: %(why)s", why=wrong), "error")
        return _reopen_page(need, reason, wrong), 400
    if not form.confirmed.data:
        return _reopen_page(need, reason)
    try:
        wf.reopen_need(
            db,
            need_id,
            user_id=current_user.id,
            version=form.version.data or None,
            reason=form.reason.data,
        )
    except (StaleVersion, wf.ProposalError) as exc:
        # the page again, on the need as it is now, with what was typed
        db.rollback()
        db.expire_all()
        stale = isinstance(exc, StaleVersion)
        why = conflict_message(exc) if isinstance(exc, StaleVersion) else error_text(exc)
        flash(why if stale else _("Nothing was saved: %(why)s", why=why), "error")
        current = db.get(Need, need_id)
        if current is None:
            abort(404, description=_("There is no need %(id)s.", id=need_id))
        return _reopen_page(current, form.reason.data or ""), (409 if stale else 400)
    db.commit()
    flash(_("The need is open again."), "info")
    return redirect(back)
