"""An import that fails or is killed halfway leaves the database exactly as it was."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from sscmatch.bundle import import_bundle
from sscmatch.db import make_engine
from sscmatch.models import Capacity, Institution, Need
from sscmatch.vocab import load_vocabulary

COUNTRIES = ["BRA", "PER", "GTM", "KGZ", "TJK", "IND", "MOZ", "CRI"]


def big_bundle(folder: Path, rows: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "institutions.csv").open("w", newline="") as h:
        w = csv.writer(h)
        w.writerow(["id", "name", "country"])
        for c in COUNTRIES:
            w.writerow([f"{c.lower()}-ministry", f"Ministry of Labour {c}", c])
    with (folder / "capacities.csv").open("w", newline="") as h:
        w = csv.writer(h)
        w.writerow(["id", "country", "institution", "title", "themes", "status"])
        for i in range(rows):
            c = COUNTRIES[i % len(COUNTRIES)]
            w.writerow(
                [
                    f"c{i}",
                    c,
                    f"{c.lower()}-ministry",
                    f"Capacity number {i}",
                    "labour-inspection",
                    "published",
                ]
            )
    with (folder / "needs.csv").open("w", newline="") as h:
        w = csv.writer(h)
        w.writerow(["id", "country", "title", "themes", "status"])
        for i in range(rows // 4):
            w.writerow(
                [f"n{i}", COUNTRIES[i % len(COUNTRIES)], f"Need number {i}", "education", "open"]
            )
    return folder


def counts(engine: Any) -> tuple[int, int, int]:
    with Session(engine) as s:
        return tuple(
            s.exec(select(func.count()).select_from(m)).one() for m in (Institution, Capacity, Need)
        )  # type: ignore[return-value]


def test_failure_while_writing_rolls_everything_back(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(database_url)
    path = big_bundle(tmp_path / "b", 400)
    flushes = 0
    original = Session.flush

    this_thread = threading.current_thread()

    def failing_flush(self: Session, *args: Any, **kwargs: Any) -> None:
        nonlocal flushes
        if threading.current_thread() is not this_thread:  # not the import's (a worker's)
            return original(self, *args, **kwargs)
        flushes += 1
        original(self, *args, **kwargs)
        if flushes == 3:  # institutions and capacities are written, needs are not
            raise RuntimeError("simulated crash while writing")

    monkeypatch.setattr(Session, "flush", failing_flush)
    with pytest.raises(RuntimeError), Session(engine) as s:
        import_bundle(s, path, load_vocabulary())
        s.commit()
    monkeypatch.setattr(Session, "flush", original)
    assert counts(engine) == (0, 0, 0)
    engine.dispose()


def test_import_killed_halfway_leaves_the_database_as_it_was(
    sqlite_template: Path, tmp_path: Path
) -> None:
    db = tmp_path / "kill.db"
    db.write_bytes(sqlite_template.read_bytes())
    path = big_bundle(tmp_path / "big", 20_000)
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db}",
        "SSCMATCH_INSTANCE_PATH": str(tmp_path / "inst"),
    }
    sscmatch = Path(sys.executable).with_name("sscmatch")
    process = subprocess.Popen(
        [str(sscmatch), "import", str(path)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # Wait until the import writes (its write-ahead log appears: the bulk import keeps its pages
    # in a large cache and spills them at the commit), then kill it without warning. The kill may
    # land before, during or after the commit: the database must hold all of the bundle or none
    # of it, never a part.
    wal = Path(f"{db}-wal")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if wal.exists() and wal.stat().st_size > 0:
            break
        time.sleep(0.001)
    assert process.poll() is None, "the import finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    engine = make_engine(f"sqlite:///{db}")
    assert counts(engine) in {(0, 0, 0), (8, 20_000, 5_000)}
    engine.dispose()
