"""``sscmatch worker`` (carry out queued jobs) and ``sscmatch jobs`` (list them).

Match runs, imports from the web and the day's reminders are jobs (:mod:`sscmatch.jobs`): the
web servers queue them and worker processes carry them out, so they survive a restart of the
web servers and can be shared by several servers on one PostgreSQL database.
"""

from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlmodel import Session, col, select

from sscmatch.jobs.worker import POLL, run_worker
from sscmatch.models import Job


@click.command("worker")
@with_appcontext
@click.option("--once", is_flag=True, help="Stop when the queue is empty (for scripts and cron).")
@click.option(
    "--poll",
    type=click.FloatRange(0.05, 60),
    default=POLL,
    show_default=True,
    help="Seconds between two looks at an empty queue.",
)
def worker_command(once: bool, poll: float) -> None:
    """Carry out queued jobs (match runs, imports, reminders) until stopped (Ctrl-C, SIGTERM)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(levelname)s %(message)s")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        done = run_worker(app, once=once, poll=poll)
    except ValueError as exc:  # a bad setting (REMIND_AT)
        raise click.ClickException(str(exc)) from None
    except KeyboardInterrupt:
        click.echo("worker stopped; its job, if any, went back to the queue", err=True)
        return
    if once:
        click.echo(f"{done} job(s) carried out; the queue is empty.")


@click.command("jobs")
@with_appcontext
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
def jobs_command(limit: int) -> None:
    """List the latest jobs: state, progress, attempts, error."""
    engine = current_app.extensions["sscmatch.engine"]
    with Session(engine) as session:
        rows = session.exec(select(Job).order_by(col(Job.id).desc()).limit(limit)).all()
    if not rows:
        click.echo("No jobs yet.")
    for job in rows:
        progress = f" {job.step} {job.done}/{job.total}" if job.step else ""
        line = (
            f"{job.id:>6} {job.kind:<11} {job.status:<8} attempt {job.attempts}/"
            f"{job.max_attempts}{progress} {job.subject or ''}"
        )
        click.echo(line.rstrip())
        if job.error:
            click.echo(f"       {job.error}")


COMMANDS = [worker_command, jobs_command]
