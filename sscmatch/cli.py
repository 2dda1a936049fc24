"""The console script ``sscmatch``: a Flask CLI group (``run`` and ``routes`` come with Flask).

Commands answer bad input with a clear message and a non-zero exit, never a traceback.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy.engine import Engine

from sscmatch import create_app


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


@click.command("import")
@with_appcontext
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--if-empty", is_flag=True, help="Import only when the database holds no records yet."
)
def import_command(path: Path, if_empty: bool) -> None:
    """Load a bundle (CSV folder or .json file): all or nothing, idempotent by id."""
    from sqlalchemy import func
    from sqlmodel import select

    from sscmatch.bundle import BundleError, import_bundle
    from sscmatch.db import session_scope
    from sscmatch.models import Capacity, Exchange, Need
    from sscmatch.vocab import load_vocabulary

    with session_scope(_engine()) as session:
        if if_empty and any(
            session.exec(select(func.count()).select_from(m)).one()
            for m in (Capacity, Need, Exchange)
        ):
            click.echo("The database already holds records; nothing imported (--if-empty).")
            return
        try:
            report = import_bundle(session, path, load_vocabulary())
        except BundleError as exc:
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            raise click.ClickException(
                f"{len(exc.problems)} problem(s) found; nothing was imported."
            ) from None
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


def register(app: Flask) -> None:
    for command in (
        init_db_command,
        import_command,
        export_command,
        create_user_command,
        demo_users_command,
    ):
        app.cli.add_command(command)


cli = FlaskGroup(
    create_app=lambda: create_app(),
    help="sscmatch: South-South cooperation supply–demand matching.",
)
