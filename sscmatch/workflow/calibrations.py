"""Calibrating the matcher on the history the database holds, and the weights runs use.

:func:`calibrate` replays the stored history with time splits that never look ahead
(``matching.calibration``), fits the factor weights and stores them as a :class:`Calibration`
with the date and how the suggestions fared on a held-out window. The latest successful
calibration is what match runs use (:func:`current_weights`); without one, the documented
defaults.

**Held-out figures.** They answer "how good have the suggestions been": weights fitted only on
the history before a window of ``window`` years rank that window's real exchanges, and the share
whose real provider is among the top 3 is set beside the best simple rule's. The window is the
latest one that ends by the calibration's date and holds at least
``matching.calibration.MIN_CASES`` cases (else the latest with any): the last years when the
database has exchanges in them, an older window when it does not (the sentence names the years).
The same window decides whether runs use the learnt weights: only when they ranked it better
than the defaults (:func:`adopted`); the sentence gives the figures of what runs use.

**Background.** The pages and the API start a calibration with :func:`begin` (status
``running``) and queue the job that computes it with :func:`finish` (``sscmatch.jobs``, kind
``calibration``, subject ``calibration:<id>``) in the same transaction; a worker whose process
dies makes the job try again, and its last failure marks the calibration :func:`fail` ed with the
reason. :func:`sweep_interrupted` fails the running calibrations that no job will finish, so none
shows running forever. One calibration runs at a time (:class:`CalibrationBusy`). The command
line computes at once (:func:`calibrate`). Every start, finish and failure is in the audit log
(entity ``calibration``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict
from datetime import date
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from sscmatch.db import upsert
from sscmatch.matching import DEFAULT_WEIGHTS, FACTORS, Weights
from sscmatch.matching import calibration as engine_calibration
from sscmatch.matching.reasons import N_
from sscmatch.models import Calibration, IdCounter, User, utcnow
from sscmatch.schemas import moment_text
from sscmatch.text import DEFAULT_MODEL
from sscmatch.text import model as text_model
from sscmatch.vocab import Vocabulary
from sscmatch.workflow.audit import record_event, snapshot
from sscmatch.workflow.base import Conflict, DomainError
from sscmatch.workflow.encode import build_corpus
from sscmatch.workflow.jobs import FINISHED, job_beside
from sscmatch.workflow.redaction import blanked_for_replay
from sscmatch.workflow.workers import this_worker

WINDOWS = range(1, 6)
"""Years a window of history may span."""
DEFAULT_WINDOW = engine_calibration.DEFAULT_WINDOW
INTERRUPTED = "interrupted"
"""The error of a calibration that no worker finished (pages translate it)."""
BEGUN = "lock:calibration"
"""The ``id_counter`` row that beginnings of calibrations take in turn (no id has this stem)."""

RULE_NAMES: Mapping[str, str] = {
    "popularity": N_("the most active provider first"),
    "repeat-pair → theme": N_("who helped this recipient before, then the theme"),
    "sub-region → theme": N_("the same sub-region, then the theme"),
    "theme → language → region": N_("the same theme, then a shared language, then the region"),
    "same-region": N_("the same region first"),
}
"""The simple rules of ``matching.baselines`` in words (message ids: pages translate them)."""

NOT_ADOPTED_SENTENCE = N_(
    "The learnt weights did not rank those exchanges better than the default weights (mean"
    " reciprocal rank per project %(learnt)s against %(defaults)s): matching keeps the defaults."
)
"""Said beside the figures when a calibration's weights are not used (:func:`adopted`)."""
NOT_TESTED_SENTENCE = N_(
    "The years before %(years)s hold too few exchanges to learn weights from and test them on"
    " these: matching keeps the default weights."
)
"""Said instead when no weights could be learnt before the held-out window to test."""

FIGURES_SENTENCE = N_(
    "On the exchanges of %(years)s, the real provider was among the top 3 suggestions in"
    " %(share)s of cases, against %(rule_share)s for the best simple rule (%(rule)s)."
)


class CalibrationError(DomainError):
    """Bad input for a calibration (nothing was stored)."""


class CalibrationBusy(CalibrationError, Conflict):
    """Another calibration is still running."""

    code = "busy"


# ----------------------------------------------------------------------------- reading


def latest(session: Session) -> Calibration | None:
    """The newest successful calibration."""
    query = (
        select(Calibration)
        .where(Calibration.status == "done")
        .order_by(col(Calibration.created_at).desc(), col(Calibration.id).desc())
        .limit(1)
    )
    return session.exec(query).first()


def current_weights(session: Session) -> Weights:
    """What match runs use: the latest calibration's weights when they proved themselves on
    its held-out window (:func:`adopted`), else the defaults."""
    found = latest(session)
    if found is None or not adopted(found):
        return DEFAULT_WEIGHTS
    try:
        return Weights.from_dict(found.weights)
    except (TypeError, ValueError):  # a stored calibration this version cannot read
        return DEFAULT_WEIGHTS


def adopted(row: Calibration) -> bool:
    """Whether runs use this calibration's learnt weights: they ranked its held-out window
    better than the defaults (``matching.calibration``, "Adopted only when it proved itself").
    A calibration stored before that test, or with no window to test on, is used as learnt."""
    return not row.figures or bool(row.figures.get("adopted", True))


def running(session: Session) -> Calibration | None:
    """The calibration being computed now, if any."""
    query = (
        select(Calibration)
        .where(Calibration.status == "running")
        .order_by(col(Calibration.id).desc())
        .limit(1)
    )
    return session.exec(query).first()


def history(
    session: Session,
    page: int = 1,
    size: int = 25,
    *,
    status: str | None = None,
    by: int | None = None,
) -> tuple[list[tuple[Calibration, str]], int]:
    """Every calibration, newest first, with the name of who made it ('' for the command line),
    one page of them, and how many there are; only those of ``status`` and made by user
    ``by`` when given."""
    where = []
    if status:
        where.append(col(Calibration.status) == status)
    if by is not None:
        where.append(col(Calibration.created_by) == by)
    total = int(session.exec(select(func.count()).select_from(Calibration).where(*where)).one())
    rows = session.exec(
        select(Calibration, User.name, User.email)
        .join(User, col(User.id) == col(Calibration.created_by), isouter=True)
        .where(*where)
        .order_by(col(Calibration.created_at).desc(), col(Calibration.id).desc())
        .offset((max(1, page) - 1) * size)
        .limit(size)
    ).all()
    return [(row, name or email or "") for row, name, email in rows], total


def creator(session: Session, row: Calibration) -> str:
    """Who made ``row`` ('' when made from the command line)."""
    user = session.get(User, row.created_by) if row.created_by else None
    return (user.name or user.email) if user else ""


# ----------------------------------------------------------------------------- checks


def check_window(window: Any) -> int:
    if isinstance(window, bool) or not isinstance(window, int) or window not in WINDOWS:
        raise CalibrationError(
            N_("window must be a whole number of years from %(low)s to %(high)s, got %(value)s"),
            low=WINDOWS[0],
            high=WINDOWS[-1],
            value=repr(window),
        )
    return window


def check_as_of(as_of: date, today: date) -> date:
    if as_of > today:
        raise CalibrationError(
            N_(
                "the calibration date %(day)s is after today (%(today)s): "
                "a calibration learns from the history before its date"
            ),
            day=as_of,  # dates, not their ISO text: the edge writes them the reader's way
            today=today,
        )
    return as_of


# ----------------------------------------------------------------------------- computing


def sweep_interrupted(session: Session) -> list[int]:
    """Mark failed (:data:`INTERRUPTED`) every running calibration that no job will finish: it
    has no job, or its job has ended; returns their ids (the caller commits). One whose job is
    queued or running is the job queue's to recover (``sscmatch.jobs.recover``)."""
    swept = []
    for row in session.exec(select(Calibration).where(Calibration.status == "running")).all():
        job = job_beside(session, f"calibration:{row.id}", row)
        if row.status == "running" and (job is None or job.status in FINISHED):
            fail(session, row, INTERRUPTED)
            swept.append(row.id or 0)
    return swept


def _one_at_a_time(session: Session) -> None:
    """Queue the beginnings of calibrations one behind the other until their transactions end:
    a row of ``id_counter`` moved first and locked until the commit (PostgreSQL's row lock,
    SQLite's write lock). The check for a running one, read after it, then sees one begun at
    the same moment; alone, both read "none" and two ran at once."""
    table = IdCounter.__table__  # type: ignore[attr-defined]
    session.execute(
        upsert(session)(table)
        .values(stem=BEGUN, last=1)
        .on_conflict_do_update(index_elements=["stem"], set_={"last": table.c.last + 1})
    )


def begin(
    session: Session, *, today: date, window: int = DEFAULT_WINDOW, user_id: int | None = None
) -> Calibration:
    """Check the input and create a ``running`` calibration of the history before ``today``
    (the caller commits, then computes it with :func:`finish`). Raises
    :class:`CalibrationError`, :class:`CalibrationBusy` when another one is running."""
    check_window(window)
    _one_at_a_time(session)
    sweep_interrupted(session)
    busy = running(session)
    if busy is not None:
        raise CalibrationBusy(
            N_(
                "calibration %(id)s is still running (started %(started)s UTC); "
                "wait until it has finished"
            ),
            id=busy.id,
            started=busy.created_at.replace(second=0, microsecond=0, tzinfo=None),  # in UTC
        )
    row = Calibration(
        created_by=user_id,
        as_of=today.isoformat(),
        window=window,
        weights={},
        status="running",
        worker=this_worker(),
    )
    session.add(row)
    session.flush()
    record_event(
        session,
        user_id=user_id,
        action="start",
        entity="calibration",
        entity_id=row.id or 0,
        after=snapshot(row),
    )
    return row


def finish(session: Session, vocab: Vocabulary, row: Calibration) -> Calibration:
    """Fit the weights of a begun calibration and store them with its figures (the caller
    commits)."""
    until = date.fromisoformat(row.as_of)
    # the replayed cases' pseudo-needs must not name their provider (workflow.redaction)
    corpus = blanked_for_replay(build_corpus(session, vocab), vocab, text_model(DEFAULT_MODEL))
    result = engine_calibration.calibrate(corpus, until, row.window)
    row.weights = result.weights.as_dict()
    row.figures = asdict(result.figures) if result.figures else None
    row.cases, row.projects = result.cases, result.projects
    row.status, row.error, row.finished_at = "done", None, utcnow()
    session.add(row)
    record_event(
        session,
        user_id=row.created_by,
        action="finish",
        entity="calibration",
        entity_id=row.id or 0,
        after=snapshot(row),
        note=f"{row.cases} cases from {row.projects} projects",
    )
    return row


def fail(session: Session, row: Calibration, error: str) -> None:
    """Mark a calibration failed (it changes nothing: runs keep the weights they had)."""
    row.status = "failed"
    row.error = (error or "the calibration failed")[:2000]
    row.finished_at = utcnow()
    session.add(row)
    record_event(
        session,
        user_id=row.created_by,
        action="fail",
        entity="calibration",
        entity_id=row.id or 0,
        after=snapshot(row),
        note=row.error,
    )


def calibrate(
    session: Session,
    vocab: Vocabulary,
    *,
    today: date,
    window: int = DEFAULT_WINDOW,
    user_id: int | None = None,
) -> Calibration:
    """Fit the weights on the history before ``today`` and store them, at once (the caller
    commits; on an error it rolls back and nothing is stored)."""
    row = begin(session, today=today, window=window, user_id=user_id)
    return finish(session, vocab, row)


# ----------------------------------------------------------------------------- describing


def kept_defaults(row: Calibration) -> bool:
    """Whether the fit kept the documented defaults (too few cases to learn from)."""
    return all(
        abs(float(row.weights.get(k, -1.0)) - DEFAULT_WEIGHTS.factor(k)) < 1e-12 for k in FACTORS
    )


def years(figures: Mapping[str, Any]) -> str:
    """The held-out window's years: ``2010–2011``, or one year."""
    start, last = int(figures["start"]), int(figures["end"]) - 1
    return str(start) if start == last else f"{start}–{last}"


def figures_sentence(
    figures: Mapping[str, Any],
    gettext: Callable[[str], str] = lambda s: s,
    percent: Callable[[float], str] = lambda x: f"{round(100 * x)}%",
) -> str:
    """How good the suggestions have been, in one sentence (``gettext`` and ``percent`` in the
    reader's language; English by default)."""
    rule = str(figures.get("best_rule", ""))
    return gettext(FIGURES_SENTENCE) % {
        "years": years(figures),
        "share": percent(used_hit3(figures)),
        "rule_share": percent(float(figures["best_rule_hit3"])),
        "rule": gettext(RULE_NAMES[rule]) if rule in RULE_NAMES else rule,
    }


def used_hit3(figures: Mapping[str, Any]) -> float:
    """The held-out top-3 share of the weights runs use: the learnt ones, or the defaults."""
    return float(figures["hit3"] if figures.get("adopted", True) else figures["prior_hit3"])


def not_adopted_sentence(
    figures: Mapping[str, Any],
    gettext: Callable[[str], str] = lambda s: s,
    number: Callable[[float], str] = lambda x: f"{x:.2f}",
) -> str | None:
    """Why a calibration's weights are not used, or None when they are (``gettext`` and
    ``number``, two decimals, in the reader's language; English by default)."""
    if figures.get("adopted", True):
        return None
    if not figures.get("tested", True):
        return gettext(NOT_TESTED_SENTENCE) % {"years": years(figures)}
    return gettext(NOT_ADOPTED_SENTENCE) % {
        "learnt": number(float(figures["project_mrr"])),
        "defaults": number(float(figures["prior_project_mrr"])),
    }


def summary(row: Calibration | None) -> dict[str, Any] | None:
    """What the matching page and the API say about a calibration."""
    if row is None:
        return None
    return {
        "id": row.id,
        "status": row.status,
        "created_at": moment_text(row.created_at),
        "created_by": row.created_by,
        "finished_at": moment_text(row.finished_at) if row.finished_at else None,
        "as_of": row.as_of,
        "window": row.window,
        "weights": dict(row.weights),
        "defaults": DEFAULT_WEIGHTS.as_dict(),
        "kept_defaults": kept_defaults(row) if row.status == "done" else None,
        "figures": dict(row.figures) if row.figures else None,
        "sentence": figures_sentence(row.figures) if row.figures else None,
        "adopted": adopted(row) if row.status == "done" else None,
        "not_adopted": not_adopted_sentence(row.figures) if row.figures else None,
        "cases": row.cases,
        "projects": row.projects,
        "error": row.error,
    }
