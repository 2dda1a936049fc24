"""The console script ``sscmatch``: a Flask CLI group (``run`` and ``routes`` come with Flask).

Commands answer bad input with a clear message and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import functools
import math
import os
import stat
import sys
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, NoAppException, ScriptInfo, with_appcontext
from sqlalchemy.engine import Engine

from sscmatch import create_app
from sscmatch.cli_dates import period
from sscmatch.cli_names import EnglishNames
from sscmatch.config import SettingError
from sscmatch.matching.reasons import render


def _engine() -> Engine:
    engine: Engine = current_app.extensions["sscmatch.engine"]
    return engine


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create the schema, or upgrade it to the newest version (safe to repeat)."""
    from sscmatch.db import init_db, session_scope
    from sscmatch.vocab import load_vocabulary
    from sscmatch.workflow.countries import sync_countries

    init_db(_engine())
    with session_scope(_engine()) as session:
        changed = sync_countries(session, load_vocabulary())
    click.echo(f"Database ready at {_redacted_url()} ({changed} countries added or updated).")


def _redacted_url() -> str:
    from sqlalchemy.engine import make_url

    return make_url(current_app.config["DATABASE_URL"]).render_as_string(hide_password=True)


class _ProgressBars:
    """One progress bar per import step on stderr (on a terminal; elsewhere click prints the
    label alone), fed by ``import_bundle``'s progress calls."""

    LABELS: ClassVar[dict[str, str]] = {"validate": "Validating", "write": "Writing"}

    def __init__(self) -> None:
        self.step = ""
        self.shown = 0
        self.bar: Any = None

    def __call__(self, step: str, done: int, total: int) -> None:
        if step != self.step:
            self.close()
            self.step, self.shown = step, 0
            label = f"{self.LABELS.get(step, step)} {total:,} records"
            self.bar = click.progressbar(length=total, label=label, file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.shown)
        self.shown = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@click.command("import")
@with_appcontext
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--if-empty", is_flag=True, help="Import only when the database holds no records yet."
)
def import_command(path: Path, if_empty: bool) -> None:
    """Load a bundle (CSV folder, .zip of CSV files or .json file): all or nothing, idempotent
    by id; a refused bundle lists every problem it has."""
    from sqlalchemy import func
    from sqlmodel import select

    from sscmatch.bundle import BundleError, import_bundle
    from sscmatch.bundle.read import zip_limits
    from sscmatch.db import refresh_statistics, session_scope
    from sscmatch.models import Capacity, Exchange, Need
    from sscmatch.vocab import load_vocabulary

    with session_scope(_engine()) as session:
        if if_empty and any(
            session.exec(select(func.count()).select_from(m)).one()
            for m in (Capacity, Need, Exchange)
        ):
            click.echo("The database already holds records; nothing imported (--if-empty).")
            return
        bar = _ProgressBars()
        try:
            report = import_bundle(
                session,
                path,
                load_vocabulary(),
                progress=bar,
                limits=zip_limits(current_app.config),
            )
        except BundleError as exc:
            bar.close()
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            raise click.ClickException(
                f"{len(exc.problems)} problem(s) found; nothing was imported."
            ) from None
        finally:
            bar.close()
    refresh_statistics(_engine())  # the planner sees what the import wrote
    for note in report.fuzzy:
        click.echo(f"resolved {note}")
    exact_names = len(report.resolved) - len(report.fuzzy)
    if exact_names:
        click.echo(f"{exact_names} name(s) resolved exactly to codes.")
    click.echo(f"Imported {path}: {report.summary()}.")


@click.command("export")
@with_appcontext
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json"]),
    default=None,
    help="csv (a folder) or json (one file); default from PATH's suffix.",
)
def export_command(path: Path, fmt: str | None) -> None:
    """Write every record as a bundle."""
    from sscmatch.bundle import export_bundle
    from sscmatch.db import session_scope

    fmt = fmt or ("json" if path.suffix.lower() == ".json" else "csv")
    if fmt == "csv" and path.exists() and not path.is_dir():
        raise click.ClickException(f"{path} is a file; CSV export writes a folder")
    with session_scope(_engine()) as session:
        counts = export_bundle(session, path, fmt)
    summary = ", ".join(f"{n} {t}" for t, n in counts.items())
    click.echo(f"Exported to {path} ({fmt}): {summary}.")


@click.command("create-user")
@with_appcontext
@click.option("--email", required=True)
@click.option(
    "--role", required=True, type=click.Choice(["focal_point", "secretariat", "analyst", "admin"])
)
@click.option("--name", default="")
@click.option("--country", default=None, help="ISO alpha-3; required for focal points.")
@click.option(
    "--constituency", default=None, type=click.Choice(["government", "employers", "workers"])
)
@click.option("--language", default="en", type=click.Choice(["en", "es", "pt", "fr"]))
@click.password_option(help="Prompted for (twice) when not given.")
def create_user_command(
    email: str,
    role: str,
    name: str,
    country: str | None,
    constituency: str | None,
    language: str,
    password: str,
) -> None:
    """Create a user, e.g. the first admin: sscmatch create-user --email a@b.org --role admin."""
    from sscmatch.db import session_scope
    from sscmatch.workflow.users import UserError, create_user

    try:
        with session_scope(_engine()) as session:
            user = create_user(
                session,
                email,
                password,
                role,
                name=name,
                country=country,
                constituency=constituency,
                language=language,
            )
    except UserError as exc:
        # The account's rules are the workflow's (the admin's pages apply the same ones): the
        # option at fault is named as click names its own refusals.
        if exc.field is not None:  # each field is the option of its name
            raise click.BadParameter(str(exc), param_hint=f"'--{exc.field}'") from None
        raise click.ClickException(str(exc)) from None
    click.echo(f"Created {user.role} {user.email}.")


@click.command("demo-users")
@with_appcontext
def demo_users_command() -> None:
    """Create the demo accounts (demo mode only) and print how to sign in."""
    from sscmatch.db import session_scope
    from sscmatch.workflow.users import ensure_demo_users

    enabled = bool(current_app.config["DEMO"])
    with session_scope(_engine()) as session:
        accounts = ensure_demo_users(session, enabled)
    if not enabled:
        click.echo("Not in demo mode: demo accounts are disabled.")
        return
    click.echo("DEMO MODE: these accounts have published passwords (sign in at /login):")
    for a in accounts:
        where = f" ({a.country}, {a.constituency})" if a.country else ""
        click.echo(f"  {a.role:<12} {a.email:<28} password: {a.password}{where}")


@click.command("match")
@with_appcontext
@click.option(
    "--as-of",
    "as_of",
    callback=period,
    metavar="DATE",
    help="Match as the service would have on DATE (YYYY, YYYY-MM or YYYY-MM-DD).",
)
@click.option("--need", "needs", multiple=True, metavar="ID", help="Only this need (repeatable).")
@click.option(
    "--top",
    "top_k",
    default=5,
    show_default=True,
    type=click.IntRange(1, 50),
    help="Providers per need.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document (interfaces.md).")
@click.option(
    "--assign",
    "assign_portfolio",
    is_flag=True,
    help="Also choose at most one provider per need within capacities' yearly quotas.",
)
@click.option(
    "--min-per-recipient",
    default=0,
    type=click.IntRange(0, 100),
    help="With --assign: serve at least this many needs of each recipient country.",
)
@click.option(
    "--save/--no-save",
    default=None,
    help="Store the run for review (default: store, except with --as-of).",
)
def match_command(
    as_of: date | None,
    needs: tuple[str, ...],
    top_k: int,
    as_json: bool,
    assign_portfolio: bool,
    min_per_recipient: int,
    save: bool | None,
) -> None:
    """Rank providers for open needs (all, or the ones named), with reasons."""
    import json

    from sscmatch.db import refresh_statistics, session_scope
    from sscmatch.vocab import load_vocabulary
    from sscmatch.workflow import matchruns

    save = (as_of is None) if save is None else save
    if save and as_of is not None:
        raise click.UsageError(
            "--save cannot be combined with --as-of (a run of the past is not reviewed)"
        )
    vocab = load_vocabulary()
    try:
        with session_scope(_engine()) as session:
            if save:
                result = matchruns.run_and_store(session, vocab, need_ids=needs, top_k=top_k)
            else:
                proposals = matchruns.compute(
                    session, vocab, as_of=as_of, need_ids=needs, top_k=top_k
                )
                result = matchruns.MatchResult(as_of=as_of, proposals=proposals)
            assignment = (
                matchruns.portfolio(session, result.proposals, min_per_recipient)
                if assign_portfolio
                else None
            )
    except (matchruns.MatchError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    if result.run_id is not None:
        refresh_statistics(_engine())  # the planner sees the run's proposals

    if as_json:
        document: dict[str, object] = {
            "as_of": as_of.isoformat() if as_of else None,
            "proposals": [_proposal_document(p, EnglishNames()) for p in result.proposals],
        }
        if result.run_id is not None:
            document["run"] = result.run_id
        if assignment is not None:
            document["assignment"] = {
                "chosen": [
                    {
                        "need": p.need_id,
                        "provider": p.provider,
                        "capacity": p.capacity_id,
                        "basis": p.basis,
                        "score": round(p.score, 6),
                    }
                    for p in matchruns.chosen_proposals(assignment, result.proposals)
                ],
                "total": round(assignment.total, 6),
                "unserved": list(assignment.unserved),
            }
        click.echo(json.dumps(document, ensure_ascii=False, indent=1))
        return
    _print_proposals(result.proposals)
    if assignment is not None:
        click.echo(
            f"\nPortfolio: {len(assignment.chosen)} needs served, total score "
            f"{assignment.total:.3f}, {len(assignment.unserved)} left unserved."
        )
        for p in matchruns.chosen_proposals(assignment, result.proposals):
            offer = p.capacity_id or f"{p.provider} (experience, no capacity)"
            click.echo(f"  {p.need_id:<12} ← {offer}")
    if result.run_id is not None:
        click.echo(f"\nStored as match run {result.run_id} for review.")


def _proposal_document(proposal: Any, names: EnglishNames) -> dict[str, Any]:
    """A proposal as ``../shared/spec/interfaces.md`` states it: ``reasons`` are sentences a
    reviewer can read (English, as the command line prints them). The codes with their
    parameters, which a client may render in another language itself, are the extension
    ``reason_codes`` (the list of the same reasons, in the same order)."""
    document: dict[str, Any] = proposal.to_dict()
    document["reason_codes"] = document.pop("reasons")
    document["reasons"] = [render(r, names) for r in proposal.reasons]
    return document


def _print_proposals(proposals: list[Any]) -> None:
    if not proposals:
        click.echo("No proposals: no open need has a candidate provider.")
        return
    current, names = None, EnglishNames()
    for p in proposals:
        if p.need_id != current:
            current = p.need_id
            click.echo(f"\n{p.need_id} ({p.recipient})")
        # The first three reasons, and why the rank leaves the scores' order when it does
        # (a near-tie): a 0.750 above a 0.760 says so beside it, as the pages do.
        shown = [*p.reasons[:3], *(r for r in p.reasons[3:] if r.code.startswith("near_tie."))]
        reasons = "; ".join(render(r, names) for r in shown)
        offer = p.capacity_id or "(experience)"
        click.echo(f"  {p.rank}. {p.provider} {offer:<12} {p.score:.3f}  {reasons}")


# The commands that may run on a database that is not at this version's schema: the one that
# brings it there. Every other command of ``register`` checks first (:func:`_checks_database`).
RUN_ON_ANY_SCHEMA = frozenset({"init-db"})


def _checks_database(command: click.Command) -> click.Command:
    """Makes ``command`` refuse, with what to run, a database it cannot use: unreachable, not
    set up, or at another version's schema (:mod:`sscmatch.schema`), instead of a traceback.
    Idempotent: every app registers the same command objects."""
    inner = command.callback
    if command.name in RUN_ON_ANY_SCHEMA or inner is None or getattr(inner, "checks", False):
        return command

    @functools.wraps(inner)
    @with_appcontext
    def checked(*args: Any, **kwargs: Any) -> Any:
        from sqlalchemy.exc import SQLAlchemyError

        from sscmatch.schema import schema_state

        try:
            state = schema_state(_engine())
        except SQLAlchemyError as exc:
            cause = getattr(exc, "orig", None) or exc  # the driver's words, not SQLAlchemy's
            raise click.ClickException(
                f"cannot reach the database at {_redacted_url()}: {cause}"
            ) from None
        if not state.ready:
            raise click.ClickException(f"{state.describe()} (database: {_redacted_url()})")
        return inner(*args, **kwargs)

    checked.checks = True  # type: ignore[attr-defined]
    command.callback = checked
    return command


class _Storable(click.ParamType[Any]):
    """Mixed into a parameter's own type (:func:`_storable`): text that cannot be used is
    refused before the type reads it: a NUL character (PostgreSQL stores none, and no file
    name holds one) and, in text that is not a file name, bytes of the terminal that are not
    UTF-8 (Python keeps them as lone surrogates, which no database driver encodes); and a
    number that is NaN after it (``worker --poll nan`` polled without pause). Refused as
    click refuses any bad value: naming the parameter, exit 2, before the command runs."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and "\x00" in value:
            self.fail(
                f"{value!r} contains a NUL character (\\x00), which cannot be stored; remove it",
                param,
                ctx,
            )
        if isinstance(value, str) and not isinstance(self, click.Path):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                self.fail(
                    f"{value!r} is not valid UTF-8 text (check the terminal's encoding)", param, ctx
                )
        converted = super().convert(value, param, ctx)
        if isinstance(converted, float) and math.isnan(converted):  # ranges let NaN through
            self.fail(f"{value!r} is not a number", param, ctx)
        if isinstance(self, click.Path) and _is_special(converted):
            self.fail(
                f"{value} is neither a file nor a folder (a pipe, socket or device); give a file",
                param,
                ctx,
            )
        return converted


def _is_special(path: Any) -> bool:
    """Whether ``path`` names something that exists but is no regular file or folder: reading
    a named pipe waits for ever for a writer (``sscmatch restore`` hung), writing one for a
    reader, and a device has no end."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, TypeError, ValueError):
        return False  # nothing there yet, or not a path: the command's own checks answer
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


@functools.cache
def _storable(kind: type[click.ParamType[Any]]) -> type[click.ParamType[Any]]:
    """``kind`` refusing unusable text first: a subclass, so that click still sees an
    ``IntRange`` (whose range the help shows), a ``Choice`` or a ``Path``."""
    return type(f"Storable{kind.__name__}", (_Storable, kind), {})


def _is_the_database(path: Path) -> bool:
    """Whether ``path`` is the SQLite database's file or one of its companions: ``sscmatch
    backup instance/sscmatch.db`` wrote the backup over the database."""
    from sqlalchemy.engine import make_url

    url = make_url(current_app.config["DATABASE_URL"])
    if not url.drivername.startswith("sqlite") or url.database in (None, "", ":memory:"):
        return False
    database = Path(url.database).resolve()
    files = {database, *(Path(f"{database}{end}") for end in ("-wal", "-shm", "-journal"))}
    return path.resolve() in files


def _answers_plainly(command: click.Command) -> click.Command:
    """Makes ``command`` answer what the person gave it, or what the file system refused,
    with one line instead of a traceback: an argument holding text that cannot be stored is
    refused before anything runs (:class:`_Storable`), as is the database's own file given
    for a file to read or write (:func:`_is_the_database`), and a file or folder that cannot be
    read or written (a folder where a file is expected, a file under a file, no permission,
    a full disk) is named with the system's reason (exit 1). Idempotent: every app registers
    the same command objects."""
    for param in command.params:
        if not getattr(param, "is_flag", False) and not isinstance(param.type, _Storable):
            param.type.__class__ = _storable(type(param.type))
    inner = command.callback
    if inner is None or getattr(inner, "answers_plainly", False):
        return command

    @functools.wraps(inner)
    @with_appcontext
    def answered(*args: Any, **kwargs: Any) -> Any:
        for name, value in kwargs.items():
            if isinstance(value, Path) and _is_the_database(value):
                raise click.BadParameter(
                    f"{value} is the database itself (a file of {_redacted_url()})",
                    param=next(p for p in command.params if p.name == name),
                )
        try:
            return inner(*args, **kwargs)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            where = exc.filename
            raise click.ClickException(f"{where}: {reason}" if where else reason) from None

    answered.answers_plainly = True  # type: ignore[attr-defined]
    command.callback = answered
    return command


def commands() -> list[click.Command]:
    """Every command of ``sscmatch`` but Flask's own (``run``, ``routes``, ``shell``)."""
    from sscmatch.commands import all_commands

    return [
        init_db_command,
        import_command,
        export_command,
        create_user_command,
        demo_users_command,
        match_command,
        *all_commands(),
    ]


def register(app: Flask) -> None:
    for command in commands():
        app.cli.add_command(_answers_plainly(_checks_database(command)))


def _app() -> Flask:
    """The app, or a setting it cannot use said in one line (Flask's "Error: …"), no traceback."""
    try:
        return create_app()
    except SettingError as exc:
        raise NoAppException(str(exc)) from None


class _Group(FlaskGroup):
    """Flask's group, but a command of ours whose app cannot be made (a setting it cannot use)
    stops at that one line: Flask would print it, then its usage and "No such command",
    because our commands are registered on the app (:func:`register`)."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if click.Group.get_command(self, ctx, cmd_name) is None:  # not one of Flask's own
            try:
                ctx.ensure_object(ScriptInfo).load_app()
            except NoAppException as exc:
                raise click.ClickException(exc.format_message()) from None
        return super().get_command(ctx, cmd_name)


cli = _Group(
    create_app=_app,
    help="sscmatch: South-South cooperation supply–demand matching.",
)
