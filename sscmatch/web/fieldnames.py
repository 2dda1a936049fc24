"""Every field a person fills (the records' forms and the API's bodies) named in the reader's
language, once: the forms' labels are these, and a message that names a field (an API answer
listing what is wrong, a summary line above a form) names it so, never by its code
(``desired_to``). The API keeps the codes in a key of their own (``fields``).
"""

from __future__ import annotations

from typing import Any

from sscmatch.web.translate import lazy_gettext as _l

FIELD_LABELS: dict[str, Any] = {
    # records (sscmatch.schemas: capacities, needs, exchanges, commitments)
    "id": _l("Id"),
    "country": _l("Country"),
    "institution": _l("Institution"),
    "title": _l("Title"),
    "description": _l("Description"),
    "themes": _l("Themes"),
    "languages": _l("Languages"),
    "modalities": _l("Modalities"),
    "maturity": _l("Maturity"),
    "max_per_year": _l("Exchanges per year at most"),
    "available_from": _l("Available from"),
    "available_to": _l("Available until"),
    "priority": _l("Priority"),
    "desired_from": _l("Wanted from"),
    "desired_to": _l("Wanted until"),
    "status": _l("Status"),
    "created": _l("Created"),
    "source": _l("Source"),
    "start": _l("Start"),
    "end": _l("End"),
    "date_note": _l("How the dates were read"),
    "providers": _l("Providers"),
    "recipients": _l("Recipients"),
    "participants": _l("Participants"),
    "partners": _l("Partners"),
    "modality": _l("Modality"),
    "direction": _l("Direction"),
    "outcomes": _l("Outcomes"),
    "exchange": _l("Exchange"),
    "study_tour": _l("Study tour"),
    "owner_country": _l("Owner country"),
    "owner_institution": _l("Owner institution"),
    "due": _l("Due"),
    "evidence": _l("Evidence"),
    "note": _l("Note"),
    # study tours (sscmatch.workflow.tours)
    "objective": _l("Objective"),
    "expected_change": _l("Expected change"),
    "interpretation": _l("Interpretation needed"),
    "funders": _l("Funding partners"),
}
"""Field code → its label. Codes no person fills (``version``) are absent: a message about one
keeps the code."""


def field_label(code: str) -> str:
    """The label of the field ``code`` in the reader's language (the code if it has none)."""
    label = FIELD_LABELS.get(code)
    return code if label is None else str(label)


def field_problem(code: str, text: str) -> str:
    """``text``, a problem of the field ``code`` already in the reader's language, as a message
    that names the field: ``Wanted until: …`` (the problem alone when it belongs to no field)."""
    return f"{field_label(code)}: {text}" if code else text


def show_beside(form: Any, problems: dict[str, str]) -> list[str]:
    """Put each problem of ``problems`` (field code → text in the reader's language, as
    :func:`sscmatch.web.errors.field_errors` gives them) beside its field of ``form`` (the field
    macro marks it ``aria-invalid`` and points ``aria-describedby`` at it; the form's summary
    line says fields are marked); return the others, each naming its field by its label, for
    the caller to show above the form."""
    rest = []
    for name, text in problems.items():
        found = form._fields.get(name) if name not in ("", "csrf_token", "version") else None
        if found is None:
            rest.append(field_problem(name, text))
        else:
            found.errors = [*found.errors, text]
    return rest
