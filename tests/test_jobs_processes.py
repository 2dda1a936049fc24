"""Jobs across real processes (issue 16): two gunicorn app servers and job workers on one
database (PostgreSQL in CI, and SQLite). A match run is started on server A; server B follows
it; a restart of server A loses nothing; the worker is killed with SIGKILL in the middle of the
run; B shows the job queued again; the next worker finishes it, and the proposals are stored
once. Traffic stays on 127.0.0.1."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, func, select

from sscmatch.bundle import import_bundle
from sscmatch.db import init_db, make_engine, session_scope
from sscmatch.models import Job, MatchRun, Proposal, TextVector, User
from sscmatch.vocab import load_vocabulary
from sscmatch.workflow import vectors
from sscmatch.workflow.accounts import issue_api_token
from sscmatch.workflow.countries import sync_countries
from sscmatch.workflow.users import create_user
from tests.conftest import PASSWORD, make_test_app

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DEADLINE = 240.0  # seconds for each wait: CI machines are slow and shared


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Deployment:
    """App servers and workers sharing one database, started and stopped as processes."""

    def __init__(self, database_url: str, folder: Path) -> None:
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "one-key-for-every-server",
            "SSCMATCH_INSTANCE_PATH": str(folder / "instance"),
            "SSCMATCH_WARM_CACHE": "false",
            "SSCMATCH_REMIND_AT": "off",
            "PYTHONPATH": str(ROOT),  # this tree, whatever the virtual environment points at
        }
        self.folder = folder
        self.processes: list[subprocess.Popen[bytes]] = []

    def _spawn(self, args: list[str], log: str) -> subprocess.Popen[bytes]:
        with (self.folder / log).open("ab") as out:  # the child keeps its own copy
            process = subprocess.Popen(args, env=self.env, cwd=ROOT, stdout=out, stderr=out)
        self.processes.append(process)
        return process

    def server(self) -> tuple[subprocess.Popen[bytes], int]:
        """A gunicorn server (answering once :meth:`ready` says so)."""
        port = _free_port()
        process = self._spawn(
            [str(BIN / "gunicorn"), "-w", "1", "-b", f"127.0.0.1:{port}", "sscmatch:create_app()"],
            f"server-{port}.log",
        )
        return process, port

    def ready(self, *servers: tuple[subprocess.Popen[bytes], int]) -> None:
        """Wait until each server answers (its app loaded: /healthz is served)."""
        deadline = time.monotonic() + DEADLINE
        for process, port in servers:
            while time.monotonic() < deadline:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                    conn.request("GET", "/healthz")
                    conn.getresponse().read()
                    conn.close()
                    break
                except OSError:
                    assert process.poll() is None, self.logs()
                    time.sleep(0.1)
            else:
                raise AssertionError(f"server on {port} did not start\n{self.logs()}")

    def worker(self) -> subprocess.Popen[bytes]:
        code = "from sscmatch.cli import cli; cli()"
        return self._spawn([sys.executable, "-c", code, "worker", "--poll", "0.1"], "workers.log")

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in self.folder.glob("*.log"))

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=30)


@pytest.fixture
def deployment(database_url: str, tmp_path: Path) -> Iterator[Deployment]:
    running = Deployment(database_url, tmp_path)
    try:
        yield running
    finally:
        running.stop()


def _call(port: int, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        conn.request(
            method, path, body=json.dumps(body) if body is not None else None, headers=headers
        )
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


@pytest.fixture(scope="module")
def kb_vectors(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """The text vectors of the knowledge base, made once for every backend of the module."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('vectors') / 'kb.db'}")
    try:
        init_db(engine)
        with session_scope(engine) as s:
            sync_countries(s, load_vocabulary())
            import_bundle(s, ROOT / "data", load_vocabulary())
        with session_scope(engine) as s:
            vectors.refresh(s)
        with Session(engine) as s:
            return [row.model_dump() for row in s.exec(select(TextVector))]
    finally:
        engine.dispose()


def _prepare(database_url: str, tmp_path: Path, known: list[dict[str, Any]]) -> str:
    """The knowledge base with the text vectors of every record but one need (a run's first
    step, refreshing vectors, then loads the text model: seconds in which the worker is
    killed), and a secretariat account with an API token."""
    app = make_test_app(database_url, tmp_path / "prepare")
    engine = app.extensions["sscmatch.engine"]
    try:
        with session_scope(engine) as s:
            import_bundle(s, ROOT / "data", load_vocabulary())
            create_user(s, "sec@test.org", PASSWORD, "secretariat")
            left_out = next(v for v in known if v["kind"] == "need")
            s.add_all(TextVector(**v) for v in known if v is not left_out)
        with session_scope(engine) as s:
            user = s.exec(select(User).where(User.email == "sec@test.org")).one()
            return issue_api_token(s, user)
    finally:
        engine.dispose()


def test_two_servers_one_worker_killed_mid_run(
    database_url: str, tmp_path: Path, deployment: Deployment, kb_vectors: list[dict[str, Any]]
) -> None:
    (server_a, port_a), (server_b, port_b) = deployment.server(), deployment.server()
    token = _prepare(database_url, tmp_path, kb_vectors)
    deployment.ready((server_a, port_a), (server_b, port_b))

    # Started on A with no worker anywhere: answered at once, queued, waiting for a worker.
    status, started = _call(port_a, "POST", "/api/v1/match-runs", token, {"needs": [], "top": 3})
    assert status == 202, started
    run_id, path = started["id"], f"/api/v1/match-runs/{started['id']}"
    assert started["status"] == "running" and started["job"]["state"] == "queued"
    status, seen = _call(port_b, "GET", path, token)
    assert status == 200 and seen["job"]["waiting_for_worker"], seen

    # Restarting server A loses nothing: the job is in the database.
    server_a.send_signal(signal.SIGTERM)
    server_a.wait(timeout=60)
    restarted = deployment.server()
    port_a = restarted[1]

    # A worker takes it; B sees it running, then the worker is killed in the middle of it.
    first = deployment.worker()
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        _, seen = _call(port_b, "GET", path, token)
        if seen["job"]["state"] != "queued":
            break
        time.sleep(0.05)
    assert seen["job"]["state"] == "running", (seen, deployment.logs())
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    assert seen["status"] == "running"  # killed before the end: nothing stored yet

    # B notices the worker is gone (its process no longer exists): queued for attempt 2.
    _, seen = _call(port_b, "GET", path, token)
    assert seen["status"] == "running", seen
    assert seen["job"]["state"] == "queued" and seen["job"]["attempts"] == 1, seen
    assert seen["job"]["retried"] and seen["job"]["waiting_for_worker"], seen
    assert "attempt 1 interrupted" in seen["job"]["error"], seen

    # The next worker finishes it; B and the restarted A follow its progress to the end.
    deployment.worker()
    counts: list[int] = []
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        _, seen = _call(port_b, "GET", path, token)
        # The job is read before its run (web.matching.run_with_job), and the worker ends both in
        # one transaction: a job is never seen done beside its run still running. A read that
        # straddles that commit can see the run done and its job a moment earlier: read again.
        assert not (seen["job"]["state"] == "done" and seen["status"] == "running"), seen
        if seen["job"]["state"] == "running" and seen["job"]["attempts"] == 2:
            counts.append(seen["needs_done"])
        if seen["status"] != "running" and seen["job"]["state"] != "running":
            break
        time.sleep(0.05)
    assert seen["status"] == "done", (seen, deployment.logs())
    assert seen["needs_done"] == seen["needs_total"] == 159
    assert counts and counts == sorted(counts)  # followed while running; only goes forward
    assert seen["job"]["state"] == "done" and seen["job"]["attempts"] == 2, seen
    deployment.ready(restarted)
    status, on_a = _call(port_a, "GET", path, token)
    assert status == 200 and on_a["status"] == "done" and on_a["proposals"] == seen["proposals"]

    # Stored once: by the second attempt only, each need's providers ranked once.
    engine = make_engine(database_url)
    try:
        with Session(engine) as s:
            run = s.get(MatchRun, run_id)
            assert run is not None and run.proposal_count == seen["proposals"] > 0
            stored = s.exec(
                select(Proposal.need, Proposal.provider).where(Proposal.run_id == run_id)
            ).all()
            assert len(stored) == run.proposal_count == len(set(stored))
            assert s.exec(select(func.count()).select_from(Job)).one() == 1
            job = s.exec(select(Job).where(col(Job.subject) == f"match_run:{run_id}")).one()
            assert (job.status, job.attempts) == ("done", 2)
    finally:
        engine.dispose()
