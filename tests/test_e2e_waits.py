"""The browser tests wait for the page before they judge it.

Playwright's ``click`` (``press``, ``fill``, ``select_option``...) returns once the action is done,
not once the page it leads to is there: a ``locator.count()`` or ``inner_text()`` read right after
it reads whatever document is there at that instant (the old page, or the new one still being
parsed or drawn by its script). Such a test passes on a fast machine and fails on a slow one
although the app is right. Playwright's web-first assertions (``expect(locator).to_have_count(n)``,
``to_contain_text``, ``to_have_text``, ``to_be_attached``, ``expect(page).to_have_url``...) retry
until their timeout; the journeys use those (``tests/e2e/conftest.py`` re-exports ``expect`` and
adds ``expect_at_least``).

This test walks every ``tests/e2e/*.py`` with ``ast`` (no browser needed) and holds it to two
rules:

1. An ``assert`` never reads the page itself: no call in it of a one-shot read (``count()``
   without arguments, ``inner_text``, ``all_inner_texts``, ``text_content``,
   ``all_text_contents``, ``input_value``, ``get_attribute``, ``is_visible``, ``is_hidden``,
   ``is_checked``, ``is_enabled``, ``is_disabled``, ``is_editable``) and no ``.url``. An assert
   that does so on purpose, after an ``expect`` brought the page to the state it reads, says so
   with the comment ``# read after expect`` on one of its lines.
2. A read kept in a name (a count compared with another one later, a text checked item by item,
   an address reused) does not come straight after an action: in the function's statements,
   taken in source order, an action (``click``, ``dblclick``, ``tap``, ``press``, ``fill``,
   ``type``, ``check``, ``uncheck``, ``select_option``, ``set_checked``, ``focus``) is followed
   by a web-first wait (an ``expect(...)`` assertion, ``wait_for``, ``wait_for_url``,
   ``wait_for_function``, ``wait_for_selector``, a ``with ...expect_navigation()`` block,
   ``goto``, or a call of a helper of the same file that waits) before the next read.
   ``wait_for_timeout`` and ``wait_for_load_state`` are no such wait (the first is a fixed
   sleep, the second answers for the document that is there, which may still be the old one).

Both rules are checked on the journeys as they stand and on samples of the defect below, so the
walk is known to catch it (on the journeys before they were converted it found 139 places: 130
asserts and 9 reads kept in a name).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

E2E = Path(__file__).parent / "e2e"
MARKER = "# read after expect"
READS = {
    "inner_text",
    "all_inner_texts",
    "text_content",
    "all_text_contents",
    "input_value",
    "get_attribute",
    "is_visible",
    "is_hidden",
    "is_checked",
    "is_enabled",
    "is_disabled",
    "is_editable",
}
ACTIONS = {
    "click",
    "dblclick",
    "tap",
    "press",
    "fill",
    "type",
    "check",
    "uncheck",
    "select_option",
    "set_checked",
    "focus",
}
WAITS = {
    "wait_for",
    "wait_for_url",
    "wait_for_function",
    "wait_for_selector",
    "expect_navigation",
    "goto",
}


def _method(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Attribute):
            return node.func.attr
        if isinstance(node.func, ast.Name):
            return node.func.id
    return None


def _is_read(node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute) and node.attr == "url" and isinstance(node.ctx, ast.Load):
        return True
    name = _method(node)
    if name == "count":
        assert isinstance(node, ast.Call)
        return not node.args and not node.keywords  # str.count(x) is no page read
    return name in READS


def _reads(node: ast.AST) -> list[ast.AST]:
    return [n for n in ast.walk(node) if _is_read(n)]


def _is_expect(node: ast.AST) -> bool:
    """``expect(...)...`` or ``expect_at_least(...)``: a web-first assertion."""
    while isinstance(node, ast.Call | ast.Attribute):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            return node.func.id in ("expect", "expect_at_least")
        node = node.func if isinstance(node, ast.Call) else node.value
    return False


def _statements(body: list[ast.stmt]) -> Iterator[tuple[ast.stmt, bool]]:
    """A function's statements in source order, the bodies of with/for/if/try included, nested
    functions left out (they are walked on their own); each with ``closing`` False, and a
    ``with`` statement once more after its body with ``closing`` True (a ``with
    page.expect_navigation():`` waits when its body is done)."""
    for stmt in body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        yield stmt, False
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list):
                yield from _statements(inner)
        for handler in getattr(stmt, "handlers", []):
            yield from _statements(handler.body)
        if isinstance(stmt, ast.With | ast.AsyncWith):
            yield stmt, True


def _own_nodes(stmt: ast.stmt) -> Iterator[ast.AST]:
    """The nodes of a statement without those of the statements it holds (a with's body...)."""
    if isinstance(stmt, ast.With | ast.AsyncWith):
        for item in stmt.items:
            yield from ast.walk(item)
    elif isinstance(stmt, ast.For | ast.AsyncFor):
        yield from ast.walk(stmt.target)
        yield from ast.walk(stmt.iter)
    elif isinstance(stmt, ast.If | ast.While):
        yield from ast.walk(stmt.test)
    elif isinstance(stmt, ast.Try):
        return
    else:
        yield from ast.walk(stmt)


def _waits(stmt: ast.stmt, helpers: set[str]) -> bool:
    return any(
        _is_expect(n) or _method(n) in WAITS or _method(n) in helpers for n in _own_nodes(stmt)
    )


def _acts(stmt: ast.stmt) -> bool:
    return any(_method(n) in ACTIONS for n in _own_nodes(stmt))


def problems(source: str, name: str = "<test>") -> list[str]:
    """Where ``source`` (a browser test module) breaks rule 1 or rule 2."""
    tree = ast.parse(source)
    lines = source.splitlines()
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
    # helpers of the file that wait (``_says``: a flash message's wait_for), transitively
    helpers: set[str] = set()
    grown = True
    while grown:
        grown = False
        for f in functions:
            if f.name not in helpers and any(_waits(s, helpers) for s, _ in _statements(f.body)):
                helpers.add(f.name)
                grown = True
    found = []
    for f in functions:
        after_action = False
        for stmt, closing in _statements(f.body):
            if closing:  # the end of a with block: its wait is done now
                after_action = after_action and not _waits(stmt, helpers)
                continue
            if isinstance(stmt, ast.With | ast.AsyncWith):
                continue  # its items wait when the block ends, not before its body
            where = f"{name}:{stmt.lineno}"
            if isinstance(stmt, ast.Assert):
                text = "\n".join(lines[stmt.lineno - 1 : (stmt.end_lineno or stmt.lineno)])
                if _reads(stmt.test) and MARKER not in text:  # not its message
                    found.append(f"{where}: assert reads the page once: {lines[stmt.lineno - 1]}")
            elif (
                isinstance(stmt, ast.Assign | ast.AnnAssign | ast.AugAssign)
                and after_action
                and stmt.value is not None
                and _reads(stmt.value)
            ):
                found.append(f"{where}: read right after an action: {lines[stmt.lineno - 1]}")
            if _waits(stmt, helpers):
                after_action = False
            elif _acts(stmt):
                after_action = True
    return found


def e2e_files() -> list[Path]:
    return sorted(E2E.glob("*.py"))


@pytest.mark.parametrize("path", e2e_files(), ids=lambda p: p.name)
def test_browser_tests_wait_before_they_read(path: Path) -> None:
    assert problems(path.read_text(encoding="utf-8"), path.name) == []


DEFECTS = [
    # an immediate count after a click that submits
    """
def test(page):
    page.locator("button").click()
    assert page.locator(".badge").count() == 1
""",
    # text in an element's text, read once
    """
def test(page):
    page.goto("/x")
    assert "Saved" in page.locator(".flash").inner_text()
""",
    # the address, read once after a click
    """
def test(page):
    page.click("a")
    assert "/done" in page.url
""",
    # a read kept in a name right after an action
    """
def test(page):
    page.locator("form button").click()
    before = page.locator("tr").count()
    assert before > 2
""",
    # a fixed sleep and a load-state wait are no web-first waits
    """
def test(page):
    page.select_option("#f", "x")
    page.wait_for_timeout(400)
    page.wait_for_load_state()
    n = page.locator("li").count()
""",
    # a download is no navigation: the page after it is read as it is
    """
def test(page):
    with page.expect_download():
        page.locator("a.csv").click()
    shown = page.locator("tr").count()
""",
]

FINE = [
    """
def _says(page, text):
    page.locator(".flash", has_text=text).first.wait_for()

def test(page):
    page.locator("button").click()
    expect(page.locator(".badge")).to_have_count(1)
    expect(page.locator(".flash")).to_contain_text("Saved")
    expect(page).to_have_url(re.compile("/done"))
    page.locator("form button").click()
    _says(page, "Saved")
    before = page.locator("tr").count()
    assert before > 2
    assert page.locator("tr").count() == before  # read after expect: the list is whole
    assert "Saved x".count("x") == 1
    with page.expect_navigation():
        page.click("form button")
    who = page.locator("a.who").inner_text()
""",
]


@pytest.mark.parametrize("source", DEFECTS)
def test_the_walk_finds_the_defect(source: str) -> None:
    assert len(problems(source)) == 1, problems(source)


@pytest.mark.parametrize("source", FINE)
def test_the_walk_lets_waited_reads_through(source: str) -> None:
    assert problems(source) == []
