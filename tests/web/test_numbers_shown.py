"""Numbers on pages are written the reader's way: "0,88" in Spanish, French and Portuguese,
"+0,342" for a contribution, "12 500" or "12.500" for an amount, "38 %" in French (the audit
found "Score 0.88", "+0.342", "38%" on French pages). Two checks of the class: no template
formats a number itself (Python's ``'%.2f'|format``, ``'{:,}'.format``, ``…|round|int }}%``)
but through the ``num`` and ``percent`` filters (a ``<meter>``'s value, which browsers read,
stays a plain number), and a proposal's page in each language."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlmodel import Session, select

from sscmatch import PROJECT_ROOT
from sscmatch.models import Proposal
from tests.web import test_review

TEMPLATES = PROJECT_ROOT / "templates"
SELF_FORMATTED = re.compile(
    r"'%[+]?\.\d+f'\|format|'\{:[,.+\d]*[df]?\}'\.format|\|round(\(\d*\))?\|int \}\}\s*%"
)
MACHINE_VALUE = re.compile(r'value="\{\{[^}]*\}\}"')  # a <meter>'s value: read by browsers


def _offending(text: str) -> list[str]:
    return [m.group(0) for m in SELF_FORMATTED.finditer(MACHINE_VALUE.sub("", text))]


def test_no_template_formats_a_number_itself() -> None:
    found = {
        str(path.relative_to(TEMPLATES)): hits
        for path in sorted(TEMPLATES.rglob("*.html"))
        if (hits := _offending(path.read_text(encoding="utf-8")))
    }
    assert found == {}


def test_the_check_finds_what_it_looks_for() -> None:
    assert _offending("{{ '%.3f'|format(x) }} {{ '{:,}'.format(y) }} {{ (s * 100)|round|int }}%")
    assert _offending("<meter value=\"{{ '%.3f'|format(v) }}\"></meter>") == []


run = test_review.run  # the fixture: a stored match run

EXPECTED = {"en": ("0.", "+0."), "es": ("0,", "+0,"), "pt": ("0,", "+0,"), "fr": ("0,", "+0,")}


@pytest.mark.one_case_on_postgresql(lang="es")
@pytest.mark.parametrize("lang", sorted(EXPECTED))
def test_a_proposal_page_writes_its_scores_the_readers_way(
    as_user: Any,
    run: Session,
    lang: str,
) -> None:
    proposal = run.exec(select(Proposal).order_by(Proposal.score.desc())).first()  # type: ignore[attr-defined]
    assert proposal is not None
    client = as_user("secretariat")
    client.post("/language", data={"lang": lang, "next": "/"})
    page = client.get(f"/review/proposals/{proposal.id}").get_data(as_text=True)
    score, contribution = EXPECTED[lang]
    shown = re.findall(r'<span class="score-num">([^<]+)</span>', page)
    assert shown and all(s.startswith((score, contribution, "1")) for s in shown), shown
    assert any(s.startswith(contribution) for s in shown), shown
