"""``scripts/evaluate`` given what an outsider would give it: one message and a non-zero exit,
never a traceback, never a table computed from arguments it cannot honour.

Every input it reads (``--data``: a bundle; ``--undp``: a UNDP table) and every argument that
takes a value (``--cutoffs``, ``--window``, ``--min-cases``, ``--only``), each with values that
are wrong in its own way. Before: a bundle the import refuses ended in a ``BundleError``
traceback that listed none of its problems; a cut-off or window past year 9999 in ValueError or
OverflowError; a window of 0 or -1, a negative minimum and an unknown method name gave "No
cut-off has enough cases", exit 0; an empty table (no header) the same.
"""

from __future__ import annotations

import runpy
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "evaluate"


def _bundle(root: Path) -> Path:
    """A small bundle that imports: two exchanges a few years apart."""
    folder = root / "good"
    folder.mkdir()
    (folder / "exchanges.csv").write_text(
        "id,start,providers,recipients,themes\n"
        "x1,2008,BRA,GTM,labour-inspection\n"
        "x2,2012,BRA,PER,labour-inspection\n",
        encoding="utf-8",
    )
    return folder


def _inputs(root: Path) -> dict[str, list[str]]:
    refused = root / "refused"
    refused.mkdir()
    (refused / "needs.csv").write_text(
        "id,country,title,themes\nn1,BRA,A,labour-inspection\nn1,BRA,B,labour-inspection\n",
        encoding="utf-8",
    )
    (root / "long.json").write_text('{"needs": [], "n": ' + "9" * 5000 + "}", encoding="utf-8")
    (root / "empty.csv").write_bytes(b"")
    (root / "latin1.csv").write_bytes(
        "Host/Recipient Country/ies,Provider Country/ies,Start year,Thematic Areas\n"
        "GTM,BRA,2010,Inspección\n".encode("latin-1")
    )
    return {
        "data-refused": ["--data", str(refused)],
        "data-long-number": ["--data", str(root / "long.json")],
        "data-missing": ["--data", str(root / "missing")],
        "undp-folder": ["--undp", str(root)],
        "undp-missing": ["--undp", str(root / "missing.csv")],
        "undp-empty": ["--undp", str(root / "empty.csv")],
        "undp-latin1": ["--undp", str(root / "latin1.csv")],
    }


ARGUMENTS = {
    "cutoffs-word": ["--cutoffs", "soon"],
    "cutoffs-far": ["--cutoffs", "99999999999"],
    "cutoffs-negative": ["--cutoffs", "-5"],
    "cutoffs-none": ["--cutoffs", ","],
    "window-zero": ["--window", "0"],
    "window-negative": ["--window", "-1"],
    "window-far": ["--window", "1000000000"],
    "min-cases-negative": ["--min-cases", "-1"],
    "only-unknown": ["--only", "nonsense"],
}


def run_script(script: Path, args: list[str], monkeypatch: pytest.MonkeyPatch) -> object:
    """What running ``script`` with ``args`` ends in: its SystemExit's code, or the exception."""
    monkeypatch.setattr(sys, "argv", [str(script), *args])
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as exc:
        return exc.code
    except Exception as exc:  # what the walk looks for
        return exc
    return 0


def not_refused(
    run: Callable[[list[str]], object],
    cases: dict[str, list[str]],
    capsys: pytest.CaptureFixture[str],
) -> list[str]:
    """The cases whose run did not end in one message and a non-zero exit."""
    failures = []
    for name, args in cases.items():
        code = run(args)
        said = capsys.readouterr()
        if isinstance(code, BaseException):
            failures.append(f"{name}: raised {type(code).__name__}: {code}")
        elif code in (0, None):
            failures.append(f"{name}: exit 0 ({said.out.strip()[-200:]!r})")
        elif "Traceback" in f"{code}{said.err}" or (isinstance(code, str) and not code.strip()):
            failures.append(f"{name}: {code!r} {said.err[-200:]!r}")
    return failures


def _run(args: list[str], monkeypatch: pytest.MonkeyPatch) -> object:
    return run_script(SCRIPT, ["--text", "none", *args], monkeypatch)


def test_every_input_and_argument_is_refused_in_one_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    good = _bundle(tmp_path)
    cases = {**_inputs(tmp_path)}
    cases |= {name: ["--data", str(good), *args] for name, args in ARGUMENTS.items()}
    failures = not_refused(lambda args: _run(args, monkeypatch), cases, capsys)
    assert not failures, "\n".join(failures)


def test_a_refused_bundle_is_said_problem_by_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = _inputs(tmp_path)["data-refused"]
    code = _run(args, monkeypatch)
    assert isinstance(code, str), code
    assert "needs.csv:3: id: duplicate id 'n1'" in code


def test_every_method_named_alone_evaluates(tmp_path: Path) -> None:
    """``--only`` with any one method the table has: "the full matcher without the
    theme-family constraint" alone ended in KeyError (the pool was counted on a snapshot only
    the other methods make)."""
    from sscmatch.matching.evaluation import evaluate, methods
    from sscmatch.vocab import load_vocabulary
    from sscmatch.workflow.evalsets import bundle_corpus

    corpus = bundle_corpus(_bundle(tmp_path), load_vocabulary())
    failures = []
    for method in methods(corpus, 3):
        try:
            evaluate(corpus, cutoffs=[2010], window=3, min_cases=1, only=[method.name])
        except Exception as exc:  # what the walk looks for
            failures.append(f"{method.name}: {exc!r}")
    assert not failures, "\n".join(failures)
