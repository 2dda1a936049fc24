"""A period from one date to another is written once, the reader's way: the audit read
"(2016–2016)" and "(22 de octubre de 2019–25 de octubre de 2019)". One formatter,
``sscmatch.dates.format_range`` (CLDR's interval formats through Babel, months written whole as on
the rest of the page; equal ends are one period), behind the
``period_range`` filter; no template writes two dates around a dash itself."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from sscmatch import PROJECT_ROOT
from sscmatch.dates import PartialDate, format_range
from tests.web import test_tour_files_language as tour_files

P = PartialDate.parse
CASES = {
    # start, end, open_end → en, es, pt, fr
    ("2016", "2016", ""): ("2016", "2016", "2016", "2016"),
    ("2016", "2018", ""): ("2016 – 2018", "2016–2018", "2016 – 2018", "2016–2018"),
    ("2019-10-22", "2019-10-25", ""): (
        "October 22 – 25, 2019",
        "22–25 de octubre de 2019",
        "22 – 25 de outubro de 2019",
        "22–25 octobre 2019",
    ),
    ("2019-12-22", "2020-01-03", ""): (
        "December 22, 2019 – January 3, 2020",
        "22 de diciembre de 2019 – 3 de enero de 2020",
        "22 de dezembro de 2019 – 3 de janeiro de 2020",
        "22 décembre 2019 – 3 janvier 2020",
    ),
    ("2019-10-22", "2019-10-22", ""): (
        "October 22, 2019",
        "22 de octubre de 2019",
        "22 de outubro de 2019",
        "22 octobre 2019",
    ),
    ("2019-10", "2019-12", ""): (
        "October – December 2019",
        "octubre–diciembre de 2019",
        "outubro – dezembro de 2019",
        "octobre – décembre 2019",
    ),
    ("2016", "2018-03", ""): (
        "2016 – March 2018",
        "2016 – marzo de 2018",
        "2016 – março de 2018",
        "2016 – mars 2018",
    ),
    ("2026", None, "…"): ("2026 – …", "2026 – …", "2026 – …", "2026 – …"),
    ("2026", None, ""): ("2026", "2026", "2026", "2026"),
}


@pytest.mark.parametrize("lang", ["en", "es", "pt", "fr"])
def test_a_period_is_written_once_the_readers_way(lang: str) -> None:
    index = ["en", "es", "pt", "fr"].index(lang)
    said = {
        case: format_range(P(case[0]), P(case[1]) if case[1] else None, lang, case[2]).replace(
            "\u2009", " "
        )
        for case in CASES
    }
    wanted = {case: texts[index] for case, texts in CASES.items()}
    assert said == wanted
    assert format_range(None, None, lang) == ""


TEMPLATES = PROJECT_ROOT / "templates"
BY_HAND = re.compile(
    r"\|period\b[^{}]*\}\}(?:\{%[^%]*%\}|[^{<]){0,12}(–|&ndash;|—|-)\s*(?:\{%[^%]*%\}\s*)?"
    r"\{\{[^}]*\|period\b"
)
# Templates another change is rewriting: each writes a range by hand and is to use the filter.
NOT_YET: dict[str, str] = {}


def _by_hand() -> set[str]:
    return {
        str(path.relative_to(TEMPLATES))
        for path in TEMPLATES.rglob("*.html")
        if BY_HAND.search(path.read_text(encoding="utf-8"))
    }


def test_no_template_writes_a_range_by_hand() -> None:
    assert _by_hand() - set(NOT_YET) == set()
    assert set(NOT_YET) <= _by_hand()  # an entry fixed is taken off the list


def test_the_walk_finds_what_it_looks_for() -> None:
    for text in (
        "{{ e.start|period }}{% if e.end %}–{{ e.end|period }}{% endif %}",
        "{{ a|period or '…' }} – {{ b|period or '…' }}",
        "{{ t.start|period }} – {{ (t.end or t.start)|period }}",
    ):
        assert BY_HAND.search(text), text
    assert not BY_HAND.search("{{ e.start|period_range(e.end) }} · {{ due|period }}")


tour_id = tour_files.tour_id  # the fixture: a drafted tour, 2 to 4 March 2026


@pytest.mark.parametrize(
    ("lang", "days"),
    [("es", "2–4 de marzo de 2026"), ("fr", "2–4 mars 2026"), ("en", "March 2 – 4, 2026")],
)
def test_a_tours_dates_on_its_page_and_in_the_list(
    app: Flask, tour_id: str, lang: str, days: str
) -> None:
    client = tour_files.reader(app, "analyst", lang)
    for url in (f"/tours/{tour_id}", "/tours", f"/tours/{tour_id}/brief"):
        page = client.get(url).get_data(as_text=True).replace("\u2009", " ")
        assert days in page, (lang, url)
        assert not re.search(r"2026\s*–\s*\d", page), (lang, url)  # no year said twice
