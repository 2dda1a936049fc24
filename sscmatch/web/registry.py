"""The registry pages (blueprint `registry`): browse and search capacities, needs and exchanges,
a page per record, the forms focal points register with, and need endorsement.

Views are thin: they turn the form or query string into plain values, call one use case of
:mod:`sscmatch.workflow.registry` (the JSON API calls the same ones), commit, and redirect or
render. Use-case errors become a message and a status: 400 (bad input, with the form as typed),
403, 404, 409 (someone else changed the record, or an illegal step).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    get_template_attribute,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from markupsafe import Markup
from sqlmodel import Session, col, select
from wtforms import (
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)

from sscmatch.caches import Cache
from sscmatch.db import DuplicateRecord, StaleVersion
from sscmatch.enums import CAPACITY_STATUSES, MATURITIES, MODALITIES, NEED_STATUSES
from sscmatch.models import Capacity, Institution, Need, User
from sscmatch.schemas import MAX_DESCRIPTION, MAX_ITEMS, MAX_PAGE, MAX_REF, MAX_TITLE, whole_number
from sscmatch.vocab import Vocabulary, load_vocabulary
from sscmatch.web import stale_edit
from sscmatch.web.access import SIGNED_IN, access
from sscmatch.web.confirm import preview
from sscmatch.web.conflict import duplicate_message
from sscmatch.web.datefields import TypedDateField, ready_for_use_case
from sscmatch.web.db import get_session
from sscmatch.web.errors import answers_json, error_text, flash_beside
from sscmatch.web.fieldnames import FIELD_LABELS
from sscmatch.web.need_forms import ActionForm, ReturnForm, WithdrawForm
from sscmatch.web.pageform import PageForm
from sscmatch.web.sent_once import sent_once
from sscmatch.web.templating import (
    MATURITY_LABELS,
    action_label,
    country_name,
    lang,
    theme_label,
)
from sscmatch.web.textlimit import TextLength, editing
from sscmatch.web.tours import today
from sscmatch.web.translate import current_lang
from sscmatch.web.translate import gettext as _
from sscmatch.web.translate import lazy_gettext as _l
from sscmatch.web.widgets import FastSelect, country_choices, theme_choices
from sscmatch.workflow import base, visibility
from sscmatch.workflow import registry as reg
from sscmatch.workflow.registry import RecordFilter
from sscmatch.workflow.registry.withdrawal import WITHDRAWABLE

bp = Blueprint("registry", __name__)

WRITERS = ("focal_point", "secretariat", "admin")

MODALITY_LABELS = {
    "study_tour": _l("study tour"),
    "technical_assistance": _l("technical assistance"),
    "training": _l("training"),
    "expert_exchange": _l("expert exchange"),
    "virtual_exchange": _l("virtual exchange"),
    "twinning": _l("twinning"),
    "conference": _l("conference"),
    "project": _l("project"),
}
PRIORITY_LABELS = {"high": _l("high"), "medium": _l("medium"), "low": _l("low")}
SORT_LABELS = {
    "relevance": _l("Best match"),
    "recent": _l("Newest first"),
    "oldest": _l("Oldest first"),
    "title": _l("Title"),
    "country": _l("Country"),
}
# The registry's history says what happened to the record ("endorsed"); any other action is
# named as the audit log names it, in the reader's language too (``action_label``).
ACTION_LABELS = {
    "create": _l("created"),
    "update": _l("changed"),
    "submit": _l("submitted for endorsement"),
    "endorse": _l("endorsed"),
    "return": _l("returned to the focal point"),
    "withdraw_endorsement": _l("endorsement withdrawn"),
    "take_back": _l("submission taken back"),
    "withdraw": _l("withdrawn: no longer needed"),
    "reinstate": _l("withdrawal undone"),
    "import": _l("imported"),
}


def _db() -> Session:
    return get_session()


def _vocab() -> Vocabulary:
    return load_vocabulary()


# --------------------------------------------------------------------------- helpers


def _filter_from_args() -> tuple[RecordFilter, int]:
    args = request.args
    page = whole_number(args.get("page", "1") or "1", 1, MAX_PAGE)
    if page is None:
        abort(400, description=_("page must be a whole number from 1"))
    flt = RecordFilter(
        q=args.get("q", "")[:200],
        theme=args.get("theme", ""),
        country=args.get("country", ""),
        region=args.get("region", ""),
        language=args.get("language", ""),
        status=args.get("status", ""),
        year=args.get("year", ""),
        sort=args.get("sort", ""),
        submitted=args.get("queue") == "submitted",
    )
    return flt, page


def _list_context(flt: RecordFilter, kind: str) -> dict[str, Any]:
    vocab = _vocab()
    statuses = {
        "capacities": CAPACITY_STATUSES,
        "needs": NEED_STATUSES,
        "exchanges": (),
    }[kind]
    return {
        "flt": flt,
        "kind": kind,
        "theme_options": theme_choices(vocab),
        "country_options": country_choices(vocab),
        "region_options": reg.region_choices(vocab),
        "statuses": statuses,
        "sort_labels": SORT_LABELS,
    }


_FILTER_BARS: Cache[str] = Cache("filter bars", size=512)


def _filter_bar(context: dict[str, Any]) -> Markup:
    """The list's filter form (``filters`` of ``registry/_parts.html``), kept per language,
    mount point, list and filter: it draws every theme, country and region as an option, the
    same for every visitor, a fifth of a list page's time. It depends on no record."""
    flt, kind = context["flt"], context["kind"]
    key = (current_lang(), request.script_root, kind, flt)

    def draw() -> str:
        macro = get_template_attribute("registry/_parts.html", "filters")
        names = ("theme_options", "country_options", "region_options", "statuses", "sort_labels")
        return str(macro(f"registry.{kind}", flt, kind, *(context[n] for n in names)))

    return Markup(_FILTER_BARS.get_or_make(key, draw))


def _browse(kind: str, search: Any, template: str, **extra: Any) -> Any:
    flt, page = _filter_from_args()
    context = _list_context(flt, kind)
    context["filter_bar"] = _filter_bar(context)
    status = 200
    try:
        result = search(_db(), _vocab(), flt, page=page, per_page=current_app.config["PAGE_SIZE"])
    except reg.BadFilter as exc:
        flash(error_text(exc), "error")
        result = base.Page([], 1, current_app.config["PAGE_SIZE"], 0)
        status = 400
    return render_template(template, page=result, **context, **extra), status


def _history(entity: str, entity_id: str) -> list[dict[str, Any]]:
    db = _db()
    events = reg.history(db, entity, entity_id)
    user_ids = {e.user_id for e in events if e.user_id is not None}
    names = (
        {u.id: u.name or u.email for u in db.exec(select(User).where(col(User.id).in_(user_ids)))}
        if user_ids
        else {}
    )
    rows = []
    for event in events:
        before, after = event.before or {}, event.after or {}
        skip = {"updated_at", "updated_by", "version"}
        changed = sorted(
            k for k in set(before) | set(after) if k not in skip and before.get(k) != after.get(k)
        )
        rows.append(
            {
                "at": event.at,
                "who": names.get(event.user_id, "—") if event.user_id else "—",
                "action": ACTION_LABELS.get(event.action) or action_label(event.action),
                "version": after.get("version"),
                "changed": changed if event.action == "update" else [],
                "note": event.note,
            }
        )
    return rows


def _may_see(record: Capacity | Need) -> None:
    if not visibility.may_see(current_user, record):
        abort(403, description=_("This draft is visible only to its country and the secretariat."))


def _institution(institution_id: str | None) -> Institution | None:
    return _db().get(Institution, institution_id) if institution_id else None


# --------------------------------------------------------------------------- browse


@bp.get("/capacities")
@access(SIGNED_IN)
def capacities() -> Any:
    return _browse(
        "capacities",
        lambda *a, **k: reg.search_capacities(*a, **k, viewer=current_user),
        "registry/capacities.html",
    )


@bp.get("/needs")
@access(SIGNED_IN)
def needs() -> Any:
    waiting = reg.submitted_count(_db()) if current_user.role in base.EDITORS else 0
    return _browse(
        "needs",
        lambda *a, **k: reg.search_needs(*a, **k, viewer=current_user),
        "registry/needs.html",
        waiting=waiting,
    )


@bp.get("/exchanges")
@access(SIGNED_IN)
def exchanges() -> Any:
    return _browse("exchanges", reg.search_exchanges, "registry/exchanges.html")


@bp.get("/capacities/<capacity_id>")
@access(SIGNED_IN)
def capacity(capacity_id: str) -> Any:
    record = reg.get_capacity(_db(), capacity_id)
    _may_see(record)
    return render_template(
        "registry/capacity.html",
        record=record,
        institution=_institution(record.institution),
        history=_history("capacity", record.id),
        can_edit=base.can_edit(current_user, record.country),
        labels=_labels(),
    )


@bp.get("/needs/<need_id>")
@access(SIGNED_IN)
def need(need_id: str) -> Any:
    record = reg.get_need(_db(), need_id)
    _may_see(record)
    return _need_page(record)


def _need_page(
    record: Need, note_form: ReturnForm | None = None, withdraw_form: WithdrawForm | None = None
) -> str:
    return render_template(
        "registry/need.html",
        record=record,
        institution=_institution(record.institution),
        history=_history("need", record.id),
        can_edit=base.can_edit(current_user, record.country),
        # a matched or closed need is the secretariat's to change (records.update_need)
        edit_is_theirs=current_user.role == "focal_point" and record.status in SECRETARIAT_ONLY,
        can_endorse=current_user.role in base.EDITORS,
        withdrawal_refused=_withdrawal_refused(record),
        withdraw_form=withdraw_form or WithdrawForm(formdata=None),
        note_form=note_form or ReturnForm(formdata=None),
        action_form=ActionForm(formdata=None),
        labels=_labels(),
    )


SECRETARIAT_ONLY = ("matched", "closed")


def _withdrawal_refused(record: Need) -> str | None:
    """Why the reader cannot withdraw ``record`` (shown instead of the button), "" when they
    can, None when it is not theirs to withdraw or not withdrawable (no section)."""
    if not base.can_edit(current_user, record.country):
        return None
    if record.status not in WITHDRAWABLE:
        return None
    refusal = reg.withdrawal_refusal(_db(), record)
    return "" if refusal is None else error_text(refusal)


@bp.get("/exchanges/<exchange_id>")
@access(SIGNED_IN)
def exchange(exchange_id: str) -> Any:
    record = reg.get_exchange(_db(), exchange_id)
    return render_template(
        "registry/exchange.html",
        record=record,
        history=_history("exchange", record.id),
        labels=_labels(),
    )


def _labels() -> dict[str, Any]:
    return {
        "maturity": MATURITY_LABELS,
        "modality": MODALITY_LABELS,
        "priority": PRIORITY_LABELS,
    }


@bp.get("/themes/suggest")
@access(SIGNED_IN)
@answers_json()  # the theme picker's script shows a refusal's message
def suggest_themes() -> Any:
    """Theme picker: ``?q=text`` → ``{"items": [{"id", "label", "parent"}]}`` in the interface
    language, matching labels and synonyms of every language, fuzzily."""
    query = request.args.get("q", "")[:100]
    vocab = _vocab()
    items = []
    for theme_id, label in reg.suggest_themes(vocab, query, lang()):
        parent = vocab.themes[theme_id].parent
        items.append(
            {"id": theme_id, "label": label, "parent": theme_label(parent) if parent else None}
        )
    return jsonify(items=items)


# --------------------------------------------------------------------------- forms


class Required:
    """Marks a field required (asterisk, ``required`` attribute); the use case checks it."""

    field_flags: ClassVar[dict[str, bool]] = {"required": True}

    def __call__(self, form: Any, field: Any) -> None:
        return None


LANGUAGES_TEXT = MAX_ITEMS * (MAX_REF + 2)
"""The languages typed for a record (``es; português``): as many as its list holds, each of the
longest code or name and a separator (the text is not stored: the record keeps the codes)."""


class MultiCheckboxField(SelectMultipleField):  # type: ignore[misc]
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class _RecordForm(PageForm):
    """Fields shared by the capacity and need forms; all checks are the use case's but the
    lengths of the texts (the use case's limits, said beside the field in the reader's way)."""

    country = SelectField(_l("Country"), validate_choice=False, widget=FastSelect())
    title = StringField(_l("Title"), validators=[Required(), TextLength(max=MAX_TITLE)])
    # a record's text edited again: the page names the stored one (textlimit.editing)
    description = TextAreaField(
        _l("Description"), validators=[TextLength(max=MAX_DESCRIPTION)], render_kw={"rows": 5}
    )
    themes = SelectMultipleField(
        _l("Themes"),
        validators=[Required()],
        validate_choice=False,
        render_kw={"data-theme-picker": "1", "size": 8},
        widget=FastSelect(multiple=True),
    )
    institution = SelectField(_l("Institution"), validate_choice=False, widget=FastSelect())
    languages = StringField(
        _l("Languages"),
        description=_l("Codes or names separated by ';', for example: es; português"),
        validators=[TextLength(max=LANGUAGES_TEXT)],
    )
    modalities = MultiCheckboxField(_l("Modalities"), validate_choice=False)
    version = HiddenField()

    def prepare(self, vocab: Vocabulary, country: str | None) -> None:
        self.themes.choices = theme_choices(vocab)
        self.themes.render_kw = {
            **(self.themes.render_kw or {}),
            "data-suggest-url": url_for("registry.suggest_themes"),
            # the picker's words (static/js/theme-picker.js), in the reader's language; the
            # script puts the theme's name and the number of suggestions in place of {}
            "data-remove-label": _("Remove the theme {}"),
            "data-found-label": _("Themes found: {}"),
        }
        known = {value for value, _label in self.themes.choices}
        for extra in self.themes.data or []:
            if extra not in known:
                self.themes.choices.append((extra, extra))
        self.modalities.choices = [(m, MODALITY_LABELS[m]) for m in MODALITIES]
        self.country.choices = [("", _("Choose a country")), *country_choices(vocab)]
        # A record without a country is held by an international or regional body: its
        # institution is chosen among those bodies.
        holders = col(Institution.country) == country if country else col(Institution.international)
        institutions = _db().exec(
            select(Institution).where(holders).order_by(col(Institution.name))
        )
        self.institution.choices = [("", _("None (the country as a whole)"))] + [
            (i.id, i.name) for i in institutions
        ]

    def common_data(self, vocab: Vocabulary) -> dict[str, Any]:
        return {
            "title": self.title.data or "",
            "description": self.description.data,
            "themes": list(self.themes.data or []),
            "institution": self.institution.data or None,
            "languages": _languages_from_text(vocab, self.languages.data or ""),
            "modalities": list(self.modalities.data or []),
        }


class CapacityForm(_RecordForm):
    maturity = SelectField(_l("Maturity"), validate_choice=False)
    available_from = TypedDateField(FIELD_LABELS["available_from"])
    available_to = TypedDateField(FIELD_LABELS["available_to"])
    max_per_year = StringField(
        _l("Exchanges per year at most"), description=_l("Leave empty if there is no limit")
    )
    status = SelectField(_l("Status"), validate_choice=False)

    def prepare(self, vocab: Vocabulary, country: str | None) -> None:
        super().prepare(vocab, country)
        self.maturity.choices = [("", "—"), *((m, MATURITY_LABELS[m]) for m in MATURITIES)]
        self.status.choices = [
            ("draft", _("draft")),
            ("published", _("published")),
            ("archived", _("archived")),
        ]

    def data_for_use_case(self, vocab: Vocabulary) -> dict[str, Any]:
        return {
            **self.common_data(vocab),
            "maturity": self.maturity.data or None,
            "available_from": self.available_from.data,
            "available_to": self.available_to.data,
            "max_per_year": (self.max_per_year.data or "").strip() or None,
            "status": self.status.data or "draft",
        }


class NeedForm(_RecordForm):
    priority = SelectField(_l("Priority"), validate_choice=False)
    desired_from = TypedDateField(FIELD_LABELS["desired_from"])
    desired_to = TypedDateField(FIELD_LABELS["desired_to"])
    status = SelectField(_l("Status"), validate_choice=False)

    def prepare(self, vocab: Vocabulary, country: str | None) -> None:
        super().prepare(vocab, country)
        self.priority.choices = [("", "—"), *PRIORITY_LABELS.items()]
        self.status.choices = [(s, _(s)) for s in NEED_STATUSES]

    def data_for_use_case(self, vocab: Vocabulary) -> dict[str, Any]:
        data = {
            **self.common_data(vocab),
            "priority": self.priority.data or None,
            "desired_from": self.desired_from.data,
            "desired_to": self.desired_to.data,
        }
        if current_user.role in base.EDITORS and self.status.data:
            data["status"] = self.status.data
        return data


def _languages_from_text(vocab: Vocabulary, text: str) -> list[str]:
    """``"es; Portuguese"`` → ``["es", "pt"]``; unknown names pass through for the check."""
    out = []
    for part in re.split(r"[;,]", text):
        word = part.strip()
        if not word:
            continue
        code = vocab.language_code(word)
        if code is None:
            resolved = vocab.resolve_language(word)
            code = resolved.value if resolved.ok else None
        out.append(code or word)
    return out


def _fill_from(form: _RecordForm, record: Capacity | Need) -> None:
    for name, fld in form._fields.items():
        if name in ("csrf_token",):
            continue
        value = getattr(record, name, None)
        if name == "languages":
            fld.data = "; ".join(record.languages)
        elif name == "max_per_year":
            fld.data = "" if value is None else str(value)
        elif value is not None:
            fld.data = value


def _shown_as(record: Capacity | Need) -> _RecordForm:
    """The edit form as its page shows ``record`` (sscmatch.web.stale_edit compares with it)."""
    form = (CapacityForm if isinstance(record, Capacity) else NeedForm)(formdata=None)
    _fill_from(form, record)
    form.version.data = str(record.version)
    form.prepare(_vocab(), record.country)
    return form


stale_edit.register(CapacityForm, entity="capacity", model=Capacity, shown_as=_shown_as)
stale_edit.register(NeedForm, entity="need", model=Need, shown_as=_shown_as)


def _edit(kind: str, record: Capacity | Need | None) -> Any:
    """The create/edit form of a capacity or need (``record`` None creates)."""
    vocab = _vocab()
    form_class = CapacityForm if kind == "capacity" else NeedForm
    form = form_class()
    if record is not None:  # saved again unchanged, its line breaks as stored: not a change
        editing(form.description, record.description)
    if record is not None and not base.can_edit(current_user, record.country):
        abort(
            403,
            description=_(
                "You may change only your own country's records; this one belongs to %(country)s.",
                country=country_name(record.country),
            ),
        )
    country = (
        record.country
        if record is not None
        else (current_user.country if current_user.role == "focal_point" else None)
    )
    if request.method == "GET" and record is not None:
        _fill_from(form, record)
        form.version.data = str(record.version)
    elif request.method == "GET" and kind == "capacity":
        form.status.data = "draft"
    if request.method == "POST" and current_user.role in base.EDITORS:
        country = form.country.data or country
    form.prepare(vocab, country)
    status, stale, confirm_note = 200, None, None
    choose_country = current_user.role in base.EDITORS
    # A focal point's change to an endorsed need sends it back to endorsement, which only the
    # secretariat gives: the first Save asks to confirm it (checked, nothing written).
    asks = (
        isinstance(record, Need)
        and record.status == "open"
        and current_user.role == "focal_point"
        and request.form.get("confirmed") != "y"
    )
    if request.method == "POST":
        status = 400  # the CSRF check failed unless _save says otherwise
        if ready_for_use_case(form):
            status, target, stale = _save(kind, record, form, vocab, choose_country, asks)
            if target is not None:
                return redirect(target)
            if status == 200:
                confirm_note = _(
                    "Your change goes back to the secretariat for endorsement; the need is not "
                    "matched until it is endorsed again."
                )
    return (
        render_template(
            "registry/form.html",
            form=form,
            kind=kind,
            record=record,
            country=country,
            choose_country=choose_country,
            stale=stale,
            confirm_note=confirm_note,
        ),
        status,
    )


def _save(
    kind: str,
    record: Capacity | Need | None,
    form: _RecordForm,
    vocab: Vocabulary,
    choose_country: bool,
    ask_first: bool = False,
) -> tuple[int, str | None, stale_edit.StaleEdit | None]:
    """Saves the form (302 and the record's page), or with ``ask_first`` only checks it as it
    would be saved (200: the page asks to confirm), or answers its refusal (400, 409)."""
    db = _db()
    was = record.status if record is not None else None
    data: dict[str, Any] = form.data_for_use_case(vocab)
    if current_user.role in base.EDITORS:
        data["country"] = form.country.data or (record.country if record else "")
    try:
        if record is None:
            create = reg.create_capacity if kind == "capacity" else reg.create_need
            saved: Capacity | Need = create(db, vocab, current_user, data, today=today())
        else:
            update = reg.update_capacity if kind == "capacity" else reg.update_need
            if ask_first:
                preview(
                    db,
                    lambda: update(db, vocab, current_user, record.id, data, form.version.data),
                    lambda _saved: None,
                )
                return 200, None, None
            saved = update(db, vocab, current_user, record.id, data, form.version.data)
    except reg.InvalidRecord as exc:
        db.rollback()
        flash_beside(form, exc)
        return 400, None, None
    except StaleVersion as exc:
        db.rollback()
        if record is None:
            raise
        # the page says what the other person changed, beside the form (sscmatch.web.stale_edit)
        # the fields the page shows only to those who choose a country (and a need's status)
        hidden = [] if choose_country else ["country"] + (["status"] if kind == "need" else [])
        return 409, None, stale_edit.answer(db, form, record.id, exc, leave_out=hidden)
    except (reg.Conflict, DuplicateRecord) as exc:
        db.rollback()
        current = db.get(type(record), record.id) if record is not None else None
        if current is not None:
            db.refresh(current)
            form.version.data = str(current.version)
        if isinstance(exc, DuplicateRecord):
            flash(duplicate_message(), "error")
            return 409, None, None
        flash(
            _(
                "Not saved: %(reason)s Your values are kept below; check the current record "
                "and save again to replace it.",
                reason=error_text(exc),
            ),
            "error",
        )
        return 409, None, None
    db.commit()
    flash(_("Saved %(id)s (version %(version)s).", id=saved.id, version=saved.version), "success")
    if kind == "need" and was == "open" and saved.status == "draft":
        flash(
            _(
                "Your change goes back to the secretariat for endorsement; the need is not "
                "matched until it is endorsed again."
            ),
            "info",
        )
    if kind == "capacity":
        return 302, url_for("registry.capacity", capacity_id=saved.id), None
    return 302, url_for("registry.need", need_id=saved.id), None


@bp.route("/capacities/new", methods=["GET", "POST"])
@access(*WRITERS)
@sent_once
def capacity_new() -> Any:
    return _edit("capacity", None)


@bp.route("/capacities/<capacity_id>/edit", methods=["GET", "POST"])
@access(*WRITERS)
def capacity_edit(capacity_id: str) -> Any:
    record = reg.get_capacity(_db(), capacity_id)
    return _edit("capacity", record)


@bp.route("/needs/new", methods=["GET", "POST"])
@access(*WRITERS)
@sent_once
def need_new() -> Any:
    return _edit("need", None)


@bp.route("/needs/<need_id>/edit", methods=["GET", "POST"])
@access(*WRITERS)
def need_edit(need_id: str) -> Any:
    record = reg.get_need(_db(), need_id)
    return _edit("need", record)
