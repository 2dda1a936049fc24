"""Every problem a bundle can have is a message of the catalogue, translated.

A :class:`sscmatch.bundle.Problem` carries an English message id and its values; the import page
says it in the reader's language (``web.imports.problem_text``). A message built with an f-string,
``%``, ``+`` or ``.format`` is no message of the catalogue: it would reach a Spanish page in
English. This walks every construction of the bundle's ``Problem`` in ``sscmatch/`` (in the
modules that define or import it: ``workflow.tours`` has a ``Problem`` of its own) by its syntax
tree and asks of its message that

- it is not built;
- a literal (``N_("...")``, or a module constant bound to one) is a msgid of the es/pt/fr
  catalogues with a non-empty msgstr, and the values given with it (a dict literal) are its
  placeholders, no more, no fewer;
- a message passed through a variable or a call was traced by hand to such literals
  (:data:`PASSED_THROUGH`); every ``N_`` literal of those modules is in the catalogues too, which
  covers what they pass.

The places a problem names instead of a column (``file``, ``row``…) are words too: each is checked
the same way. That each message reaches a page in the reader's language, values and all, is
``tests/web/test_import_problems_translated.py``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from sscmatch.bundle.format import PLACES
from tests.test_error_catalogue import _catalogues, _functions, _trees

HOME = "sscmatch/bundle/format.py"
"""Where the bundle's ``Problem`` is defined."""
PLACEHOLDER = re.compile(r"%\((\w+)\)s")

PASSED_THROUGH: dict[tuple[str, str], str] = {
    ("sscmatch/bundle/read.py", "_read_csv"): "message of _csv_error: a value of BROKEN_HEADER "
    "or BROKEN_ROW (N_ literals), its params the field limit",
    ("sscmatch/bundle/read.py", "_read_json"): "JSON_ERRORS.get(exc.msg, INVALID_JSON): N_ "
    "literals without values",
    ("sscmatch/bundle/validate.py", "_resolve"): "unknown_near / unknown: the N_ literals each of "
    "_country, _theme and _language passes, with value (and near when there is one)",
    ("sscmatch/bundle/validate.py", "need"): "message: the N_ literals _check_references passes, "
    "with value",
    ("sscmatch/bundle/validate.py", "_build"): "_message(error): N_ literals and PYDANTIC's, a "
    "PartialDateError's message (sscmatch.dates.MESSAGES, N_) with its params, or a schema "
    "validator's sentence as it is, which the page says by its shape (web.messages.SHAPES: the "
    "web test meets each)",
    ("sscmatch/bundle/read.py", "_read_members"): "_unreadable(exc): ENCRYPTED, UNSUPPORTED or "
    "DAMAGED, N_ literals without values",
    ("sscmatch/bundle/format.py", "problem"): "Row.problem: its callers' message, each call of "
    "``.problem(field, msgid, params)`` walked here as a construction",
}


def _users_of_problem() -> list[str]:
    """The modules whose ``Problem`` is the bundle's: its own, and those importing it."""
    out = [HOME]
    for path, tree in _trees().items():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module in ("sscmatch.bundle", "sscmatch.bundle.format")
                and any(alias.name == "Problem" for alias in node.names)
            ):
                out.append(path)
    return sorted(set(out))


def _marked(node: ast.expr) -> str | None:
    """The text of ``N_("...")``, else None."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "N_"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        return node.args[0].value
    return None


def _constants(tree: ast.Module) -> dict[str, str]:
    """Module constants bound to an ``N_`` literal, by name (``NUL_MESSAGE = N_("...")``)."""
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, text = node.targets[0], _marked(node.value)
            if isinstance(target, ast.Name) and text is not None:
                out[target.id] = text
    return out


def _constructions() -> Iterator[tuple[str, str, ast.Call]]:
    """Every ``Problem(...)`` of the bundle's, and every ``row.problem(field, msgid, params)``
    (a record's problem, :meth:`sscmatch.bundle.format.Row.problem`): module, function, call."""
    for path in _users_of_problem():
        for function, node in _functions(_trees()[path]):
            if isinstance(node, ast.Call) and (
                (isinstance(node.func, ast.Name) and node.func.id == "Problem")
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "problem")
            ):
                yield path, function, node


def _argument(call: ast.Call, index: int, name: str) -> ast.expr | None:
    """Argument ``index`` of ``Problem(file, line, field, msgid, params)`` (or ``name``); a
    ``.problem(field, msgid, params)`` call gives the same from its third."""
    if isinstance(call.func, ast.Attribute):
        index -= 2
    if 0 <= index < len(call.args):
        return call.args[index]
    return next((k.value for k in call.keywords if k.arg == name), None)


def _text(call: ast.Call, constants: dict[str, str]) -> str | None:
    """The message of a construction when it is an N_ literal or a constant bound to one."""
    message = _argument(call, 3, "msgid")
    if isinstance(message, ast.Name):
        return constants.get(message.id)
    return _marked(message) if message is not None else None


def _untranslated(text: str) -> Iterator[str]:
    for lang, catalogue in _catalogues().items():
        if not catalogue.get(text):
            yield f"{text[:70]!r} has no {lang} translation"


def _findings() -> Iterator[str]:
    for path, function, call in _constructions():
        where = f"{path}:{call.lineno} in {function}"
        constants = _constants(_trees()[path])
        message = _argument(call, 3, "msgid")
        params = _argument(call, 4, "params")
        if message is None:
            yield f"{where}: no message"
            continue
        text = _text(call, constants)
        if isinstance(message, ast.JoinedStr | ast.BinOp) or (
            isinstance(message, ast.Call)
            and isinstance(message.func, ast.Attribute)
            and message.func.attr in ("format", "join")
        ):
            yield f"{where}: a message built in place ({ast.unparse(message)[:60]})"
        elif isinstance(message, ast.Constant):
            yield f"{where}: {message.value!r} is not marked N_ (scripts/i18n would not extract it)"
        elif text is not None:
            yield from (f"{where}: {p}" for p in _untranslated(text))
            wanted = set(PLACEHOLDER.findall(text))
            if isinstance(params, ast.Dict):
                given = {k.value for k in params.keys if isinstance(k, ast.Constant)}
                if given != wanted:
                    yield f"{where}: values {sorted(given)} for placeholders {sorted(wanted)}"
            elif params is None and wanted:
                yield f"{where}: no values for placeholders {sorted(wanted)}"
        elif (path, function) not in PASSED_THROUGH:
            yield f"{where}: message passed through ({ast.unparse(message)[:60]}) not traced"
        field = _argument(call, 2, "field")
        # a place is one of PLACES (a word, translated); a literal column is the format's name
        if isinstance(field, ast.Constant) and field.value not in ("id", "parent"):
            yield f"{where}: the place {field.value!r} is not one of PLACES"


def _every_marked() -> Iterator[tuple[str, str]]:
    for path in _users_of_problem():
        for node in ast.walk(_trees()[path]):
            text = _marked(node) if isinstance(node, ast.expr) else None
            if text is not None:
                yield path, text


def test_the_walk_sees_the_problems() -> None:
    """Not vacuous: the modules that make problems, and most of their constructions."""
    users = _users_of_problem()
    assert {HOME, "sscmatch/bundle/validate.py", "sscmatch/web/imports.py"} <= set(users)
    assert "sscmatch/workflow/tours/base.py" not in users  # its Problem is another class
    assert sum(1 for _ in _constructions()) > 30
    passed = {
        (path, function)
        for path, function, call in _constructions()
        if _text(call, _constants(_trees()[path])) is None
    }
    assert passed == set(PASSED_THROUGH), "PASSED_THROUGH traces no more and no fewer"


def test_every_problem_message_is_in_the_catalogue() -> None:
    found = list(_findings())
    assert found == [], f"{len(found)} problem messages not in the catalogue:\n" + "\n".join(found)


def test_every_message_and_place_of_the_bundle_is_translated() -> None:
    """What passes through variables is written as N_ literals somewhere in these modules."""
    missing = [f"{path}: {p}" for path, text in _every_marked() for p in _untranslated(text)]
    missing += [p for place in PLACES for p in _untranslated(place)]
    assert missing == [], "\n".join(missing)
