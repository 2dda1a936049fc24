"""Review by need (routes on the ``review`` blueprint): the needs with proposals to decide, and
a page per need with its candidates side by side (score and factors, availability, modality,
the focal points' answers), where the secretariat decides."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, render_template, request
from flask_login import current_user
from sqlmodel import select

from sscmatch.models import Need, Veto
from sscmatch.web.access import access
from sscmatch.web.db import get_session
from sscmatch.web.errors import error_text
from sscmatch.web.registry import MODALITY_LABELS
from sscmatch.web.review import (
    FACTOR_LABELS,
    FIT_LABELS,
    STAFF,
    _theme_choices,
    bp,
    page_number,
    parse_filters,
)
from sscmatch.web.translate import gettext as _
from sscmatch.web.translate import lazy_gettext as _l
from sscmatch.workflow import proposals as wf
from sscmatch.workflow import visibility

NEED_SORT_LABELS: dict[str, Any] = {
    "ready": _l("Most confirmed candidates first"),
    "best": _l("Best score first"),
    "oldest": _l("Waiting longest first"),
}
AVAILABILITY_LABELS: dict[str, Any] = {
    "overlaps": _l("available in the need's window"),
    "outside": _l("not available in the need's window"),
    "unknown": _l("no dates to compare"),
}


def need_sort(args: Any) -> str:
    sort = args.get("sort") or "ready"
    return sort if sort in wf.NEED_SORTS else "ready"


def need_filters(args: Any) -> wf.Filters:
    """The needs-to-review list's filters (its page and its export): the proposal filters, in
    the order of needs asked (raises ProposalError for a bad one)."""
    sort = need_sort(args)
    args = args.copy()
    args["sort"] = "score"  # the proposal filters' check; the need order is applied below
    filters = parse_filters(args)
    return wf.Filters(**{**filters.__dict__, "sort": sort})


@bp.get("/needs")
@access("secretariat", "admin", "analyst")
def needs() -> Any:
    db = get_session()
    size = int(current_app.config["PAGE_SIZE"])
    sort = need_sort(request.args)
    status = 200
    try:
        filters = need_filters(request.args)
        page = wf.needs_to_review(db, filters, page_number(request.args), size, viewer=current_user)
    except wf.ProposalError as exc:
        flash(_("These filters cannot be used: %(why)s", why=error_text(exc)), "error")
        filters, page, status = wf.Filters(sort=sort), wf.Page([], 1, size, 0), 400
    return render_template(
        "review/needs.html",
        page=page,
        filters=filters,
        regions=wf.regions(db),
        themes=_theme_choices(),
        sorts=NEED_SORT_LABELS,
    ), status


@bp.get("/needs/<need_id>")
@access("secretariat", "admin", "analyst")
def need(need_id: str) -> Any:
    db = get_session()
    found = db.get(Need, need_id.strip())
    if found is None:
        abort(404, description=_("There is no need %(id)s.", id=need_id))
    if not visibility.may_see(current_user, found):
        abort(403)
    review = wf.need_review(db, found, viewer=current_user)
    vetoes = {
        (v.provider, v.recipient): v
        for v in db.exec(select(Veto).where(Veto.recipient == (found.country or "")))
    }
    return render_template(
        "review/need.html",
        need=found,
        review=review,
        factor_labels=FACTOR_LABELS,
        fit_labels=FIT_LABELS,
        availability_labels=AVAILABILITY_LABELS,
        modality_labels=MODALITY_LABELS,
        can_decide=current_user.role in STAFF,
        vetoes=vetoes,
        final=wf.FINAL,
    )
