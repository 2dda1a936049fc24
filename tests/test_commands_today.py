"""Every command and job that works "as of today" by default takes its day from the one rule
(``config.today``: a pinned ``TODAY`` for demos and tests, else the real date in UTC), like the
pages do: a demo pinned to a day sends that day's reminders, not the real day's.

The class: no module of the command line (``sscmatch/cli*.py``, ``sscmatch/commands/``) or of
the jobs (``sscmatch/jobs/``) reads the clock's date itself (``date.today()``,
``datetime.now(...).date()``); ``sscmatch remind`` and the workers' daily reminders are checked
by what they do with a pinned day."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from flask import Flask
from sqlmodel import Session, select

from sscmatch.jobs.worker import run_worker
from sscmatch.models import Job, Reminder, StudyTour
from tests.source_trees import source_tree
from tests.workflow.test_reminders import world  # noqa: F401  (the fixture: commitments due)

PACKAGE = Path(__file__).resolve().parents[1] / "sscmatch"
PINNED = "2026-07-15"  # the day the reminders' world is built around (commitments due then)


def _command_and_job_modules() -> list[Path]:
    found = sorted(PACKAGE.glob("cli*.py"))
    for folder in ("commands", "jobs"):
        found += sorted((PACKAGE / folder).rglob("*.py"))
    return found


def _reads_the_clocks_date(node: ast.AST) -> bool:
    """``date.today()``, or ``.date()`` of a ``now(...)`` / ``utcnow(...)`` call."""
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return False
    if node.func.attr == "today" and isinstance(node.func.value, ast.Name):
        return node.func.value.id == "date"
    if node.func.attr == "date" and isinstance(node.func.value, ast.Call):
        inner = node.func.value.func
        name = inner.attr if isinstance(inner, ast.Attribute) else getattr(inner, "id", "")
        return name in ("now", "utcnow")
    return False


def test_no_command_or_job_reads_the_clocks_date_itself() -> None:
    modules = _command_and_job_modules()
    assert any(p.name == "followup.py" for p in modules) and any(
        p.name == "worker.py" for p in modules
    )  # the walk reaches the commands and the jobs
    readers = [
        f"{path.relative_to(PACKAGE)}:{node.lineno}"
        for path in modules
        for node in ast.walk(source_tree(path))
        if _reads_the_clocks_date(node)
    ]
    assert not readers, readers


LEFT = {
    "workflow/tours/drafting.py": "a default for callers that pass no day (the pages pass theirs)",
    "workflow/tours/lifecycle.py": "a default for callers that pass no day, and a closed tour's "
    "exchange start when the tour has none",
}
"""Modules outside the command line and the jobs that still read the clock's date, and why: the
walk below fails on any other one, and on one of these that no longer does (then take it out)."""


def test_no_other_module_reads_the_clocks_date_itself() -> None:
    """The pages and the analysts' figures too: the network's country page counted a commitment
    overdue by the real date while the follow-up pages, pinned to TODAY, did not."""
    readers: dict[str, list[int]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "config.py":
            continue
        for node in ast.walk(source_tree(path)):
            if _reads_the_clocks_date(node):
                readers.setdefault(str(path.relative_to(PACKAGE)), []).append(node.lineno)
    assert sorted(set(readers) - set(LEFT)) == [], readers
    assert sorted(set(LEFT) - set(readers)) == [], "no longer reads the clock: take out of LEFT"


def test_the_walk_would_see_a_reader() -> None:
    for source in ("date.today()", "datetime.now(UTC).date()", "datetime.utcnow().date()"):
        assert any(_reads_the_clocks_date(n) for n in ast.walk(ast.parse(source))), source
    assert not any(_reads_the_clocks_date(n) for n in ast.walk(ast.parse("config.today(cfg)")))


def test_remind_without_a_day_reminds_as_of_the_pinned_day(
    app: Flask,
    runner: Any,
    session: Session,
    world: StudyTour,  # noqa: F811
    tmp_path: Path,
) -> None:
    app.config["TODAY"] = PINNED
    out = tmp_path / "digests"
    result = runner.invoke(args=["remind", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 digest(s) sent" in result.output
    assert sorted(p.name for p in out.iterdir()) == [
        f"{PINNED}_bra@test.org.txt",
        f"{PINNED}_gtm@test.org.txt",
    ]
    sent = session.exec(select(Reminder.sent_on)).all()
    assert sent == [PINNED, PINNED]


def test_the_workers_reminders_are_those_of_the_pinned_day(
    app: Flask,
    session: Session,
    world: StudyTour,  # noqa: F811
) -> None:
    app.config.update(TODAY=PINNED, REMIND_AT="00:00")
    assert run_worker(app, once=True, name="test-worker:1") == 1
    session.expire_all()
    job = session.exec(select(Job)).one()
    assert (job.kind, job.status, job.unique_key) == ("reminders", "done", f"reminders:{PINNED}")
    assert job.result is not None and (job.result["today"], job.result["sent"]) == (PINNED, 2)
    assert session.exec(select(Reminder.sent_on)).all() == [PINNED, PINNED]
