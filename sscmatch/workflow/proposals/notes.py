"""What the service says of a review step in the audit: message codes, never English words.

A decision's audit event keeps the reviewer's own words in ``note`` as typed, and what the
service adds ("accepted without the provider's confirmation", "alternate chosen", "decision
reverted"…) in ``note_code``: ``{"code": …, "params": {…}}``, a message of :data:`NOTES` said in
the reader's language when shown (:func:`read`).

Events written before ``note_code`` existed hold the service's words in English in ``note``,
in front of the reviewer's: :func:`read` recognises those shapes (:data:`LEGACY`), for the
actions that wrote them, and gives the same code and the reviewer's words apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sscmatch.workflow.base import N_

ACCEPTED_WITHOUT_CONFIRMATION = "accepted_without_confirmation"
PAIR_VETOED = "pair_vetoed"
ALTERNATE_CHOSEN = "alternate_chosen"
DECISION_REVERTED = "decision_reverted"
SUPERSEDED_BY = "superseded_by"
MATCHED_BY = "matched_by"
VETOED_FROM = "vetoed_from"
TOUR_CANCELLED = "tour_cancelled"
EMAIL_TRIED = "email_tried"
NEED_WITHDRAWN = "need_withdrawn"
OFFER_WITHDRAWN = "offer_withdrawn"
VETO_LIFTED = "veto_lifted"
OFFER_PUBLISHED = "offer_published"

NOTES: dict[str, str] = {
    ACCEPTED_WITHOUT_CONFIRMATION: N_("accepted without the provider's confirmation"),
    PAIR_VETOED: N_("pair vetoed"),
    ALTERNATE_CHOSEN: N_("alternate chosen"),
    DECISION_REVERTED: N_("decision reverted"),
    SUPERSEDED_BY: N_("proposal %(proposal)s was accepted for need %(need)s"),
    MATCHED_BY: N_("proposal %(proposal)s accepted"),
    VETOED_FROM: N_("from proposal %(proposal)s"),
    TOUR_CANCELLED: N_("study tour %(tour)s was cancelled"),
    EMAIL_TRIED: N_("e-mail tried: %(email)s"),  # a failed sign-in's (accounts)
    NEED_WITHDRAWN: N_("need %(need)s was withdrawn"),
    OFFER_WITHDRAWN: N_("offer %(capacity)s is no longer published"),
    VETO_LIFTED: N_("the veto of its pair was lifted"),
    OFFER_PUBLISHED: N_("offer %(capacity)s is published again"),
}

# The English the service wrote before ``note_code`` (code, the actions that wrote it, shape).
LEGACY: tuple[tuple[str, frozenset[str], re.Pattern[str]], ...] = (
    (
        ACCEPTED_WITHOUT_CONFIRMATION,
        frozenset({"accept"}),
        re.compile(r"accepted without the provider's confirmation: (?P<text>.*)", re.S),
    ),
    (PAIR_VETOED, frozenset({"reject"}), re.compile(r"pair vetoed: (?P<text>.*)", re.S)),
    (ALTERNATE_CHOSEN, frozenset({"reject"}), re.compile(r"alternate chosen: (?P<text>.*)", re.S)),
    (
        DECISION_REVERTED,
        frozenset({"revert", "reopen", "lift", "status:cancelled"}),
        re.compile(r"decision reverted: (?P<text>.*)", re.S),
    ),
    (
        SUPERSEDED_BY,
        frozenset({"supersede"}),
        re.compile(r"proposal (?P<proposal>\d+) was accepted for need (?P<need>\S+)"),
    ),
    (MATCHED_BY, frozenset({"match"}), re.compile(r"proposal (?P<proposal>\d+) accepted")),
    (VETOED_FROM, frozenset({"create"}), re.compile(r"from proposal (?P<proposal>\d+)")),
    (
        TOUR_CANCELLED,
        frozenset({"reopen"}),
        re.compile(r"study tour (?P<tour>\S+) was cancelled"),
    ),
)


def code(name: str, **params: Any) -> dict[str, Any]:
    """The ``note_code`` of an audit event: a message of :data:`NOTES` and its parameters."""
    assert name in NOTES, name
    return {"code": name, "params": params}


@dataclass(frozen=True)
class Note:
    """An audit note read back: the service's message (``message`` with ``params``, or None)
    and the person's own words (``text``, or None)."""

    message: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    text: str | None = None


def read(note: str | None, note_code: dict[str, Any] | None, action: str = "") -> Note:
    """What an audit event says: its code's message and the person's words; an event written
    before codes is recognised by the shape of its English note (only for ``action``, the
    step that wrote it, so that a person's words are not mistaken for the service's)."""
    if note_code and note_code.get("code") in NOTES:
        params = note_code.get("params") or {}
        return Note(NOTES[str(note_code["code"])], dict(params), note or None)
    if note:
        for name, actions, shape in LEGACY:
            found = shape.fullmatch(note)
            if found is not None and action in actions:
                values = found.groupdict()
                text = values.pop("text", None)
                return Note(NOTES[name], values, text or None)
    return Note(text=note or None)
