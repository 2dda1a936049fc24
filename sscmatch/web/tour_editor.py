"""The study tour editor (``tours.edit``): a form made of fields.

The delegation and the agenda are rows with a field each (side, name, role, institution,
constituency; day, start, end, kind, title, place). "Add a member" and "Add a session" are submit
buttons, so the form works without script (the page comes back with an empty row, nothing saved);
``static/js/tour-editor.js`` adds the row in place instead. A row is removed by ticking its
"Remove" box (or its button, with script); an empty row is ignored. Funders are chosen from the
institutions that may fund a tour, languages from a list. Every problem the use case finds is shown
at once beside its field, in the reader's language; the version check (409) is the use case's.

**Agreements.** While the tour is proposed and a country has agreed to it, the page says above
*Save* whose agreement saving changes withdraws (any edit of content clears the agreements:
:mod:`sscmatch.workflow.tours.agreement`), and the page after the save says it was withdrawn.

**Dates.** The start and end are typed the reader's way (:class:`TypedDateField`, a text input
with its hint), as every other date of the app: an ``<input type="date">`` is shown by the
browser in *its* locale, not the page's, and would be the one date field read differently
(``tests/web/test_typed_dates.py`` walks them, and refuses a day picker). The agenda has no
dates of its own: its days are numbers counted from the start ("day 1").
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlmodel import col, select
from wtforms import (
    BooleanField,
    FieldList,
    FormField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import Optional

from sscmatch.dates import as_text
from sscmatch.db import StaleVersion
from sscmatch.models import Institution, StudyTour
from sscmatch.schemas import CONSTITUENCIES, MAX_DESCRIPTION, MAX_TITLE
from sscmatch.vocab import INTERFACE_LANGUAGES, load_vocabulary
from sscmatch.web import stale_edit
from sscmatch.web.access import access
from sscmatch.web.datefields import TypedDateField, ready_for_use_case
from sscmatch.web.pageform import PageForm, PlainForm
from sscmatch.web.templating import CONSTITUENCY_LABELS, country_name, language_name, period
from sscmatch.web.textlimit import TextLength, editing
from sscmatch.web.tours import _db, _refused, bp, tour_rates
from sscmatch.web.tourtext import KIND_LABELS, MODALITY_LABELS, message, tour_text
from sscmatch.web.translate import gettext as _
from sscmatch.web.translate import lazy_gettext as _l
from sscmatch.workflow import tours as wf

# The use case's limits (workflow.tours: lifecycle, programme), said beside the field.
_TITLE = TextLength(max=MAX_TITLE)
_DESCRIPTION = TextLength(max=MAX_DESCRIPTION)

SIDE_LABELS = {"visiting": _l("visiting"), "host": _l("host")}
NEW_ROWS = 1  # blank rows offered below the stored ones


class CheckboxList(SelectMultipleField):  # type: ignore[misc]
    """A list of checkboxes (keyboard-friendly, readable, no script) for a many-valued choice."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class MemberForm(PlainForm):
    side = SelectField(_l("Side"), choices=[])
    name = StringField(_l("Name"), validators=[_TITLE])
    role = StringField(_l("Role"), validators=[_TITLE])
    institution = StringField(_l("Institution"), validators=[_TITLE])
    constituency = SelectField(_l("Constituency"), choices=[])
    remove = BooleanField(_l("Remove"))


class SessionForm(PlainForm):
    day = StringField(_l("Day"))
    start = StringField(_l("Start"))
    end = StringField(_l("End"))
    kind = SelectField(_l("Kind"), choices=[])
    title = StringField(_l("Title"), validators=[_TITLE])
    place = StringField(_l("Place"), validators=[_TITLE])
    remove = BooleanField(_l("Remove"))


class TourForm(PageForm):
    version = HiddenField()
    title = StringField(_l("Title"), validators=[_TITLE])
    modality = SelectField(_l("Modality"), choices=[])
    # a tour's texts edited again: the editor names the stored ones (textlimit.editing)
    objective = TextAreaField(_l("Objective"), validators=[Optional(), _DESCRIPTION])
    expected_change = TextAreaField(_l("Expected change"), validators=[Optional(), _DESCRIPTION])
    start = TypedDateField(_l("Start"), validators=[Optional()], partial=False)
    end = TypedDateField(_l("End"), validators=[Optional()], partial=False)
    languages = CheckboxList(_l("Languages"), choices=[], validate_choice=False)
    interpretation = BooleanField(_l("Interpretation needed"))
    delegation = FieldList(
        FormField(MemberForm), _l("Delegation"), min_entries=0, max_entries=wf.MAX_MEMBERS + 5
    )
    agenda = FieldList(FormField(SessionForm), _l("Agenda"), min_entries=0, max_entries=600)
    funders = CheckboxList(_l("Funding partners"), choices=[], validate_choice=False)
    recalculate_cost = BooleanField(_l("Recalculate the cost estimate"))


def _choices(form: TourForm, tour: StudyTour) -> None:
    vocab = load_vocabulary()
    form.modality.choices = [(m, str(MODALITY_LABELS[m])) for m in wf.MODALITIES]
    langs: list[str] = []
    for code in (tour.host_country, tour.visiting_country):
        country = vocab.countries.get(code)
        langs += list(country.languages) if country else []
    langs += [*INTERFACE_LANGUAGES, *tour.languages, *(form.languages.data or [])]
    form.languages.choices = [(c, language_name(c)) for c in dict.fromkeys(langs) if c]
    involved = (tour.host_country, tour.visiting_country)
    candidates = _db().exec(
        select(Institution)
        .where(col(Institution.constituency).in_(wf.FUNDER_KINDS))
        .order_by(Institution.name)
    )
    chosen = set(tour.funders) | set(form.funders.data or [])
    form.funders.choices = [
        (i.id, i.name + (f" · {country_name(i.country)}" if i.country else ""))
        for i in candidates
        if i.id in chosen or i.constituency != "government" or i.country not in involved
    ]
    known = {value for value, _label in form.funders.choices}
    form.funders.choices += [(f, f) for f in sorted(chosen - known)]  # shown, and refused
    sides = [(s, str(SIDE_LABELS[s])) for s in wf.SIDES]
    constituencies = [(c, str(CONSTITUENCY_LABELS.get(c, c))) for c in CONSTITUENCIES]
    kinds = [(k, str(KIND_LABELS[k])) for k in wf.SESSION_KINDS]
    for row in form.delegation:
        row.form.side.choices = sides
        row.form.constituency.choices = _keep(constituencies, row.form.constituency.data)
    for row in form.agenda:
        row.form.kind.choices = _keep(kinds, row.form.kind.data)


def _keep(choices: list[tuple[str, str]], value: Any) -> list[tuple[str, str]]:
    """The choices, plus a stored value that is not one of them (shown, so it can be fixed)."""
    if value and value not in {v for v, _label in choices}:
        return [*choices, (str(value), str(value))]
    return choices


def _fill(form: TourForm, tour: StudyTour) -> None:
    form.version.data = str(tour.version)
    form.title.data = tour_text(tour.title)
    form.modality.data = tour.modality
    form.objective.data = tour.objective
    form.expected_change.data = tour_text(tour.expected_change)
    form.start.data = as_text(tour.start) or ""
    form.end.data = as_text(tour.end) or ""
    form.languages.data = list(tour.languages)
    form.interpretation.data = tour.interpretation
    form.funders.data = list(tour.funders)
    for m in tour.delegation:
        member = {k: m.get(k, "") for k in ("side", "name", "role", "institution", "constituency")}
        form.delegation.append_entry({**member, "role": tour_text(member["role"])})
    for d in tour.agenda:
        for s in d.get("sessions") or []:
            form.agenda.append_entry(
                {
                    "day": str(d.get("day", "")),
                    **{k: s.get(k, "") for k in ("start", "end", "kind", "place")},
                    "title": tour_text(s.get("title", "")),
                }
            )
    _blank_rows(form)


def _blank_rows(form: TourForm, members: int = NEW_ROWS, sessions: int = NEW_ROWS) -> None:
    for _row in range(members):
        form.delegation.append_entry({"side": "visiting", "constituency": "government"})
    for _row in range(sessions):
        last_day = form.agenda.entries[-1].form.day.data if form.agenda.entries else "1"
        form.agenda.append_entry({"day": last_day, "kind": "presentation"})


def _member_blank(row: MemberForm) -> bool:
    return not any((getattr(row, k).data or "").strip() for k in ("name", "role", "institution"))


def _session_blank(row: SessionForm) -> bool:
    return not any((getattr(row, k).data or "").strip() for k in ("start", "end", "title", "place"))


def _generated(tour: StudyTour) -> dict[str, str]:
    """What the form showed for each stored generated text (in the reader's language) → that
    text: saved unchanged, a generated text stays generated (and so in every reader's
    language) instead of becoming the editor's translation of it."""
    stored = [tour.title, tour.expected_change]
    stored += [str(m.get("role", "")) for m in tour.delegation]
    stored += [str(s.get("title", "")) for d in tour.agenda for s in d.get("sessions") or []]
    return {tour_text(text): text for text in stored if text and tour_text(text) != text}


def _untranslated(value: str, generated: dict[str, str]) -> str:
    return generated.get(value.strip(), value)


def _delegation(
    form: TourForm, generated: dict[str, str]
) -> tuple[list[dict[str, Any]], list[int]]:
    """The members to save and, for each, its row on the form."""
    members, rows = [], []
    for index, entry in enumerate(form.delegation):
        row = entry.form
        if row.remove.data or _member_blank(row):
            continue
        members.append(
            {
                "side": row.side.data,
                "name": row.name.data or "",
                "role": _untranslated(row.role.data or "", generated),
                "institution": row.institution.data or "",
                "constituency": row.constituency.data or "",
            }
        )
        rows.append(index)
    return members, rows


def _agenda(
    form: TourForm, generated: dict[str, str]
) -> tuple[list[dict[str, Any]], dict[tuple[int, int], int]]:
    """The agenda to save (sessions grouped by the day typed, in order of first appearance) and,
    for each (day position, session position), its row on the form."""
    days: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for index, entry in enumerate(form.agenda):
        row = entry.form
        if row.remove.data or _session_blank(row):
            continue
        session = {k: (getattr(row, k).data or "") for k in ("start", "end", "kind", "place")}
        session["title"] = _untranslated(row.title.data or "", generated)
        days.setdefault((row.day.data or "").strip(), []).append((index, session))
    agenda, rows = [], {}
    for d_index, (day, sessions) in enumerate(days.items()):
        agenda.append({"day": day, "sessions": [s for _i, s in sessions]})
        for s_index, (row_index, _s) in enumerate(sessions):
            rows[(d_index, s_index)] = row_index
    return agenda, rows


def _place_problems(
    form: TourForm,
    problems: list[wf.Problem],
    member_rows: list[int],
    session_rows: dict[tuple[int, int], int],
) -> list[str]:
    """Put each problem beside its field; return those that belong to no field."""
    general = []
    for problem in problems:
        text = message(problem.message, problem.params)
        alone = message(problem.message, problem.params, on_its_own=True)
        parts = problem.field.split(".")
        target = None
        if parts[0] == "delegation" and len(parts) == 3 and int(parts[1]) < len(member_rows):
            target = getattr(form.delegation[member_rows[int(parts[1])]].form, parts[2], None)
        elif parts[0] == "agenda" and len(parts) == 3 and parts[2] == "day":
            d_index = int(parts[1])
            first = session_rows.get((d_index, 0))
            target = form.agenda[first].form.day if first is not None else None
        elif parts[0] == "agenda" and len(parts) == 5:
            row = session_rows.get((int(parts[1]), int(parts[3])))
            target = getattr(form.agenda[row].form, parts[4], None) if row is not None else None
        elif len(parts) == 1:
            target = getattr(form, parts[0], None)
        if target is None or not hasattr(target, "errors"):
            general.append(alone)  # shown on its own, above the form
            continue
        target.errors = [*list(target.errors or []), text]
    return general


def day_label(day: Any) -> str:
    """An agenda day as every page names it ("Day 1", the tour page's heading of that day)."""
    return _("Day %(n)s", n=day) if str(day).strip() else ""


def _day_named(day: dict[str, Any]) -> dict[str, Any]:
    return {**day, "day": day_label(day["day"])}


def _shown_as(tour: StudyTour) -> TourForm:
    """The editor as its page shows ``tour`` (for stale edits)."""
    form = TourForm(formdata=None)
    _fill(form, tour)
    _choices(form, tour)
    return form


stale_edit.register(
    TourForm,
    entity="study_tour",
    model=StudyTour,
    shown_as=_shown_as,
    # the rows as saved: blank and removed rows left out
    read={
        "delegation": lambda form: _delegation(form, {})[0],
        "agenda": lambda form: [_day_named(d) for d in _agenda(form, {})[0]],
    },
    skip={"recalculate_cost"},  # a step to take on saving, not a value of the tour
)


# Whose agreement saving changes withdraws: the sides that have agreed (host first) → the words.
WITHDRAWN_WARNING = {
    ("host",): _l(
        "The host country (%(host)s) has agreed to this study tour. Saving changes withdraws "
        "its agreement: both countries must agree again."
    ),
    ("visiting",): _l(
        "The visiting country (%(visiting)s) has agreed to this study tour. Saving changes "
        "withdraws its agreement: both countries must agree again."
    ),
    ("host", "visiting"): _l(
        "Both countries (%(host)s and %(visiting)s) have agreed to this study tour. Saving "
        "changes withdraws their agreements: both must agree again."
    ),
}
WITHDRAWN_SAID = {
    ("host",): _l(
        "The agreement of the host country (%(host)s) is withdrawn: both countries must agree "
        "again."
    ),
    ("visiting",): _l(
        "The agreement of the visiting country (%(visiting)s) is withdrawn: both countries must "
        "agree again."
    ),
    ("host", "visiting"): _l(
        "The agreements of both countries (%(host)s and %(visiting)s) are withdrawn: both must "
        "agree again."
    ),
}


def _agreed_sides(tour: StudyTour) -> tuple[str, ...]:
    """The sides whose agreement to ``tour`` an edit of content would clear (host first)."""
    if tour.status != "proposed":
        return ()
    return tuple(wf.agreement(_db(), tour).agreed)


def _about_agreement(words: dict[tuple[str, ...], Any], sides: tuple[str, ...],
                     tour: StudyTour) -> str | None:  # fmt: skip
    if not sides:
        return None
    return str(words[sides]) % {
        "host": country_name(tour.host_country),
        "visiting": country_name(tour.visiting_country),
    }


def _render(
    form: TourForm,
    tour: StudyTour,
    general: list[str] | None = None,
    stale: stale_edit.StaleEdit | None = None,
) -> str:
    return render_template(
        "tours/edit.html",
        form=form,
        tour=tour,
        stale=stale,
        general=general or [],
        need_window=_need_window_text(tour),
        days=wf.tour_days(tour) if tour.start else None,
        withdraws=_about_agreement(WITHDRAWN_WARNING, _agreed_sides(tour), tour),
    )


def _need_window_text(tour: StudyTour) -> str | None:
    from sscmatch.models import Need

    need = _db().get(Need, tour.need) if tour.need else None
    if need is None or not (need.desired_from or need.desired_to):
        return None
    return _(
        "The need asks for dates from %(start)s to %(end)s.",
        start=period(need.desired_from) or "…",
        end=period(need.desired_to) or "…",
    )


@bp.route("/<tour_id>/edit", methods=["GET", "POST"])
@access("focal_point", "secretariat", "admin")
def edit(tour_id: str) -> Any:
    db = _db()
    tour = wf.get_tour(db, tour_id)
    if not wf.can_edit_tour(tour, current_user):
        abort(
            403,
            description=_(
                "Only the secretariat and the two countries' focal points edit this tour."
            ),
        )
    if request.method == "GET":
        form = TourForm(formdata=None)
        _fill(form, tour)
        _choices(form, tour)
        return _render(form, tour)
    form = TourForm()
    # saved again unchanged (as the editor showed them), line breaks as stored: not a change
    editing(form.objective, tour.objective)
    editing(form.expected_change, tour_text(tour.expected_change))
    adding = "add_member" in request.form or "add_session" in request.form
    if adding:  # without script: the same form with one more empty row, nothing saved
        _blank_rows(
            form,
            members=int("add_member" in request.form),
            sessions=int("add_session" in request.form),
        )
        _choices(form, tour)
        return _render(form, tour)
    _choices(form, tour)
    if not ready_for_use_case(form):
        return _render(form, tour), 400
    generated = _generated(tour)
    delegation, member_rows = _delegation(form, generated)
    agenda, session_rows = _agenda(form, generated)
    changes = wf.TourChanges(
        title=_untranslated(form.title.data or "", generated),
        modality=form.modality.data,
        objective=form.objective.data or "",
        expected_change=_untranslated(form.expected_change.data or "", generated),
        start=form.start.data or "",
        end=form.end.data or "",
        languages=list(form.languages.data or []),
        interpretation=bool(form.interpretation.data),
        delegation=delegation,
        agenda=agenda,
        funders=list(form.funders.data or []),
        recalculate_cost=bool(form.recalculate_cost.data),
    )
    try:
        version = int(form.version.data or "0")
    except ValueError:
        version = 0
    agreed = _agreed_sides(tour)
    try:
        saved = wf.update_tour(
            db, tour.id, changes, version=version, user=current_user, rate_overrides=tour_rates()
        )
    except wf.TourProblems as exc:
        db.rollback()
        general = _place_problems(form, exc.problems, member_rows, session_rows)
        return _render(form, db.get(StudyTour, tour_id) or tour, general), 400
    except StaleVersion as exc:
        db.rollback()
        # the page says what the other person changed, beside the form (sscmatch.web.stale_edit)
        stale = stale_edit.answer(db, form, tour_id, exc)
        fresh = db.get(StudyTour, tour_id) or tour
        _choices(form, fresh)
        return _render(form, fresh, stale=stale), 409
    except wf.TourError as exc:
        status = _refused(exc)
        return _render(form, db.get(StudyTour, tour_id) or tour), status
    withdrawn = tuple(s for s in agreed if s not in _agreed_sides(saved))
    db.commit()
    said = _about_agreement(WITHDRAWN_SAID, withdrawn, saved)
    flash(_("Study tour saved.") + (f" {said}" if said else ""), "info")
    return redirect(url_for("tours.show", tour_id=tour.id))
