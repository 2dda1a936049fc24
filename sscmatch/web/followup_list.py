"""The follow-up's list of commitments (``/followup/commitments``, on the ``followup``
blueprint): every commitment, filtered by owner country (a focal point's own by default, as on
the dashboard), status, origin and time (overdue, due soon), paged, with its export
(``/followup/export.<fmt>`` takes the same filters). The dashboard shows the first few of each
group and links here for the rest."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, render_template, request

from sscmatch.schemas import MAX_PAGE, whole_number
from sscmatch.web.access import SIGNED_IN, access
from sscmatch.web.db import get_session
from sscmatch.web.followup import ALL, _chosen_country, bp
from sscmatch.web.templating import STATUS_LABELS
from sscmatch.web.tours import today
from sscmatch.web.translate import gettext as _
from sscmatch.web.translate import lazy_gettext as _l
from sscmatch.workflow import commitment_list as wf
from sscmatch.workflow.commitments import STATUSES, days_left

ORIGIN_LABELS = {
    "live": _l("Planned in sscmatch"),
    "documents": _l("Recorded from the documents"),
}
WHEN_LABELS = {
    "overdue": _l("Overdue"),
    "soon": _l("Due in the next 30 days"),
}


def chosen_filter(own_default: bool = True) -> tuple[wf.CommitmentFilter, bool]:
    """The list's filter from the query string and whether its country is the reader's own by
    default (the page, its export and the API read it the same way, the API without a default
    country; ``overdue=true``, the export's former argument, still means ``when=overdue``)."""
    country, own = _chosen_country(own_default)
    args = request.args
    when = args.get("when") or ("overdue" if args.get("overdue") == "true" else None)
    flt = wf.CommitmentFilter(
        country=country,
        status=args.get("status") or None,
        origin=args.get("origin") or None,
        when=when,
    )
    return flt, own


@bp.get("/commitments")
@access(SIGNED_IN)
def commitments() -> Any:
    page_number = whole_number(request.args.get("page", "1") or "1", 1, MAX_PAGE)
    if page_number is None:
        abort(400, description=_("page must be a whole number from 1"))
    flt, own = chosen_filter()
    day = today()
    page = wf.commitment_page(
        get_session(),
        flt,
        today=day,
        page=page_number,
        per_page=int(current_app.config["PAGE_SIZE"]),
    )
    statuses = [(s, STATUS_LABELS[s]) for s in STATUSES]
    return render_template(
        "followup/commitments.html",
        flt=flt,
        own_country=flt.country if own else None,
        page=page,
        today=day,
        days_left=days_left,
        statuses=[*statuses, (wf.OPEN_STATUS, _l("open (pending or in progress)"))],
        origins=ORIGIN_LABELS,
        whens=WHEN_LABELS,
        all_countries=ALL,
        countries=wf.owner_countries(get_session()),
    )
