"""The home page (each role's "what needs me now"), the notices, and the health check."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import text
from sqlmodel import select

from sscmatch.models import Capacity, Exchange, Need, Notice
from sscmatch.web.access import PUBLIC, SIGNED_IN, access
from sscmatch.web.db import get_session
from sscmatch.web.paging import page_arg, page_size
from sscmatch.web.templating import STATUS_LABELS, country_name, tour_status_label
from sscmatch.web.tours import today  # the one reader of the day for pages
from sscmatch.web.translate import catalogue, reader_number
from sscmatch.web.translate import gettext as _
from sscmatch.workflow import notices, visibility, worklists
from sscmatch.workflow.base import Page, choice_filter
from sscmatch.workflow.counts import kept_count

bp = Blueprint("main", __name__)


class _WebNames:
    def country(self, code: str) -> str:
        return country_name(code)

    def status(self, code: str) -> str:
        return str(STATUS_LABELS.get(code, code))

    def tour_status(self, code: str) -> str:
        return tour_status_label(code)

    def number(self, value: int) -> str:
        return reader_number(value)


def notice_text(notice: Notice) -> str:
    """A notice in the reader's language."""
    cat = catalogue()
    return notices.render(notice, cat.ugettext, cat.ungettext, _WebNames())


def notice_target(notice: Notice) -> str:
    """Where a notice leads: the record it is about."""
    if notice.entity == "proposal":
        return url_for("review.proposal", proposal_id=int(notice.entity_id))
    if notice.entity == "need":
        return url_for("registry.need", need_id=notice.entity_id)
    if notice.entity == "study_tour":
        return url_for("tours.show", tour_id=notice.entity_id)
    if notice.entity == "match_run":
        if current_user.role == "focal_point":
            return url_for("review.my_proposals")
        return url_for("review.queue", run=notice.entity_id)
    return url_for("main.notices_page")


def unread_notices() -> int:
    """For the header: how many notices the signed-in user has not read."""
    if not current_user.is_authenticated:
        return 0
    return notices.unread_count(get_session(), current_user.id)


@bp.get("/")
@access(PUBLIC)
def index() -> str:
    session = get_session()
    viewer = current_user if current_user.is_authenticated else None
    counts = {
        name: kept_count(session, select(model).where(visibility.visible(model, viewer)))
        for name, model in (("capacities", Capacity), ("needs", Need), ("exchanges", Exchange))
    }
    work = worklists.for_viewer(session, current_user, today()) if viewer else None
    recent = notices.for_user(session, current_user.id, limit=5) if viewer else None
    return render_template(
        "main/index.html",
        counts=counts,
        work=work,
        recent=recent,
        tour_next=worklists.TOUR_NEXT,
    )


UNREAD_VALUES = {"1": True, "true": True, "0": False, "false": False}


def notices_listing(number: int, size: int) -> tuple[notices.NoticePage, Page[Notice]]:
    """One's own notices, unread first then newest first, under the request's filters
    (``unread``: only those not read yet; ``entity``: about that kind of record; a bad value:
    400 in the reader's language): what :func:`notices.for_user` counts and the page
    ``number`` of ``size`` of them. The page and its export share it."""
    unread = choice_filter(request.args.get("unread"), tuple(UNREAD_VALUES), name="unread")
    entity = choice_filter(request.args.get("entity"), notices.ABOUT, name="entity")
    found = notices.for_user(
        get_session(),
        current_user.id,
        limit=size,
        offset=(number - 1) * size,
        unread_only=UNREAD_VALUES.get(unread or "", False),
        entity=entity,
    )
    return found, Page(items=found.items, number=number, size=size, total=found.total)


@bp.get("/notices")
@access(SIGNED_IN)
def notices_page() -> str:
    """One's own notices (no one else's), a page at a time, filtered by read or not and by
    what they are about."""
    found, page = notices_listing(page_arg(), page_size())
    return render_template(
        "main/notices.html",
        page=page,
        unread=found.unread,
        about=notices.ABOUT,
        entity=request.args.get("entity") or "",
        unread_only=UNREAD_VALUES.get(request.args.get("unread") or "", False),
    )


@bp.post("/notices/<int:notice_id>/open")
@access(SIGNED_IN)
def open_notice(notice_id: int) -> Any:
    """Mark one's own notice read and go to what it is about (another's is a 404)."""
    db = get_session()
    notice = notices.get_own(db, current_user.id, notice_id)
    if notice is None:
        abort(404, description=_("There is no such notice."))
    target = notice_target(notice)
    notices.mark_read(db, current_user.id, notice_id)
    db.commit()
    return redirect(target)


@bp.post("/notices/read")
@access(SIGNED_IN)
def read_all_notices() -> Any:
    db = get_session()
    notices.mark_read(db, current_user.id)
    db.commit()
    return redirect(url_for("main.notices_page"))


@bp.get("/healthz")
@access(PUBLIC)
def health() -> Any:
    get_session().exec(text("SELECT 1"))  # type: ignore[call-overload]
    return jsonify(status="ok")


@bp.record_once
def _template_helpers(state: Any) -> None:
    state.app.jinja_env.globals.update(notice_text=notice_text, unread_notices=unread_notices)
