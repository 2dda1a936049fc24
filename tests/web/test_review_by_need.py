"""Issue 14 in the pages: review by need, the provider-answer queue, comments, bulk decisions,
reverts, vetoes lifted, needs reopened, each role's worklist on the home page and notices."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from sqlmodel import Session, select

from sscmatch.models import Need, Notice, ProposalComment, Review, Veto
from sscmatch.models import Proposal as StoredProposal
from tests.web import test_review
from tests.web.test_review import NEED, OTHER_NEED, prop, ranked

run = test_review.run  # the fixture: the knowledge base and a run for two needs

PAGES = (
    "/",
    "/notices",
    "/review/needs",
    f"/review/needs/{NEED}",
    "/review/awaiting",
    "/review/vetoes",
    "/review/queue",
)


def test_every_new_page_answers_each_role(as_user: Any, run: Session) -> None:
    expected = {
        "secretariat": {p: 200 for p in PAGES},
        "analyst": {p: 200 for p in PAGES},
        "focal_gtm": {**{p: 403 for p in PAGES}, "/": 200, "/notices": 200},
    }
    for role, pages in expected.items():
        client = as_user(role)
        for path, status in pages.items():
            assert client.get(path).status_code == status, (role, path)


def test_need_page_shows_candidates_side_by_side(as_user: Any, run: Session) -> None:
    page = as_user("secretariat").get(f"/review/needs/{NEED}").get_data(as_text=True)
    candidates = ranked(run)
    assert "5 candidates side by side" in page
    for p in candidates:
        assert f"/review/proposals/{p.id}" in page
    for row in ("Availability", "Modality", "answer", "Recipient says", "Reasons"):
        assert row in page, row
    assert page.count("Accept…") == len(candidates)
    assert "%(" not in page  # reasons rendered, never printed raw
    # the list of needs names it, with its five candidates awaiting their providers
    needs = as_user("analyst").get("/review/needs").get_data(as_text=True)
    assert f"/review/needs/{NEED}" in needs and "Accept…" not in needs


def test_candidates_ready_to_decide_come_first(as_user: Any, run: Session) -> None:
    """The provider that confirmed leads the comparison, whatever its score; then the others
    in the matcher's order (by score, save near-ties: ``matching/ties.py``)."""
    bra = prop(run, "BRA")  # fifth by score
    as_user("focal_bra").post(
        f"/review/proposals/{bra.id}/response", data={"response": "confirm", "version": 1}
    )
    page = as_user("secretariat").get(f"/review/needs/{NEED}").get_data(as_text=True)
    head = page.split('<table class="compare">', 1)[1].split("</thead>", 1)[0]
    order = [head.index(f"/review/proposals/{p.id}") for p in [bra, *ranked(run)[:4]]]
    assert order == sorted(order)


def test_fallback_proposal_on_the_need_page(as_user: Any, run: Session) -> None:
    p = ranked(run)[-1]
    p.capacity = None
    p.components = {**(p.components or {}), "basis": "experience"}
    run.add(p)
    run.commit()
    page = as_user("secretariat").get(f"/review/needs/{NEED}").get_data(as_text=True)
    assert "No registered offer: proposed for its experience" in page
    assert as_user("secretariat").get(f"/review/proposals/{p.id}").status_code == 200


def test_awaiting_queue_lists_unanswered_oldest_first(as_user: Any, run: Session) -> None:
    bra = prop(run, "BRA")
    as_user("focal_bra").post(
        f"/review/proposals/{bra.id}/response", data={"response": "confirm", "version": 1}
    )
    page = as_user("secretariat").get("/review/awaiting").get_data(as_text=True)
    assert f'/review/proposals/{bra.id}"' not in page
    assert f'/review/proposals/{prop(run, "MEX").id}"' in page


def test_comments_by_the_right_people(as_user: Any, run: Session) -> None:
    mex = prop(run, "MEX")  # Mexico → Guatemala
    ok = as_user("focal_gtm").post(
        f"/review/proposals/{mex.id}/comments", data={"body": "Can they come in May?"}
    )
    assert ok.status_code == 302
    assert (
        as_user("focal_bra")
        .post(f"/review/proposals/{mex.id}/comments", data={"body": "x"})
        .status_code
        == 403
    )
    assert (
        as_user("analyst")
        .post(f"/review/proposals/{mex.id}/comments", data={"body": "x"})
        .status_code
        == 403
    )
    empty = as_user("secretariat").post(f"/review/proposals/{mex.id}/comments", data={"body": " "})
    assert empty.status_code == 400
    assert [c.body for c in run.exec(select(ProposalComment))] == ["Can they come in May?"]
    page = as_user("secretariat").get(f"/review/proposals/{mex.id}").get_data(as_text=True)
    assert "Can they come in May?" in page
    # the secretariat was told
    notices = run.exec(select(Notice).where(Notice.kind == "proposal.comment")).all()
    assert notices and all(n.entity_id == str(mex.id) for n in notices)


def test_bulk_reject_previews_then_reports_conflicts(as_user: Any, run: Session) -> None:
    sec = as_user("secretariat")
    a, b, c = ranked(run)[:3]
    items = [f"{a.id}:1", f"{b.id}:1", f"{c.id}:1"]
    preview = sec.post("/review/bulk", data={"decision": "reject", "item": items})
    assert preview.status_code == 200 and "Reject 3 proposals?" in preview.get_data(as_text=True)
    assert {p.status for p in ranked(run)} == {"proposed"}
    # meanwhile someone else (an admin) rejects b
    as_user("admin").post(
        f"/review/proposals/{b.id}/decision",
        data={"decision": "reject", "reason": "one", "version": 1, "confirmed": "y"},
    )
    done = sec.post(
        "/review/bulk",
        data={"decision": "reject", "item": items, "reason": "budget", "confirmed": "y"},
        follow_redirects=True,
    )
    text = done.get_data(as_text=True)
    assert "2 proposals decided." in text and f"Proposal {b.id} was not decided" not in text
    assert f"Changed meanwhile by someone else, not decided: {b.id}" in text
    reasons = {r.proposal_id: r.reason for r in run.exec(select(Review))}
    assert reasons == {a.id: "budget", b.id: "one", c.id: "budget"}
    # a reason is due; bad items are refused
    assert (
        b"reason is required"
        in sec.post(
            "/review/bulk",
            data={"decision": "reject", "item": items, "confirmed": "y"},
            follow_redirects=True,
        ).data
    )
    assert (
        b"not a proposal"
        in sec.post(
            "/review/bulk", data={"decision": "reject", "item": ["x"]}, follow_redirects=True
        ).data.lower()  # a message shown alone starts with a capital ("Not a proposal")
    )


def test_revert_lift_and_reopen_from_the_pages(as_user: Any, run: Session) -> None:
    sec = as_user("secretariat")
    p = prop(run, "BRA")
    sec.post(
        f"/review/proposals/{p.id}/decision",
        data={"decision": "veto", "reason": "politics", "version": 1, "confirmed": "y"},
    )
    pair = run.exec(select(Veto)).one()
    # revert: a confirmation saying the veto is lifted, then the change
    preview = sec.post(f"/review/proposals/{p.id}/revert", data={"version": 2})
    assert "The veto this decision made is lifted." in preview.get_data(as_text=True)
    assert (
        sec.post(
            f"/review/proposals/{p.id}/revert", data={"version": 2, "confirmed": "y"}
        ).status_code
        == 400
    )
    ok = sec.post(
        f"/review/proposals/{p.id}/revert", data={"version": 2, "confirmed": "y", "reason": "oops"}
    )
    assert ok.status_code == 302 and prop(run, "BRA").status == "proposed"
    assert run.exec(select(Veto)).all() == []
    # veto again, then lift it from the list of vetoes
    sec.post(
        f"/review/proposals/{p.id}/decision",
        data={"decision": "veto", "reason": "again", "version": 3, "confirmed": "y"},
    )
    pair = run.exec(select(Veto)).one()
    assert "Lift the veto" in sec.get("/review/vetoes").get_data(as_text=True)
    assert as_user("analyst").post(f"/review/vetoes/{pair.id}/lift", data={}).status_code == 403
    lifted = sec.post(
        f"/review/vetoes/{pair.id}/lift", data={"confirmed": "y", "reason": "new government"}
    )
    assert lifted.status_code == 302 and run.exec(select(Veto)).all() == []
    assert (
        sec.post(
            f"/review/vetoes/{pair.id}/lift", data={"confirmed": "y", "reason": "x"}
        ).status_code
        == 404
    )
    # reopen a matched need
    need = run.get(Need, NEED)
    assert need is not None
    need.status = "matched"
    run.add(need)
    run.commit()
    version = need.version
    assert "Reopen this need" in sec.get(f"/review/needs/{NEED}").get_data(as_text=True)
    sec.post(
        f"/review/needs/{NEED}/reopen",
        data={"version": version, "confirmed": "y", "reason": "still needed"},
    )
    run.expire_all()
    assert run.get(Need, NEED).status == "open"  # type: ignore[union-attr]


def test_worklists_and_notices(as_user: Any, run: Session) -> None:
    # The run fixture's run (matchruns.run_and_store, as `sscmatch match` stores one) told the
    # focal points of both countries.
    gtm = as_user("focal_gtm")
    home = gtm.get("/").get_data(as_text=True)
    assert "What needs you now" in home and "Proposals to answer" in home
    assert "Needs returned to you" in home and "Commitments due" in home
    assert "A match run proposed 5 providers for the needs of Guatemala" in home
    sec_home = as_user("secretariat").get("/").get_data(as_text=True)
    for title in (
        "Needs to endorse",
        "Proposals to decide",
        "Study tours to move",
        "Overdue commitments of study tours planned here",
    ):
        assert title in sec_home
    # what waits for the providers, and where the documents' commitments are, said there too
    # (the audit: "nothing waits for you" beside a run's 783 unanswered proposals)
    waiting = len(run.exec(select(StoredProposal).where(StoredProposal.status == "proposed")).all())
    assert waiting and f'href="/review/awaiting">{waiting} proposals wait for their' in sec_home
    assert "Those recorded from the source documents are on the follow-up page." in sec_home
    bra = as_user("focal_bra")
    listed = bra.get("/notices")
    assert listed.status_code == 200
    text = listed.get_data(as_text=True)
    asked = len(
        run.exec(
            select(StoredProposal).where(
                StoredProposal.provider == "BRA", StoredProposal.status == "proposed"
            )
        ).all()
    )
    assert asked == 2  # one for each need of the run
    assert "A match run asks Brazil to provide: 2 new proposals to answer" in text
    assert "the needs of Guatemala" not in text  # Guatemala's notice is not Brazil's
    mine = run.exec(select(Notice).where(Notice.kind == "proposals.to_answer")).one()
    theirs = run.exec(select(Notice).where(Notice.kind == "proposals.for_needs")).one()
    assert gtm.post(f"/notices/{mine.id}/open").status_code == 404  # Brazil's notice
    opened = bra.post(f"/notices/{mine.id}/open")
    assert opened.status_code == 302 and opened.headers["Location"].endswith("/review/mine")
    run.refresh(mine)
    run.refresh(theirs)
    assert mine.read_at is not None and theirs.read_at is None
    gtm.post("/notices/read")
    run.refresh(theirs)
    assert theirs.read_at is not None
    # in Spanish too
    gtm.post("/language", data={"lang": "es", "next": "/"})
    assert "Propuestas por responder" in gtm.get("/").get_data(as_text=True)


def test_worklists_leave_commitments_recorded_from_the_documents_out(
    as_user: Any, run: Session
) -> None:
    """A commitment with no study tour (recorded from a document, years past due) is the
    follow-up dashboard's history, not work for today: neither the focal point's 'Commitments
    due' nor the secretariat's 'Overdue commitments' lists it."""
    from datetime import date

    from sscmatch.models import Commitment
    from sscmatch.workflow import worklists

    run.add(Commitment(id="s000-k99", owner_country="GTM", description="Old roadmap", due="2015"))
    run.commit()
    today = date(2026, 12, 2)
    gtm = worklists.focal_point(run, SimpleNamespace(role="focal_point", country="GTM"), today)
    sec = worklists.secretariat(run, SimpleNamespace(role="secretariat", country=None), today)
    assert gtm.lists["due"].total == 0 and sec.lists["overdue"].total == 0
    assert "Old roadmap" not in as_user("focal_gtm").get("/").get_data(as_text=True)


def test_needs_to_review_kept_per_version_and_scope(run: Session) -> None:
    """The grouped page of needs is kept per version of the records and viewer's scope: a focal
    point's answer never comes from the staff's entry (nor the other way round), a committed
    decision shows at once, and uncommitted writes keep nothing."""
    from sscmatch import caches
    from sscmatch.workflow import proposals as wf

    staff = SimpleNamespace(role="analyst", country=None)
    gtm = SimpleNamespace(role="focal_point", country="GTM")

    def needs(viewer: Any) -> list[str]:
        return [r.need.id for r in wf.needs_to_review(run, wf.Filters(), viewer=viewer).items]

    fresh = {}
    for who in (staff, gtm):
        caches.clear_all()
        fresh[who.country] = needs(who)
    assert set(fresh[None]) == {NEED, OTHER_NEED} and fresh["GTM"] == [NEED]
    caches.clear_all()
    assert [needs(staff), needs(gtm), needs(staff)] == [fresh[None], fresh["GTM"], fresh[None]]

    for p in ranked(run, OTHER_NEED):  # the other need leaves the queue, uncommitted first
        p.status = "rejected"
        run.add(p)
    run.flush()
    assert needs(staff) == [NEED]
    run.rollback()
    assert set(needs(staff)) == {NEED, OTHER_NEED}  # nothing kept from the rolled-back state
    for p in ranked(run, OTHER_NEED):
        p.status = "rejected"
        run.add(p)
    run.commit()
    assert needs(staff) == [NEED]


def test_worklists_read_commitments_through_an_index(run: Session) -> None:
    """The home page's commitment lists never read the whole commitment table: at full scale it
    holds 40,000 commitments recorded from the documents (no study tour), and SQLite scanned
    them all for every visit of the secretariat's home page (12 ms) because it reads no index
    for ``IS NOT NULL``. Every statement both worklists run on commitments is searched through
    an index once the planner knows the table (as after an import)."""
    from datetime import date

    from sqlalchemy import event

    from sscmatch.db import refresh_statistics
    from sscmatch.models import Commitment
    from sscmatch.workflow import worklists

    engine = run.get_bind()
    if engine.dialect.name != "sqlite":
        return  # the plan below is SQLite's; PostgreSQL reads IS NOT NULL through an index
    for n in range(300):
        run.add(Commitment(id=f"K-doc-{n}", owner_country="GTM", description="Old", due="2015"))
    run.commit()
    refresh_statistics(engine)  # type: ignore[arg-type]
    seen: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM commitment" in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        today = date(2026, 12, 2)
        worklists.focal_point(run, SimpleNamespace(role="focal_point", country="GTM"), today)
        worklists.secretariat(run, SimpleNamespace(role="secretariat", country=None), today)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    assert len(seen) == 2
    for statement, parameters in seen:
        plan = run.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
        steps = " / ".join(str(row[-1]) for row in plan)
        assert "SCAN commitment" not in steps, steps


def test_needs_to_endorse_kept_per_version(run: Session) -> None:
    """The secretariat's 'to endorse' list (which needs: kept per data version, no index
    serves its condition) follows every committed change at once, in submission order, and
    keeps nothing from uncommitted writes."""
    from datetime import UTC, datetime, timedelta

    from sscmatch.workflow import worklists

    sec = SimpleNamespace(role="secretariat", country=None)
    today = datetime(2026, 12, 2).date()

    def to_endorse() -> list[str]:
        listed = worklists.secretariat(run, sec, today).lists["to_endorse"]
        assert listed.total == len(listed.items)  # fewer than the list shows
        return [n.id for n in listed.items]

    before = to_endorse()
    drafts = [n for n in run.exec(select(Need).where(Need.id.not_in(before))).all()][:2]  # type: ignore[attr-defined]
    assert len(drafts) == 2
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for offset, need in zip((2, 1), drafts, strict=True):  # the second was submitted first
        need.status, need.submitted_at = "draft", start + timedelta(days=offset)
        run.add(need)
    run.flush()
    assert to_endorse()[-2:] == [drafts[1].id, drafts[0].id]  # uncommitted: read, not kept
    run.rollback()
    assert to_endorse() == before
    for offset, need in zip((2, 1), drafts, strict=True):
        need.status, need.submitted_at = "draft", start + timedelta(days=offset)
        run.add(need)
    run.commit()
    assert to_endorse()[-2:] == [drafts[1].id, drafts[0].id]
    drafts[1].submitted_at = None
    run.add(drafts[1])
    run.commit()
    assert to_endorse()[-1:] == [drafts[0].id]
