"""A focal point's control over their country's needs: a submission taken back (the page that
took it offers the undo), and a need the country no longer wants withdrawn (confirmed, undone
right after), with what that does to its proposals, the review queue and the match run; every
refusal said in the reader's language."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, select

from sscmatch.models import AuditEvent, Need, Notice, StudyTour, User, utcnow
from sscmatch.vocab import load_vocabulary
from sscmatch.workflow import matchruns
from sscmatch.workflow.proposals.queue import Filters, needs_to_review, open_need_ids
from tests.web import test_review
from tests.web.test_api_registry import Api, issue_tokens
from tests.web.test_need_endorsement_undo import _need, _submitted_need, _undo_form
from tests.web.test_review import NEED, ranked

run = test_review.run  # the fixture: the knowledge base and a run for two needs
TAKEN_BACK = {
    "en": "Only a submission that waits for endorsement can be taken back",
    "es": "Solo se puede retirar un envío que espera el aval",
}
TOUR_NAMES_IT = {
    "en": "A study tour names this need",
    "es": "Una visita de estudio menciona esta necesidad",
}


def _actions(app: Flask, need_id: str) -> list[str]:
    with Session(app.extensions["sscmatch.engine"]) as s:
        events = s.exec(
            select(AuditEvent)
            .where(AuditEvent.entity == "need", AuditEvent.entity_id == need_id)
            .order_by(AuditEvent.id)  # type: ignore[arg-type]
        )
        return [e.action for e in events]


@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_submission_is_taken_back_from_the_next_page(as_user: Any, app: Flask, lang: str) -> None:
    gtm = as_user("focal_gtm")
    gtm.post("/language", data={"lang": lang, "next": "/"})
    assert gtm.post("/needs/new", data=_form()).status_code == 302
    need_id = _need_id(app)
    page = gtm.post(
        f"/needs/{need_id}/submit", data={"version": "1"}, follow_redirects=True
    ).get_data(as_text=True)
    action, fields = _undo_form(page)
    assert action == f"/needs/{need_id}/take-back" and fields["version"] == "2"
    label = {"en": "Undo (take back the submission)", "es": "Deshacer (retirar el envío)"}[lang]
    assert label in unescape(page)
    assert gtm.post(action, data=fields).status_code == 302
    need = _need(app, need_id)
    assert (need.status, need.submitted_at) == ("draft", None)
    assert _actions(app, need_id)[-2:] == ["submit", "take_back"]
    # taken back once: the same undo again is a conflict, said in the reader's language
    again = gtm.post(action, data={"version": "3"})
    assert again.status_code == 409 and TAKEN_BACK[lang] in unescape(again.get_data(as_text=True))


def _form() -> dict[str, Any]:
    from tests.web.test_registry import NEED_FORM

    return dict(NEED_FORM)


def _need_id(app: Flask) -> str:
    with Session(app.extensions["sscmatch.engine"]) as s:
        return s.exec(select(Need.id)).one()


def test_the_page_offers_take_back_to_the_country_only(as_user: Any, app: Flask) -> None:
    need_id = _submitted_need(as_user)
    button = f'action="/needs/{need_id}/take-back"'
    assert button in as_user("focal_gtm").get(f"/needs/{need_id}").get_data(as_text=True)
    assert button in as_user("secretariat").get(f"/needs/{need_id}").get_data(as_text=True)
    assert button not in as_user("focal_bra").get(f"/needs/{need_id}").get_data(as_text=True)
    assert button not in as_user("analyst").get(f"/needs/{need_id}").get_data(as_text=True)


@pytest.mark.parametrize("then", ["endorse", "return"])
def test_nothing_to_take_back_once_endorsed_or_returned(
    as_user: Any, app: Flask, users: dict[str, int], then: str
) -> None:
    need_id = _submitted_need(as_user)
    sec = as_user("secretariat")
    assert sec.post(f"/needs/{need_id}/{then}", data={"version": "2", "note": "x"}).status_code
    gtm = Api(app.test_client(), issue_tokens(app, {"g": users["focal_gtm"]})["g"])
    refused = gtm.post(f"/needs/{need_id}/take-back", json={})
    assert refused.status_code == 409 and refused.get_json()["error"] == "conflict"
    assert TAKEN_BACK["en"] in refused.get_json()["message"]
    assert _actions(app, need_id)[-1] == then


def test_withdrawing_is_confirmed_then_undone(as_user: Any, app: Flask, run: Session) -> None:
    gtm = as_user("focal_gtm")
    gtm.post("/language", data={"lang": "es", "next": "/"})
    need = run.get(Need, NEED)
    assert need is not None
    page = gtm.get(f"/needs/{NEED}").get_data(as_text=True)
    assert f'action="/needs/{NEED}/withdraw"' in page and "Retirar esta necesidad" in page
    asked = gtm.post(
        f"/needs/{NEED}/withdraw", data={"version": need.version, "reason": "Ya resuelto."}
    )
    said = unescape(asked.get_data(as_text=True))
    assert asked.status_code == 200 and "¿Retirar la necesidad" in said
    assert "5 propuestas" in said and "Ya resuelto." in said
    run.expire_all()
    assert run.get(Need, NEED).status == "open"  # type: ignore[union-attr]  # nothing yet
    done = gtm.post(
        f"/needs/{NEED}/withdraw",
        data={"version": need.version, "reason": "Ya resuelto.", "confirmed": "y"},
        follow_redirects=True,
    )
    action, fields = _undo_form(done.get_data(as_text=True))
    assert action == f"/needs/{NEED}/reinstate"
    run.expire_all()
    assert run.get(Need, NEED).status == "closed"  # type: ignore[union-attr]
    # out of the secretariat's queue and of the match run
    assert {p.status for p in ranked(run)} == {"superseded"}
    queue = needs_to_review(run, Filters(), viewer=_Staff())
    assert NEED not in {row.need.id for row in queue.items}
    assert NEED not in open_need_ids(run)
    with pytest.raises(matchruns.MatchError, match="only open needs are matched"):
        matchruns.run_and_store(run, load_vocabulary(), need_ids=[NEED])
    run.rollback()
    withdrawn = run.exec(
        select(AuditEvent).where(AuditEvent.entity_id == NEED, AuditEvent.action == "withdraw")
    ).one()
    assert withdrawn.note == "Ya resuelto."
    # a superseded proposal's history says why, in the reader's language
    first = ranked(run)[0]
    history = unescape(gtm.get(f"/review/proposals/{first.id}").get_data(as_text=True))
    assert f"la necesidad {NEED} se retiró" in history
    # the undo: the need open again, its proposals as they were
    assert gtm.post(action, data=fields).status_code == 302
    run.expire_all()
    assert run.get(Need, NEED).status == "open"  # type: ignore[union-attr]
    assert {p.status for p in ranked(run)} == {"proposed"}


class _Staff:
    role = "secretariat"
    country = None


def test_the_undo_is_refused_once_the_need_changed(as_user: Any, app: Flask) -> None:
    need_id = _submitted_need(as_user)
    gtm = as_user("focal_gtm")
    done = gtm.post(
        f"/needs/{need_id}/withdraw", data={"version": "2", "confirmed": "y"}, follow_redirects=True
    )
    action, fields = _undo_form(done.get_data(as_text=True))
    assert _need(app, need_id).status == "closed"
    sec = as_user("secretariat")
    assert (
        sec.post(
            f"/review/needs/{need_id}/reopen",
            data={"version": fields["version"], "reason": "Still needed.", "confirmed": "y"},
        ).status_code
        == 302
    )
    refused = gtm.post(action, data=fields)
    assert refused.status_code == 409
    assert "can no longer be undone" in unescape(refused.get_data(as_text=True))
    assert _need(app, need_id).status == "open"


def _need_with_a_tour(as_user: Any, app: Flask, tour_status: str) -> str:
    """An open need of Guatemala that a study tour in ``tour_status`` names."""
    need_id = _submitted_need(as_user)
    with Session(app.extensions["sscmatch.engine"]) as s:
        need = s.get(Need, need_id)
        assert need is not None
        need.status = "open"
        s.add(
            StudyTour(
                id="ST-0001",
                need=need_id,
                host_country="BRA",
                visiting_country="GTM",
                title="Inspection visit",
                status=tour_status,
                created_at=utcnow(),
            )
        )
        s.commit()
    return need_id


@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_need_a_study_tour_names_is_not_withdrawn(
    as_user: Any, app: Flask, users: dict[str, int], lang: str
) -> None:
    need_id = _need_with_a_tour(as_user, app, "proposed")
    version = _need(app, need_id).version
    gtm = as_user("focal_gtm")
    gtm.post("/language", data={"lang": lang, "next": "/"})
    page = unescape(gtm.get(f"/needs/{need_id}").get_data(as_text=True))
    assert TOUR_NAMES_IT[lang] in page and f'action="/needs/{need_id}/withdraw"' not in page
    refused = gtm.post(f"/needs/{need_id}/withdraw", data={"version": version, "confirmed": "y"})
    assert refused.status_code == 409 and TOUR_NAMES_IT[lang] in unescape(
        refused.get_data(as_text=True)
    )
    api = Api(app.test_client(), issue_tokens(app, {"g": users["focal_gtm"]})["g"])
    answer = api.post(f"/needs/{need_id}/withdraw", json={"version": version})
    assert answer.status_code == 409
    assert _need(app, need_id).status == "open"


def test_a_need_whose_tour_was_cancelled_is_withdrawn(as_user: Any, app: Flask) -> None:
    """A cancelled tour gives its need back to matching: its country may then withdraw it (the
    refusal's own advice is to have the secretariat cancel the tour; it used to refuse still)."""
    need_id = _need_with_a_tour(as_user, app, "cancelled")
    version = _need(app, need_id).version
    gtm = as_user("focal_gtm")
    page = unescape(gtm.get(f"/needs/{need_id}").get_data(as_text=True))
    assert f'action="/needs/{need_id}/withdraw"' in page
    done = gtm.post(f"/needs/{need_id}/withdraw", data={"version": version, "confirmed": "y"})
    assert done.status_code == 302, done.get_data(as_text=True)[:300]
    assert _need(app, need_id).status == "closed"


def test_no_withdrawal_section_for_others(as_user: Any, app: Flask) -> None:
    need_id = _submitted_need(as_user)
    for who in ("focal_bra", "analyst"):
        page = as_user(who).get(f"/needs/{need_id}").get_data(as_text=True)
        assert "withdraw-h" not in page, who
    assert re.search(
        r'id="withdraw-h"', as_user("focal_gtm").get(f"/needs/{need_id}").get_data(as_text=True)
    )


def test_a_reason_too_long_is_said_beside_its_field_and_kept(as_user: Any, app: Flask) -> None:
    need_id = _submitted_need(as_user)
    gtm = as_user("focal_gtm")
    gtm.post("/language", data={"lang": "es", "next": "/"})
    reason = "Ya no hace falta. " * 200  # 3,600 characters
    before = _actions(app, need_id)
    refused = gtm.post(f"/needs/{need_id}/withdraw", data={"version": "2", "reason": reason})
    page = unescape(refused.get_data(as_text=True))
    assert refused.status_code == 400
    field = re.search(r'<textarea[^>]*name="reason"[^>]*>(.*?)</textarea>', page, re.S)
    assert field is not None and field.group(1).strip() == reason.strip()
    assert re.search(r'class="error"[^>]*>[^<]*(demasiado largo|caracteres)', page), page[-3000:]
    assert _actions(app, need_id) == before and _need(app, need_id).status == "draft"


def test_a_withdrawn_need_is_the_secretariats_to_change(as_user: Any, app: Flask) -> None:
    need_id = _submitted_need(as_user)
    gtm = as_user("focal_gtm")
    gtm.post("/language", data={"lang": "es", "next": "/"})
    data = {"version": "2", "confirmed": "y"}
    assert gtm.post(f"/needs/{need_id}/withdraw", data=data).status_code == 302
    edit = f'href="/needs/{need_id}/edit"'
    page = unescape(gtm.get(f"/needs/{need_id}").get_data(as_text=True))
    assert edit not in page and "la Secretaría Técnica la modifica o la reabre" in page
    assert edit in as_user("secretariat").get(f"/needs/{need_id}").get_data(as_text=True)


def _told(app: Flask, kind: str) -> set[str]:
    with Session(app.extensions["sscmatch.engine"]) as s:
        notices = s.exec(select(Notice).where(Notice.kind == kind)).all()
        return {s.get(User, n.user_id).email for n in notices}  # type: ignore[union-attr]


def test_the_other_side_is_told(as_user: Any, app: Flask) -> None:
    need_id = _submitted_need(as_user)
    gtm, sec = as_user("focal_gtm"), as_user("secretariat")
    assert gtm.post(f"/needs/{need_id}/take-back", data={"version": "2"}).status_code == 302
    assert _told(app, "need.take_back") == {"sec@test.org"}
    data = {"version": "3", "confirmed": "y"}
    assert gtm.post(f"/needs/{need_id}/withdraw", data=data).status_code == 302
    assert _told(app, "need.withdraw") == {"sec@test.org"}  # not the focal point who did it
    assert sec.post(f"/needs/{need_id}/reinstate", data={"version": "4"}).status_code == 302
    assert _told(app, "need.reinstate") == {"gtm@test.org"}
    page = unescape(gtm.get("/notices").get_data(as_text=True))
    assert f"The withdrawal of need {need_id} was undone" in page


@pytest.mark.parametrize("lang", ["fr", "es"])
def test_a_withdrawal_confirmed_on_a_need_changed_meanwhile_keeps_the_reason(
    as_user: Any, app: Flask, lang: str
) -> None:
    """The step forms' rule (tests/web/test_stale_edits.STEP_FORMS): a stale one is refused, and
    the page shows the record as it is now with the text typed. The withdrawal's confirmation,
    sent after someone changed the need, went to the conflict page and the reason was lost."""
    need_id = _submitted_need(as_user)
    seen = _need(app, need_id).version
    gtm = as_user("focal_gtm")
    gtm.post("/language", data={"lang": lang, "next": "/"})
    with Session(app.extensions["sscmatch.engine"]) as s:  # someone else's edit meanwhile
        need = s.get(Need, need_id)
        assert need is not None
        need.priority = "low"
        s.commit()
    reason = "Ya no lo necesitamos: el ministerio lo cubre — ç’ü"
    sent = gtm.post(
        f"/needs/{need_id}/withdraw",
        data={"version": seen, "reason": reason, "confirmed": "y"},
    )
    page = unescape(sent.get_data(as_text=True))
    assert sent.status_code == 409, page[:300]
    assert reason in page
    assert f'name="version" value="{_need(app, need_id).version}"' in page
    assert "Not withdrawn" not in page  # in the reader's language
    assert _need(app, need_id).status == "draft"


NEED_TEXT_STEPS = {  # every need step form with a text field: its action, field, who sends it
    "return": ("return", "note", "secretariat"),
    "withdraw": ("withdraw", "reason", "focal_gtm"),
}


@pytest.mark.parametrize("step", NEED_TEXT_STEPS)
@pytest.mark.parametrize("lang", ["es", "fr"])
def test_a_need_step_refused_for_its_text_keeps_the_text(
    as_user: Any, app: Flask, step: str, lang: str
) -> None:
    """A NUL pasted into a need step's note or reason is said beside the field, the rest of the
    text kept, nothing written (the page forms' rule, sscmatch.web.pageform). The need page's
    step forms answered a bare 400, "The form expired; reload the page", and the text was lost:
    tests/web/test_nul_in_forms walks every page form, but its world holds no need waiting for
    these steps."""
    action, field, who = NEED_TEXT_STEPS[step]
    need_id = _submitted_need(as_user)
    before = _need(app, need_id)
    client = as_user(who)
    client.post("/language", data={"lang": lang, "next": "/"})
    typed = "Añadir las fechas\x00 — ç’ü"
    sent = client.post(f"/needs/{need_id}/{action}", data={"version": before.version, field: typed})
    page = unescape(sent.get_data(as_text=True))
    assert sent.status_code == 400, page[:300]
    assert typed.replace("\x00", "") in page
    assert "form expired" not in page and "NUL" in page  # said beside the field
    assert "This text held a character" not in page  # in the reader's language
    after = _need(app, need_id)
    assert (after.status, after.version) == (before.status, before.version)
