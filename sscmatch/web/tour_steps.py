"""A study tour's status steps on its page: which are confirmed first, and the undo of the others.

The steps no step back undoes (:data:`sscmatch.workflow.tours.CONFIRMED_STEPS`) are confirmed
first (:mod:`sscmatch.web.confirm`): *completed* records the tour as an exchange, the graph later
match runs learn from; *closed* ends its editing; *cancelled* gives its need back to matching and
asks why. The page says what will happen, worked out by taking the step in a savepoint that is
rolled back, and that it cannot be undone. Every other step is taken at once, and the page it
leads to offers its undo, the step back ("The study tour is now agreed. [Undo]"), to whoever may
take it. A focal point's "agreed" records their country's agreement; the page says which side
has agreed and which is awaited (:mod:`sscmatch.workflow.tours.agreement`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import abort, flash, request, url_for
from flask_login import current_user
from sqlmodel import Session, col, select

from sscmatch.db import StaleVersion
from sscmatch.models import Commitment, Need, StudyTour
from sscmatch.web.confirm import confirm_page, offer_undo, preview
from sscmatch.web.templating import STATUS_LABELS, country_name, tour_status_label
from sscmatch.web.translate import gettext as _
from sscmatch.web.translate import lazy_gettext as _l
from sscmatch.web.translate import ngettext
from sscmatch.workflow import tours as wf

PLACEHOLDER = "…"  # stands for a reason not typed yet while previewing
REASON_DUE = {"cancelled": _l("Why is the study tour cancelled?")}


def _status(code: str) -> str:
    """A study tour's status, in its own forms (``templating.TOUR_STATUS_LABELS``)."""
    return tour_status_label(code)


def _lines(db: Session, to: str, tour: StudyTour) -> list[str]:
    """What taking the step to ``to`` does, ``tour`` as the step left it (in a savepoint)."""
    if to == "completed":
        attached = db.exec(
            select(Commitment.id).where(
                Commitment.study_tour == tour.id, col(Commitment.exchange).is_not(None)
            )
        ).all()
        lines = [
            _("Study tour %(id)s becomes completed.", id=tour.id),
            _(
                "It is recorded as exchange %(exchange)s (%(host)s hosted %(visiting)s): later "
                "match runs learn from it who cooperated with whom, and on what.",
                exchange=wf.exchange_id(tour),
                host=country_name(tour.host_country),
                visiting=country_name(tour.visiting_country),
            ),
        ]
        if attached:
            lines.append(
                ngettext(
                    "Its %(num)d commitment is followed up as the exchange's.",
                    "Its %(num)d commitments are followed up as the exchange's.",
                    len(attached),
                )
            )
        lines.append(_("Commitments can still be recorded on it until it is closed."))
        return lines
    if to == "closed":
        return [
            _("Study tour %(id)s becomes closed: it can no longer be edited.", id=tour.id),
            _("Its commitments stay as they are, followed up on the follow-up pages."),
        ]
    lines = [_("Study tour %(id)s becomes cancelled.", id=tour.id)]
    need = db.get(Need, tour.need) if tour.need else None
    if need is not None and need.status == "open":
        lines.append(
            _(
                "Its need %(need)s is open again: later match runs propose providers for it.",
                need=need.id,
            )
        )
    elif need is not None:
        lines.append(
            _(
                "Its need %(need)s stays %(status)s.",
                need=need.id,
                status=str(STATUS_LABELS.get(need.status, need.status)),
            )
        )
    lines.append(_("Its commitments stay as they are."))
    return lines


def _title(to: str, tour_id: str) -> str:
    if to == "completed":
        return _("Mark study tour %(id)s completed?", id=tour_id)
    if to == "closed":
        return _("Close study tour %(id)s?", id=tour_id)
    return _("Cancel study tour %(id)s?", id=tour_id)


def confirm_step(
    db: Session,
    tour_id: str,
    to: str,
    version: int,
    note: str | None,
    today: date,
    wrong: str | None = None,
    again: bool = False,
) -> Any:
    """The confirmation of a step to ``to`` that cannot be undone, or None when the step may go
    ahead: it can be undone, or this is its confirmation (with the reason, when one is due). A
    step refused (not allowed, stale, blocked) is None too: the step itself says why, as it
    would without a confirmation. ``wrong``: why the note typed was refused (the form's check,
    :func:`sscmatch.web.confirm.refused`), said beside it on the confirmation drawn again;
    ``again``: the confirmation asked again (:func:`confirm_again`), whatever was sent."""
    tour = db.get(StudyTour, tour_id)
    if tour is None:
        abort(404, description=_("There is no study tour %(id)s.", id=tour_id))
    if (tour.status, to) not in wf.CONFIRMED_STEPS:
        return None
    reason = (note or "").strip()
    due = REASON_DUE.get(to)
    confirmed = request.form.get("confirmed") == "y" and not again
    if wrong is None and confirmed and due is not None and not reason:
        wrong = _("A reason is required.")
    if confirmed and wrong is None:
        return None
    try:
        lines = preview(
            db,
            lambda: wf.transition(
                db,
                tour_id,
                to,
                version=version,
                user=current_user,
                today=today,
                note=PLACEHOLDER if wrong else reason or PLACEHOLDER,
            ),
            lambda after: _lines(db, to, after),
        )
    except (wf.TourError, StaleVersion):
        return None
    if wrong:
        flash(_("Nothing was saved: %(why)s", why=wrong), "error")
    return confirm_page(
        title=_title(to, tour_id),
        lines=lines,
        action=url_for("tours.change_status", tour_id=tour_id),
        back=url_for("tours.show", tour_id=tour_id),
        fields={"version": version, "to": to},
        reason_label=due,
        reason=reason,
        reason_error=wrong if due is not None else None,
        danger=to == "cancelled",
        reason_name="note",
        reason_max=wf.MAX_STEP_NOTE,
        final=True,
    ), (400 if wrong else 200)


def confirm_again(db: Session, tour_id: str, to: str, note: str | None, today: date) -> Any:
    """A confirmed step refused because the tour changed meanwhile (said already, flashed): its
    confirmation again, on the tour as it now is (its version carried) with the note typed kept,
    answering 409; or None when the step is no longer one to confirm from where the tour stands
    (the tour's page says why). Before, the reason typed for a cancellation was lost."""
    db.expire_all()
    tour = db.get(StudyTour, tour_id)
    if tour is None:
        return None
    asked = confirm_step(db, tour_id, to, tour.version, note, today, again=True)
    return None if asked is None else (asked[0], 409)


def said_after(tour: StudyTour, before: str, to: str) -> None:
    """What the page after the step says: the new status with its undo (the step back, when the
    reader may take it), or the side's agreement recorded and who is awaited."""
    if tour.status != to:  # a focal point's agreement, the other side awaited
        side = wf.side_of(tour, current_user) or "host"
        other = "visiting" if side == "host" else "host"
        flash(
            _(
                "The agreement of %(country)s is recorded. The study tour becomes agreed when "
                "%(other)s agrees too, or when the secretariat records it.",
                country=country_name(wf.country_of(tour, side)),
                other=country_name(wf.country_of(tour, other)),
            ),
            "info",
        )
        return
    text = _("The study tour is now %(status)s.", status=_status(tour.status))
    back = wf.undone_by(before, to)
    if back is None or back not in wf.allowed_transitions(tour, current_user):
        flash(text, "info")
        return
    offer_undo(
        text,
        _("Undo (back to %(status)s)", status=_status(back)),
        url_for("tours.change_status", tour_id=tour.id),
        {"version": tour.version, "to": back},
    )


# The tour's fields as the page names them when an edit clears an agreement (dates: one name).
FIELD_NAMES: dict[str, Any] = {
    "title": _l("the title"),
    "modality": _l("the modality"),
    "objective": _l("the objective"),
    "expected_change": _l("the expected change"),
    "start": _l("the dates"),
    "end": _l("the dates"),
    "languages": _l("the languages"),
    "interpretation": _l("the interpretation"),
    "agenda": _l("the agenda"),
    "delegation": _l("the delegation"),
    "funders": _l("the funders"),
    "cost": _l("the cost estimate"),
}


def agreement_lines(db: Session, tour: StudyTour) -> list[tuple[str, bool]]:
    """While ``tour`` is proposed: each country (host first) and whether it has agreed."""
    if tour.status != "proposed":
        return []
    found = wf.agreement(db, tour)
    return [(wf.country_of(tour, side), found.has(side)) for side in ("host", "visiting")]


def asked_again(db: Session, tour: StudyTour) -> list[str]:
    """While ``tour`` is proposed: for each side whose agreement an edit cleared, what changed
    after it agreed and that its agreement is asked again (in the reader's language)."""
    if tour.status != "proposed":
        return []
    lines = []
    for side, fields in wf.agreement(db, tour).cleared:
        names = list(dict.fromkeys(str(FIELD_NAMES.get(f, f)) for f in fields))
        country = country_name(wf.country_of(tour, side))
        lines.append(
            _(
                "Changed after %(country)s agreed: %(fields)s. The agreement of %(country)s is "
                "asked again.",
                country=country,
                fields=", ".join(names),
            )
        )
    return lines
