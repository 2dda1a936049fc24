"""What every row of a list draws (a country link, who holds a record, a status badge, a score
bar) comes from functions of :mod:`sscmatch.web.templating` that ``_macros.html`` exports under
the macros' names: the same HTML as the macros drew, escaped, in the reader's language, and a
kept country link never crosses languages or mount points."""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template_string

ROW = (
    '{% from "_macros.html" import country, holder, badge, score_bar %}'
    "[{{ country(code) }}][{{ holder(code, institution) }}][{{ badge(status) }}]"
    "[{{ score_bar(score, label) }}]"
)


def _render(app: Flask, lang: str = "en", script_root: str = "", **values: Any) -> str:
    base = {"code": "BRA", "institution": None, "status": "open", "score": 0.5, "label": None}
    with app.test_request_context(
        "/", headers={"Accept-Language": lang}, base_url="http://x" + script_root
    ):
        return render_template_string(ROW, **{**base, **values})


def test_rows_draw_links_badges_and_bars(app: Flask) -> None:
    html = _render(app, score=0.8125, label="fits")
    assert html == (
        '[<a class="name" href="/countries/BRA">Brazil</a>][<a class="name" href="/countries/BRA">Brazil</a>]'
        '[<span class="badge badge-open">open</span>]'
        '[<span class="score"><meter class="score-meter" min="0" max="1" value="0.8125">0.81'
        '</meter><span class="score-num">0.81</span> <span class="score-label">fits</span>'
        "</span>]"
    )
    none = _render(app, code="", institution="I-x", status="draft", score=1)
    assert none.startswith('[][I-x <span class="badge">international body</span>]')
    assert '<span class="score-num">1.00</span></span>]' in none


def test_rows_escape_what_they_are_given(app: Flask) -> None:
    html = _render(app, code="<b>", institution=None, status='"x"', label="<i>")
    assert "<b>" not in html and "&lt;b&gt;" in html
    assert 'badge-&#34;x&#34;"' in html and "&lt;i&gt;" in html
    holder = _render(app, code=None, institution="<script>")
    assert "<script>" not in holder and "&lt;script&gt;" in holder


def test_country_links_kept_per_language_and_mount_point(app: Flask) -> None:
    english = _render(app)
    spanish = _render(app, lang="es")
    assert "Brazil" in english and "Brasil" in spanish and "Brazil" not in spanish
    assert "organismo internacional" in _render(app, lang="es", code=None, institution="I-x")
    assert "abierta" in _render(app, lang="es")
    mounted = _render(app, script_root="/ssc")
    assert '<a class="name" href="/ssc/countries/BRA">' in mounted
    assert '<a class="name" href="/countries/BRA">Brazil</a>' in _render(app)  # nothing crossed over
