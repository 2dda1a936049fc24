"""``sscmatch remind``: send each owner a digest of the commitments due soon or overdue.

By SMTP when ``SSCMATCH_SMTP_HOST`` is set (``SMTP_PORT``, ``SMTP_USER``, ``SMTP_PASSWORD``,
``SMTP_FROM``, ``SMTP_STARTTLS``), otherwise one text file per recipient in ``--out`` (default
``instance/reminders``). Countries without a focal point go to ``SSCMATCH_SECRETARIAT_EMAIL``.
Safe to run daily: a recipient gets at most one digest a day.
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from sscmatch import config
from sscmatch.cli_dates import day
from sscmatch.workflow import reminders as wf


def smtp_settings(cfg: Mapping[str, Any]) -> wf.SmtpSettings | None:
    """The mail server of the configuration, or None to write digests to files."""
    host = cfg.get("SMTP_HOST")
    if not host:
        return None
    return wf.SmtpSettings(
        host=str(host),
        # a whole number 1-65535 or unset: the app's settings are checked when it is made
        # (config.SETTINGS), and both callers read an app's (the command's, the worker's)
        port=int(cfg.get("SMTP_PORT") or 25),
        user=cfg.get("SMTP_USER") or None,
        password=cfg.get("SMTP_PASSWORD") or None,
        sender=str(cfg.get("SMTP_FROM") or "sscmatch@localhost"),
        starttls=bool(cfg.get("SMTP_STARTTLS")),
    )


@dataclass
class Outcome:
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    unreached: list[str] = field(default_factory=list)


def send_reminders(
    engine: Engine,
    today: date,
    days: int,
    smtp: wf.SmtpSettings | None,
    folder: Path,
    fallback: str | None,
    say: Callable[[str], None] = lambda _line: None,
    warn: Callable[[str], None] = lambda _line: None,
) -> Outcome:
    """Deliver the day's digests, each committed with its Reminder row once delivered (the
    command and the daily job of the workers, :mod:`sscmatch.jobs.kinds`, both use this)."""
    outcome = Outcome()
    with Session(engine, expire_on_commit=False) as session:
        found, outcome.unreached = wf.digests(session, today, days, fallback)
        for digest in found:
            if wf.already_sent(session, digest.recipient, today):
                outcome.skipped += 1
                continue
            try:
                wf.claim(session, digest, today, "email" if smtp else "file")
            except IntegrityError:  # another run claimed this recipient meanwhile
                session.rollback()
                outcome.skipped += 1
                continue
            try:
                if smtp:
                    wf.send_email(smtp, wf.message(digest, today, smtp.sender))
                    where = f"e-mailed to {digest.recipient}"
                else:
                    where = f"written to {wf.write_digest(folder, digest, today)}"
            except (OSError, smtplib.SMTPException) as exc:
                session.rollback()
                outcome.failed += 1
                warn(f"could not deliver to {digest.recipient}: {exc}")
                continue
            session.commit()
            outcome.sent += 1
            say(f"{len(digest.items)} item(s) {where}")
    for code in outcome.unreached:
        warn(f"no focal point for {code} and no SSCMATCH_SECRETARIAT_EMAIL: nobody reminded")
    return outcome


@click.command("remind")
@with_appcontext
@click.option(
    "--today",
    "today_text",
    callback=day,
    help="The day to remind as of (YYYY-MM-DD; default today).",
)
@click.option(
    "--days",
    default=14,
    show_default=True,
    type=click.IntRange(0, 366),
    help="Include what is due within N days.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the digests when no SMTP host is configured (default instance/reminders).",
)
def remind_command(today_text: date | None, days: int, out: Path | None) -> None:
    """Send (or write) each owner a digest of commitments due soon or overdue, once a day."""
    today = today_text or config.today(current_app.config)  # demos and tests may pin the day
    outcome = send_reminders(
        current_app.extensions["sscmatch.engine"],
        today,
        days,
        smtp_settings(current_app.config),
        out or Path(current_app.instance_path) / "reminders",
        current_app.config.get("SECRETARIAT_EMAIL") or None,
        say=click.echo,
        warn=lambda line: click.echo(line, err=True),
    )
    click.echo(
        f"{outcome.sent} digest(s) sent, {outcome.skipped} already sent today, "
        f"{outcome.failed} failed."
    )
    if outcome.failed:
        raise click.ClickException(
            f"{outcome.failed} digest(s) could not be delivered; run again later."
        )


COMMANDS = [remind_command]
