"""The bundle import pages, on the admin blueprint: upload, follow the import, see its outcome.

An upload is checked at once, in the request (a .json, or a .zip that opens, holds a file and
unpacks within the upload limit): what is wrong is answered on the form, in the reader's
language, and nothing is queued. What is wrong with the members of a zip (a name the format does
not know, a table twice, a damaged file) is found by the import, beside every problem of the
other members. A bundle that passes is
stored with a job (:mod:`sscmatch.jobs.kinds`, kind ``import``) that a worker carries out:
validating every record, then writing them all in one transaction that also ends the job, so
the import is all or nothing whichever way it ends, and a 6 MB upload never waits on a web
worker's timeout. The page of the job shows its progress (checking, then writing, records done
of total), then the counts per table, or every problem of a refused bundle.

With ``JOBS_SYNC`` (tests) the job is carried out inside the upload's request, whose answer is
then the outcome itself: 200 with the counts, or 400 with the problems.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.file import FileField
from markupsafe import Markup, escape
from sqlalchemy import func
from sqlmodel import Session, col, select

from sscmatch import jobs
from sscmatch.bundle import TABLES, Problem
from sscmatch.bundle.format import BLANK, FILE, NAMED_AS_WRITTEN, PLACES, place
from sscmatch.bundle.read import ZipLimits, is_debris, open_zip, zip_limits
from sscmatch.models import Job, User
from sscmatch.web.access import access
from sscmatch.web.admin import bp
from sscmatch.web.db import get_session
from sscmatch.web.errors import answers_json
from sscmatch.web.matching import starters
from sscmatch.web.messages import DATE_VALUES, translated
from sscmatch.web.pageform import PageForm
from sscmatch.web.paging import page_arg, page_size
from sscmatch.web.sent_once import sent_once
from sscmatch.web.templating import period
from sscmatch.web.translate import gettext as _
from sscmatch.web.translate import lazy_gettext as _l
from sscmatch.web.translate import ngettext
from sscmatch.workflow import jobs as queue
from sscmatch.workflow.base import N_, Page, status_filter, user_filter

IMPORTERS = ("secretariat", "admin")
STEP_LABELS: dict[str, Any] = {
    "validate": _l("Checking the records"),
    "write": _l("Writing the records"),
}
TABLE_LABELS: dict[str, Any] = {
    "themes": _l("Themes"),
    "institutions": _l("Institutions"),
    "capacities": _l("Capacities"),
    "needs": _l("Needs"),
    "exchanges": _l("Exchanges"),
    "commitments": _l("Commitments"),
}
"""A bundle's tables as the outcome of an import names them (``bundle.TABLES``)."""


def nothing_imported(problems: int) -> str:
    """The refusal of a whole bundle, its count of problems in the reader's plural."""
    return ngettext(
        "Nothing was imported: %(num)s problem in the bundle.",
        "Nothing was imported: %(num)s problems in the bundle.",
        problems,
    )


class ImportForm(PageForm):
    bundle = FileField(_l("Bundle file (.json, or .zip of CSV files)"))


class _Refused(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


def check_zip(data: bytes, name: str, limits: ZipLimits) -> None:
    """Refuse at once a zip that cannot be opened, holds no file of its own (an operating
    system's files do not count) or is beyond ``limits`` (the reader's own check,
    :func:`sscmatch.bundle.read.open_zip`, which the import makes again): nothing of it could
    be read. What is wrong with its members (a name the format does not know, a folder, a table
    twice, a damaged file) is found by the import with the problems of the other members, all
    reported at once (:func:`sscmatch.bundle.read.read_bundle`)."""
    archive = open_zip(io.BytesIO(data), name, limits)
    if isinstance(archive, Problem):
        raise _Refused([archive])
    with archive:
        if all(m.is_dir() or is_debris(m.filename) for m in archive.infolist()):
            raise _Refused([Problem(name, 1, FILE, N_("the archive holds no CSV file"))])


WRITTEN = ("value", "id", "names", "choices", "near", "record")
"""Values of a problem that are text as the bundle or its format writes it (the user's text
quoted, an id, names of columns, tables, choices or codes): shown as they are, and marked so
(``translate="no"``, as the audit's field codes are). The others are numbers (counts, limits,
line numbers, a byte's code), written alike in every language, or dates, written the reader's
way."""


def _data(value: Any) -> Markup:
    """Text of the bundle's own, marked not to be translated."""
    return Markup(Markup('<span translate="no">%s</span>') % value)


def problem_text(msgid: str, params: Mapping[str, Any] | None = None) -> Markup:
    """A bundle's problem (:class:`~sscmatch.bundle.Problem`: an English message of the
    catalogue and its values) in the reader's language, its values as given (:data:`WRITTEN`)
    but for dates (the end and start of a window), which are written the reader's way; a
    schema's sentence passed on as it is (``bundle.validate._message``) is said by its shape
    (:func:`sscmatch.web.messages.translated`)."""
    values = dict(params or {})
    dates = {k: period(v) for k, v in values.items() if k in DATE_VALUES and isinstance(v, str)}
    template = _(msgid)
    try:
        english = msgid % values if values else msgid
        said = template % {**values, **dates} if values else template
    except (KeyError, TypeError, ValueError):  # values that do not fit: the message as stored
        return escape(msgid)
    if said == english:  # no message of the catalogue: a schema's sentence, or English itself
        return escape(translated(english))
    shown = {k: _data(v) if k in WRITTEN else dates.get(k, v) for k, v in values.items()}
    return Markup(escape(template) % shown) if values else escape(template)


def problem_line(row: Sequence[Any] | Problem) -> Markup:
    """One problem as its page lists it, ``file:line: field: message`` (``file:line: record:
    field: message`` for a record of a JSON file), from a problem or a job's stored row:
    ``[file, line, field, msgid, params, record]``, ``[file, line, field, msgid, params]`` as
    imports stored them before they named records, or ``[file, line, field, text]`` as they did
    before their messages were ids (the text is shown as it was stored).

    A field that names a place of the bundle (``file``, ``row``, ``header``…: ``PLACES``) is a
    word and said in the reader's language; a column's or a table's name is the bundle's own,
    marked with its file and line as text not to translate."""
    if isinstance(row, Problem):
        row = [row.file, row.line, row.field, row.msgid, row.params, row.record]
    if len(row) == 4:
        file, line, field, text = row
        return escape(f"{file}:{line}: {field}: {text}")
    file, line, field, msgid, params, *record = row
    said = problem_text(msgid, params)
    if field in PLACES and (msgid not in NAMED_AS_WRITTEN or field == BLANK):
        where = place(file, line)
        if record and record[0]:  # the record, data, marked so; the place a word, translated
            where = Markup(Markup("%s %s") % (where, _data(f"{record[0]}:")))
        return Markup(Markup("%s %s: %s") % (where, _(field), said))
    where = place(file, line, record[0] if record else "")
    return Markup(Markup("%s %s") % (_data(f"{where} {field}:"), said))


def _checked_upload(upload: Any) -> tuple[str, bytes]:
    """The upload's name and bytes, once its form is right (raises :class:`_Refused`)."""
    name = Path(upload.filename or "").name or "upload"
    suffix = Path(name).suffix.lower()
    if suffix not in (".json", ".zip"):
        raise _Refused(
            [Problem(name, 1, FILE, N_("expected a .json bundle or a .zip of CSV files"))]
        )
    data = upload.read()
    if suffix == ".zip":
        check_zip(data, name, zip_limits(current_app.config))
    return name[:300], data


def _db() -> Session:
    return get_session()


IMPORT_STATUSES = ("queued", "running", "done", "failed")
"""The states of an import's job (the list's ``status`` filter)."""


def imports_listing(number: int, size: int) -> Page[tuple[Job, str]]:
    """Page ``number`` of ``size`` of the imports, newest first, each with who started it,
    under the request's filters (``status`` of its job, ``by``: who started it; a bad value:
    400 in the reader's language); the import page and its export share it."""
    status = status_filter(request.args.get("status"), IMPORT_STATUSES)
    by = user_filter(request.args.get("by"), name="by")
    where = [col(Job.kind) == "import"]
    if status:
        where.append(col(Job.status) == status)
    if by is not None:
        where.append(col(Job.created_by) == by)
    db = _db()
    total = int(db.exec(select(func.count(col(Job.id))).where(*where)).one())
    rows = db.exec(
        select(Job, User.name, User.email)
        .join(User, col(User.id) == col(Job.created_by), isouter=True)
        .where(*where)
        .order_by(col(Job.id).desc())
        .offset((number - 1) * size)
        .limit(size)
    ).all()
    items = [(job, name or email or "") for job, name, email in rows]
    return Page(items=items, number=number, size=size, total=total)


def _form_page(form: ImportForm, problems: list[str], status: int) -> Any:
    db = _db()
    return render_template(
        "admin/import.html",
        form=form,
        problems=problems,
        page=imports_listing(page_arg(), page_size()),
        filters={
            "status": request.args.get("status") or None,
            "by": user_filter(request.args.get("by"), name="by"),
        },
        statuses=IMPORT_STATUSES,
        starters=starters(db, Job, kind="import"),
        limit_mb=current_app.config.get("MAX_UPLOAD_MB"),
    ), status


@bp.route("/import", methods=["GET", "POST"])
@access(*IMPORTERS)
@sent_once
def import_page() -> Any:
    form = ImportForm()
    if request.method == "GET":
        return _form_page(form, [], 200)
    upload = form.bundle.data
    if not form.validate_on_submit():
        flash(_("The form expired; reload the page and try again."), "error")
        return _form_page(form, [], 400)
    if upload is None or not getattr(upload, "filename", ""):
        form.bundle.errors = [_("Choose a file to upload.")]
        return _form_page(form, [], 400)
    try:
        name, data = _checked_upload(upload)
    except _Refused as exc:
        flash(
            nothing_imported(len(exc.problems)),
            "error",
        )
        return _form_page(form, [problem_line(p) for p in exc.problems], 400)
    db = _db()
    job = jobs.submit(db, "import", {"name": name}, user_id=current_user.id, payload=(name, data))
    db.commit()
    del data
    jobs.start(job)
    assert job.id is not None
    db.expire_all()
    found = db.get(Job, job.id)
    if found is not None and found.status in ("done", "failed"):  # carried out in the request
        return _job_page(found, flashing=True)
    flash(_("The bundle was received; a worker imports it now."), "info")
    return redirect(url_for("admin.import_job", job_id=job.id), 303)


def _import_job_or_404(db: Session, job_id: int) -> Job:
    job = db.get(Job, job_id)
    if job is None or job.kind != "import":
        abort(404, description=_("There is no import %(id)s.", id=job_id))
    return job


def _job_page(job: Job, flashing: bool = False) -> Any:
    db = _db()
    result = job.result or {}
    problems = [problem_line(row) for row in result.get("problems", [])]
    refused = job.status == "failed" and "problems" in result
    if flashing and job.status == "failed":
        count = int(result.get("problem_count", len(problems))) if refused else 1
        flash(nothing_imported(count), "error")
    elif flashing and job.status == "done":
        flash(_("Bundle imported."), "info")
    rows = []
    if job.status == "done":
        created, updated = result.get("created", {}), result.get("updated", {})
        unchanged = result.get("unchanged", {})
        rows = [
            (TABLE_LABELS[t], created.get(t, 0), updated.get(t, 0), unchanged.get(t, 0))
            for t in TABLES
            if created.get(t) or updated.get(t) or unchanged.get(t)
        ]
    creator = db.get(User, job.created_by) if job.created_by else None
    html = render_template(
        "admin/import_job.html",
        job=job,
        state=jobs.status(db, job),
        step_label=STEP_LABELS.get(job.step or "", job.step or ""),
        step_labels=STEP_LABELS,
        rows=rows,
        problems=problems,
        more_problems=max(0, int(result.get("problem_count", 0)) - len(problems)),
        refused=refused,
        interrupted=(job.error or "").startswith(queue.INTERRUPTED),
        creator=(creator.name or creator.email) if creator else "",
        name=str(job.params.get("name", "")),
    )
    return html, 400 if flashing and job.status == "failed" else 200


@bp.get("/import/<int:job_id>")
@access(*IMPORTERS)
def import_job(job_id: int) -> Any:
    jobs.recover(current_app.extensions["sscmatch.engine"])
    return _job_page(_import_job_or_404(_db(), job_id))


@bp.get("/import/<int:job_id>/status")
@access(*IMPORTERS)
@answers_json()
def import_status(job_id: int) -> Any:
    """The import's progress for its page's script (JSON; an unknown import is a JSON 404 in
    the reader's language)."""
    jobs.recover(current_app.extensions["sscmatch.engine"])
    db = _db()
    job = _import_job_or_404(db, job_id)
    data = jobs.status(db, job)
    data["step_label"] = str(STEP_LABELS.get(job.step or "", job.step or ""))
    return jsonify(data)
