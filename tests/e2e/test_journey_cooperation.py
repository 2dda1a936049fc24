"""The whole cooperation cycle in a real browser, as the people of the mission live it (issues 5,
6, 7, the journey of issue 8, re-recorded through issue 14's review and worklist pages): focal
point → secretariat → study tour → commitments → closed → analyst export. Three tests, run in
this order on the shared e2e database (on SQLite, and on PostgreSQL when it is configured), each
continuing from where the previous one stopped (a later step is skipped, saying why, when an
earlier one failed):

1. ``test_1_need_to_accepted_proposal`` (issues 5 and 14): the Guatemala focal point, in Spanish,
   registers a need for conditional cash transfers with the theme picker and submits it; the
   secretariat finds it under "Needs to endorse" on its home page, endorses it and runs matching
   for it (progress page, computed by a job worker); Brazil's focal point, in Portuguese, is told
   (a notice) and finds the proposal under "Proposals to answer", and confirms; Guatemala's says
   the Brazilian offer fits; the secretariat finds the need under "Proposals to decide", compares
   its candidates side by side on the review-by-need page, rejects Costa Rica (the confirmation
   asks the reason, a blank one is refused), sees that accepting a candidate whose provider has
   not answered needs an override and goes back, and accepts Brazil after a confirmation that says
   what will happen; Brazil is told; the admin's audit log shows every step.
2. ``test_2_study_tour_and_commitments`` (issues 6 and 14): the accepted proposal's draft study
   tour (agenda, dates, cost estimate, funders), found under "Study tours to move", is edited,
   moved draft → proposed → agreed → scheduled → completed with three commitments; Brazil fulfils
   one with evidence; one is overdue and shows in the follow-up dashboard and in the
   ``sscmatch remind`` digest, which also carries Guatemala's unread notices, in Spanish; the
   remaining commitments are settled and the tour is closed; the completed tour is an exchange in
   the registry, and the next match raises Brazil's follow-through factor.
3. ``test_3_analyst_sees_the_network_and_exports_it`` (issue 7): the analyst's network page
   draws, a theme filter changes it, clicking Brazil lists its exchanges (the new one among
   them), the gap list names themes with unmet needs, the GraphML and GEXF downloads load back
   into networkx with the page's nodes and the new Brazil → Guatemala link.

Screenshots of every step: ``test-artifacts/e2e/test_<n>_*/``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from sscmatch.commands.followup import remind_command
from sscmatch.dates import PartialDate, format_range
from sscmatch.vocab import load_vocabulary
from tests.e2e.conftest import LiveServer, expect, expect_at_least

pytestmark = pytest.mark.e2e

# Brazil's notice of a match run that asks it to provide, in Portuguese (the name in parentheses:
# the language would want an article before it, "ao Brasil").
ASKED_BRAZIL = "a responder como ofertante (Brasil)"

# What the journey made, for the steps after it, per database backend (the three tests share
# that backend's e2e database).
JOURNEYS: dict[str, dict[str, Any]] = {}

NEED_TITLE = "Transferencias condicionadas para mantener a la niñez en la escuela (e2e)"
TOUR_TITLE = "Gira de estudio e2e: Guatemala aprende de Brasil sobre transferencias condicionadas"
SLOW_MS = 180_000  # a match run by the job worker, on a busy CI machine (text vectors first)


@pytest.fixture
def journey(live_server: LiveServer) -> dict[str, Any]:
    return JOURNEYS.setdefault(live_server.backend, {})


def _need(journey: dict[str, Any], *keys: str) -> None:
    missing = [k for k in keys if k not in journey]
    if missing:
        pytest.skip(f"an earlier step of the journey did not finish (no {', '.join(missing)})")


def _says(page: Any, text: str) -> None:
    """Wait for the page (after a submit, the next one) to show a message with ``text``."""
    page.locator(".flash", has_text=text).first.wait_for()


def _factor(page: Any, label: str) -> float:
    """A factor's value (0–1) in the score breakdown of a proposal's page."""
    row = page.locator("table.breakdown tr", has=page.get_by_role("rowheader", name=label))
    return float(row.locator("td .score-num").first.inner_text())


def _match_one(sec: Any, need_id: str) -> Any:
    """The secretariat runs matching for one need; returns the run page's ranked list."""
    sec.goto("/matching/runs")
    sec.get_by_label("Only the needs selected below").check()
    sec.get_by_label("Need ids", exact=True).fill(need_id)
    sec.get_by_label("Providers per need (top K)").fill("5")
    sec.get_by_role("button", name="Start matching").click()
    sec.wait_for_url(re.compile(r"/matching/runs/\d+$"))
    return sec.locator("ol.ranked li")


def _audit(page: Any, **filters: str) -> str:
    """The admin's audit log filtered through its form; returns the table's text."""
    page.goto("/admin/audit")
    form = page.locator("form.filters")
    if "entity" in filters:
        form.get_by_label("Record type").select_option(filters["entity"])
    if "entity_id" in filters:
        form.get_by_label("Record id").fill(filters["entity_id"])
    form.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"/admin/audit\?.*entity="))
    return str(page.locator("table.audit").inner_text())


def _decision_form(page: Any, proposal_id: int, decision: str) -> Any:
    """The form of one decision on one proposal (on the need page or the proposal page)."""
    return page.locator(
        f"form[action='/review/proposals/{proposal_id}/decision']"
        f":has(input[name=decision][value={decision}])"
    ).first


def _worklist(page: Any, section: str) -> Any:
    """A list of the home page's "what needs you now" (``section``: its heading's id)."""
    return page.locator(f"section[aria-labelledby={section}]")


# --------------------------------------------------------------------------- issue 5


def test_1_need_to_accepted_proposal(
    new_page: Any, sign_in: Any, shot: Any, journey: dict[str, Any]
) -> None:
    # -- The Guatemala focal point registers a need, in Spanish, with the theme picker.
    gtm = new_page("es-GT")
    sign_in(gtm, "gtm")
    expect(gtm.locator("html")).to_have_attribute("lang", "es")
    gtm.goto("/needs/new")
    expect(gtm.locator("h1")).to_have_text("Registrar una necesidad", use_inner_text=True)
    gtm.get_by_label("Título").fill(NEED_TITLE)
    gtm.locator("#description").fill(
        "Queremos conocer cómo un programa de transferencias condicionadas a la asistencia "
        "escolar reduce el trabajo infantil en zonas rurales."
    )
    search = gtm.locator("#themes-search")
    search.fill("transferencias")
    option = gtm.locator("#themes-list [role=option]").first
    option.wait_for()
    expect(option).to_contain_text("Transferencias monetarias condicionadas", use_inner_text=True)
    shot(gtm, "need-theme-picker-suggests")
    search.press("Enter")
    chips = gtm.locator(".theme-picker .picked .chip")
    expect(chips).to_have_count(1)
    expect(chips.first).to_contain_text("Transferencias", use_inner_text=True)
    gtm.locator("#languages").fill("español; português")
    gtm.locator("input[name=modalities][value=study_tour]").check()
    gtm.locator("#priority").select_option("high")
    shot(gtm, "need-form-filled")
    gtm.get_by_role("button", name="Guardar").click()
    gtm.wait_for_url(re.compile(r"/needs/N-\d{4}-\d{4}$"))
    need_id = gtm.url.rsplit("/", 1)[1]
    expect(gtm.locator("h1")).to_contain_text(NEED_TITLE, use_inner_text=True)
    gtm.locator(f"form[action='/needs/{need_id}/submit'] button").click()
    gtm.locator(".badge-submitted").first.wait_for()
    shot(gtm, "need-submitted")

    # -- The secretariat finds it on its home page, under "Needs to endorse", and endorses it.
    sec = new_page()
    sign_in(sec, "secretariat")
    sec.goto("/")
    expect(sec.locator("h1").first).to_have_text("What needs you now", use_inner_text=True)
    to_endorse = _worklist(sec, "w-endorse")
    to_endorse.get_by_role("link", name=NEED_TITLE).wait_for()
    shot(sec, "secretariat-home-needs-to-endorse")
    to_endorse.get_by_role("link", name=NEED_TITLE).click()
    sec.wait_for_url(re.compile(rf"/needs/{need_id}$"))
    shot(sec, "secretariat-sees-submitted-need")
    sec.get_by_role("button", name="Endorse (open the need)").click()
    _says(sec, "Endorsed")
    expect_at_least(sec.locator(".badge-open"), 1)
    shot(sec, "need-endorsed")

    # -- ... and runs matching for it: a job worker computes it while the page shows progress.
    ranked = _match_one(sec, need_id)
    shot(sec, "run-progress")
    ranked.first.wait_for(timeout=SLOW_MS)
    expect(sec.locator("h1 .badge-done")).to_have_count(1)
    sec.wait_for_load_state()  # the finished run's page, whole before its list is read
    providers = [t.split("·")[0].strip() for t in ranked.locator("a").all_inner_texts()]
    assert "Brazil" in providers and "Costa Rica" in providers, providers
    shot(sec, "run-done-proposals")
    bra_link = ranked.locator("a", has_text="Brazil").first
    cri_link = ranked.locator("a", has_text="Costa Rica").first
    bra_pid = int(str(bra_link.get_attribute("href")).rsplit("/", 1)[1])
    cri_pid = int(str(cri_link.get_attribute("href")).rsplit("/", 1)[1])
    others = [
        int(str(a.get_attribute("href")).rsplit("/", 1)[1])
        for a in ranked.locator("a").all()
        if not any(name in a.inner_text() for name in ("Brazil", "Costa Rica"))
    ]

    # -- Brazil's focal point, in Portuguese, is told on its home page and answers from there.
    bra = new_page("pt-BR")
    sign_in(bra, "bra")
    bra.goto("/")
    expect(bra.locator("html")).to_have_attribute("lang", "pt")
    expect(bra.locator("h1").first).to_have_text("O que aguarda você agora", use_inner_text=True)
    notice = bra.locator("ul.notices li.unread", has_text=ASKED_BRAZIL)
    expect_at_least(notice, 1)
    unread = bra.locator("a.notices-link .count")
    expect(unread).to_have_text(re.compile(r"\d"), use_inner_text=True)
    assert int(unread.inner_text()) >= 1  # read after expect: the number is there
    to_answer = _worklist(bra, "w-answer")
    asked = to_answer.locator(f"a[href='/review/proposals/{bra_pid}']")
    expect(asked).to_have_text(re.compile("^" + re.escape(NEED_TITLE[:40])), use_inner_text=True)
    shot(bra, "provider-home-proposal-to-answer")
    asked.click()
    bra.wait_for_url(re.compile(rf"/review/proposals/{bra_pid}$"))
    bra.get_by_label(re.compile("^Observação")).fill(
        "Podemos receber a delegação no segundo semestre."
    )
    shot(bra, "provider-asked")
    bra.get_by_role("button", name="Podemos oferecer isto", exact=True).click()
    _says(bra, "Obrigado, sua resposta foi registrada.")
    expect(bra.locator("header.proposal-head .badge-provider_confirmed")).to_have_count(1)
    shot(bra, "provider-confirmed")
    # The notice, opened, leads to its proposals and is marked read (one fewer unread: another
    # journey's match run may have asked Brazil too, in the same e2e database).
    bra.goto("/notices")
    asked_unread = bra.locator("ul.notices li.unread", has_text=ASKED_BRAZIL)
    before = asked_unread.count()  # the page is there: goto waited for it
    assert before >= 1
    asked_unread.first.locator("button").click()
    bra.wait_for_url("**/review/mine")
    bra.goto("/notices")
    expect(asked_unread).to_have_count(before - 1)

    # -- The Guatemala focal point sees the need proposed to providers and answers for Brazil.
    gtm.goto("/")
    notices = gtm.locator("ul.notices", has_text="Una ejecución de emparejamiento propuso")
    expect(notices).to_have_count(1)
    shot(gtm, "recipient-home-told")
    gtm.goto("/review/mine")
    expect(gtm.locator("h1")).to_contain_text(
        "Propuestas en las que participa Guatemala", use_inner_text=True
    )
    cards = gtm.locator("article.proposal-card", has_text=NEED_TITLE)
    expect_at_least(cards, 2)
    expect(cards.filter(has_text="Costa Rica")).to_have_count(1)
    shot(gtm, "focal-point-sees-proposals")
    bra_card = cards.filter(has_text="Brasil")
    bra_card.get_by_label("Nota: por qué se ajusta o no").fill(
        "Bolsa Família es la referencia que buscamos."
    )
    bra_card.get_by_role("button", name="Se ajusta a nuestra necesidad", exact=True).click()
    _says(gtm, "Gracias, su respuesta quedó registrada.")

    # -- The secretariat: "Proposals to decide" leads to the need's candidates side by side.
    sec.goto("/")
    to_decide = _worklist(sec, "w-decide")
    to_decide.locator(f"a[href='/review/needs/{need_id}']").first.wait_for()
    shot(sec, "secretariat-home-proposal-to-decide")
    to_decide.locator(f"a[href='/review/needs/{need_id}']").first.click()
    sec.wait_for_url(re.compile(rf"/review/needs/{need_id}$"))
    table = sec.locator("table.compare")
    heads = table.locator("thead th").all_inner_texts()
    assert any("Brazil" in h for h in heads) and any("Costa Rica" in h for h in heads)
    answers = table.locator("tr", has=sec.get_by_role("rowheader", name="Provider's answer"))
    expect(answers).to_contain_text("confirmed availability", use_inner_text=True)
    says = table.locator("tr", has=sec.get_by_role("rowheader", name="Recipient says"))
    expect(says).to_contain_text("fits", use_inner_text=True)
    shot(sec, "review-by-need-side-by-side")

    # -- It rejects Costa Rica: the confirmation says what happens and asks why; a blank
    #    reason is refused beside the field, in the reader's language (the forms leave their
    #    checks to the server: no browser bubble), and nothing changed.
    _decision_form(sec, cri_pid, "reject").get_by_role("button").click()
    sec.wait_for_url(re.compile(rf"/review/proposals/{cri_pid}/decision$"))
    expect(sec.locator("h1")).to_have_text(f"Reject proposal {cri_pid}?", use_inner_text=True)
    expect(sec.locator("ul.consequences")).to_contain_text(
        f"Proposal {cri_pid} (Costa Rica → Guatemala) becomes rejected.", use_inner_text=True
    )
    reason = sec.locator("#confirm-reason")
    confirm = sec.locator("form.confirm-form button[type=submit]")
    confirm.click()
    expect(sec.locator("#confirm-reason-err")).to_have_text(
        "A reason is required.", use_inner_text=True
    )
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(reason).to_be_focused()
    shot(sec, "reject-asks-why")
    reason.fill("   ")
    confirm.click()
    expect(sec.locator("#confirm-reason-err")).to_have_text(
        "A reason is required.", use_inner_text=True
    )
    sec.goto(f"/review/proposals/{cri_pid}")
    expect(sec.locator("header.proposal-head .badge-proposed")).to_have_count(1)
    shot(sec, "reject-needs-a-reason")
    sec.locator("#reject-reason").fill(
        "Brasil confirmó disponibilidad y su programa está más cerca del pedido de Guatemala."
    )
    _decision_form(sec, cri_pid, "reject").get_by_role("button", name="Reject").click()
    expect(sec.locator("#confirm-reason")).to_have_value(re.compile("^Brasil confirmó"))
    sec.locator("form.confirm-form button[type=submit]").click()
    _says(sec, "Proposal rejected.")
    expect(sec.locator("header.proposal-head .badge-rejected")).to_have_count(1)
    shot(sec, "costa-rica-rejected")

    # -- Accepting a candidate whose provider has not answered asks for an override; it goes
    #    back without changing anything.
    sec.goto(f"/review/needs/{need_id}")
    assert others, "a third candidate, whose provider has not answered"
    _decision_form(sec, others[0], "accept").get_by_role("button").click()
    warning = sec.locator("p.flash-error[role=alert]")
    expect(warning).to_contain_text("has not confirmed this proposal", use_inner_text=True)
    override = sec.locator("input[name=override]")
    expect(override).not_to_be_checked()
    sec.locator("form.confirm-form button[type=submit]").click()  # without the override
    expect(sec.locator("#confirm-override-err")).to_be_visible()  # said beside the box
    expect(sec.locator("input[name=override]")).to_have_attribute("aria-invalid", "true")
    shot(sec, "accept-unconfirmed-needs-override")
    sec.get_by_role("link", name="Go back without changing anything").click()
    sec.wait_for_url(re.compile(rf"/review/proposals/{others[0]}$"))
    expect(sec.locator("header.proposal-head .badge-proposed")).to_have_count(1)

    # -- It accepts Brazil, whose focal point confirmed and whom Guatemala found fitting.
    sec.goto(f"/review/proposals/{bra_pid}")
    answers_text = sec.locator("section", has=sec.locator("#fp-h")).inner_text()
    assert "confirmed availability" in answers_text and "fits" in answers_text
    follow_through = _factor(sec, "Follow-through")  # Brazil's record of keeping commitments
    sec.get_by_role("button", name="Accept this proposal…").click()
    expect(sec.locator("h1")).to_have_text(f"Accept proposal {bra_pid}?", use_inner_text=True)
    consequences = sec.locator("ul.consequences").inner_text()
    assert f"Proposal {bra_pid} (Brazil → Guatemala) becomes accepted." in consequences
    assert f"Need {need_id} becomes matched" in consequences
    assert "superseded" in consequences and "draft study tour" in consequences
    shot(sec, "accept-says-what-will-happen")
    sec.locator("form.confirm-form button[type=submit]").click()
    _says(sec, "Proposal accepted")
    _says(sec, "A draft study tour was made")
    expect(sec.locator("header.proposal-head .badge-accepted")).to_have_count(1)
    tour_link = sec.locator("section", has_text="Study tour").locator("a[href^='/tours/']")
    tour_url = str(tour_link.first.get_attribute("href"))
    shot(sec, "brazil-accepted-tour-drafted")

    # -- Brazil is told, in Portuguese.
    bra.goto("/notices")
    expect_at_least(
        bra.locator("ul.notices li.unread", has_text=f"A proposta {bra_pid} foi aceita"), 1
    )
    shot(bra, "provider-told-accepted")

    # -- The admin's audit log shows all of it.
    admin = new_page()
    sign_in(admin, "admin")
    text = _audit(admin, entity="need", entity_id=need_id)
    for action in ("create", "submit", "endorse"):
        assert re.search(rf"\b{action}\b", text), (action, text)
    assert "gtm@demo.sscmatch" in text and "secretariat@demo.sscmatch" in text
    shot(admin, "audit-need")
    text = _audit(admin, entity="proposal", entity_id=str(bra_pid))
    assert "bra@demo.sscmatch" in text and "gtm@demo.sscmatch" in text
    assert re.search(r"\bconfirm\b", text) and re.search(r"\baccept\b", text), text
    shot(admin, "audit-brazil-proposal")
    text = _audit(admin, entity="proposal", entity_id=str(cri_pid))
    assert re.search(r"\breject\b", text) and "Brasil confirmó disponibilidad" in text, text
    shot(admin, "audit-costa-rica-proposal")
    text = _audit(admin, entity="match_run")
    assert re.search(r"\bstart\b", text) and re.search(r"\bfinish\b", text), text

    journey.update(
        need_id=need_id,
        bra_pid=bra_pid,
        cri_pid=cri_pid,
        tour_url=tour_url,
        follow_through=follow_through,
    )


# --------------------------------------------------------------------------- issue 6


def test_2_study_tour_and_commitments(
    new_page: Any,
    sign_in: Any,
    shot: Any,
    live_server: LiveServer,
    tmp_path: Path,
    journey: dict[str, Any],
    artifacts: Path,
) -> None:
    _need(journey, "tour_url")
    today = datetime.now(UTC).date()  # the app's today (TODAY is not pinned here)
    tour_id = journey["tour_url"].rsplit("/", 1)[1]
    sec = new_page()
    sign_in(sec, "secretariat")
    # The draft is among the secretariat's study tours to move, with its next step.
    sec.goto("/")
    tours = _worklist(sec, "w-tours")
    moving = tours.locator("li", has=sec.locator(f"a[href='/tours/{tour_id}']"))
    expect(moving).to_contain_text("next: proposed", use_inner_text=True)
    shot(sec, "secretariat-home-tour-to-move")
    moving.locator("a").click()
    sec.wait_for_url(re.compile(rf"/tours/{tour_id}$"))
    # The draft: drawn from the need and the capacity, with agenda, dates, cost and funders.
    expect(sec.locator("dl.facts .badge-draft")).to_have_count(1)
    expect_at_least(sec.locator(".agenda-day"), 2)
    # the closing session agrees commitments
    expect(sec.locator(".session-closing")).to_have_count(1)
    expect_at_least(sec.locator(".session-field_visit, .session-beneficiaries"), 1)
    total = sec.locator("table.cost tfoot td").inner_text()
    assert int(total.replace(",", "")) > 0
    expect(sec.locator("p.hint", has_text="Great-circle distance")).to_contain_text(
        "km", use_inner_text=True
    )
    funders = sec.locator("h2:has-text('Funding partners') + ul li")
    expect_at_least(funders, 1)
    shot(sec, "draft-tour")

    # The secretariat edits it: a clearer title and the dates the delegation actually travelled.
    start, end = today - timedelta(days=30), today - timedelta(days=26)
    sec.get_by_role("link", name="Edit", exact=True).click()
    sec.locator("#title").fill(TOUR_TITLE)  # the agenda rows have titles of their own
    sec.locator("#start").fill(start.isoformat())
    sec.locator("#end").fill(end.isoformat())
    sec.get_by_label("Recalculate the cost estimate", exact=True).check()
    shot(sec, "edit-tour")
    sec.get_by_role("button", name="Save").click()
    sec.wait_for_url(re.compile(rf"/tours/{tour_id}$"))
    _says(sec, "Study tour saved.")
    period = format_range(PartialDate(start, "day"), PartialDate(end, "day"), "en")
    expect(sec.locator("dl.facts")).to_contain_text(  # as read: "November 6 – 10, 2026"
        f"{period} (5 days)", use_inner_text=True
    )
    shot(sec, "tour-saved")

    # Through its statuses; commitments are agreed at the closing session (scheduled tour).
    for status in ("proposed", "agreed", "scheduled"):
        sec.get_by_role("button", name=f"Mark {status}").click()
        _says(sec, f"The study tour is now {status}.")
        expect(sec.locator(f"dl.facts .badge-{status}")).to_have_count(1)
    shot(sec, "tour-scheduled")

    commitments = [
        (
            "BRA",
            "Share the operations manual of the conditional cash transfer programme (e2e)",
            (today + timedelta(days=45)).isoformat(),
            "pending",
        ),
        (
            "GTM",
            "Present a co-responsibility design to the social cabinet (e2e)",
            (today - timedelta(days=10)).isoformat(),  # already past: overdue
            "in_progress",
        ),
        (
            "GTM",
            "Pilot school-attendance conditions in two departments (e2e)",
            (today + timedelta(days=200)).isoformat(),
            "pending",
        ),
    ]
    ids: dict[str, str] = {}
    for owner, what, due, status in commitments:
        form = sec.locator("form[action$='/commitments']")
        form.get_by_label("Owner country", exact=True).select_option(owner)
        form.get_by_label("What was committed", exact=True).fill(what)
        form.get_by_label("Due", exact=True).fill(due)
        form.get_by_label("Status", exact=True).select_option(status)
        form.get_by_role("button", name="Record commitment").click()
        row = sec.locator("table.commitments tr", has_text=what)
        row.wait_for()  # the tour page again, with the new commitment listed
        ids[what] = row.locator("a").first.inner_text()
    shot(sec, "three-commitments")
    overdue_what = commitments[1][1]
    expect(sec.locator("table.commitments tr.overdue", has_text=overdue_what)).to_have_count(1)

    sec.get_by_role("button", name="Mark completed…").click()  # it cannot be undone: confirmed
    expect(sec.get_by_text("This step cannot be undone.")).to_be_visible()
    sec.get_by_role("button", name="Confirm").click()
    _says(sec, "The study tour is now completed.")
    shot(sec, "tour-completed")

    # Brazil fulfils its commitment, with evidence (first without: refused, it is required).
    bra = new_page("pt-BR")
    sign_in(bra, "bra")
    fulfilled_what = commitments[0][1]
    bra.goto(f"/followup/commitments/{ids[fulfilled_what]}")
    bra.locator("#status").select_option("fulfilled")
    bra.get_by_role("button", name="Salvar").click()
    bra.locator(".flash-error").first.wait_for()
    expect(bra.locator("dl.facts .badge-pending")).to_have_count(1)
    shot(bra, "fulfil-without-evidence-refused")
    evidence = "https://www.gov.br/mds/manual-operativo-e2e.pdf"
    bra.locator("#status").select_option("fulfilled")
    bra.locator("#evidence").fill(evidence)
    bra.locator("#note").fill("Manual enviado à equipe da Guatemala.")
    bra.get_by_role("button", name="Salvar").click()
    bra.get_by_role("button", name="Confirmar").click()  # only the secretariat reopens it
    _says(bra, "Compromisso atualizado.")
    expect(bra.locator("dl.facts .badge-fulfilled")).to_have_count(1)
    expect(bra.locator(f"dl.facts a[href='{evidence}']")).to_have_count(1)
    expect_at_least(bra.locator("ol.history li"), 2)
    shot(bra, "commitment-fulfilled")

    # The overdue one leads the follow-up dashboard (here narrowed to Guatemala's).
    sec.get_by_role("navigation").get_by_role("link", name="Follow-up").click()
    sec.locator("form.filters").get_by_label("Owner country", exact=True).select_option("GTM")
    sec.locator("form.filters").get_by_role("button", name="Show", exact=True).click()
    sec.wait_for_url("**country=GTM**")
    expect(sec.locator("h1")).to_have_text("Follow-up · Guatemala", use_inner_text=True)
    overdue = sec.locator("table.commitments", has=sec.locator("caption", has_text="Overdue"))
    row = overdue.locator("tr", has_text=overdue_what)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("10 days overdue", use_inner_text=True)
    by_tour = sec.locator("section", has=sec.locator("h2#by-tour"))
    expect(by_tour.locator("tr", has_text=TOUR_TITLE)).to_have_count(1)
    shot(sec, "followup-dashboard")

    # Every commitment of Guatemala is one click away, in a list that filters and pages.
    sec.get_by_role("link", name="Every commitment, with filters and pages").click()
    sec.wait_for_url("**/followup/commitments?country=GTM**")
    filters = sec.locator("form.filters")
    filters.get_by_label("Origin", exact=True).select_option("live")
    filters.get_by_label("Due", exact=True).select_option("overdue")
    filters.get_by_role("button", name="Show", exact=True).click()
    sec.wait_for_url("**when=overdue**")
    listed = sec.locator("table.commitments tbody tr")
    overdue_rows = sec.locator("table.commitments tbody tr.overdue")
    expect_at_least(overdue_rows, 1)
    expect(listed).to_have_count(overdue_rows.count())  # every row listed is overdue
    expect(listed.filter(has_text=overdue_what)).to_have_count(1)
    expect(sec.locator("a[href*='/followup/export.csv'][href*='when=overdue']")).to_have_count(1)
    shot(sec, "followup-list-overdue")

    # `sscmatch remind` (the CLI, against the same database) puts it in Guatemala's digest.
    runner = live_server.app.test_cli_runner()
    result = runner.invoke(remind_command, ["--today", today.isoformat(), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    digest = tmp_path / f"{today.isoformat()}_gtm_demo.sscmatch.txt"
    if not digest.exists():  # the file name's escaping is the command's business
        found = [p for p in tmp_path.iterdir() if "gtm" in p.name]
        assert found, (result.output, list(tmp_path.iterdir()))
        digest = found[0]
    text = digest.read_text(encoding="utf-8")
    assert overdue_what in text and ids[overdue_what] in text
    assert fulfilled_what not in text  # fulfilled: nothing to remind
    # Guatemala's focal point works in Spanish: the digest is in Spanish, and carries the
    # notices they have not read in the app (the tour drafted and moved, decisions).
    assert "VENCIDOS (1)" in text and "LO QUE LE LLEGÓ" in text
    assert f"La visita de estudio {tour_id} ahora está" in text
    (artifacts / "reminder-digest-gtm.txt").write_text(text, encoding="utf-8")
    (artifacts / "remind-output.txt").write_text(result.output, encoding="utf-8")
    # Carried once: the notices are not e-mailed again (tomorrow's digest has none of them).
    later = tmp_path / "tomorrow"
    runner.invoke(
        remind_command, ["--today", (today + timedelta(days=1)).isoformat(), "--out", str(later)]
    )
    tomorrow = [p for p in later.iterdir() if "gtm" in p.name]
    assert tomorrow and "LO QUE LE LLEGÓ" not in tomorrow[0].read_text(encoding="utf-8")

    # The completed tour is an exchange of the registry: Brazil gave, Guatemala received.
    sec.goto("/exchanges?q=" + "Gira de estudio e2e Guatemala Brasil")
    sec.get_by_role("link", name=TOUR_TITLE).click()
    sec.wait_for_url(re.compile(rf"/exchanges/X-{tour_id}$"))
    page_text = sec.locator("main").inner_text()
    assert "Brazil" in page_text and "Guatemala" in page_text
    shot(sec, "exchange-in-registry")

    # The next match learns from it: Brazil's fulfilled commitment raises its follow-through.
    sec.goto("/needs/new")
    sec.get_by_label("Country", exact=True).select_option("GTM")
    sec.get_by_label("Title", exact=True).fill(NEED_TITLE.replace("(e2e)", "— segunda fase (e2e)"))
    sec.locator("#themes-search").fill("conditional cash")
    sec.locator("#themes-list [role=option]").first.wait_for()
    sec.locator("#themes-search").press("Enter")
    sec.locator("#languages").fill("es; pt")
    sec.get_by_label("Status", exact=True).select_option("open")
    sec.get_by_role("button", name="Save").click()
    sec.wait_for_url(re.compile(r"/needs/N-\d{4}-\d{4}$"))
    ranked = _match_one(sec, sec.url.rsplit("/", 1)[1])
    ranked.first.wait_for(timeout=SLOW_MS)
    ranked.locator("a", has_text="Brazil").first.click()
    sec.wait_for_url(re.compile(r"/review/proposals/\d+$"))  # its page, not the run's
    after = _factor(sec, "Follow-through")
    assert after > journey["follow_through"], (journey["follow_through"], after)
    shot(sec, "next-match-follow-through")

    # The tour is closed once every commitment is settled: Guatemala, in Spanish, drops the
    # overdue one and fulfils the pilot; the secretariat closes the tour.
    gtm = new_page("es-GT")
    sign_in(gtm, "gtm")
    for what, status, evidence in (
        (overdue_what, "dropped", None),
        (commitments[2][1], "fulfilled", "https://www.mides.gob.gt/piloto-e2e.pdf"),
    ):
        gtm.goto(f"/followup/commitments/{ids[what]}")
        gtm.locator("#status").select_option(status)
        if evidence:
            gtm.locator("#evidence").fill(evidence)
        gtm.locator("#note").fill("Cierre de la gira (e2e).")
        gtm.get_by_role("button", name="Guardar").click()
        gtm.get_by_role("button", name="Confirmar").click()  # only the secretariat reopens it
        _says(gtm, "Compromiso actualizado.")
        expect(gtm.locator(f"dl.facts .badge-{status}")).to_have_count(1)
    shot(gtm, "commitments-settled")
    sec.goto(f"/tours/{tour_id}")
    sec.get_by_role("button", name="Mark closed…").click()  # it cannot be undone: confirmed
    expect(sec.get_by_text("This step cannot be undone.")).to_be_visible()
    sec.get_by_role("button", name="Confirm").click()
    _says(sec, "The study tour is now closed.")
    expect(sec.locator("dl.facts .badge-closed")).to_have_count(1)
    expect(sec.get_by_role("button", name=re.compile("^Mark "))).to_have_count(0)  # final
    shot(sec, "tour-closed")

    journey.update(tour_id=tour_id, exchange_id=f"X-{tour_id}", tour_title=TOUR_TITLE)


# --------------------------------------------------------------------------- issue 7


def _click_country(page: Any, code: str) -> None:
    """Click a country's circle in the drawing (network.js marks each with its code)."""
    page.locator(f"#net circle.net-node[data-id={code}]").click()


def _drawn(page: Any) -> str:
    """The drawing's summary once network.js has drawn it (no longer busy, circles in place)."""
    page.locator("#net svg.net-svg:not([aria-busy]) circle.net-node").first.wait_for()
    return str(page.locator("#net svg.net-svg").get_attribute("aria-label"))


def test_3_analyst_sees_the_network_and_exports_it(
    page: Any, sign_in: Any, shot: Any, journey: dict[str, Any], artifacts: Path
) -> None:
    _need(journey, "exchange_id")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, "analyst")
    page.get_by_role("navigation").get_by_role("link", name="Network").click()
    page.wait_for_url("**/network")
    all_label = _drawn(page)
    countries_all = page.locator("section:has(#nodes-h) table.net-table tbody tr").count()
    assert countries_all > 20  # the table version of the drawing
    # The gap list names themes with unmet needs (real theme labels).
    labels = {t.label("en") for t in load_vocabulary().themes.values()}
    gaps = page.locator("ul.gap-list li strong").all_inner_texts()
    assert gaps and set(gaps) <= labels, gaps
    shot(page, "network")

    # A theme filter changes what is drawn and listed.
    page.get_by_label("Theme (with its sub-themes)", exact=True).select_option(
        "conditional-cash-transfers"
    )
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**theme=conditional-cash-transfers**")
    label = _drawn(page)
    assert label != all_label
    countries = page.locator("section:has(#nodes-h) table.net-table tbody tr").count()
    assert 2 <= countries < countries_all
    links = page.locator("section:has(#links-h) table.net-table")
    link_rows = links.locator("tbody tr").count()
    expect_at_least(links.locator("tr", has_text="Brazil").filter(has_text="Guatemala"), 1)
    shot(page, "filtered-cash-transfers")

    # Clicking Brazil lists its exchanges: the study tour just completed is one of them.
    _click_country(page, "BRA")
    panel = page.locator("#net-panel")
    panel.locator("ul.net-exchanges li").first.wait_for()
    expect(panel).to_contain_text("Brazil", use_inner_text=True)
    expect(panel).to_contain_text(journey["tour_title"], use_inner_text=True)
    shot(page, "brazil-clicked")
    assert not errors, errors

    # The filtered network downloads as GraphML and GEXF and loads back into networkx.
    folder = artifacts
    graphs = {}
    for name, reader in (("GraphML", nx.read_graphml), ("GEXF (Gephi)", nx.read_gexf)):
        with page.expect_download() as info:
            page.locator("p.net-downloads").get_by_role("link", name=name).click()
        target = folder / info.value.suggested_filename
        info.value.save_as(target)
        graphs[name] = reader(target)
    graph = graphs["GraphML"]
    assert graph.number_of_nodes() == countries
    assert {"BRA", "GTM"} <= set(graph.nodes)
    assert graph.number_of_edges() == link_rows
    assert any(d["kind"] == "directed" for d in graph.get_edge_data("BRA", "GTM").values())
    gexf = graphs["GEXF (Gephi)"]
    assert set(gexf.nodes) == set(graph.nodes)
    assert set(gexf.edges()) == set(graph.edges())
