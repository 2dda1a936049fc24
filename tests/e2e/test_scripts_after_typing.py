"""Every page: what a person types before the page's scripts have run stays where they typed it.

Scripts are deferred, and on a slow connection someone clicks into a field and types before they
run. A script that acts on load (puts the focus somewhere, puts a draft back, folds or replaces a
box) must not undo that: in CI a journey's note went into the evidence field when focus-error.js
came late (docs/web.md, "A page's script never undoes what the person did before it ran"). The
pages' own tests hold one case each (test_focus_after_errors, test_focal_back,
test_phone_filters); this walks every page of the URL map, so that a script added later is
walked too: the first text field of the page's main part is typed in with the scripts held back,
then the scripts run, and the field must keep the focus and exactly what was typed (on a
phone, where a list's filters fold on load).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import hold_scripts
from tests.e2e.test_layout import arguments, is_a_page, records, walk_every_page

# What a script does with a field in the browser: the same on any database (tests/conftest.py).
pytestmark = [pytest.mark.e2e, pytest.mark.same_on_every_database]
__all__ = ["arguments", "records"]

TEXT_FIELDS = (
    "main input[type=text]:visible:enabled:not([readonly]),"
    " main input[type=search]:visible:enabled:not([readonly]),"
    " main input:not([type]):visible:enabled:not([readonly]),"
    " main textarea:visible:enabled:not([readonly])"
)
TYPED = "ñandú 7"


def test_typing_before_the_scripts_came_is_kept_on_every_page(
    new_page: Any, sign_in: Any, live_server: Any, arguments: dict[str, Any]
) -> None:
    problems, typed_in = [], 0
    held: dict[Any, Callable[[], None]] = {}  # each walker's page: what runs its scripts

    def hold(page: Any) -> None:
        held[page] = hold_scripts(page)

    for who, _endpoint, path, page, answer in walk_every_page(
        new_page, sign_in, live_server.app, arguments, "es-ES", prepare=hold
    ):
        if not is_a_page(answer):
            continue  # test_layout's walk says which and why
        field = page.locator(TEXT_FIELDS).first
        if not field.count():
            continue
        typed_in += 1
        field.fill("")
        field.click()
        page.keyboard.type(TYPED)
        typed = field.element_handle()  # this very field, whatever the scripts do
        held[page]()  # the page's scripts come
        if path.startswith("/network"):
            page.wait_for_load_state("networkidle")  # its script fills its controls from data
        kept = typed.evaluate(
            "(el, text) => ({focused: document.activeElement === el,"
            " value: el.value === (el.maxLength >= 0 ? text.slice(0, el.maxLength) : text),"
            " shown: el.getClientRects().length > 0})",
            TYPED,
        )
        if not all(kept.values()):
            where = page.evaluate("() => (document.activeElement || {}).id || ''")
            problems.append(
                f"{who} {path}: {kept}; the focus on #{where}, the field holds "
                f"{typed.input_value()!r}"
            )
    assert typed_in >= 20, f"only {typed_in} pages had a text field: is the walk walking?"
    assert not problems, "\n".join(problems)
