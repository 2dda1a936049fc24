"""Reminders: digests per owner, once a day, by SMTP (a local server in the test) or to files."""

from __future__ import annotations

import re
import socketserver
import threading
from collections.abc import Iterator
from datetime import date
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, select

from sscmatch.models import Commitment, Notice, Reminder, StudyTour, User
from sscmatch.workflow import commitments as kwf
from sscmatch.workflow import notices
from sscmatch.workflow import reminders as rwf
from sscmatch.workflow import tours as wf
from tests.workflow.test_tours import SEC, advance, make_world

TODAY = date(2026, 7, 15)


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) to accept messages: EHLO, MAIL, RCPT, DATA, QUIT."""

    def handle(self) -> None:
        server: Any = self.server
        self.wfile.write(b"220 localhost test SMTP\r\n")
        sender, rcpts = "", []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            cmd = line.decode().strip()
            verb = cmd.split(" ")[0].upper()
            if verb in ("EHLO", "HELO"):
                self.wfile.write(b"250-localhost\r\n250 OK\r\n")
            elif verb == "MAIL":
                sender, rcpts = cmd.split(":", 1)[1].strip("<> "), []
                self.wfile.write(b"250 OK\r\n")
            elif verb == "RCPT":
                rcpts.append(cmd.split(":", 1)[1].strip("<> "))
                self.wfile.write(b"250 OK\r\n")
            elif verb == "DATA":
                self.wfile.write(b"354 End with .\r\n")
                body = b""
                while True:
                    chunk = self.rfile.readline()
                    if chunk in (b".\r\n", b""):
                        break
                    body += chunk[1:] if chunk.startswith(b"..") else chunk
                server.messages.append((sender, rcpts, message_from_bytes(body)))
                self.wfile.write(b"250 queued\r\n")
            elif verb == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 OK\r\n")


@pytest.fixture
def smtp_server() -> Iterator[Any]:
    server: Any = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.daemon_threads = True
    server.messages = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def world(session: Session, users: dict[str, int]) -> StudyTour:
    """A scheduled tour with GTM commitments: one overdue, one due in 5 days, one far away, one
    fulfilled; and one BRA commitment overdue."""
    proposal = make_world(session)
    # Its people chose English: the digests' wording is checked in English here (an account
    # that chose none is written to in its country's language: the test after these).
    for user_id in users.values():
        session.get(User, user_id).language = "en"
    tour = wf.draft_from_proposal(session, proposal, None, today=date(2026, 1, 5))
    session.commit()
    tour = advance(session, tour.id, "proposed", "agreed", "scheduled")
    for owner, what, due, status, evidence in (
        ("GTM", "Adopt the list", "2026-06", "pending", None),
        ("GTM", "Train inspectors", "2026-07-20", "in_progress", None),
        ("GTM", "Evaluate", "2027-01", "pending", None),
        ("GTM", "Report", "2026-05", "fulfilled", "report.pdf"),
        ("BRA", "Send manual", "2026-07-01", "pending", None),
    ):
        kwf.add_commitment(
            session,
            tour.id,
            user=SEC,
            owner_country=owner,
            description=what,
            due=due,
            status=status,
            evidence=evidence,
        )
    session.commit()
    # Setting the world up told its focal points and the secretariat (a tour drafted and
    # moved): read in the app, so the commitment digests below carry commitments only. The
    # notices' own tests are at the end.
    notices.mark_read(session, users["focal_gtm"])
    notices.mark_read(session, users["focal_bra"])
    notices.mark_read(session, users["secretariat"])
    session.commit()
    return tour


def test_digests_group_by_focal_point(session: Session, world: StudyTour) -> None:
    found, unreached = rwf.digests(session, TODAY, 14, None)
    assert unreached == []
    by = {d.recipient: d for d in found}
    assert set(by) == {"gtm@test.org", "bra@test.org"}
    gtm = by["gtm@test.org"]
    assert [i.description for i in gtm.overdue] == ["Adopt the list"]
    assert [i.description for i in gtm.due_soon] == ["Train inspectors"]
    subject, body = rwf.render(gtm, TODAY)
    assert subject == "sscmatch: 1 overdue, 1 due soon (2026-07-15)"
    assert "15 days overdue" in body and "due in 5 days" in body and "Guatemala" in body
    assert "Evaluate" not in body and "Report" not in body


def test_commitments_recorded_from_the_documents_are_not_reminded(
    session: Session, world: StudyTour
) -> None:
    """A commitment with no study tour (recorded from a document, years past due) is not live:
    the dashboard keeps it apart and the digest does not remind it."""
    session.add(
        Commitment(id="s000-k99", owner_country="GTM", description="Old roadmap", due="2015")
    )
    session.commit()
    found, _ = rwf.digests(session, TODAY, 14, None)
    gtm = next(d for d in found if d.recipient == "gtm@test.org")
    assert [i.description for i in gtm.overdue] == ["Adopt the list"]
    assert "Old roadmap" not in rwf.render(gtm, TODAY)[1]


def test_fallback_address_when_a_country_has_no_focal_point(
    session: Session, world: StudyTour
) -> None:
    from sscmatch.models import User

    bra = session.exec(select(User).where(User.email == "bra@test.org")).one()
    bra.active = False
    session.commit()
    found, unreached = rwf.digests(session, TODAY, 14, None)
    assert unreached == ["BRA"] and [d.recipient for d in found] == ["gtm@test.org"]
    found, unreached = rwf.digests(session, TODAY, 14, "ts@ilo.test")
    assert unreached == [] and [d.recipient for d in found] == ["gtm@test.org", "ts@ilo.test"]


def test_remind_writes_files_once_a_day(
    app: Flask, runner: Any, session: Session, world: StudyTour, tmp_path: Path
) -> None:
    out = tmp_path / "digests"
    result = runner.invoke(args=["remind", "--today", "2026-07-15", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 digest(s) sent, 0 already sent today" in result.output
    files = sorted(p.name for p in out.iterdir())
    assert files == ["2026-07-15_bra@test.org.txt", "2026-07-15_gtm@test.org.txt"]
    text = (out / "2026-07-15_gtm@test.org.txt").read_text()
    assert text.startswith("To: gtm@test.org\nSubject: sscmatch: 1 overdue")
    again = runner.invoke(args=["remind", "--today", "2026-07-15", "--out", str(out)])
    assert "0 digest(s) sent, 2 already sent today" in again.output
    rows = session.exec(select(Reminder).order_by(Reminder.recipient)).all()
    assert [(r.recipient, r.sent_on, r.channel) for r in rows] == [
        ("bra@test.org", "2026-07-15", "file"),
        ("gtm@test.org", "2026-07-15", "file"),
    ]
    assert len(rows[1].items) == 2
    next_day = runner.invoke(args=["remind", "--today", "2026-07-16", "--out", str(out)])
    assert "2 digest(s) sent" in next_day.output


def test_remind_by_smtp(
    app: Flask, runner: Any, session: Session, world: StudyTour, smtp_server: Any
) -> None:
    app.config.update(
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=smtp_server.server_address[1],
        SMTP_FROM="followup@sscmatch.test",
    )
    result = runner.invoke(args=["remind", "--today", "2026-07-15", "--days", "10"])
    assert result.exit_code == 0, result.output
    assert "e-mailed to gtm@test.org" in result.output
    assert sorted(r for _, rcpts, _ in smtp_server.messages for r in rcpts) == [
        "bra@test.org",
        "gtm@test.org",
    ]
    gtm = next(m for _, rcpts, m in smtp_server.messages if rcpts == ["gtm@test.org"])
    assert gtm["From"] == "followup@sscmatch.test"
    assert gtm["Subject"] == "sscmatch: 1 overdue, 1 due soon (2026-07-15)"
    assert "Adopt the list" in gtm.get_payload()
    runner.invoke(args=["remind", "--today", "2026-07-15"])
    assert len(smtp_server.messages) == 2  # nothing sent twice the same day
    assert session.exec(select(Reminder)).all()[0].channel == "email"


def test_remind_reports_bad_input_and_failed_delivery(
    app: Flask, runner: Any, session: Session, world: StudyTour
) -> None:
    bad = runner.invoke(args=["remind", "--today", "15/07/2026"])
    assert bad.exit_code != 0 and "'--today': expected a date YYYY-MM-DD" in bad.output
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=1)  # nothing listens there
    failed = runner.invoke(args=["remind", "--today", "2026-07-15"])
    assert failed.exit_code != 0 and "could not deliver" in failed.output
    assert session.exec(select(Reminder)).all() == []  # not marked sent: retried next run


def _tell_about_the_tour(session: Session, tour_id: str) -> None:
    """The tour moves on: its two countries' focal points and the secretariat are told."""
    advance(session, tour_id, "completed")


def test_a_digest_carries_the_notices_once(
    runner: Any, session: Session, world: StudyTour, users: dict[str, int], tmp_path: Path
) -> None:
    _tell_about_the_tour(session, world.id)
    told = session.exec(select(Notice).where(Notice.read_at == None)).all()  # noqa: E711
    assert {n.user_id for n in told} == {
        users["focal_gtm"],
        users["focal_bra"],
        users["secretariat"],
    }
    # Guatemala's focal point reads theirs in the app before the digest: not e-mailed.
    notices.mark_read(session, users["focal_gtm"])
    session.commit()
    out = tmp_path / "digests"
    result = runner.invoke(args=["remind", "--today", "2026-07-15", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "3 digest(s) sent" in result.output
    sec = (out / "2026-07-15_sec@test.org.txt").read_text()
    assert "Subject: sscmatch: 1 notice (2026-07-15)" in sec
    assert "WHAT ARRIVED FOR YOU (1)" in sec
    assert f"Study tour {world.id} is now completed: " in sec
    assert "Commitments of" not in sec and "OVERDUE" not in sec  # the secretariat owns none
    bra = (out / "2026-07-15_bra@test.org.txt").read_text()
    assert "Subject: sscmatch: 1 overdue, 0 due soon, 1 notice (2026-07-15)" in bra
    assert "Send manual" in bra and f"Study tour {world.id} is now completed" in bra
    gtm = (out / "2026-07-15_gtm@test.org.txt").read_text()
    assert "WHAT ARRIVED" not in gtm and "notice" not in gtm.split("\n")[1]
    session.expire_all()
    emailed = {n.user_id: n.emailed_on for n in session.exec(select(Notice)) if n.emailed_on}
    assert emailed == {users["focal_bra"]: "2026-07-15", users["secretariat"]: "2026-07-15"}
    # The next day: the commitments again, the notices not (e-mailed once).
    runner.invoke(args=["remind", "--today", "2026-07-16", "--out", str(out)])
    assert not (out / "2026-07-16_sec@test.org.txt").exists()
    assert "WHAT ARRIVED" not in (out / "2026-07-16_bra@test.org.txt").read_text()


def test_a_failed_delivery_keeps_the_notices_for_the_next_run(
    app: Flask, runner: Any, session: Session, world: StudyTour
) -> None:
    _tell_about_the_tour(session, world.id)
    session.commit()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=1)  # nothing listens there
    failed = runner.invoke(args=["remind", "--today", "2026-07-15"])
    assert failed.exit_code != 0
    session.expire_all()
    assert [n for n in session.exec(select(Notice)) if n.emailed_on] == []


def test_inactive_users_get_no_notice_digest(
    runner: Any, session: Session, world: StudyTour, tmp_path: Path
) -> None:
    _tell_about_the_tour(session, world.id)
    sec = session.exec(select(User).where(User.email == "sec@test.org")).one()
    sec.active = False
    session.commit()
    found, _ = rwf.digests(session, TODAY, 14, None)
    assert "sec@test.org" not in {d.recipient for d in found}


@pytest.mark.one_case_on_postgresql(language="es")
@pytest.mark.parametrize(
    ("language", "as_of", "due"),
    [
        ("en", "July 15, 2026", "June 2026"),
        ("es", "15 de julio de 2026", "junio de 2026"),
        ("pt", "15 de julho de 2026", "junho de 2026"),
        ("fr", "15 juillet 2026", "juin 2026"),
    ],
)
def test_a_digest_writes_its_dates_in_its_readers_language(
    session: Session, world: StudyTour, language: str, as_of: str, due: str
) -> None:
    """The dates of the body as the recipient writes them ("due 2026-06" in a Spanish digest
    was ISO text in a sentence); the subject keeps its ISO stamp (sortable in a mailbox)."""
    found, _ = rwf.digests(session, TODAY, 14, None)
    gtm = next(d for d in found if d.recipient == "gtm@test.org")
    gtm.language = language
    _subject, body = rwf.render(gtm, TODAY)
    assert as_of in body and due in body, body
    assert not re.search(r"(?<![\w-])\d{4}-\d{2}(?:-\d{2})?(?![\d-])", body), body


def test_an_account_that_chose_no_language_is_written_to_in_its_countrys(
    session: Session, world: StudyTour, users: dict[str, int]
) -> None:
    for key in ("focal_gtm", "focal_bra"):
        session.get(User, users[key]).language = ""
    session.commit()
    found, _unreached = rwf.digests(session, TODAY, 7, None)
    languages = {d.recipient: d.language for d in found}
    assert languages["gtm@test.org"] == "es" and languages["bra@test.org"] == "pt"
