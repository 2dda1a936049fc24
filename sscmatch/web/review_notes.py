"""An audit event's note in the reader's language: what the service says of the step (a code of
:mod:`sscmatch.workflow.proposals.notes`, or an older note recognised by its English shape), then
the person's own words as they typed them.

``event_note(event)`` is a template global of every page (registered by the review blueprint):
a proposal's history uses it, and so can any page that lists audit events.
"""

from __future__ import annotations

from typing import Any

from sscmatch.web.templating import audit_note
from sscmatch.web.translate import gettext
from sscmatch.workflow.proposals import notes


def note_text(note: str | None, note_code: dict[str, Any] | None, action: str = "") -> str:
    """The note of an audit event of ``action`` as the reader reads it ('' when none)."""
    read = notes.read(note, note_code, action)
    if read.message is None:
        return audit_note(read.text)  # a person's words, or another note the service wrote
    said = gettext(read.message, **read.params)
    if not read.text:
        return said
    # the reader's punctuation ("décision annulée : …" in French)
    return gettext("%(what)s: %(words)s", what=said, words=read.text)


def event_note(event: Any) -> str:
    """:func:`note_text` of an :class:`~sscmatch.models.AuditEvent`."""
    return note_text(event.note, getattr(event, "note_code", None), event.action)
