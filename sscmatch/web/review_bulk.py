"""One decision over many proposals (the review queue's bulk action, a route on the ``review``
blueprint): the proposals ticked on the queue, or every one matching its filters, previewed in
a savepoint that is rolled back, then confirmed on the versions the reviewer saw (whatever
changed in between is reported, not decided). Split from :mod:`sscmatch.web.review_actions`,
whose confirmation pattern and reason form it shares."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlmodel import col, select

from sscmatch.models import Proposal as StoredProposal
from sscmatch.web.access import access
from sscmatch.web.confirm import preview, refused
from sscmatch.web.errors import error_text
from sscmatch.web.review import STAFF, bp, page_number, parse_filters
from sscmatch.web.review_actions import PLACEHOLDER, REQUIRED, ReasonForm, _db
from sscmatch.web.tours import draft_settings
from sscmatch.web.translate import gettext as _
from sscmatch.web.translate import ngettext
from sscmatch.workflow import proposals as wf
from sscmatch.workflow.base import N_


def _items(values: list[str]) -> list[tuple[int, int]]:
    """``id:version`` pairs as sent by the queue's checkboxes; anything else is refused."""
    out = []
    for value in values:
        head, sep, tail = value.partition(":")
        if not (sep and head.isascii() and head.isdigit() and tail.isascii() and tail.isdigit()):
            raise wf.ProposalError(
                N_("not a proposal and its version: %(value)s"), value=repr(value[:40])
            )
        if len(head) > 9 or len(tail) > 9:
            raise wf.ProposalError(N_("proposal ids and versions are at most 9 digits"))
        out.append((int(head), int(tail)))
    return out


@bp.post("/bulk")
@access(*STAFF)
def bulk() -> Any:
    """One decision over the proposals ticked on the queue, or over every proposal matching the
    queue's filters (``scope=filtered``): previewed, then confirmed."""
    db = _db()
    form = ReasonForm()
    wrong = refused(form, "reason")  # drawn again below with what was typed
    decision = request.form.get("decision", "")
    override = request.form.get("override") == "y"
    reason = (form.reason.data or "").strip()
    query = request.query_string.decode()
    back = url_for("review.queue") + (f"?{query}" if query else "")
    try:
        if request.form.get("scope") == "filtered" and not request.form.getlist("item"):
            filters = parse_filters(request.args)
            items, total = wf.matching_ids(db, filters, viewer=current_user, limit=wf.MAX_BULK)
            if total > wf.MAX_BULK:
                raise wf.ProposalError(
                    N_("%(n)s proposals match these filters; narrow them to at most %(limit)s"),
                    n=total,
                    limit=wf.MAX_BULK,
                )
        else:
            items = _items(request.form.getlist("item"))
            page_number(request.args)
        # a confirmation without its reason: the page again, the message beside the field
        missing = bool(form.confirmed.data) and decision == "reject" and not reason
        if wrong is None and missing:
            wrong = str(REQUIRED)
        wf.check_bulk(
            decision,
            items,
            PLACEHOLDER if wrong or not form.confirmed.data else reason,
        )
    except wf.ProposalError as exc:
        flash(_("Nothing was saved: %(why)s", why=error_text(exc)), "error")
        return redirect(back)

    def run(why: str | None) -> wf.BulkResult:
        return wf.decide_many(
            db,
            decision,
            items,
            user_id=current_user.id,
            reason=why,
            override=override,
            drafting=draft_settings(),
        )

    if not form.confirmed.data or wrong:
        if wrong:
            flash(_("Nothing was saved: please correct the form."), "error")
        result = preview(
            db, lambda: run(PLACEHOLDER if wrong else reason or PLACEHOLDER), lambda r: r
        )
        rows = {
            p.id: p
            for p in db.exec(
                select(StoredProposal).where(col(StoredProposal.id).in_([i for i, _v in items]))
            )
        }
        return render_template(
            "review/bulk_confirm.html",
            decision=decision,
            result=result,
            rows=rows,
            items=items,
            reason=reason,
            override=override,
            back=back,
            action=request.full_path.rstrip("?"),
            reason_error=wrong,
        ), (400 if wrong else 200)
    result = run(reason)
    db.commit()
    flash(
        ngettext("%(num)d proposal decided.", "%(num)d proposals decided.", len(result.done)),
        "info",
    )
    others = [i for i in result.conflicted if i not in result.yours]
    if others:
        flash(
            _(
                "Changed meanwhile by someone else, not decided: %(ids)s. Reload to see them "
                "as they are now.",
                ids=", ".join(str(i) for i in others),
            ),
            "error",
        )
    if result.yours:
        flash(
            _(
                "Already decided by you meanwhile (this decision sent twice, or another tab), "
                "left as they are: %(ids)s.",
                ids=", ".join(str(i) for i in result.yours),
            ),
            "error",
        )
    for proposal_id, why in result.refused:
        flash(
            _("Proposal %(id)s was not decided: %(why)s", id=proposal_id, why=error_text(why)),
            "error",
        )
    return redirect(back)
