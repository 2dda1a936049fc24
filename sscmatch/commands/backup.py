"""``sscmatch backup PATH`` and ``sscmatch restore PATH``: every table, all or nothing."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("backup")
@with_appcontext
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
def backup_command(path: Path) -> None:
    """Write every record of every table to PATH (JSON)."""
    from sscmatch.workflow.backup import write_backup

    with current_app.extensions["sscmatch.engine"].connect() as connection:
        counts = write_backup(connection, path)
    click.echo(f"Backed up {sum(counts.values())} rows of {len(counts)} tables to {path}.")


@click.command("restore")
@with_appcontext
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False, exists=True))
def restore_command(path: Path) -> None:
    """Restore a backup into an empty, migrated database (sscmatch init-db first)."""
    from sscmatch.workflow.backup import BackupError, restore_backup

    engine = current_app.extensions["sscmatch.engine"]
    try:
        with engine.begin() as connection:
            counts = restore_backup(connection, path)
    except BackupError as exc:
        raise click.ClickException(f"{exc}; nothing was restored.") from None
    click.echo(f"Restored {sum(counts.values())} rows of {len(counts)} tables from {path}.")


COMMANDS = [backup_command, restore_command]
