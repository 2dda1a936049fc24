"""Every benchmark script runs, at a tiny size: a benchmark that breaks when the schema or an
interface changes is found by the suite, not by the next engineer who needs its figures
(``scripts/bench_network`` wrote exchanges without their real start dates for a day).

Timings are not checked here (README, "Performance"): at these sizes a speed target may be
missed, which ``bench_match`` reports with exit code 1; a crash is what fails the test."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

RUNS = {
    "bench_match": (
        [
            *("--countries", "20", "--capacities", "300", "--needs", "100"),
            *("--exchanges", "500", "--one", "3", "--pairs", "5", "--assign-runs", "1"),
        ],
        "full re-match",
    ),
    "bench_network": (["--exchanges", "500", "--countries", "30"], "targets met"),
    "bench_pages": (
        [
            *("--scale", "0.002", "--renders", "2", "--samples", "1"),
            *("--baseline-renders", "10", "--keep", "pages"),
        ],
        "warm p95",
    ),
    "bench_import": (
        ["--scale", "0.002", "--databases", "sqlite", "--runs", "1", "--baseline-runs", "0"],
        "association rows",
    ),
    "load": (
        ["--synth", "0", "--seconds", "2", "--warmup", "0", "--clients", "2", "--workers", "1"],
        '"p95_ms"',
    ),
}


THEN = {
    # measures on the database bench_pages kept: run after it, on the same folder
    "bench_pages": ("bench_after_writes", ["--keep", "pages", "--rounds", "1"], "(recount)"),
}
"""Benchmarks that measure what another one prepared, run in its test after it."""


def test_every_benchmark_script_is_walked() -> None:
    scripts = {p.name for p in (ROOT / "scripts").iterdir() if p.name.startswith("bench_")}
    walked = set(RUNS) | {then for then, _args, _expected in THEN.values()}
    assert scripts <= walked, f"add {sorted(scripts - walked)} to RUNS"


def _run(script: str, args: list[str], cwd: Path) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / script), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return done.returncode, done.stdout + done.stderr


@pytest.mark.parametrize("script", sorted(RUNS))
def test_the_benchmark_runs_at_a_tiny_size(script: str, tmp_path: Path) -> None:
    args, expected = RUNS[script]
    returncode, out = _run(script, args, tmp_path)
    assert "Traceback" not in out, out[-4000:]
    assert returncode in (0, 1), out[-4000:]
    assert expected in out, out[-4000:]
    if script in THEN:
        then, then_args, then_expected = THEN[script]
        returncode, out = _run(then, then_args, tmp_path)
        assert "Traceback" not in out, out[-4000:]
        assert returncode in (0, 1), out[-4000:]
        assert then_expected in out, out[-4000:]
