"""French puts a (no-break) space before a colon: "Pays : Guatemala", "priorité : haute". The
catalogue's sentences do so; a colon a template writes after a translated word does not (the
tester's finding: "Pays: Guatemala" above the need and capacity forms, "Modifier: <title>" as
their heading when editing, "priorité: haute" in the list of needs, "preuve: …" in a
commitment's history). The walk reads every text of a French-speaking focal point's pages (the
forms new and edited, the lists and a record of each kind, follow-up, a commitment with an update
in its history, notices) and finds a colon straight after a letter, followed by a space, that
no record's own text holds (records keep the words they were written in)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, col, select

from sscmatch.models import Capacity, Commitment, Exchange, Institution, Need
from tests.e2e.conftest import LiveServer, expect
from tests.e2e.test_focal_forms import _switch_language

pytestmark = [pytest.mark.e2e, pytest.mark.same_on_every_database]

# Text nodes of main with a colon after a letter or a closing bracket and before a space, once
# the records' own texts (passed in) are taken out of them.
BARE_COLON_JS = """own => { const out = [];
  const bare = t => /[\\p{L}\\)»]:(\\s|$)/u.test(t);
  const walk = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    if (!bare(n.textContent) || n.parentElement.closest('[translate=no], code, pre')) continue;
    let said = n.textContent.trim();
    const excerpt = said.replace(/(\\.\\.\\.|…)$/, '');  // a list shows a description's start
    if (own.some(t => t.startsWith(excerpt))) continue;
    for (const t of own) if (t.length > 3 && said.includes(t)) said = said.split(t).join(' ');
    if (bare(said)) out.push(n.textContent.trim().slice(0, 80));
  } return out; }"""


def _records_text(live_server: LiveServer) -> list[str]:
    """Every text the records hold, as people wrote it (their colons are theirs)."""
    out: list[str] = []
    with Session(live_server.app.extensions["sscmatch.engine"]) as session:
        for model, fields in (
            (Need, ("title", "description", "source")),
            (Capacity, ("title", "description", "source")),
            (Exchange, ("title", "description")),
            (Commitment, ("description", "evidence")),
            (Institution, ("name",)),
        ):
            for row in session.exec(select(model)).all():
                out += [str(getattr(row, f)).strip() for f in fields if getattr(row, f, None)]
    return out


def test_a_french_focal_point_reads_a_space_before_each_colon(
    page: Any, sign_in: Any, live_server: LiveServer
) -> None:
    sign_in(page, "gtm")
    _switch_language(page, "fr")
    with Session(live_server.app.extensions["sscmatch.engine"]) as session:
        need = session.exec(
            select(Need.id).where(Need.country == "GTM", col(Need.status).in_(["draft", "open"]))
        ).first()
        capacity = session.exec(select(Capacity.id).where(Capacity.country == "GTM")).first()
        commitment = session.exec(
            select(Commitment.id).where(
                Commitment.owner_country == "GTM", Commitment.status == "in_progress"
            )
        ).first()
    # an update with evidence, for the commitment's history to show one
    page.goto(f"/followup/commitments/{commitment}")
    page.fill("#evidence", "Rapport de l'inspection, mars 2026")
    with page.expect_navigation():
        page.locator("#evidence").press("Enter")
    expect(page.locator("main .flash").first).to_be_visible()
    own = _records_text(live_server)
    bare: dict[str, list[str]] = {}
    for path in (
        "/",
        "/needs/new",
        f"/needs/{need}",
        f"/needs/{need}/edit",
        "/needs",
        "/capacities/new",
        f"/capacities/{capacity}",
        f"/capacities/{capacity}/edit",
        "/capacities",
        "/exchanges",
        "/followup",
        "/followup/commitments",
        f"/followup/commitments/{commitment}",
        "/notices",
    ):
        page.goto(path)
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        found = page.evaluate(BARE_COLON_JS, own)
        if found:
            bare[path] = found
    assert not bare, "\n".join(f"{path}: {found}" for path, found in bare.items())
