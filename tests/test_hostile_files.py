"""A command that writes a file, stopped half-way by the disk, leaves the file that was there.

``sscmatch backup latest.json`` run every night over the last backup: the night the disk fills
up, the write fails after its first bytes. The file was opened for writing (emptied) before
the first byte: the old backup was gone and a truncated one left in its place. So for every
file a command writes (a backup, a JSON bundle, a CSV bundle's files, the network in every
format): with the process allowed to write files of 20 KiB only (``RLIMIT_FSIZE``; what a full
disk does to a write, ``EFBIG`` for ``ENOSPC``), the command exits 1 saying so, the file
written before is there as it was, and no half-written file is left beside it.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 20 * 1024
OLD = b"the file written before\n"

WRITERS = {
    "backup": (["backup", "{out}/latest.json"], "latest.json"),
    "export-json": (["export", "{out}/bundle.json"], "bundle.json"),
    "export-csv": (["export", "{out}/bundle", "--format", "csv"], "bundle/capacities.csv"),
    "network-json": (["export-network", "{out}/net.json"], "net.json"),
    "network-graphml": (["export-network", "{out}/net.graphml"], "net.graphml"),
    "network-gexf": (["export-network", "{out}/net.gexf"], "net.gexf"),
    "network-csv": (["export-network", "{out}/net", "--format", "csv"], "net/edges.csv"),
}
"""Every command that writes a file, and one file it writes that outgrows the limit."""


def _limited() -> None:
    """In the child: files may grow to LIMIT bytes; past it a write fails (EFBIG) instead of
    the process being killed (SIGXFSZ)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, resource.RLIM_INFINITY))


@pytest.mark.same_on_every_database  # files on disk; the database is only read
def test_a_write_the_disk_stops_leaves_the_file_that_was_there(
    app: Flask, runner: Any, tmp_path: Path
) -> None:
    result = runner.invoke(args=["import", str(ROOT / "data")])  # every file outgrows LIMIT
    assert result.exit_code == 0, result.output
    env = {**os.environ, "SSCMATCH_DATABASE_URL": str(app.config["DATABASE_URL"])}
    script = "from sscmatch.cli import cli; cli(prog_name='sscmatch')"
    failures = []
    for writer, (args, written) in WRITERS.items():
        out = tmp_path / writer
        target = out / written
        target.parent.mkdir(parents=True)
        target.write_bytes(OLD)
        command = [sys.executable, "-c", script, *(a.format(out=out) for a in args)]
        done = subprocess.run(
            command,
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            preexec_fn=_limited,
            timeout=300,
            check=False,
        )
        said = f"{writer} -> {done.returncode}: {done.stderr[-300:]!r}"
        left = [p.name for p in target.parent.iterdir() if p.name.startswith(".")]
        if done.returncode != 1 or "Traceback" in done.stderr:
            failures.append(f"{said}: not refused in one line")
        elif target.read_bytes() != OLD:
            failures.append(f"{said}: the file written before is gone")
        elif left:
            failures.append(f"{said}: left {left}")
    assert not failures, "\n".join(failures)


def test_a_file_written_again_keeps_who_may_read_it(runner: Any, tmp_path: Path) -> None:
    """A backup (password hashes, API token digests) kept readable by its owner alone stays
    so when the next backup is written over it: the new file is written beside it and renamed,
    and takes the old one's permissions, not the umask's."""
    target = tmp_path / "latest.json"
    target.write_bytes(OLD)
    target.chmod(0o600)
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_bytes() != OLD and (target.stat().st_mode & 0o777) == 0o600
