"""More CLI commands, one module per area (each defines ``COMMANDS``, a list of click commands).

``sscmatch.cli.register`` adds every area's commands (:data:`AREAS`), so an area adds a command
without touching the shared ``cli.py``: a new module is added to :data:`AREAS`
(``tests/test_architecture.py`` fails while one is missing). Commands answer bad input with a
clear message and a non-zero exit (``click.ClickException``), never a traceback.
"""

from __future__ import annotations

import click

from sscmatch.commands import backup, calibrate, followup, jobs, network

AREAS = (backup, calibrate, followup, jobs, network)


def all_commands() -> list[click.Command]:
    return [command for area in AREAS for command in area.COMMANDS]
