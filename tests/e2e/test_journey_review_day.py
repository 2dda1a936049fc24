"""A day of the secretariat's review on a phone (390 px), in Spanish and in English (issue 14,
items 1, 2 and 8), on the keyboard where a person would use it: the needs to review, one need's
candidates side by side, a comment, a veto and its lifting, a rejection and its revert, an
acceptance that needs the override (the provider has not answered) and drafts a study tour,
cancelling that tour (its need open again for matching), a bulk rejection over ticked rows of
the queue previewed and confirmed, and the queue's CSV export under the same filter.

Every consequential step goes through its confirmation page, which says what will happen and
asks the reason; what the pages say is checked in the reader's language through the interface's
own catalogue. Two knowledge-base needs per language are matched in the process (the stored run
of ``sscmatch match``), so the test counts on no other. Screenshots:
``test-artifacts/e2e/test_secretariat_reviews_a_day_on_a_phone[<lang>]/``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import Session, col, select

from sscmatch.models import Need, Proposal
from sscmatch.vocab import load_vocabulary
from sscmatch.workflow import matchruns
from sscmatch.workflow.reminders import catalogue
from tests.e2e.conftest import LiveServer, assert_fits, expect, expect_at_least

pytestmark = pytest.mark.e2e

# Per interface language: the need reviewed one by one and the need decided in bulk.
NEEDS = {"es": ("s002-n37", "s000-n01"), "en": ("s000-n10", "s000-n11")}


def _matched(live_server: LiveServer, needs: tuple[str, ...]) -> dict[str, list[int]]:
    """Stores a match run for ``needs`` as `sscmatch match` does; their proposals by rank."""
    engine = live_server.app.extensions["sscmatch.engine"]
    with Session(engine) as session:
        have = session.exec(select(Proposal.id).where(col(Proposal.need).in_(needs))).first()
        if have is None:
            matchruns.run_and_store(session, load_vocabulary(), need_ids=list(needs), top_k=5)
            session.commit()
        return {
            n: list(
                session.exec(
                    select(Proposal.id).where(Proposal.need == n).order_by(col(Proposal.rank))
                ).all()
            )
            for n in needs
        }


def _need_status(live_server: LiveServer, need_id: str) -> str:
    with Session(live_server.app.extensions["sscmatch.engine"]) as session:
        need = session.get(Need, need_id)
        assert need is not None
        return need.status


def _decide(page: Any, proposal_id: int, decision: str) -> None:
    """Presses a candidate's decision button from the keyboard (focus, Enter)."""
    page.locator(
        f"form[action='/review/proposals/{proposal_id}/decision']"
        f":has(input[name=decision][value={decision}]) button"
    ).first.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")


def _focused_on(page: Any, selector: str) -> None:
    """Waits for the page's autofocus (applied when the page is next drawn, which on a busy
    machine may come after the load event) to land on ``selector``."""
    page.wait_for_function(
        "s => document.activeElement && document.activeElement.matches(s)", arg=selector
    )


def _confirm(page: Any, reason: str | None) -> None:
    """On a confirmation page, types the reason where the focus already is, then confirms."""
    if reason is not None:
        _focused_on(page, "#confirm-reason")
        page.keyboard.type(reason)
    page.locator("form.confirm-form button[type=submit]").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")


@pytest.mark.one_case_on_postgresql(lang="es")
@pytest.mark.parametrize("lang", ["es", "en"])
def test_secretariat_reviews_a_day_on_a_phone(
    new_page: Any, sign_in: Any, shot: Any, live_server: LiveServer, lang: str
) -> None:
    t: Callable[[str], str] = catalogue(lang).ugettext
    one, many = NEEDS[lang]
    ids = _matched(live_server, (one, many))
    assert len(ids[one]) == 5 and len(ids[many]) >= 3
    first, fourth, last = ids[one][0], ids[one][3], ids[one][4]
    errors: list[str] = []
    page = new_page("es-ES" if lang == "es" else "en-GB")
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "secretariat")
    page.locator(".menu-toggle").click()  # on a phone the language is in the folded menu
    page.select_option("#lang-select", lang)
    with page.expect_navigation():
        page.click("form.lang-form button")

    def says(msgid: str) -> None:
        page.locator(".flash", has_text=t(msgid)).first.wait_for()

    def fits() -> None:
        assert_fits(page)

    # -- The needs to review lead to one need's candidates side by side.
    page.goto("/review/needs")
    expect(page.locator("h1")).to_have_text(t("Review by need"), use_inner_text=True)
    page.locator(f"a[href='/review/needs/{one}']").first.click()
    page.wait_for_url(re.compile(rf"/review/needs/{one}$"))
    heads = page.locator("table.compare thead th[scope=col] a").evaluate_all(
        "as => as.map(a => a.getAttribute('href'))"
    )
    assert heads == [f"/review/proposals/{i}" for i in ids[one]]
    fits()
    shot(page, "candidates-side-by-side")

    # -- A comment on the leading candidate.
    page.goto(f"/review/proposals/{first}")
    page.locator("#comment-body").fill(
        "¿Alguien habló con el punto focal?"
        if lang == "es"
        else "Has anyone called the focal point?"
    )
    page.locator("form[action$='/comments'] button").click()
    says("Comment added.")
    expect(page.locator("ul.comments li")).to_have_count(1)
    fits()
    shot(page, "commented")

    # -- Veto the last candidate's pair (confirmed, with a reason), then lift the veto.
    page.goto(f"/review/needs/{one}")
    _decide(page, last, "veto")
    expect_at_least(page.locator("ul.consequences li"), 1)
    fits()
    shot(page, "veto-says-what-will-happen")
    _confirm(page, "Par vetado en la prueba." if lang == "es" else "Pair vetoed in the test.")
    says("Pair vetoed for future runs; the proposal was rejected.")
    page.goto("/review/vetoes")
    expect(page.locator("h1")).to_have_text(t("Vetoed pairs"), use_inner_text=True)
    with page.expect_navigation():
        page.locator("form[action*='/lift'] button").first.click()
    shot(page, "lift-the-veto")
    _confirm(page, "Se levanta." if lang == "es" else "Lifted.")
    says("The veto was lifted.")

    # -- Reject the fourth, then revert the decision.
    page.goto(f"/review/needs/{one}")
    _decide(page, fourth, "reject")
    _confirm(page, "No encaja." if lang == "es" else "Does not fit.")
    says("Proposal rejected.")
    expect(page.locator("header.proposal-head .badge-rejected")).to_have_count(1)
    with page.expect_navigation():
        page.locator("form.revert-form button").click()
    fits()
    shot(page, "revert-says-what-will-happen")
    _confirm(page, "Rechazo por error." if lang == "es" else "Rejected by mistake.")
    says("The decision was reverted.")
    expect(page.locator("header.proposal-head .badge-proposed")).to_have_count(1)

    # -- Accept the leading candidate: its provider has not answered, so the override is
    #    asked (the focus is on it: Space ticks it), with the reason; a study tour is drafted.
    page.goto(f"/review/needs/{one}")
    _decide(page, first, "accept")
    _focused_on(page, "input[name=override]")
    # what will happen follows the box (static/js/confirm-choices.js): nothing until it is ticked
    expect(page.locator("[data-when=override]").first).to_be_hidden()
    expect(page.locator("[data-when=no-override]")).to_be_visible()
    page.keyboard.press("Space")
    expect(page.locator("[data-when=override]").first).to_be_visible()
    expect(page.locator("[data-when=no-override]")).to_be_hidden()
    page.keyboard.press("Tab")
    shot(page, "accept-needs-the-override")
    _confirm(page, "Confirmado por teléfono." if lang == "es" else "Confirmed by phone.")
    says("Proposal accepted; the need is now matched.")
    assert _need_status(live_server, one) == "matched"
    tour_url = str(page.locator("a[href^='/tours/T-']").first.get_attribute("href"))
    shot(page, "accepted-tour-drafted")

    # -- The tour is cancelled (confirmed, with a reason): its need is open again.
    page.goto(tour_url)
    with page.expect_navigation():
        page.locator("form:has(input[value=cancelled]) button").click()
    expect(page.locator("ul.consequences")).to_contain_text(one, use_inner_text=True)
    fits()
    shot(page, "cancel-says-what-will-happen")
    _confirm(page, "El receptor pospuso la gira." if lang == "es" else "Postponed.")
    expect(page.locator("dl.facts .badge-cancelled")).to_have_count(1)
    assert _need_status(live_server, one) == "open"
    shot(page, "tour-cancelled")

    # -- Bulk: two ticked rows of the queue (filtered to one need) rejected at once.
    page.goto(f"/review/queue?need={many}")
    boxes = page.locator("table.queue input[type=checkbox]:not([disabled])")
    expect(boxes).to_have_count(len(ids[many]))
    for i in range(2):
        boxes.nth(i).focus()
        page.keyboard.press("Space")
    page.select_option("#bulk-decision", "reject")
    fits()
    shot(page, "queue-two-ticked")
    with page.expect_navigation():
        page.locator("#bulk-form fieldset.bulk button").click()
    expect(page.locator("main table tbody tr")).to_have_count(2)
    shot(page, "bulk-preview")
    _focused_on(page, "#bulk-reason")
    page.keyboard.type("No encajan." if lang == "es" else "They do not fit.")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").last.click()
    page.locator(".flash", has_text=re.compile("^2 ")).first.wait_for()
    shot(page, "bulk-done")

    # -- The queue's CSV under the same filter: its file name says so; it holds what is shown.
    page.goto(f"/review/queue?need={many}")
    with page.expect_download() as info:
        page.locator("main a", has_text="CSV").first.click()
    download = info.value
    assert many in download.suggested_filename and download.suggested_filename.endswith(".csv")
    with open(download.path(), encoding="utf-8") as f:
        rows = list(csv.DictReader(io.StringIO(f.read())))
    # What the list shows: its default statuses are the undecided ones, so the two rejected
    # rows have left it, and the export, too.
    expect(page.locator("table.queue tbody tr")).to_have_count(len(rows))
    assert len(rows) == len(ids[many]) - 2
    assert {r["need"] for r in rows} == {many} and "rejected" not in {r["status"] for r in rows}
    assert not errors, errors
