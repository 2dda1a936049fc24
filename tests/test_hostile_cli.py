"""Every command of ``sscmatch``, given hostile arguments, answers in one line and writes nothing.

An outsider's walk: each command that ``sscmatch.cli.register`` adds, each of its parameters
that takes a value, given text that cannot be stored (a NUL character; bytes of the terminal
that are not UTF-8, which Python holds as lone surrogates) or, for a file or folder it reads or
writes, a place the file system refuses (a folder where a file is expected, a file where a
folder is expected, a file under a file). The answer is a message and a non-zero exit, never a
traceback (on PostgreSQL a NUL reached the driver: ``create-user``, ``match --need``); text that
cannot be stored is refused naming the parameter; the database holds the same rows after.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlmodel import SQLModel

from sscmatch.cli import commands

COMMANDS = commands()
UNSTORABLE = {"nul": "a\x00b", "not-utf8": "a\udcffb"}
"""Text no database stores: a NUL, and a byte of the terminal that is not UTF-8."""

BENIGN = {"email": "hostile@test.org", "password": "long-enough-password", "role": "admin"}
"""A value that lets the command go on past its other required parameters."""


def _places(root: Path) -> dict[str, Path]:
    """Places the file system refuses to read or write, all inside ``root`` (a test never
    names a system path: the suite may run as root)."""
    (root / "a-file").write_text("not a folder\n")
    (root / "a-folder.json").mkdir()
    return {
        "folder-as-file": root / "a-folder.json",
        "file-as-folder": root / "a-file",
        "under-a-file": root / "a-file" / "x.json",
    }


def _value_params(command: click.Command) -> list[click.Parameter]:
    return [
        p
        for p in command.params
        if p.name and not getattr(p, "is_flag", False) and not getattr(p, "hidden", False)
    ]


def _flag(param: click.Parameter) -> str | None:
    return param.opts[0] if isinstance(param, click.Option) else None


def _args(command: click.Command, hostile: click.Parameter, value: str, root: Path) -> list[str]:
    """The command line: ``value`` for ``hostile``, a benign value for every other required
    parameter, ``--once`` for the worker (else it serves for ever)."""
    args: list[str] = [command.name or ""]
    for param in _value_params(command):
        given = value if param is hostile else None
        if given is None and param.required:
            choices = getattr(param.type, "choices", None)
            name = param.name or ""
            given = BENIGN.get(name) or (str(choices[0]) if choices else str(root / "benign"))
        if given is None:
            continue
        flag = _flag(param)
        args += [flag, given] if flag else [given]
    if command.name == "worker":
        args.append("--once")
    return args


def _cases() -> Iterator[tuple[str, str, str]]:
    for command in COMMANDS:
        for param in _value_params(command):
            # a file name may hold any bytes but NUL (not UTF-8 names a file like another)
            path = isinstance(param.type, click.Path)
            for kind in ("nul",) if path else UNSTORABLE:
                yield command.name or "", param.name or "", kind
            if path:
                for kind in ("folder-as-file", "file-as-folder", "under-a-file"):
                    yield command.name or "", param.name or "", kind


def _rows(app: Flask) -> dict[str, int]:
    engine = app.extensions["sscmatch.engine"]
    with engine.connect() as connection:
        return {
            t.name: connection.execute(select(func.count()).select_from(t)).scalar_one()
            for t in SQLModel.metadata.sorted_tables
        }


def _not_refused(app: Flask, runner: Any, args: list[str], named: str) -> str | None:
    """Why running ``args`` was not a refusal naming ``named`` (exit 2) that wrote nothing, or
    None when it was."""
    before = _rows(app)
    result = runner.invoke(args=args)
    said = f"{args[:3]!r} -> {result.exit_code}: {result.output.strip()[-200:]!r}"
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        return f"{said} raised {type(result.exception).__name__}"
    if result.exit_code != 2 or named not in result.output:
        return f"{said}: not refused naming {named}"
    if _rows(app) != before:
        return f"{said}: rows changed"
    return None


def test_the_walk_holds_every_command_and_some_of_each_kind() -> None:
    cases = list(_cases())
    assert {c for c, _, _ in cases} >= {c.name for c in COMMANDS if _value_params(c)}
    assert {k for _, _, k in cases} == {
        *UNSTORABLE,
        "folder-as-file",
        "file-as-folder",
        "under-a-file",
    }


@pytest.mark.parametrize("kind", [*UNSTORABLE, "places"])
def test_every_command_answers_hostile_arguments_in_one_line(
    app: Flask, runner: Any, tmp_path: Path, kind: str
) -> None:
    places = _places(tmp_path)
    failures = []
    for name, param_name, case in _cases():
        if (case in UNSTORABLE) != (kind != "places") or (kind in UNSTORABLE and case != kind):
            continue
        command = next(c for c in COMMANDS if c.name == name)
        param = next(p for p in command.params if p.name == param_name)
        value = UNSTORABLE.get(case) or str(places[case])
        args = _args(command, param, value, tmp_path)
        before = _rows(app)
        result = runner.invoke(args=args, input="long-enough-password\n" * 2)
        said = f"{args!r} -> {result.exit_code}: {result.output.strip()[-300:]!r}"
        named = _flag(param) or param.human_readable_name
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            failures.append(f"{said} raised {type(result.exception).__name__}")
        elif "Traceback" in result.output:
            failures.append(f"{said} printed a traceback")
        elif case in UNSTORABLE and (result.exit_code != 2 or named not in result.output):
            failures.append(f"{said}: not refused naming {named}")
        elif case in UNSTORABLE and _rows(app) != before:
            failures.append(f"{said}: rows changed")
    assert not failures, "\n".join(failures)


NOT_DAYS = (
    "20261206",  # Python's date.fromisoformat reads it; the option says YYYY-MM-DD
    "2026-W01-1",  # an ISO week date, the same
    "0001-01-01",
    "9999-12-31",
    "2026-02-30",
    "2026-1-5",
    "２０２６-01-05",  # fullwidth digits
    "2026-01-05T00:00",
)
"""Texts no date option of the command line takes: each is refused by the one rule the bundle
and the forms' ISO dates follow (``sscmatch.dates``: ASCII digits, years 1900 to 2100)."""


def _date_options(command: click.Command) -> list[click.Option]:
    return [
        p
        for p in command.params
        if isinstance(p, click.Option)
        and ("YYYY" in (p.help or "") or "DATE" in (p.metavar or "") or "YYYY" in (p.metavar or ""))
    ]


def test_the_walk_finds_the_date_options() -> None:
    found = {(c.name, p.name) for c in COMMANDS for p in _date_options(c)}
    assert {("match", "as_of"), ("calibrate", "as_of"), ("remind", "today_text")} <= found


def test_every_date_option_reads_dates_by_one_rule(app: Flask, runner: Any) -> None:
    failures = []
    for command in COMMANDS:
        for option in _date_options(command):
            for text in NOT_DAYS:
                args = [command.name or "", option.opts[0], text]
                failures.append(_not_refused(app, runner, args, option.opts[0]))
    assert not any(failures), "\n".join(f for f in failures if f)


NOT_NUMBERS = ("nan", "NaN", "inf", "-inf", "1e309", "9" * 5000)
"""Texts no number option takes. click's FloatRange lets NaN through (every comparison with it
is false): ``worker --poll nan`` polled the queue without pause, a CPU at 100 %."""


def test_every_number_option_refuses_what_is_no_number(
    app: Flask, runner: Any, tmp_path: Path
) -> None:
    failures = []
    for command in COMMANDS:
        for param in command.params:
            if not isinstance(param.type, click.types.IntParamType | click.types.FloatParamType):
                continue
            for text in NOT_NUMBERS:
                args = _args(command, param, text, tmp_path)
                named = _flag(param) or param.human_readable_name
                failures.append(_not_refused(app, runner, args, named))
    assert not any(failures), "\n".join(f for f in failures if f)


BEYOND_THE_FORM = {
    "--email": "a" * 250 + "@b.org",  # the form's limit and the column's: 254
    "--name": "N" * 201,  # the form's limit: 200
    "--country": "Guatemala",  # a country code of the country table, as the form's choices
}
"""What the admin's user form refuses, given to ``create-user``: on PostgreSQL a long e-mail
and an unknown country reached the database (StringDataRightTruncation, ForeignKeyViolation:
tracebacks), on SQLite they were stored; the name was stored whatever its length."""


def test_create_user_refuses_what_the_form_refuses(app: Flask, runner: Any) -> None:
    base = {"--email": "hostile@test.org", "--role": "focal_point", "--country": "GTM"}
    base |= {"--constituency": "government", "--password": "long-enough-password"}
    failures = []
    for option, value in BEYOND_THE_FORM.items():
        given = base | {"--email": f"{option.strip('-')}@test.org", option: value}
        args = ["create-user", *(x for k, v in given.items() for x in (k, v))]
        before = _rows(app)
        result = runner.invoke(args=args)
        said = f"{option} -> {result.exit_code}: {result.output.strip()[-200:]!r}"
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            failures.append(f"{said} raised {type(result.exception).__name__}")
        elif result.exit_code == 0 or option not in result.output:
            failures.append(f"{said}: not refused naming {option}")
        elif _rows(app) != before:
            failures.append(f"{said}: rows changed")
    assert not failures, "\n".join(failures)


@pytest.mark.same_on_every_database  # a database in a file: SQLite's
def test_no_command_takes_the_database_itself_for_a_file(app: Flask, runner: Any) -> None:
    """``sscmatch backup instance/sscmatch.db`` (the database's name where the backup's was
    meant) wrote the backup over the database: every command after it said "file is not a
    database". Every file or folder parameter of every command, given the database's file or
    its write-ahead log, is refused naming it, and the database is left as it was."""
    database = Path(str(app.config["DATABASE_URL"]).removeprefix("sqlite:///"))
    assert database.is_file()
    failures = []
    for command in COMMANDS:
        for param in _value_params(command):
            if not isinstance(param.type, click.Path):
                continue
            for target in (database, Path(f"{database}-wal")):
                args = _args(command, param, str(target), database.parent)
                named = _flag(param) or param.human_readable_name
                failures.append(_not_refused(app, runner, args, named))
    assert not any(failures), "\n".join(f for f in failures if f)


@pytest.mark.same_on_every_database  # a property of the file system, not of the database
def test_no_command_waits_on_a_pipe_or_a_device(app: Flask, runner: Any, tmp_path: Path) -> None:
    """``sscmatch restore`` of a named pipe (a FIFO, as ``mkfifo`` makes) waited for ever for a
    writer, and ``sscmatch export`` to one for a reader: the terminal hung with nothing said.
    Every file or folder parameter of every command, given a FIFO, is refused at once naming
    it (a watchdog opens the pipe after a few seconds, so a command that waits on it is seen
    to, instead of hanging the suite), and the database is left as it was."""
    fifo = tmp_path / "a-pipe"
    failures = []
    for command in COMMANDS:
        for param in _value_params(command):
            if not isinstance(param.type, click.Path):
                continue
            fifo.unlink(missing_ok=True)  # a command may have put a file in its place
            os.mkfifo(fifo)
            args = _args(command, param, str(fifo), tmp_path)
            named = _flag(param) or param.human_readable_name
            done = threading.Event()
            waited = threading.Event()
            watchdog = threading.Thread(target=_release, args=(fifo, done, waited), daemon=True)
            watchdog.start()
            failures.append(_not_refused(app, runner, args, named))
            done.set()
            watchdog.join()
            if waited.is_set():
                failures.append(f"{args[:3]!r}: waited on the pipe")
    assert not any(failures), "\n".join(f for f in failures if f)


def _release(fifo: Path, done: threading.Event, waited: threading.Event) -> None:
    """After a few seconds without ``done``, open both ends of ``fifo`` for a moment: a
    command blocked opening it goes on (a reader then reads nothing, a writer's next write
    fails), and ``waited`` says it had to."""
    if done.wait(5):
        return
    waited.set()
    end = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)
    time.sleep(0.2)
    os.close(end)
