"""The layers of ../shared/design/architecture.md, enforced on the imports of every module.

edge (web, cli, the factory) → use cases (workflow, analytics, bundle) → persistence (db, models,
schemas, columns, relations, migrations) and engine (matching) → base (vocab, config, dates, text, enums).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "sscmatch"

LAYERS = {
    "base": 0,
    "engine": 1,
    "persistence": 1,
    "usecase": 2,
    "edge": 3,
}

# Third-party packages a layer must never touch (the engine is pure: no web, no database).
FORBIDDEN = {
    "base": {"flask", "sqlmodel", "sqlalchemy", "alembic", "networkx", "click"},
    "engine": {"flask", "sqlmodel", "sqlalchemy", "alembic", "click", "werkzeug"},
    "persistence": {"flask", "click", "werkzeug"},
    "usecase": {"flask", "click", "werkzeug"},
    "edge": set(),
}
# Exceptions that carry no web machinery: password hashing is werkzeug's, not Flask's.
ALLOWED = {"werkzeug.security"}


def layer_of(module: str) -> str:
    parts = module.split(".")
    head = parts[1] if len(parts) > 1 else ""
    if head in {"vocab", "config", "dates", "text", "enums"}:
        return "base"
    if head == "matching":
        return "engine"
    if head in {"db", "models", "relations", "schemas", "columns", "migrations"}:
        return "persistence"
    if head in {"workflow", "analytics", "bundle"}:
        return "usecase"
    return "edge"  # sscmatch (the factory), sscmatch.web, sscmatch.cli, sscmatch.commands


def modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        name = ".".join(rel.parts).removesuffix(".__init__")
        found.append((name, path))
    return found


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize(("module", "path"), modules(), ids=lambda v: str(v))
def test_layering(module: str, path: Path) -> None:
    own = layer_of(module)
    for imported in imports_of(path):
        top = imported.split(".")[0]
        if imported not in ALLOWED:
            assert top not in FORBIDDEN[own], f"{module} ({own}) imports {imported}"
        if top != "sscmatch" or imported == "sscmatch":
            continue
        other = layer_of(imported)
        if own == "engine":
            assert other in {"base", "engine"}, f"{module} (engine) imports {imported} ({other})"
        elif own == "persistence":
            assert other in {"base", "persistence"}, f"{module} imports {imported} ({other})"
        else:
            assert LAYERS[other] <= LAYERS[own], f"{module} ({own}) imports {imported} ({other})"


def test_walk_finds_the_layers() -> None:
    found = {layer_of(name) for name, _ in modules()}
    assert {"base", "persistence", "usecase", "edge"} <= found
