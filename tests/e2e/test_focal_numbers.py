"""A figure in a refusal on a focal point's form is written the reader's way, in each language
of the interface: a description too long says "20 001 caractères ; au plus 20 000" in French
("20.001" in Spanish and Portuguese, "20,001" in English), a capacity's exchanges per year
"au plus 1 000", a commitment's evidence "2 001 … 2 000". The tester's finding: the need and
capacity forms said "30000 caractères ; au plus 20000" and "Doit être au plus 1000" (their
refusals come from the record schema, read back by sscmatch.web.messages, which kept the
figures as the schema wrote them), while the commitment's form wrote them the French way. The
expected figures are Babel's (CLDR), not the code under test's. The boxes say their limits to
the browser (``maxlength``, since df550ff): the test checks that, then sends past it."""

from __future__ import annotations

from typing import Any

import pytest
from babel.numbers import format_decimal
from sqlmodel import Session, col, select

from sscmatch.models import Commitment
from tests.e2e.conftest import LiveServer, expect
from tests.e2e.test_focal_forms import _switch_language

pytestmark = [pytest.mark.e2e, pytest.mark.same_on_every_database]

LANGS = ("en", "es", "pt", "fr")
LOCALES = {"en": "en_GB", "es": "es", "pt": "pt_BR", "fr": "fr"}


def _refused(page: Any, send_from: str, field: str, figures: tuple[int, ...], lang: str) -> None:
    """Sends the form; the refusal beside ``field`` writes each figure the reader's way."""
    with page.expect_navigation():
        page.locator(send_from).press("Enter")
    said = page.locator(f"#{field}-err")
    for figure in figures:
        expect(said).to_contain_text(format_decimal(figure, locale=LOCALES[lang]))


def _fill_past_limit(page: Any, field: str, limit: int, letter: str) -> None:
    """Types one character more than ``field`` takes. The box says its limit to the browser
    (``maxlength``, which Chromium holds typing to): that is checked, then taken off, as a
    browser that does not hold to it would send the text, so that the server's refusal is read."""
    box = page.locator(f"#{field}")
    expect(box).to_have_attribute("maxlength", str(limit))
    box.evaluate("e => e.removeAttribute('maxlength')")
    box.fill(letter * (limit + 1))


@pytest.mark.parametrize("lang", LANGS)
def test_figures_in_a_focal_forms_refusals_are_written_the_readers_way(
    page: Any, sign_in: Any, live_server: LiveServer, lang: str
) -> None:
    sign_in(page, "bra")
    _switch_language(page, lang)
    for form in ("/capacities/new", "/needs/new"):
        page.goto(form)
        page.fill("#title", "Inspection")
        _fill_past_limit(page, "description", 20_000, "d")
        _refused(page, "#title", "description", (20_001, 20_000), lang)
    page.fill("#description", "")
    page.goto("/capacities/new")
    page.fill("#max_per_year", "12500")
    _refused(page, "#max_per_year", "max_per_year", (1_000,), lang)
    with Session(live_server.app.extensions["sscmatch.engine"]) as session:
        commitment = session.exec(
            select(Commitment.id).where(
                Commitment.owner_country == "BRA",
                col(Commitment.status).in_(["pending", "in_progress"]),
            )
        ).first()
    page.goto(f"/followup/commitments/{commitment}")
    _fill_past_limit(page, "evidence", 2_000, "e")
    _refused(page, "#evidence", "evidence", (2_001, 2_000), lang)
