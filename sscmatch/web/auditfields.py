"""Every field an audit event can carry, named in the reader's language: the audit log's
"changed fields" and an event's before and after name the fields of users, proposals, tours…
by their labels, never their codes (``updated_by``).

A field a person fills has its label in :data:`sscmatch.web.fieldnames.FIELD_LABELS`; the
fields the service sets (who and when, versions, a run's counts) in :data:`AUDIT_FIELD_LABELS`,
then the exports' column headers (:data:`sscmatch.web.spreadsheet.COLUMNS`), which name most of
them already. ``tests/web/test_audit_field_labels.py`` derives every name an event can carry
(the snapshot of each audited model, and the keys the use cases write by hand) and checks each
has a label in every language.
"""

from __future__ import annotations

from typing import Any

from sscmatch.web.fieldnames import FIELD_LABELS
from sscmatch.web.spreadsheet import COLUMNS
from sscmatch.web.translate import lazy_gettext as _l

AUDIT_FIELD_LABELS: dict[str, Any] = {
    # who and when, on every record (sscmatch.models)
    "version": _l("Version"),
    "created_at": _l("Created"),
    "created_by": _l("Created by"),
    "updated_at": _l("Updated"),
    "updated_by": _l("Updated by"),
    # needs and proposals
    "submitted_at": _l("Submitted for endorsement"),
    "review_note": _l("Secretariat's note"),
    "components": _l("Score components"),
    "reasons": _l("Reasons"),
    # study tours
    "agenda": _l("Agenda"),
    "delegation": _l("Delegation"),
    "cost": _l("Cost estimate"),
    # institutions
    "international": _l("International or regional body"),
    "members": _l("Member countries"),
    "website": _l("Website"),
    # users
    "demo": _l("Demo account"),
    "failed_sign_ins": _l("Failed sign-ins"),
    "locked_until": _l("Locked until"),
    # match runs and calibrations
    "params": _l("Settings"),
    "weights": _l("Weights"),
    "figures": _l("Figures"),
    "worker": _l("Server process"),
    "heartbeat_at": _l("Last sign of life"),
    # what a step records besides the record (comments, vetoes, agreements, imports)
    "comment": _l("Comment number"),
    "veto": _l("Vetoed pair"),
    "side": _l("Side"),
    "created": _l("Created"),
    "updated": _l("Updated"),
}
"""Field code → its label, for the fields no form names."""


def audit_field_label(code: str) -> str:
    """The label of the field ``code`` of an audit event in the reader's language (the code if
    it has none)."""
    label = FIELD_LABELS.get(code) or AUDIT_FIELD_LABELS.get(code)
    if label is None and code in COLUMNS:
        label = COLUMNS[code].header
    return code if label is None else str(label)
