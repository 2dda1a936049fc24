"""Consequential steps: confirmed before they are made, or undone after.

**The rule.** A step a person takes in one click either can be undone (the page that took it
offers the undo at once: :func:`offer_undo`), or it is confirmed first: a first POST without
``confirmed`` runs the use case in a savepoint that is rolled back (:func:`preview`) and answers
with a page that says what will happen, in the reader's language (:func:`confirm_page`); the
confirming POST makes the change, on the version the person saw (a change in between: 409).

**The registry.** Every POST route of the pages is declared below, once: :data:`CONFIRMED` (a
first POST without ``confirmed`` answers with the confirmation and writes nothing; the class test
``tests/web/test_consequential_steps.py`` walks each), :data:`CONFIRMED_BEFORE` (a page of its own
asks first, and the POST is its answer), :data:`UNDONE_BY` (the step can be undone, and how), and
:data:`TYPED` (a form a person fills in: what they typed is the confirmation, and another edit
changes it back). A test fails when a POST route of the URL map is in none of them, so a new
step is classified when it is added. :data:`NOT_YET` lists honestly what is neither confirmed nor
undoable yet. The JSON API is left out on purpose: a script states what it wants in its body,
and every refusal is a code; only the rule on who agrees a study tour applies there too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flask import abort, g, render_template, session
from sqlmodel import Session

from sscmatch.schemas import MAX_TEXT
from sscmatch.web.translate import gettext as _

T = TypeVar("T")
R = TypeVar("R")

# endpoint → which of its steps are confirmed first, and why.
CONFIRMED: Mapping[str, str] = {
    "review.decide": "a decision supersedes the need's other proposals and matches the need",
    "review.revert": "reverting reopens superseded proposals and may cancel the draft tour",
    "review.bulk": "one decision over many proposals",
    "review.lift_veto": "the pair may be proposed again by later runs",
    "review.reopen_need": "the need is matched again by later runs",
    "tours.change_status": (
        "the steps no step back undoes (lifecycle.CONFIRMED_STEPS: completed records the "
        "exchange the matcher learns from; closed and cancelled are final); the others are "
        "taken at once and offer the step back as their undo"
    ),
    "registry.need_withdraw": (
        "the need closes and its proposals waiting for a decision are superseded; the page "
        "after it offers the undo (reinstate) while nothing changed meanwhile"
    ),
    "admin.edit_user": (
        "a deactivation: the person can no longer sign in, their sessions end and their API "
        "token stops; a change of role, country or constituency of an active account: their "
        "sessions and API token end (workflow.admin.RIGHTS_FIELDS); other edits (name, "
        "language) are saved at once (another edit changes them back)"
    ),
}
# endpoint → the page (GET endpoint) that asks before the POST is sent.
CONFIRMED_BEFORE: Mapping[str, str] = {
    "matching.calibrate": "matching.calibrate_confirm",
}
# endpoint → how the step is undone.
UNDONE_BY: Mapping[str, str] = {
    "admin.reactivate_user": "deactivation (confirmed) on the user's page",
    "admin.unlock_user": "the failed sign-ins are counted again as they happen",
    "auth.change_language": "choosing another language",
    "auth.logout": "signing in again",
    "i18n.switch_language": "choosing another language",
    "main.open_notice": "the notice is only marked read",
    "main.read_all_notices": "notices are only marked read",
    "matching.start": "a run only proposes; nothing is decided until the review",
    "registry.need_submit": (
        "taking the submission back, offered on the next page (need_steps) while it waits; "
        "or the secretariat returns the need to its focal point"
    ),
    "registry.need_take_back": "submitting the need again",
    "registry.need_reinstate": "withdrawing the need again (confirmed)",
    "registry.need_return": "the focal point submits the need again",
    "registry.need_endorse": (
        "withdrawing the endorsement, offered on the next page (need_steps), while no match run "
        "has proposed for the need and no study tour names it"
    ),
    "registry.need_withdraw_endorsement": "endorsing the need again",
    "review.respond": "the answer may be changed until the secretariat decides",
    "tours.from_proposal": "cancelling the draft tour (confirmed)",
}
# endpoint → the form that is filled in (its typed content is the confirmation).
TYPED: Mapping[str, str] = {
    "admin.import_page": "a bundle file chosen and uploaded, checked before anything is written",
    "admin.new_user": "the new account's e-mail and password typed twice",
    "admin.reset_password": "the new password typed twice",
    "auth.account": "a replaced API token asks for a ticked box first",
    "auth.change_password": "the current password and the new one typed twice",
    "auth.login": "signing in",
    "followup.commitment": (
        "a commitment's update typed; another update changes it, except a focal point's "
        "decision (fulfilled, dropped), which only the secretariat reopens: the form asks to "
        "confirm it first (web.followup)"
    ),
    "registry.capacity_edit": "an edit form; another edit changes it back",
    "registry.capacity_new": "a new record typed",
    "registry.need_edit": (
        "an edit form; another edit changes it back, except a focal point's change to an "
        "endorsed need, which sends it back to endorsement: the form asks to confirm it first "
        "(web.registry)"
    ),
    "registry.need_new": "a new record typed",
    "review.comment": "a comment typed",
    "tours.add_commitment": "a commitment typed",
    "tours.edit": "an edit form; another edit changes it back",
}
# endpoint → why it is neither confirmed nor undoable yet (known gaps, kept visible).
NOT_YET: Mapping[str, str] = {}


def preview(db: Session, act: Callable[[], T], describe: Callable[[T], R]) -> R:
    """What ``act`` would do: run it in a savepoint, describe it, roll it back. Its writes are
    never kept, so a request whose text held a NUL (refused, writing nothing:
    :func:`sscmatch.web.pageform.hold_nul`) may still show what its step would do."""
    savepoint = db.begin_nested()
    previewing = g.get("previewing", False)
    g.previewing = True
    try:
        result = act()
        db.flush()
        return describe(result)
    finally:
        g.previewing = previewing
        savepoint.rollback()
        db.expire_all()


def refused(form: Any, typed: str) -> str | None:
    """Why the posted ``form`` is refused, said beside its field ``typed`` (the reason or note a
    person types on a confirmation), or None when it is not: the view draws the confirmation
    again with what was typed and this beside it, answering 400, and writes nothing. A text
    holding a NUL (pasted from elsewhere) or over its field's limit (sent by another page, an
    older one) is refused so; an error page there lost the text. A refusal of another field
    (hidden: no page lets a person change it) is a 400 of its own, in the reader's language."""
    if form.validate_on_submit():
        return None
    errors = dict(form.errors)
    said = errors.pop(typed, None)
    if errors or not said:
        abort(400, description=_("The form is incomplete."))
    return " ".join(str(e) for e in said)


def confirm_page(
    *,
    title: str,
    lines: list[str] | list[tuple[str, str | None]],
    action: str,
    back: str,
    fields: dict[str, Any],
    reason_label: Any = None,
    reason: str = "",
    offer_override: bool = False,
    danger: bool = False,
    warning: str | None = None,
    reason_name: str = "reason",
    reason_max: int = MAX_TEXT,
    reason_error: str | None = None,
    override_error: str | None = None,
    override: bool = False,
    override_label: Any = None,
    override_reason: str = "",
    undo: str | None = None,
    final: bool = False,
) -> Any:
    """The confirmation of a consequential step: what will happen (each line with the choice it
    holds under, shown or hidden for the choices made), the reasons due, each in its own labelled
    field with its message beside it; ``undo``: how it is undone afterwards, or ``final``: it
    cannot be (the page says so instead of "can be reverted later")."""
    return render_template(
        "review/confirm.html",
        title=title,
        lines=[line if isinstance(line, tuple) else (line, None) for line in lines],
        action=action,
        back=back,
        fields=fields,
        reason_label=reason_label,
        reason=reason,
        offer_override=offer_override,
        danger=danger,
        warning=warning,
        reason_name=reason_name,
        reason_max=reason_max,
        reason_error=reason_error,
        override_error=override_error,
        override=override,
        override_label=override_label,
        override_reason=override_reason,
        undo=undo,
        final=final,
    )


UNDO_KEY = "undo"


def offer_undo(text: str, label: str, action: str, fields: Mapping[str, Any]) -> None:
    """Say ``text`` on the next page with a small button ``label`` that posts ``fields`` to
    ``action``: the undo of the step just taken (both in the reader's language)."""
    session[UNDO_KEY] = {
        "text": text,
        "label": label,
        "action": action,
        "fields": {k: str(v) for k, v in fields.items()},
    }


def undo_offered() -> dict[str, Any] | None:
    """The undo :func:`offer_undo` left for this page (once), or None."""
    if UNDO_KEY not in session:  # reading no key leaves the session (and caching) untouched
        return None
    found = session.pop(UNDO_KEY, None)
    return found if isinstance(found, dict) else None
