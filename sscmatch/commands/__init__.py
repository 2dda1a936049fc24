"""More CLI commands, one module per area (each defines ``COMMANDS``, a list of click commands).

``sscmatch.cli.register`` adds every module's commands, so an area adds a command without
touching the shared ``cli.py``. Commands answer bad input with a clear message and a non-zero
exit (``click.ClickException``), never a traceback.
"""

from __future__ import annotations

import importlib
import pkgutil

import click


def all_commands() -> list[click.Command]:
    found: list[click.Command] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        found.extend(getattr(module, "COMMANDS", []))
    return found
