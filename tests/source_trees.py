"""The package's source, parsed once a test process.

A dozen tests read the package's own code (the architecture's layers, who reads the clock's
date, every CSV writer, every audit field written by hand, every sentence with a number):
each parsed every module again, some once per case, 14,000 parses in a run of the suite
(about 10 s of it). The trees are shared: a test walks them and must not change them.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "sscmatch"


@cache
def source_tree(path: Path) -> ast.Module:
    """The parsed module at ``path`` (its file name given to the parser, for error lines)."""
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


@cache
def package_files() -> tuple[Path, ...]:
    """Every Python file of the package, in path order."""
    return tuple(sorted(PACKAGE.rglob("*.py")))
