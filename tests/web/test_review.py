"""Review pages: queue with filters, proposal page, decisions, focal points' answers, roles."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from markupsafe import escape
from sqlmodel import Session, col, select

from sscmatch.bundle.load import import_bundle
from sscmatch.models import AuditEvent, Need, Review, Veto
from sscmatch.models import Proposal as StoredProposal
from sscmatch.vocab import load_vocabulary
from sscmatch.workflow import matchruns

ROOT = Path(__file__).resolve().parents[2]
NEED = "s002-n37"  # Guatemala's need: Mexico first … Brazil fifth
OTHER_NEED = "s000-n01"  # Angola's need


def matched(session: Session, needs: list[str]) -> Session:
    """The knowledge base imported and ``needs`` matched (five proposals each)."""
    vocab = load_vocabulary()
    import_bundle(session, ROOT / "data", vocab)
    session.commit()
    matchruns.run_and_store(session, vocab, need_ids=needs, top_k=5)
    session.commit()
    return session


@pytest.fixture
def run(session: Session, users: dict[str, int]) -> Session:
    return matched(session, [NEED, OTHER_NEED])


def render_reasons(html: str) -> list[str]:
    """The items of the proposal page's list of reasons."""
    block = html.split('<ul class="reasons">', 1)[1].split("</ul>", 1)[0]
    return [li.split("</li>", 1)[0] for li in block.split("<li>")[1:]]


def prop(session: Session, provider: str, need: str = NEED) -> StoredProposal:
    session.expire_all()
    return session.exec(
        select(StoredProposal).where(
            StoredProposal.need == need, StoredProposal.provider == provider
        )
    ).one()


def ranked(session: Session, need: str = NEED) -> list[StoredProposal]:
    session.expire_all()
    return list(
        session.exec(
            select(StoredProposal)
            .where(StoredProposal.need == need)
            .order_by(col(StoredProposal.rank))
        )
    )


def test_queue_is_for_the_secretariat_and_the_analyst(as_user: Any, run: Session) -> None:
    assert as_user("focal_gtm").get("/review/queue").status_code == 403
    assert as_user("analyst").get("/review/queue").status_code == 200  # reads, decides nothing
    page = as_user("secretariat").get("/review/queue")
    assert page.status_code == 200
    assert page.data.count(b"/review/proposals/") == 10
    assert as_user("admin").get("/review/queue").status_code == 200


def test_queue_filters_sort_and_bad_arguments(as_user: Any, run: Session) -> None:
    client = as_user("secretariat")
    gtm = client.get("/review/queue?country=GTM")
    assert gtm.data.count(b"/review/proposals/") == 5
    africa = client.get("/review/queue?region=Africa")
    assert africa.data.count(b"/review/proposals/") == 5 and b"s000-n01" in africa.data
    high = client.get("/review/queue?min_score=0.99")
    assert high.data.count(b"/review/proposals/") == 0
    by_low = client.get("/review/queue?sort=score_asc").data.decode()
    first_low = ranked(run)[-1]
    assert by_low.index("/review/proposals/") < by_low.index("</tbody>")
    need = run.get(Need, NEED)
    assert need is not None
    themed = client.get(f"/review/queue?theme={need.themes[0]}")
    assert b"s002-n37" in themed.data
    accepted = client.get("/review/queue?status=accepted")
    assert accepted.data.count(b"/review/proposals/") == 0
    for bad in ("min_score=abc", "status=nope", "sort=x", "page=0", "country=XX1", "run=a"):
        response = client.get(f"/review/queue?{bad}")
        assert response.status_code == 400, bad
        assert b"cannot be used" in response.data
    assert first_low.id


def test_proposal_page_shows_breakdown_reasons_evidence_alternates(
    as_user: Any, run: Session
) -> None:
    bra = prop(run, "BRA", OTHER_NEED)
    html = as_user("secretariat").get(f"/review/proposals/{bra.id}").data.decode()
    for text in ("Topic", "Text", "Language", "Relationship", "<meter"):
        assert text in html, text
    # every reason is a sentence with names (no codes, no ids)
    shown = render_reasons(html)
    assert len(shown) == len(bra.reasons) >= 8
    assert not [r for r in shown if "." in r.split(" ")[0] or "%(" in r]
    assert any("Brazil has provided" in r for r in shown)
    assert "Past exchanges behind these reasons" in html
    assert "/exchanges/" in html  # links to the exchanges
    assert "/needs/s000-n01" in html and f"/capacities/{bra.capacity}" in html
    others = [p for p in ranked(run, OTHER_NEED) if p.id != bra.id]
    for other in others:
        assert f"/review/proposals/{other.id}" in html
    assert "Choose this one instead" in html and "Veto the pair" in html
    # an analyst reads, without decision forms
    analyst = as_user("analyst").get(f"/review/proposals/{bra.id}").data.decode()
    assert "Veto the pair" not in analyst and "Topic" in analyst
    assert as_user("secretariat").get("/review/proposals/99999").status_code == 404


def test_accept_from_the_page(as_user: Any, run: Session) -> None:
    client = as_user("secretariat")
    first = ranked(run)[0]
    # first the confirmation page, which says what will happen and changes nothing
    preview = client.post(
        f"/review/proposals/{first.id}/decision", data={"decision": "accept", "version": 1}
    )
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "What will happen" in text
    assert "override" in text  # the provider has not confirmed
    assert f"Need {NEED} becomes matched" in text and "superseded" in text
    assert prop(run, first.provider).status == "proposed"
    assert {p.status for p in ranked(run)} == {"proposed"}
    # confirmed without the override: refused, nothing changed
    refused = client.post(
        f"/review/proposals/{first.id}/decision",
        data={"decision": "accept", "version": 1, "confirmed": "y", "reason": "x"},
    )
    assert refused.status_code == 409 and prop(run, first.provider).status == "proposed"
    response = client.post(
        f"/review/proposals/{first.id}/decision",
        data={
            "decision": "accept",
            "version": 1,
            "confirmed": "y",
            "override": "y",
            "reason": "the ministry asked us to go ahead",
        },
    )
    assert response.status_code == 302
    assert prop(run, first.provider).status == "accepted"
    assert {p.status for p in ranked(run)[1:]} == {"superseded"}
    need = run.get(Need, NEED)
    assert need is not None and need.status == "matched"
    page = client.get(f"/review/proposals/{first.id}").data.decode()
    assert "no further decision is possible" in page
    # a second decision on the final proposal: flash + 409
    again = client.post(
        f"/review/proposals/{first.id}/decision",
        data={"decision": "reject", "reason": "x", "version": 2, "confirmed": "y"},
    )
    assert again.status_code == 409 and b"not possible" in again.data


def test_reject_needs_a_reason_and_keeps_what_was_typed(as_user: Any, run: Session) -> None:
    client = as_user("secretariat")
    p = ranked(run)[0]
    response = client.post(
        f"/review/proposals/{p.id}/decision",
        data={"decision": "reject", "reason": " ", "version": 1, "confirmed": "y"},
    )
    assert response.status_code == 400 and b"A reason is required" in response.data
    assert prop(run, p.provider).status == "proposed"
    ok = client.post(
        f"/review/proposals/{p.id}/decision",
        data={
            "decision": "reject",
            "reason": "no budget this year",
            "version": 1,
            "confirmed": "y",
        },
    )
    assert ok.status_code == 302
    assert prop(run, p.provider).status == "rejected"
    review = run.exec(select(Review).where(Review.proposal_id == p.id)).one()
    assert (review.decision, review.reason) == ("reject", "no budget this year")


def test_alternate_and_veto_from_the_page(as_user: Any, run: Session) -> None:
    client = as_user("secretariat")
    first, second = ranked(run)[:2]
    response = client.post(
        f"/review/proposals/{first.id}/decision",
        data={"decision": "alternate", "alternate": second.id, "version": 1},
    )
    # the confirmation asks why the current proposal is rejected, and for the override
    asked = response.get_data(as_text=True)
    assert response.status_code == 200 and "in favour of the alternate" in asked
    assert 'name="override"' in asked
    no_reason = client.post(
        f"/review/proposals/{first.id}/decision",
        data={
            "decision": "alternate",
            "alternate": second.id,
            "version": 1,
            "confirmed": "y",
            "override": "y",
        },
    )
    assert no_reason.status_code == 400 and prop(run, first.provider).status == "proposed"
    response = client.post(
        f"/review/proposals/{first.id}/decision",
        data={
            "decision": "alternate",
            "alternate": second.id,
            "version": 1,
            "confirmed": "y",
            "override": "y",
            "reason": "closer language",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/review/proposals/{second.id}")
    assert prop(run, first.provider).status == "rejected"
    assert prop(run, second.provider).status == "accepted"
    other = ranked(run, OTHER_NEED)[0]
    veto = client.post(
        f"/review/proposals/{other.id}/decision",
        data={"decision": "veto", "reason": "sanctions", "version": 1, "confirmed": "y"},
    )
    assert veto.status_code == 302
    row = run.exec(select(Veto)).one()
    assert (row.provider, row.recipient) == (other.provider, other.recipient)
    assert prop(run, other.provider, OTHER_NEED).status == "rejected"


def test_stale_form_is_a_conflict(as_user: Any, run: Session) -> None:
    one, two = as_user("secretariat"), as_user("admin")
    p = ranked(run)[0]
    assert (
        one.post(
            f"/review/proposals/{p.id}/decision",
            data={"decision": "reject", "reason": "a", "version": 1, "confirmed": "y"},
        ).status_code
        == 302
    )
    late = two.post(
        f"/review/proposals/{p.id}/decision",
        data={"decision": "accept", "version": 1, "confirmed": "y", "override": "y", "reason": "r"},
    )
    assert late.status_code == 409 and b"meanwhile" in late.data
    assert prop(run, p.provider).status == "rejected"
    assert len(run.exec(select(Review).where(Review.proposal_id == p.id)).all()) == 1


def test_focal_points_see_and_answer_their_own_proposals(as_user: Any, run: Session) -> None:
    bra, gtm = as_user("focal_bra"), as_user("focal_gtm")
    mine = bra.get("/review/mine")
    assert mine.status_code == 200
    bra_p = prop(run, "BRA")
    assert f"/review/proposals/{bra_p.id}".encode() in mine.data
    assert b"We can provide this" in mine.data
    gtm_page = gtm.get("/review/mine")
    assert gtm_page.data.count(b"It fits our need") == 5
    response = bra.post(
        f"/review/proposals/{bra_p.id}/response",
        data={"response": "confirm", "note": "from March", "version": 1, "back": "/review/mine"},
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/review/mine")
    assert prop(run, "BRA").status == "provider_confirmed"
    fit = gtm.post(
        f"/review/proposals/{bra_p.id}/response",
        data={"response": "does_not_fit", "note": "wrong level", "version": 2},
    )
    assert fit.status_code == 302
    answered = prop(run, "BRA")
    assert (answered.recipient_fit, answered.version) == ("does_not_fit", 3)
    page = as_user("secretariat").get(f"/review/proposals/{bra_p.id}").data.decode()
    assert "from March" in page and "wrong level" in page
    events = run.exec(
        select(AuditEvent.action).where(
            AuditEvent.entity == "proposal", AuditEvent.entity_id == str(bra_p.id)
        )
    ).all()
    assert list(events) == ["confirm", "does_not_fit"]


def test_an_answer_from_the_list_returns_to_the_same_page_filters_and_proposal(
    app: Flask, as_user: Any, run: Session
) -> None:
    """Answering on "Our proposals" page 2 of a filtered list came back to page 1, unfiltered, at
    the top (a country with 200 proposals lost its place at every answer)."""
    app.config["PAGE_SIZE"] = 2
    gtm = as_user("focal_gtm")
    listed = "/review/mine?status=proposed&page=2"
    page = gtm.get(listed).data.decode()
    shown = re.findall(r'<article class="card proposal-card" id="proposal-(\d+)">', page)
    assert shown, "page 2 lists proposals"
    back = f"{listed}#proposal-{shown[0]}"
    assert f'name="back" value="{escape(back)}"' in page
    answer = gtm.post(
        f"/review/proposals/{shown[0]}/response",
        data={"response": "fits", "version": 1, "back": back},
    )
    assert answer.status_code == 302 and answer.headers["Location"].endswith(back)


def test_the_provider_changes_its_answer_from_the_page(as_user: Any, run: Session) -> None:
    """A decline clicked by mistake is undone on the same page: after an answer the page says
    which one was given and offers the other until the secretariat decides."""
    bra = as_user("focal_bra")
    bra_p = prop(run, "BRA")
    declined = bra.post(
        f"/review/proposals/{bra_p.id}/response", data={"response": "decline", "version": 1}
    )
    assert declined.status_code == 302 and prop(run, "BRA").status == "provider_declined"
    page = bra.get(f"/review/proposals/{bra_p.id}").data.decode()
    assert "You answered that your country cannot provide this" in page
    assert 'value="confirm"' in page and 'value="decline"' not in page
    confirmed = bra.post(
        f"/review/proposals/{bra_p.id}/response", data={"response": "confirm", "version": 2}
    )
    assert confirmed.status_code == 302 and prop(run, "BRA").status == "provider_confirmed"
    page = bra.get("/review/mine").data.decode()
    assert "You answered that your country can provide this" in page
    assert f'action="/review/proposals/{bra_p.id}/response"' in page
    as_user("secretariat").post(
        f"/review/proposals/{bra_p.id}/decision",
        data={"decision": "accept", "version": 3, "confirmed": "y"},
    )
    assert prop(run, "BRA").status == "accepted"
    page = bra.get(f"/review/proposals/{bra_p.id}").data.decode()
    assert f'action="/review/proposals/{bra_p.id}/response"' not in page


def test_focal_point_of_another_country_gets_403(as_user: Any, run: Session) -> None:
    bra = as_user("focal_bra")
    mex_gtm = prop(run, "MEX")
    assert bra.get(f"/review/proposals/{mex_gtm.id}").status_code == 403
    response = bra.post(
        f"/review/proposals/{mex_gtm.id}/response", data={"response": "confirm", "version": 1}
    )
    assert response.status_code == 403
    # the recipient cannot answer the provider's side
    gtm = as_user("focal_gtm")
    wrong_side = gtm.post(
        f"/review/proposals/{mex_gtm.id}/response", data={"response": "confirm", "version": 1}
    )
    assert wrong_side.status_code == 403
    assert prop(run, "MEX").status == "proposed"
    # focal points cannot decide, and the secretariat does not answer for a country
    assert (
        gtm.post(
            f"/review/proposals/{mex_gtm.id}/decision", data={"decision": "accept", "version": 1}
        ).status_code
        == 403
    )
    assert (
        as_user("secretariat")
        .post(f"/review/proposals/{mex_gtm.id}/response", data={"response": "fits", "version": 1})
        .status_code
        == 403
    )
    assert as_user("secretariat").get("/review/mine").status_code == 403


def test_csrf_is_required_on_decisions(database_url: str, tmp_path: Path) -> None:
    from tests.conftest import make_test_app

    app = make_test_app(database_url, tmp_path, WTF_CSRF_ENABLED=True)
    try:
        client = app.test_client()
        response = client.post("/review/proposals/1/decision", data={"decision": "accept"})
        assert response.status_code in (302, 400)  # not signed in → login, or CSRF refused
        assert response.status_code != 200
    finally:
        app.extensions["sscmatch.engine"].dispose()


def test_proposal_page_names_the_maturity_in_the_interface_language(
    as_user: Any, run: Session
) -> None:
    from sscmatch.models import Capacity

    p = prop(run, "MEX")
    capacity = run.get(Capacity, p.capacity)
    assert capacity is not None
    capacity.maturity = "operational"
    run.add(capacity)
    run.commit()
    client = as_user("secretariat")
    assert "· operational" in client.get(f"/review/proposals/{p.id}").get_data(as_text=True)
    client.post("/language", data={"lang": "es", "next": "/"})
    spanish = client.get(f"/review/proposals/{p.id}").get_data(as_text=True)
    assert "· operativa" in spanish and "· operational" not in spanish


def test_the_recipient_is_told_its_answer_and_offered_the_other(
    as_user: Any, run: Session
) -> None:
    """Like the provider: after answering, the page says which answer was given and offers the
    other one; the history says the answer without an arrow to a status that did not change
    ("ne convient pas → proposée" read like a status change: the audit)."""
    gtm = as_user("focal_gtm")
    p = prop(run, "BRA")
    answered = gtm.post(
        f"/review/proposals/{p.id}/response", data={"response": "does_not_fit", "version": 1}
    )
    assert answered.status_code == 302
    page = gtm.get(f"/review/proposals/{p.id}").get_data(as_text=True)
    assert "You answered that this proposal does not fit your need." in page
    assert 'value="fits"' in page and 'value="does_not_fit"' not in page
    history = page.split('<ol class="timeline">', 1)[1].split("</ol>", 1)[0]
    assert "→" not in history, history
