"""Every number Python code puts into a sentence a person reads is written the reader's way.

The audit found "3 × billete de ida y vuelta 561 (2,339 km entre capitales)" (an English comma in
a Spanish sentence, beside amounts written "1.684"), "Distancia ortodrómica entre las capitales:
2339 km" (no grouping) and "Textos parecidos en un 96%" (Spanish writes "96 %", as the follow-up
page did). Python's own formatting writes English: ``f"{x:,}"``, ``"{:,}".format(x)``,
``f"{x:,.0f}"``, and a percentage glued to its sign (``"%d%%"``, ``"%(percent)d%%"``,
``f"{x}%"``) is English and Portuguese, not Spanish or French. A number goes through the reader's
format instead: the ``num`` and ``percent`` filters (``sscmatch.web.templating.number`` /
``percent``), ``translate.reader_number``, a plural's count (``sscmatch.plurals``), and the
engine's ``Names.number`` / ``Names.percent``.

Two checks of the class: a walk of the syntax of every module whose text reaches a person (the
command line, which speaks English, aside), and the pages and calendar where the audit saw it, in
Spanish and French.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from flask import Flask
from sqlmodel import Session

from sscmatch.matching import Reason
from sscmatch.models import StudyTour
from tests.source_trees import source_tree
from tests.web import test_tour_files_language as tour_files

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "sscmatch"
COMMAND_LINE = (
    "sscmatch/cli.py",
    "sscmatch/commands/",
    "sscmatch/matching/evaluation.py",  # scripts/evaluate's tables
    "sscmatch/translations/",
)
# Places that write a number their own way on purpose, each with why.
PLAIN: dict[tuple[str, str], str] = {
    ("sscmatch/matching/reasons.py", "percent"): "CodeNames: the reasons without a reader "
    "(the command line's English, tests); a reader's Names writes it their way",
    ("sscmatch/workflow/calibrations.py", "figures_sentence"): "the English default (the "
    "command line); the matching page passes the reader's percent (web/calibrations.py)",
    ("sscmatch/workflow/calibrations.py", "not_adopted_sentence"): "the same, two decimals",
    ("sscmatch/bundle/validate.py", "__str__"): "a name the import resolved, one line of "
    "`sscmatch import`'s English report",
    ("sscmatch/workflow/reminders.py", "render"): "the digest's headings ('OVERDUE (%(num)d)'): "
    "filled by filled(), plurals.count_slots in the recipient's language, which groups the count",
}
NOT_YET: dict[tuple[str, str], str] = {}  # found, owned by another change: said in its report

GLUED_PERCENT = re.compile(r"%(\(\w+\))?[-+ 0#]*\d*(\.\d+)?[dfsi]%%")
GROUPED_FORMAT = re.compile(r"\{[^{}]*:[^{}]*([,_]|\.\d+[fe%])[^{}]*\}")
DECIMALS = re.compile(r"\.\d+[fe%]")
NUMBER_SLOT = re.compile(r"%\(\w+\)[dif]|%[-+ 0#]*\d*(\.\d+)?[dif]")
MESSAGE_CALLS = {"N_", "_", "_l", "gettext", "lazy_gettext"}


def _modules() -> dict[str, ast.Module]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = str(path.relative_to(ROOT))
        if not name.startswith(COMMAND_LINE):
            out[name] = source_tree(path)
    return out


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _findings_in(tree: ast.Module) -> list[tuple[str, int, str]]:
    """(function, line, what) for each number written Python's way in ``tree``."""
    out: list[tuple[str, int, str]] = []

    def visit(node: ast.AST, where: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, ast.FunctionDef | ast.ClassDef) else where
            if isinstance(child, ast.Lambda | ast.arguments):
                inner = where
            for what in _problems(child):
                out.append((inner, getattr(child, "lineno", 0), what))
            visit(child, inner)

    visit(tree, "<module>")
    return out


def _problems(node: ast.AST) -> list[str]:
    found = []
    if isinstance(node, ast.JoinedStr):
        parts = node.values
        for i, part in enumerate(parts):
            if not isinstance(part, ast.FormattedValue):
                continue
            spec = ast.unparse(part.format_spec) if part.format_spec else ""
            if "," in spec or "_" in spec or DECIMALS.search(spec):
                found.append(f"f-string writing a number the English way: {ast.unparse(node)[:60]}")
            after = parts[i + 1] if i + 1 < len(parts) else None
            if (
                isinstance(after, ast.Constant)
                and isinstance(after.value, str)
                and after.value.startswith("%")
            ):
                found.append(f"a percentage glued to its sign: {ast.unparse(node)[:60]}")
    elif isinstance(node, ast.Constant) and isinstance(node.value, str):
        if GLUED_PERCENT.search(node.value):
            found.append(f"a percentage glued to its sign: {node.value[:60]!r}")
    elif isinstance(node, ast.Call):
        func = node.func
        target = func.value if isinstance(func, ast.Attribute) else None
        if (
            _name(func) == "format"
            and isinstance(target, ast.Constant)
            and isinstance(target.value, str)
            and GROUPED_FORMAT.search(target.value)
        ):
            found.append(f"str.format grouping the English way: {target.value[:60]!r}")
        if (
            _name(func) in MESSAGE_CALLS
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and NUMBER_SLOT.search(node.args[0].value)
        ):  # a plural's count is grouped by sscmatch.plurals; a message's %d never is
            found.append(f"a message printing a number bare: {node.args[0].value[:60]!r}")
    return found


def findings() -> dict[tuple[str, str], list[str]]:
    out: dict[tuple[str, str], list[str]] = {}
    for module, tree in _modules().items():
        for function, line, what in _findings_in(tree):
            out.setdefault((module, function), []).append(f"{line}: {what}")
    return out


def test_no_sentence_writes_a_number_the_english_way() -> None:
    found = {k: v for k, v in findings().items() if k not in PLAIN and k not in NOT_YET}
    assert found == {}


def test_every_exception_is_still_needed() -> None:
    found = findings()
    assert [k for k in (*PLAIN, *NOT_YET) if k not in found] == []


def test_the_walk_finds_what_it_looks_for() -> None:
    code = """
def f(x, n):
    a = f"{x:,} km"
    b = "{:,.0f}".format(x)
    c = f"{n}% alike"
    d = "Texts %(percent)d%% alike"
    e = N_("%(n)d days late")
    g = f"score {x:.2f}"
"""
    found = [what for _where, _line, what in _findings_in(ast.parse(code))]
    assert len(found) == 6, found
    fine = 'def g(x):\n    return number(x) + gettext("%(km)s km", km=x) + f"{x}: {x!r}"\n'
    assert _findings_in(ast.parse(fine)) == []


# --------------------------------------------------------------------------- where it was seen


tour_id = tour_files.tour_id  # the fixture: a drafted tour (GTM visits BRA)
reader = tour_files.reader


@pytest.mark.parametrize("lang", ["en", "es", "pt", "fr"])
def test_the_tours_cost_writes_its_figures_the_readers_way(
    app: Flask, tour_id: str, lang: str
) -> None:
    with Session(app.extensions["sscmatch.engine"]) as s:
        tour = s.get(StudyTour, tour_id)
        assert tour is not None and tour.cost is not None
        km = int(tour.cost["distance_km"])
    assert km >= 1000  # the case: a distance of four digits (GTM-BRA)
    for page in ("", "/brief"):
        html = reader(app, "analyst", lang).get(f"/tours/{tour_id}{page}").get_data(as_text=True)
        figures = {
            "es": f"{km:,}".replace(",", "."),
            "pt": f"{km:,}".replace(",", "."),
            "fr": f"{km:,}".replace(",", "\u202f"),
            "en": f"{km:,}",
        }
        wrong = {f"{km:,}", str(km), f"{km:,}".replace(",", "."), f"{km:,}".replace(",", "\u202f")}
        wrong.discard(figures[lang])
        assert figures[lang] in html, (lang, page)
        for other in wrong:
            assert not re.search(rf"(?<![\d.,]){re.escape(other)}(?![\d.,]) km", html), (
                lang,
                page,
                other,
            )


@pytest.mark.parametrize(
    ("lang", "alike"), [("en", "96%"), ("pt", "96%"), ("es", "96\xa0%"), ("fr", "96\xa0%")]
)
def test_reasons_write_a_percentage_as_the_follow_up_page_does(
    app: Flask, lang: str, alike: str
) -> None:
    from sscmatch.web.reasons import text_of
    from sscmatch.web.templating import percent

    with app.test_request_context("/", headers={"Accept-Language": lang}):
        assert percent(0.96) == alike  # the follow-up page's way
        for code in ("text.alike", "text.fallback_alike", "damped"):
            said = text_of(Reason(code, {"percent": 96, "country": "BRA"}))
            assert alike in said and "96%" not in said.replace(alike, ""), (lang, code, said)
