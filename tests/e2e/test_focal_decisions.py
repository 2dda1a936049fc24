"""A focal point's save that they cannot take back is confirmed first, in their language, on the
form itself (what they typed stays in it), from the keyboard on a phone: marking their country's
commitment fulfilled or dropped (only the secretariat reopens it), and changing an endorsed need
(it goes back to the secretariat for endorsement and is not matched until endorsed again; only
the secretariat endorses). The first Save writes nothing and puts the focus on the confirmation;
confirming saves. The tester's finding: both were saved at the first Enter, with no word before
(sscmatch.web.confirm listed them as typed forms that "another edit changes back", which a focal
point's next edit does not)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlmodel import Session, select

from sscmatch.models import Commitment, Need, User
from sscmatch.vocab import load_vocabulary
from sscmatch.workflow import registry as reg
from sscmatch.workflow.reminders import catalogue
from tests.e2e.conftest import DEMO, LiveServer, expect
from tests.e2e.test_focal_forms import PEOPLE, add_commitment, on_a_phone

pytestmark = [pytest.mark.e2e, pytest.mark.same_on_every_database]

# What each confirmation says (English, as the catalogue holds it; the page says it translated).
DECIDED = (
    "Once marked %(status)s, this commitment can be reopened only by the technical secretariat. "
    "Confirm to save it so."
)
BACK_TO_ENDORSEMENT = (
    "Your change goes back to the secretariat for endorsement; the need is not matched until it "
    "is endorsed again."
)


def _engine(live_server: LiveServer) -> Any:
    return live_server.app.extensions["sscmatch.engine"]


def _records(live_server: LiveServer, country: str, lang: str) -> tuple[str, list[str], str]:
    """Two commitments of ``country`` to decide and an endorsed need of it, the test's own."""
    ids = [
        add_commitment(live_server, f"focal-decision-{lang}-{country}-{n}", country, f"Train ({n})")
        for n in (1, 2)
    ]
    with Session(_engine(live_server)) as session:
        # the demo account: another test of the same server may have made more secretariat users
        demo = DEMO["secretariat"].email
        secretariat = session.exec(select(User).where(User.email == demo)).one()
        need = reg.create_need(
            session,
            load_vocabulary(),
            secretariat,
            {
                "country": country,
                "title": f"Labour inspection data ({lang})",
                "themes": ["labour-inspection"],
                "status": "open",
            },
            today=date.today(),
        )
        session.commit()
        return need.id, ids, need.status


def _status(live_server: LiveServer, model: Any, record_id: str) -> str:
    with Session(_engine(live_server)) as session:
        return str(session.get(model, record_id).status)


def _asked_first(page: Any, send_from: str, lang: str, message: str) -> None:
    """The first Save: the same form comes back with a confirmation in the reader's language
    (the catalogue's translation of ``message``), its button focused."""
    said = catalogue(lang).ugettext(message)
    assert said != message or lang == "en", f"{lang}: not in the catalogue: {message}"
    with page.expect_navigation():
        page.locator(send_from).press("Enter")
    confirm = page.locator("main form button[name=confirmed]")
    expect(confirm).to_be_focused()
    note = page.locator("#" + confirm.get_attribute("aria-describedby"))
    expect(note).to_contain_text(said.split("%(status)s")[0].strip())


@pytest.mark.parametrize(("lang", "who"), PEOPLE, ids=[p[0] for p in PEOPLE])
def test_a_focal_points_save_they_cannot_take_back_is_confirmed_first(
    new_page: Any, sign_in: Any, live_server: LiveServer, lang: str, who: str
) -> None:
    page, account = on_a_phone(new_page, sign_in, lang, who)
    need, commitments, was = _records(live_server, str(account.country), lang)
    for commitment, status, field, text in (
        (commitments[0], "fulfilled", "#evidence", "https://example.org/rapport-2026"),
        (commitments[1], "dropped", "#note", "Le ministère a changé de priorités"),
    ):
        page.goto(f"/followup/commitments/{commitment}")
        page.select_option("#status", status)
        page.fill(field, text)
        _asked_first(page, "#due", lang, DECIDED)
        assert _status(live_server, Commitment, commitment) == "pending"
        expect(page.locator(field)).to_have_value(text)
        expect(page.locator("#status")).to_have_value(status)
        expect(page.locator("html")).to_have_attribute("lang", lang)
        with page.expect_navigation():
            page.keyboard.press("Enter")
        expect(page.locator("main .flash").first).to_be_visible()
        assert _status(live_server, Commitment, commitment) == status
    # a commitment's other updates (still open) are saved at once
    page.goto(f"/followup/commitments/{commitments[0]}")
    expect(page.locator("main form button[name=confirmed]")).to_have_count(0)
    page.goto(f"/needs/{need}/edit")
    page.fill("#description", "Data of the labour inspection, shared each year")
    _asked_first(page, "#title", lang, BACK_TO_ENDORSEMENT)
    assert _status(live_server, Need, need) == was == "open"
    expect(page.locator("#description")).to_have_value(
        "Data of the labour inspection, shared each year"
    )
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("main .flash").first).to_be_visible()
    assert _status(live_server, Need, need) == "draft"
    # a draft need is changed at once (another edit changes it back)
    page.goto(f"/needs/{need}/edit")
    page.fill("#description", "Data of the labour inspection")
    with page.expect_navigation():
        page.locator("#title").press("Enter")
    expect(page.locator("main .flash-success")).to_be_visible()
