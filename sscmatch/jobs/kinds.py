"""The kinds of jobs: match runs, calibrations, bundle imports, the day's reminders (see
:mod:`sscmatch.jobs`).

Each stores its result in one transaction that also ends the job (``ctx.complete``), so an
attempt interrupted half-way leaves nothing behind and the next attempt starts clean.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session

from sscmatch.bundle import BundleError, ImportReport, import_bundle
from sscmatch.bundle.format import plain
from sscmatch.bundle.read import zip_limits
from sscmatch.db import VersionedSession, refresh_statistics
from sscmatch.jobs import Context, Refused, kind
from sscmatch.models import Calibration, Job, MatchRun
from sscmatch.vocab import load_vocabulary
from sscmatch.workflow import calibrations, matchruns, vectors
from sscmatch.workflow import jobs as queue

MAX_PROBLEMS = 1000
"""Problems of a refused bundle kept with its job (the page says how many more there were), each
``[file, line, field, msgid, params]``."""


# ----------------------------------------------------------------------------- match runs


def refresh_vectors(ctx: Context) -> None:
    """Make the text vectors of new or edited records, committed batch by batch: derived data,
    so an interrupted attempt keeps what it made and the next one goes on from there, and
    SQLite's one write lock is free between batches for progress and other writers."""
    with Session(ctx.engine) as s:

        def made(done: int, total: int) -> None:
            s.commit()  # refresh flushed this batch before reporting it
            ctx.progress("vectors", done, total)

        vectors.refresh(s, progress=made)
        s.commit()


def _run_failed(session: Session, job: Job, error: str) -> None:
    run = session.get(MatchRun, int(job.params.get("run_id", 0)))
    if run is not None and run.status == "running":
        matchruns.fail_run(run, error)
        session.add(run)


@kind("match_run", failed=_run_failed)
def match_run(ctx: Context) -> Mapping[str, Any]:
    """Compute a begun run (``matchruns.begin_run``) and store its proposals. Progress goes to
    the run (needs done of total, which its page shows) and to the job."""
    run_id = int(ctx.params["run_id"])
    need_ids = list(ctx.params.get("need_ids") or [])
    top_k = int(ctx.params.get("top_k", 5))
    with Session(ctx.engine) as s:
        run = s.get(MatchRun, run_id)
        if run is None or run.status != "running":
            raise Refused(f"match run {run_id} is not waiting to be computed", {})
        run.needs_done = 0
        matchruns.beat(run)
        s.commit()

    def progress(done: int, total: int) -> None:
        ctx.progress("match", done, total)  # first: raises Lost if the job is not ours any more
        with Session(ctx.engine) as s:
            row = s.get(MatchRun, run_id)
            if row is not None:
                row.needs_done, row.needs_total = done, total
                matchruns.beat(row)
                s.commit()

    refresh_vectors(ctx)  # the ranking then only reads: progress is committed meanwhile
    with Session(ctx.engine, expire_on_commit=False) as s:
        proposals = matchruns.compute(
            s, load_vocabulary(), need_ids=need_ids, top_k=top_k, progress=progress
        )
    with VersionedSession(ctx.engine, expire_on_commit=False) as s:
        run = s.get(MatchRun, run_id)
        assert run is not None
        matchruns.finish_run(s, run, proposals, ctx.user_id)
        result = {"run_id": run_id, "proposals": run.proposal_count}  # those of needs still open
        ctx.complete(s, result)
        s.commit()
    refresh_statistics(ctx.engine)  # the planner sees the run's proposals
    return result


# ----------------------------------------------------------------------------- calibrations


def _calibration_failed(session: Session, job: Job, error: str) -> None:
    row = session.get(Calibration, int(job.params.get("calibration_id", 0)))
    if row is not None and row.status == "running":
        interrupted = error.startswith(queue.INTERRUPTED)
        calibrations.fail(session, row, calibrations.INTERRUPTED if interrupted else error)


@kind("calibration", failed=_calibration_failed)
def calibration(ctx: Context) -> Mapping[str, Any]:
    """Fit the weights of a begun calibration (``calibrations.begin``) and store them."""
    calibration_id = int(ctx.params["calibration_id"])
    with Session(ctx.engine) as s:
        row = s.get(Calibration, calibration_id)
        if row is None or row.status != "running":
            raise Refused(f"calibration {calibration_id} is not waiting to be computed", {})
        row.worker = ctx.worker
        s.commit()
    refresh_vectors(ctx)
    ctx.progress("calibrate", 0, 1)
    with VersionedSession(ctx.engine, expire_on_commit=False) as s:
        row = s.get(Calibration, calibration_id)
        assert row is not None
        calibrations.finish(s, load_vocabulary(), row)
        result = {"calibration_id": calibration_id, "cases": row.cases, "projects": row.projects}
        ctx.complete(s, result)
        s.commit()
    return result


# ----------------------------------------------------------------------------- imports


def unpack(name: str, data: bytes, folder: Path) -> Path:
    """Write an uploaded bundle where ``import_bundle`` reads it: a ``.json`` file or a ``.zip``
    as it is (the import reads the archive's members itself, reporting any it cannot read
    beside the problems of the others)."""
    target = folder / ("bundle.json" if name.lower().endswith(".json") else "bundle.zip")
    target.write_bytes(data)
    return target


def report_result(report: ImportReport) -> dict[str, Any]:
    """What the import page shows of a finished import: per table created, updated and
    unchanged, and the names resolved fuzzily."""
    return {
        "created": dict(report.created),
        "updated": dict(report.updated),
        "unchanged": dict(report.unchanged),
        "resolved": [str(r) for r in report.resolved][:MAX_PROBLEMS],
    }


@kind("import")
def bundle_import(ctx: Context) -> Mapping[str, Any]:
    """Import an uploaded bundle: validate it all, then write it all, in one transaction that
    also ends the job; a bundle with problems writes nothing and keeps them for its page."""
    name, data = ctx.payload()
    with tempfile.TemporaryDirectory(prefix="sscmatch-import-") as tmp:
        target = unpack(name, data, Path(tmp))
        del data
        with VersionedSession(ctx.engine, expire_on_commit=False) as s:
            try:
                report = import_bundle(
                    s,
                    target,
                    load_vocabulary(),
                    user_id=ctx.user_id,
                    progress=ctx.progress,
                    limits=zip_limits(ctx.config),
                )
            except BundleError as exc:
                s.rollback()
                # each problem's message id and values, said in the reader's language by
                # the page (sscmatch.web.imports); older jobs kept [file, line, field, English]
                problems = [
                    [
                        name if p.file == target.name else p.file,
                        p.line,
                        p.field,
                        p.msgid,
                        plain(p.params),
                        p.record,
                    ]
                    for p in exc.problems
                ]
                raise Refused(
                    f"{len(problems)} problem(s) in the bundle; nothing was imported",
                    {"problems": problems[:MAX_PROBLEMS], "problem_count": len(problems)},
                ) from None
            result = report_result(report)
            ctx.complete(s, result)
            s.commit()
    refresh_statistics(ctx.engine)  # the planner sees what the import wrote
    return result


# ----------------------------------------------------------------------------- reminders


@kind("reminders")
def reminders(ctx: Context) -> Mapping[str, Any]:
    """The day's reminder digests (queued once a day by the workers, ``REMIND_AT``)."""
    from sscmatch.commands.followup import send_reminders, smtp_settings

    today = date.fromisoformat(str(ctx.params["today"]))
    days = int(ctx.params.get("days", 14))
    lines: list[str] = []
    outcome = send_reminders(
        ctx.engine,
        today,
        days,
        smtp_settings(ctx.config),
        Path(ctx.instance_path) / "reminders",
        ctx.config.get("SECRETARIAT_EMAIL") or None,
        say=lines.append,
        warn=lines.append,
    )
    result = {
        "today": today.isoformat(),
        "sent": outcome.sent,
        "skipped": outcome.skipped,
        "failed": outcome.failed,
        "unreached": outcome.unreached,
        "lines": lines[-200:],
    }
    if outcome.failed:
        raise Refused(f"{outcome.failed} digest(s) could not be delivered", result)
    return result
