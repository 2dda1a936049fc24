"""A list of proposals in the matcher's rank order says where that order differs from the
scores' (a near tie: "0,65 Kenia" above "0,66 Tayikistán"), beside the proposal and below the
list, in the reader's language: a run's page, a need's candidates, a proposal's alternates."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from babel.support import Translations
from sqlmodel import Session

from sscmatch.workflow import proposals as wf
from tests.web.english_text import Detector, visible_texts
from tests.web.test_every_word_translated import _known_english
from tests.web.test_review import NEED, OTHER_NEED, ranked, run  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[2]
NOTE = (
    "Listed in the order of the ranking, not of the score alone: when scores are nearly level "
    "(within a few hundredths), a shared working language, then a closer region, comes first."
)


def _near_tie(session: Session) -> tuple[Any, Any]:
    """The need's first proposal placed above the second with a higher score, as the near-tie
    rule places it, with the reason the engine gives."""
    first, second = ranked(session)[:2]
    second.score = first.score + 0.01
    first.reasons = [
        {"code": "near_tie.language", "params": {"country": second.provider}},
        *first.reasons,
    ]
    session.add_all([first, second])
    session.commit()
    return first, second


def _said(lang: str, message: str) -> str:
    catalogue = Translations.load(str(ROOT / "sscmatch" / "translations"), [lang])
    said = catalogue.ugettext(message)
    assert said != message
    return " ".join(said.split())


def _text(html: str) -> str:
    return " ".join(" ".join(visible_texts(html)).split())


def test_placed_above_higher_names_the_proposals_and_their_reasons(
    run: Session,  # noqa: F811
) -> None:
    first, _second = _near_tie(run)
    listed = ranked(run)
    placed = wf.placed_above_higher(listed)
    expected = [
        p.id for i, p in enumerate(listed) if any(q.score > p.score for q in listed[i + 1 :])
    ]
    assert first.id in placed and list(placed) == expected
    assert placed[first.id][0]["code"] == "near_tie.language"
    assert all(r and r[0]["code"].startswith("near_tie.") for r in placed.values())
    assert wf.placed_above_higher(ranked(run, OTHER_NEED)) == {}  # in score order: nothing


def test_the_run_page_the_need_page_and_the_alternates_say_it(
    as_user: Any,
    run: Session,  # noqa: F811
) -> None:
    first, second = _near_tie(run)
    second_id = second.id
    third = ranked(run)[4]
    client = as_user("secretariat")
    for lang in ("en", "es", "pt", "fr"):
        client.post("/language", data={"lang": lang, "next": "/"})
        note = NOTE if lang == "en" else _said(lang, NOTE)
        pages = {
            "run": f"/matching/runs/{first.run_id}",
            "need": f"/review/needs/{NEED}",
            "alternates": f"/review/proposals/{third.id}",
        }
        for name, path in pages.items():
            html = client.get(path).get_data(as_text=True)
            assert note in _text(html), (lang, name)
            beside = re.findall(r'<span class="muted near-tie">(.*?)</span>', html, re.S)
            assert beside, (lang, name)
            if lang != "en":
                detector = Detector(lang, _known_english(), set())
                for said in beside:
                    assert not list(detector.findings(visible_texts(said))), (lang, name)
        run_page = client.get(pages["run"]).get_data(as_text=True)
        # beside the first of the need, not the second; the other need's list says nothing
        items = re.findall(r"<li>(.*?)</li>", run_page, re.S)
        marked = {
            int(m.group(1))
            for i in items
            if "near-tie" in i and (m := re.search(r'/review/proposals/(\d+)"', i))
        }
        placed = set(wf.placed_above_higher(ranked(run)))
        placed |= set(wf.placed_above_higher(ranked(run, OTHER_NEED)))
        assert first.id in marked and marked == placed
        assert second_id not in marked
