"""``scripts/synth`` given what an outsider would give it: one message and a non-zero exit.

Every argument that takes a value, with values wrong in its own way, and an output folder that
is a file. Before: ``--countries 0`` ended in ZeroDivisionError, ``--countries 1`` in
``ValueError: high <= 0``, a negative count in numpy's ``negative dimensions``, a themes file
that is not there in FileNotFoundError, an output that is a file in FileExistsError: each a
traceback.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_hostile_evaluate import not_refused, run_script

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "synth"
SMALL = ["--countries", "3", "--capacities", "2", "--needs", "2", "--exchanges", "2"]


def _run(args: list[str], monkeypatch: pytest.MonkeyPatch) -> object:
    return run_script(SCRIPT, args, monkeypatch)


def test_every_argument_is_refused_in_one_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a-file").write_text("not a folder\n")
    out = ["--out", str(tmp_path / "out")]
    cases = {
        f"{option}={value}": [*SMALL, option, value, *out]
        for option in ("--countries", "--capacities", "--needs", "--exchanges")
        for value in ("-1", "x", "1e3", "99999999999")
    }
    cases["--countries=0"] = [*SMALL, "--countries", "0", *out]
    cases["--countries=1"] = [*SMALL, "--countries", "1", *out]
    cases["--seed=x"] = [*SMALL, "--seed", "x", *out]
    cases["--themes=missing"] = [*SMALL, "--themes", str(tmp_path / "missing.csv"), *out]
    cases["--themes=folder"] = [*SMALL, "--themes", str(tmp_path), *out]
    cases["--out=a-file"] = [*SMALL, "--out", str(tmp_path / "a-file")]
    failures = not_refused(lambda args: _run(args, monkeypatch), cases, capsys)
    assert not failures, "\n".join(failures)


def test_good_arguments_still_write_a_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _run([*SMALL, "--out", str(tmp_path / "out")], monkeypatch) in (0, None)
    assert (tmp_path / "out" / "needs.csv").is_file()
