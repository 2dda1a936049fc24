"""Enter in a one-line field of a study tour's editor saves the tour (keyboard only, French).

Chromium submits a form on Enter as if its first submit button were pressed; the editor's first
was "Add a member": the title typed, Enter added an empty delegation row and saved nothing. The
editor now starts with its unseen default button (``templates/_macros.html`` ``default_submit``;
the class over every page: ``tests/web/test_enter_saves.py``). This checks that Chromium honours
it, and that the side button still adds a row from the keyboard.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.conftest import expect
from tests.e2e.test_layout import records

pytestmark = pytest.mark.e2e
__all__ = ["records"]


def test_enter_in_the_title_saves_the_tour(
    new_page: Any, sign_in: Any, records: dict[str, str]
) -> None:
    page = new_page(locale="fr-FR")
    sign_in(page, "secretariat")
    page.goto(f"/tours/{records['tour']}/edit")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    rows = page.locator("tbody[data-rows=delegation] tr.edit-row")
    expect(rows.first).to_be_attached()
    before = rows.count()
    page.locator("button[data-add=delegation]").focus()
    page.keyboard.press("Enter")  # the side button, from the keyboard: a row, in place
    expect(rows).to_have_count(before + 1)
    page.locator("input[name=title]").fill("Pratiques d’inspection — visite d’étude")
    page.locator("input[name=title]").press("Enter")
    expect(page).to_have_url(re.compile(re.escape(f"/tours/{records['tour']}") + r"$"))
    expect(page.locator("h1")).to_have_text("Pratiques d’inspection — visite d’étude")
