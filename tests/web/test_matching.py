"""Matching runs pages: list, start (all or selected needs), progress, failure."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, col, select

from sscmatch.bundle.load import import_bundle
from sscmatch.models import AuditEvent, Capacity, MatchRun, Need
from sscmatch.models import Proposal as StoredProposal
from sscmatch.vocab import load_vocabulary
from sscmatch.workflow import matchruns
from tests.conftest import audit_trail, make_test_app, sign_in

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def loaded(session: Session) -> Session:
    import_bundle(session, ROOT / "data", load_vocabulary())
    session.commit()
    return session


def test_staff_run_and_the_analyst_only_reads(as_user: Any, loaded: Session) -> None:
    focal = as_user("focal_gtm")
    assert focal.get("/matching/runs").status_code == 403
    assert focal.post("/matching/runs", data={"scope": "all", "top": 5}).status_code == 403
    analyst = as_user("analyst")
    read = analyst.get("/matching/runs")
    assert read.status_code == 200 and b"Start matching" not in read.data
    assert analyst.post("/matching/runs", data={"scope": "all", "top": 5}).status_code == 403
    page = as_user("secretariat").get("/matching/runs")
    assert page.status_code == 200 and b"Start matching" in page.data
    html = page.data.decode()
    # Needs are chosen by id, country and theme, not from one <option> per open need.
    assert "<textarea" in html and 'name="needs"' in html and 'name="country"' in html
    assert 'name="theme"' in html and 'value="policy-governance"' in html
    assert "s002-n37" not in html


def test_start_a_run_for_selected_needs(
    as_user: Any, loaded: Session, users: dict[str, int]
) -> None:
    client = as_user("secretariat")
    response = client.post(
        "/matching/runs", data={"scope": "selected", "needs": ["s002-n37", "s000-n01"], "top": 3}
    )
    assert response.status_code == 302
    run = loaded.exec(select(MatchRun)).one()
    assert response.headers["Location"].endswith(f"/matching/runs/{run.id}")
    assert (run.status, run.needs_total, run.needs_done, run.proposal_count) == ("done", 2, 2, 6)
    assert run.created_by == users["secretariat"]
    assert run.params == {"needs": ["s002-n37", "s000-n01"]}
    page = client.get(f"/matching/runs/{run.id}")
    assert page.status_code == 200 and b"s002-n37" in page.data
    assert b"/review/proposals/" in page.data
    listing = client.get("/matching/runs")
    assert f"#{run.id}".encode() in listing.data
    status = client.get(f"/matching/runs/{run.id}/status").get_json()
    assert status["status"] == "done" and status["finished"] is True and status["percent"] == 100
    actions = [e.action for e in audit_trail(loaded, AuditEvent.entity == "match_run")]
    assert actions == ["start", "finish"]


def test_start_all_open_needs(as_user: Any, loaded: Session) -> None:
    response = as_user("admin").post("/matching/runs", data={"scope": "all", "top": 2})
    assert response.status_code == 302
    run = loaded.exec(select(MatchRun)).one()
    assert (
        run.status == "done" and run.needs_total == run.needs_done == 159
    )  # 196 open, 37 of them held by international bodies
    assert run.proposal_count == len(loaded.exec(select(StoredProposal)).all()) > 159


def test_bad_start_is_refused_with_messages(as_user: Any, loaded: Session) -> None:
    client = as_user("secretariat")
    no_needs = client.post("/matching/runs", data={"scope": "selected", "top": 5})
    assert no_needs.status_code == 400 and b"Select at least one need" in no_needs.data
    blank = client.post(
        "/matching/runs", data={"scope": "selected", "needs": " ,\n ", "country": " ", "top": 5}
    )
    assert blank.status_code == 400 and b"Select at least one need" in blank.data
    bad_top = client.post("/matching/runs", data={"scope": "all", "top": 99})
    assert bad_top.status_code == 400 and b"Between 1 and 50" in bad_top.data
    closed = client.post("/matching/runs", data={"scope": "selected", "needs": ["nope"], "top": 5})
    assert closed.status_code == 400
    assert loaded.exec(select(MatchRun)).all() == []
    assert client.get("/matching/runs/999").status_code == 404
    assert client.get("/matching/runs/999/status").status_code == 404


def _start(client: Any, **data: Any) -> Any:
    return client.post("/matching/runs", data={"scope": "selected", "top": 2, **data})


def _open_needs(session: Session) -> list[Need]:
    """The needs a run of "all open needs" ranks, as records."""
    wanted = set(matchruns.open_needs(session))
    return [n for n in session.exec(select(Need).order_by(col(Need.id))) if n.id in wanted]


def test_needs_typed_by_id(as_user: Any, loaded: Session) -> None:
    client = as_user("secretariat")
    response = _start(client, needs="s002-n37, s000-n01\n s002-n37;s001-n02 ")
    assert response.status_code == 302
    run = loaded.exec(select(MatchRun)).one()
    assert run.params == {"needs": ["s002-n37", "s000-n01", "s001-n02"]}  # typed order, once
    assert run.needs_total == run.needs_done == 3 and run.status == "done"


def test_unknown_and_closed_ids_are_named(as_user: Any, loaded: Session) -> None:
    client = as_user("secretariat")
    unknown = _start(client, needs="s002-n37 nope N-0-missing")
    assert unknown.status_code == 400
    assert b"Unknown need ids: nope, N-0-missing." in unknown.data
    assert b"N-0-missing</textarea>" in unknown.data  # what was typed stays in the form
    closed = loaded.exec(select(Need).where(Need.status == "closed").order_by(Need.id)).first()
    assert closed is not None
    not_open = _start(client, needs=f"s002-n37 {closed.id}")
    assert not_open.status_code == 400
    assert f"these are not open: {closed.id} (closed).".encode() in not_open.data
    many = _start(client, needs=" ".join(f"x{i}" for i in range(25)))
    assert many.status_code == 400
    assert b"Unknown need ids: x0, x1, x2, x3, x4, x5, x6, x7, x8, x9 and 15 more." in many.data
    assert loaded.exec(select(MatchRun)).all() == []


def test_needs_chosen_by_country_and_theme(
    as_user: Any, loaded: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[list[str]] = []
    monkeypatch.setattr(
        "sscmatch.web.matching.launch", lambda job: started.append(job.params["need_ids"])
    )
    vocab = load_vocabulary()
    family = {"policy-governance", *vocab.children("policy-governance")}
    candidates = _open_needs(loaded)
    client = as_user("secretariat")

    assert _start(client, country="kgz bra").status_code == 302
    assert started[-1] == [n.id for n in candidates if n.country in ("BRA", "KGZ")]
    assert _start(client, theme="policy-governance").status_code == 302
    themed = [n.id for n in candidates if family & set(n.themes)]
    assert themed and started[-1] == themed  # needs on a sub-theme count
    assert all("policy-governance" not in n.themes for n in candidates if n.id in themed)
    response = _start(client, country="KGZ", theme="policy-governance", needs="s000-n01")
    assert response.status_code == 302
    both = [n.id for n in candidates if n.country == "KGZ" and family & set(n.themes)]
    assert both and started[-1] == ["s000-n01", *both]  # the ids typed, then the filters'
    runs = loaded.exec(select(MatchRun).order_by(col(MatchRun.id))).all()
    assert [r.params["needs"] for r in runs] == started and len(runs) == 3
    assert runs[-1].needs_total == 1 + len(both)


def test_bad_filters_are_refused_with_messages(as_user: Any, loaded: Session) -> None:
    client = as_user("secretariat")
    country = _start(client, country="GTM, XXX, Brazil")
    assert country.status_code == 400
    assert b"Unknown country codes: XXX, BRAZIL." in country.data
    theme = _start(client, theme="no-such-theme")
    assert theme.status_code == 400 and b"Unknown theme: no-such-theme." in theme.data
    empty = _start(client, country="ISL")  # a known country without open needs
    assert empty.status_code == 400 and b"No open need has these countries and theme." in empty.data
    mixed = client.post(
        "/matching/runs", data={"scope": "all", "needs": "s002-n37", "top": 2}
    )  # "all" with needs given: refused rather than matching every open need
    assert mixed.status_code == 400 and b"You chose all open needs" in mixed.data
    assert loaded.exec(select(MatchRun)).all() == []


def test_a_failed_run_keeps_no_proposals(
    as_user: Any, loaded: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_store = matchruns.store

    def broken_store(session: Session, run: MatchRun, proposals: Any, user_id: Any) -> None:
        real_store(session, run, proposals, user_id)
        session.flush()  # half the work is written in the transaction…
        raise RuntimeError("disk on fire")  # …then it fails

    monkeypatch.setattr(matchruns, "store", broken_store)
    client = as_user("secretariat")
    response = client.post(
        "/matching/runs", data={"scope": "selected", "needs": ["s002-n37"], "top": 3}
    )
    assert response.status_code == 302
    loaded.expire_all()
    run = loaded.exec(select(MatchRun)).one()
    assert run.status == "failed" and "disk on fire" in (run.error or "")
    assert run.finished_at is not None
    assert loaded.exec(select(StoredProposal)).all() == []
    page = client.get(f"/matching/runs/{run.id}")
    assert b"disk on fire" in page.data


def test_background_run_reports_progress(database_url: str, tmp_path: Path) -> None:
    """Without JOBS_SYNC the request only queues the run: the page says it waits for a worker,
    then a worker computes it and the status shows its progress to the end."""
    import threading

    from sscmatch.jobs.worker import run_worker

    app: Flask = make_test_app(database_url, tmp_path, JOBS_SYNC=False)
    engine = app.extensions["sscmatch.engine"]
    stop = threading.Event()
    worker: threading.Thread | None = None
    try:
        from sscmatch.db import session_scope
        from sscmatch.workflow.users import create_user
        from tests.conftest import PASSWORD

        with session_scope(engine) as s:
            import_bundle(s, ROOT / "data", load_vocabulary())
            create_user(s, "sec@test.org", PASSWORD, "secretariat")
        client = sign_in(app.test_client(), "secretariat")
        response = client.post("/matching/runs", data={"scope": "all", "top": 3})
        assert response.status_code == 302
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "Waiting for a worker: none is running." in page and "js/jobs.js" in page
        queued = client.get(response.headers["Location"] + "/status").get_json()
        assert queued["status"] == "running" and queued["needs_done"] == 0
        assert queued["job"]["state"] == "queued" and queued["job"]["waiting_for_worker"]
        worker = threading.Thread(target=run_worker, args=(app,), kwargs={"stop": stop})
        worker.start()
        status: dict[str, Any] = {}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            status = client.get(response.headers["Location"] + "/status").get_json()
            if status["finished"]:
                break
            assert status["status"] == "running" and 0 <= status["needs_done"] <= 159
            assert status["job"]["state"] in ("queued", "running")
            time.sleep(0.2)
        assert status["status"] == "done", status
        assert status["needs_done"] == status["needs_total"] == 159
        assert status["proposals"] > 0
        assert status["job"] is None or status["job"]["state"] == "done"
    finally:
        stop.set()
        if worker is not None:
            worker.join(timeout=60)
        engine.dispose()


def test_running_page_polls_without_inline_script(as_user: Any, loaded: Session) -> None:
    from sscmatch.web.matching import queue_run

    run = matchruns.begin_run(loaded, need_ids=["s002-n37"], top_k=3, user_id=None)
    queue_run(loaded, run, ["s002-n37"], None)
    loaded.commit()
    page = as_user("secretariat").get(f"/matching/runs/{run.id}")
    assert page.status_code == 200
    html = page.data.decode()
    assert 'data-status-url="/matching/runs/' in html and "js/matching.js" in html
    assert "<progress" in html and "Refresh" in html
    assert "data-job-status-url" in html and "js/jobs.js" in html
    assert "<script>" not in html
    script = as_user("secretariat").get("/static/js/matching.js")
    assert script.status_code == 200 and b"data-status-url" in script.data
    script.close()


def test_a_run_that_no_job_will_finish_is_marked_interrupted(loaded: Session) -> None:
    """The sweep fails the runs without a job, or whose job ended without them; a run whose
    job is queued or running is the job queue's to recover."""
    from sscmatch.web.matching import queue_run
    from sscmatch.workflow import jobs as queue

    orphan, ended, waiting, working = (
        matchruns.start_run(loaded, as_of=None, need_ids=["s002-n37"], top_k=3, user_id=None)
        for _ in range(4)
    )
    ended_job = queue_run(loaded, ended, ["s002-n37"], None)
    queue_run(loaded, working, ["s002-n37"], None)
    queue_run(loaded, waiting, ["s002-n37"], None)
    loaded.flush()
    queue.fail(loaded, ended_job, "something else went wrong")
    taken = queue.claim(loaded, "elsewhere:1")
    assert taken is not None and taken.subject == f"match_run:{working.id}"
    loaded.commit()

    swept = matchruns.sweep_interrupted(loaded)
    loaded.commit()
    assert sorted(swept) == sorted([orphan.id, ended.id])
    for run in (orphan, ended, waiting, working):
        loaded.refresh(run)
    assert (waiting.status, working.status) == ("running", "running")
    assert orphan.status == ended.status == "failed"
    assert orphan.error and orphan.error.startswith("interrupted") and orphan.finished_at
    assert matchruns.sweep_interrupted(loaded) == []  # once is enough
    # Starting a run sweeps too: a dead one does not look busy next to it.
    dead_again = matchruns.begin_run(loaded, need_ids=["s002-n37"], top_k=3, user_id=None)
    loaded.commit()
    matchruns.begin_run(loaded, need_ids=["s002-n37"], top_k=3, user_id=None)
    assert dead_again.status == "failed"


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_the_first_request_after_a_restart_sweeps(database_url: str, tmp_path: Path) -> None:
    """After a restart, a run without a job shows as interrupted, and the job of a worker
    process that is gone is queued again for its next attempt (its run still running)."""
    import socket

    from sscmatch.db import session_scope
    from sscmatch.models import Job
    from sscmatch.web.matching import queue_run
    from sscmatch.workflow import jobs as queue

    app: Flask = make_test_app(database_url, tmp_path)
    engine = app.extensions["sscmatch.engine"]
    gone = f"{socket.gethostname()}:{_dead_pid()}"
    try:
        with session_scope(engine) as s:
            import_bundle(s, ROOT / "data", load_vocabulary())
            orphan = matchruns.begin_run(s, need_ids=["s002-n37"], top_k=3, user_id=None)
            killed = matchruns.begin_run(s, need_ids=["s002-n37"], top_k=3, user_id=None)
            queue_run(s, killed, ["s002-n37"], None)
            s.flush()
            assert queue.claim(s, gone) is not None
            orphan_id, killed_id = orphan.id, killed.id
        app.test_client().get("/login")  # any first request
        with Session(engine) as s:
            stored = s.get(MatchRun, orphan_id)
            assert stored is not None and stored.status == "failed"
            assert "interrupted" in (stored.error or "")
            retried = s.get(MatchRun, killed_id)
            assert retried is not None and retried.status == "running"
            job = s.exec(select(Job).where(Job.subject == f"match_run:{killed_id}")).one()
            assert (job.status, job.attempts, job.worker) == ("queued", 1, None)
            assert f"worker {gone} stopped" in (job.error or "")
    finally:
        engine.dispose()


def test_an_empty_run_list_says_so(as_user: Any, loaded: Session) -> None:
    page = as_user("analyst").get("/matching/runs").get_data(as_text=True)
    assert "No matching run yet." in page and "Try fewer filters" not in page


def test_a_finished_run_is_never_shown_beside_its_job_still_running(loaded: Session) -> None:
    """The status reads the job before the run (the job is never ahead of its run); a job read
    just before the worker's commit that ends both is read again, so a finished run never
    comes with its job "running" (seen once in CI, on PostgreSQL, at the end of a run)."""
    from sscmatch.web.matching import queue_run, run_with_job
    from sscmatch.workflow.jobs import DONE, job_of

    run = matchruns.begin_run(loaded, need_ids=["s002-n37"], top_k=3, user_id=None)
    queue_run(loaded, run, ["s002-n37"], None)
    loaded.commit()
    assert run.id is not None
    with Session(loaded.get_bind()) as reader:
        early = job_of(reader, f"match_run:{run.id}")  # the status's first read, before…
        assert early is not None and early.status != DONE
        job = job_of(loaded, f"match_run:{run.id}")  # …the worker ends run and job together
        assert job is not None
        matchruns.finish_run(loaded, run, [], None)
        job.status = DONE
        loaded.commit()
        found, state = run_with_job(reader, run.id)
        assert found is not None and found.status == "done"
        assert state is not None and state["state"] == DONE and state["finished"]


def test_a_new_deployment_with_no_exchange_yet_matches_its_capacities(
    as_user: Any, session: Session, runner: Any
) -> None:
    """Needs and capacities registered, no history: the engine failed on zero exchanges (every
    run and every live match). The capacities are proposed; calibration says it has too little
    history."""
    session.add(
        Capacity(
            id="new-cap",
            country="BRA",
            title="Labour inspection training",
            themes=["labour-inspection"],
            languages=["pt", "es"],
            status="published",
        )
    )
    session.add(
        Need(
            id="new-need",
            country="GTM",
            title="Labour inspection on coffee farms",
            themes=["labour-inspection"],
            languages=["es"],
            status="open",
        )
    )
    session.commit()
    client = as_user("secretariat")
    assert client.post("/matching/runs", data={"scope": "all", "top": 3}).status_code == 302
    run = session.exec(select(MatchRun)).one()
    assert (run.status, run.proposal_count) == ("done", 1), run.error
    stored = session.exec(select(StoredProposal)).one()
    assert (stored.need, stored.capacity) == ("new-need", "new-cap")
    live = client.get("/review/needs/new-need")
    assert live.status_code == 200 and b"new-cap" in live.data
    result = runner.invoke(args=["calibrate"])
    assert result.exit_code == 0 and "Too few cases to learn from" in result.output
