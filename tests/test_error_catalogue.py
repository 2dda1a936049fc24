"""Every use-case error a user can read is a message of the catalogue, translated.

A use case refuses with a :class:`sscmatch.workflow.base.DomainError` (or one of its families);
the pages and the API say it in the reader's language through ``web.errors.error_text``, which
finds the error's English ``message`` in the catalogue and fills in its ``params``. A message
built with an f-string, ``%`` or ``+`` is not in the catalogue: it reaches the reader in English.

This walks every ``raise`` of a DomainError subclass in ``sscmatch/``, and every refusal built to
be raised later (every call of such a class; the classes found by the syntax tree, through their
bases, as the imports name them: ``click.BadParameter`` is not ours) and asks of its message that

- it is not built (f-string, ``%``, ``+``, ``.format``), outside the modules only the command line
  reaches (:data:`CLI_ONLY`: the command line speaks English);
- a literal (``N_("...")`` or a plain string, each branch of a conditional) is a msgid of the
  es/pt/fr catalogues with a non-empty msgstr;
- a message passed through a variable was traced by hand to catalogue strings
  (:data:`PASSED_THROUGH`, keyed by module and function, each with where it comes from).

Classes that build their own message in ``__init__`` (:data:`BUILT_BY_CLASS`) are checked in that
``__init__``: no built message passed up, and the literals it passes up are in the catalogues.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

from tests.source_trees import source_tree

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "sscmatch"
CATALOGUES = PACKAGE / "translations"
LANGUAGES = ("es", "pt", "fr")
BASE_CLASSES = {"DomainError"}
MARKERS = {"N_", "_l", "lazy_gettext", "gettext", "_"}

CLI_ONLY = {
    "sscmatch/workflow/backup.py": "sscmatch backup / sscmatch restore only "
    "(sscmatch/commands/backup.py): the command line speaks English",
    "sscmatch/workflow/evalsets.py": "scripts/evaluate and sscmatch calibrate's corpora only "
    "(matching.replay, scripts/evaluate*): the command line speaks English",
}

BAD_VERSION = (
    "str() of sscmatch.db.BadVersion: its two sentences are messages of the catalogue "
    "(web.messages.SHAPES), found by error_text"
)
PASSED_THROUGH: dict[tuple[str, str], str] = {
    ("sscmatch/workflow/admin.py", "_as_admin_refusal"): "exc.message and exc.params of a UserError "
    "(workflow.users, N_ messages)",
    ("sscmatch/workflow/admin.py", "update_user"): BAD_VERSION,
    ("sscmatch/workflow/proposals/lifecycle.py", "check_version"): BAD_VERSION,
    ("sscmatch/workflow/proposals/undo.py", "reopen_need"): BAD_VERSION,
    ("sscmatch/workflow/proposals/undo.py", "_refusal"): "plain and named: N_ literals of "
    "its one caller, revert_refusal",
    ("sscmatch/workflow/base.py", "choice_filter"): "message: N_ default, or an N_ literal "
    "of every caller (status_filter, the lists' filters)",
    ("sscmatch/workflow/commitments.py", "_raise_problems"): "Problems of N_ literals of "
    "commitments.py, or the date rule's own (PartialDateError.message: sscmatch.dates.MESSAGES, "
    "N_), each said by error_text / field_errors through tourtext.message",
}

BUILT_BY_CLASS: dict[str, str] = {
    "InvalidRecord": "error_text says each field's problem again through messages.translated "
    "(schema and pydantic sentences of known shapes), not the joined English",
    "TourProblems": "error_text says each problem's own message and params (tourtext.message)",
    "BundleError": "N_ message with the count; each problem is said on the import page",
    "IllegalTransitionError": "N_ messages with the statuses as params",
    "OverrideRequiredError": "N_ message with the status as a param",
    "WrongCredentials": "N_ message",
    "TooManyAttempts": "N_ message with the seconds as a param",
}


@dataclass(frozen=True)
class Finding:
    where: str
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


@cache
def _trees() -> dict[str, ast.Module]:
    return {
        str(path.relative_to(ROOT)): source_tree(path) for path in sorted(PACKAGE.rglob("*.py"))
    }


def _foreign_names(tree: ast.Module) -> set[str]:
    """Names a module imports from outside sscmatch (``click.BadParameter`` is not ours)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if not alias.name.startswith("sscmatch"):
                    out.add((alias.asname or alias.name).split(".")[0])
        elif (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and not (node.module or "").startswith("sscmatch")
        ):
            out.update(alias.asname or alias.name for alias in node.names)
    return out


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


@cache
def _classes() -> dict[str, ast.ClassDef]:
    """Every DomainError subclass of sscmatch, by name, with its definition."""
    found: dict[str, ast.ClassDef] = {}
    defs = [
        (path, node)
        for path, tree in _trees().items()
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
    ]
    known = set(BASE_CLASSES)
    changed = True
    while changed:
        changed = False
        for _path, node in defs:
            if node.name not in found and any(_name(b) in known for b in node.bases):
                found[node.name] = node
                known.add(node.name)
                changed = True
    return found


def _own_init(node: ast.ClassDef) -> ast.FunctionDef | None:
    """The class's ``__init__`` when it does not take the message first (it builds it)."""
    for item in node.body:
        if isinstance(item, ast.FunctionDef) and item.name == "__init__":
            params = [a.arg for a in item.args.posonlyargs + item.args.args][1:]
            if not params or params[0] != "message":
                return item
    return None


def _built_by_class(name: str) -> bool:
    classes = _classes()
    seen = set()
    while name in classes and name not in seen:
        seen.add(name)
        if _own_init(classes[name]) is not None:
            return True
        parents = [_name(b) for b in classes[name].bases]
        name = next((p for p in parents if p in classes), "")
    return False


def _functions(tree: ast.Module) -> Iterator[tuple[str, ast.AST]]:
    """Every node with the name of the innermost function (or class) around it."""

    def walk(node: ast.AST, where: str) -> Iterator[tuple[str, ast.AST]]:
        for child in ast.iter_child_nodes(node):
            inner = where
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                inner = child.name
            yield inner, child
            yield from walk(child, inner)

    yield from walk(tree, "<module>")


def _literals(node: ast.expr) -> Iterator[ast.expr]:
    """The message's possible values: each branch of a conditional (or ``a or b``)."""
    if isinstance(node, ast.IfExp):
        yield from _literals(node.body)
        yield from _literals(node.orelse)
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            yield from _literals(value)
    else:
        yield node


def _problems(node: ast.expr, where: tuple[str, str]) -> Iterator[str]:
    """What is wrong with one possible message (nothing when it is a catalogue string)."""
    text: str | None = None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value
    elif (
        isinstance(node, ast.Call)
        and _name(node.func) in MARKERS
        and node.args
        and isinstance(node.args[0], ast.Constant)
    ):
        text = str(node.args[0].value)
    elif isinstance(node, ast.JoinedStr):
        yield "an f-string"
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        yield "a %-formatted string"
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        yield "a concatenated string"
    elif isinstance(node, ast.Call) and _name(node.func) in ("format", "join"):
        yield "a string built by .format/.join"
    elif where not in PASSED_THROUGH:
        yield f"a message passed through ({ast.unparse(node)[:60]}) not traced in PASSED_THROUGH"
    if text is not None and text:
        for lang, translations in _catalogues().items():
            if not translations.get(text):
                yield f"{text[:70]!r} has no {lang} translation"


@cache
def _catalogues() -> dict[str, dict[str, str]]:
    out = {}
    for lang in LANGUAGES:
        with (CATALOGUES / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
            out[lang] = {
                str(m.id): str(m.string)
                for m in read_po(handle)
                if m.id and isinstance(m.id, str) and m.string and not m.fuzzy
            }
    return out


def _raises() -> Iterator[tuple[str, str, int, ast.Call]]:
    """Every construction of a DomainError subclass (``raise Error(...)``, or a refusal built to
    be raised later): module, function, line, call."""
    classes = _classes()
    for path, tree in _trees().items():
        foreign = _foreign_names(tree)
        for function, node in _functions(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if _name(func) not in classes:
                continue
            if isinstance(func, ast.Name) and func.id in foreign:
                continue
            if isinstance(func, ast.Attribute) and _name(func.value) in foreign:
                continue
            yield path, function, node.lineno, node


def _message_of(call: ast.Call, error: str) -> ast.expr | None:
    """The argument that is the message: the first, or for a class that builds its message,
    its ``message`` parameter if it has one (else None: the class says it)."""
    index = 0
    if _built_by_class(error):
        init = _init_of(error)
        params = [a.arg for a in init.args.posonlyargs + init.args.args][1:] if init else []
        if "message" not in params:
            return None
        index = params.index("message")
    if len(call.args) > index:
        return call.args[index]
    return next((k.value for k in call.keywords if k.arg == "message"), None)


def _init_of(name: str) -> ast.FunctionDef | None:
    classes = _classes()
    seen = set()
    while name in classes and name not in seen:
        seen.add(name)
        init = _own_init(classes[name])
        if init is not None:
            return init
        parents = [_name(b) for b in classes[name].bases]
        name = next((p for p in parents if p in classes), "")
    return None


def findings() -> list[Finding]:
    out: list[Finding] = []
    for path, function, line, call in _raises():
        if path in CLI_ONLY:
            continue
        error = str(_name(call.func))
        message = _message_of(call, error)
        if message is None:
            if not _built_by_class(error) and (call.args or call.keywords):
                out.append(Finding(f"{path}:{line} {error} in {function}", "no message"))
            continue
        for value in _literals(message):
            for problem in _problems(value, (path, function)):
                out.append(Finding(f"{path}:{line} {error} in {function}", problem))
    out.extend(_class_findings())
    return out


def _class_findings() -> Iterator[Finding]:
    for name, node in sorted(_classes().items()):
        init = _own_init(node)
        if init is None:
            continue
        if name not in BUILT_BY_CLASS:
            yield Finding(name, "builds its message in __init__: say how in BUILT_BY_CLASS")
            continue
        if name in ("InvalidRecord", "TourProblems"):
            continue  # said part by part by error_text (see BUILT_BY_CLASS)
        for call in ast.walk(init):
            if not (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and call.func.attr == "__init__"
            ):
                continue
            parent = next((_name(b) for b in node.bases if _name(b) in _classes()), "")
            message = _message_of(call, parent) if parent in _classes() else None
            if message is None and call.args:
                message = call.args[0]
            if message is None:
                continue
            for value in _literals(message):
                if isinstance(value, ast.Name) and value.id == "message":
                    continue  # its own message parameter: the raises passing it are walked
                for problem in _problems(value, ("", "")):
                    yield Finding(f"{name}.__init__:{call.lineno}", problem)


def test_the_walk_sees_the_errors() -> None:
    """The walk is not vacuous: it finds the families and their raises."""
    assert {"NotFound", "Forbidden", "Conflict", "BadParameter", "AdminError"} <= set(_classes())
    assert sum(1 for _ in _raises()) > 150
    assert all(path in _trees() for path in CLI_ONLY)


def test_every_error_message_is_in_the_catalogue() -> None:
    found = findings()
    assert not found, f"{len(found)} error messages not in the catalogue:\n" + "\n".join(
        map(str, found)
    )


def _iso_text_params() -> list[str]:
    """The values of raised errors given as a date's text (``day.isoformat()``,
    ``moment.strftime(...)``): the edge writes a ``date`` or a ``datetime`` the reader's way
    (:func:`sscmatch.web.tourtext.message`), but their ISO text reached French sentences as is."""
    out = []
    for path, function, line, call in _raises():
        for keyword in call.keywords:
            for node in ast.walk(keyword.value):
                if isinstance(node, ast.Call) and _name(node.func) in ("isoformat", "strftime"):
                    out.append(f"{path}:{line} {function}: {keyword.arg}")
    return out


def test_no_error_carries_a_date_as_its_iso_text() -> None:
    assert _iso_text_params() == []
