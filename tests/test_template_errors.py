"""Every error message a template prints beside a control is tied to it for a screen reader:
its element has an id that an ``aria-describedby`` of the same template names (the field, or
the group's fieldset), or it is an alert (``role="alert"``: a message of the form as a whole,
announced when the page shows it). A sighted reader sees the red line next to the control; a
screen reader user tabbing to the control hears nothing of it otherwise (before: the run form's
scope, the registry form's modalities, the tour's languages, a refused alternate and a refused
revert of a proposal). A walk of every template's source, so a new form meets it too."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
ERROR_ELEMENT = re.compile(r'<[a-z]+ class="error"[^>]*>')
ID = re.compile(r'\bid="([^"]+)"')
DESCRIBED_BY = re.compile(r'aria-describedby="([^"]+)"')
DESCRIBED_BY_IN_CALL = re.compile(r"'aria-describedby': ([^,}]+)")
"""The same given to a field's call in Jinja: ``f(**{'aria-describedby': f.id ~ '-err'})``."""


def as_attribute(expression: str) -> str:
    """A Jinja expression of an id as the template writes the element's id: ``f.id ~ '-err'``
    is ``{{ f.id }}-err``, ``'window-err'`` is ``window-err``."""
    parts = [part.strip() for part in expression.split("~")]
    return "".join(
        part.strip("'\"") if part[:1] in "'\"" else "{{ " + part + " }}" for part in parts
    )


def templates() -> list[Path]:
    return sorted(TEMPLATES.rglob("*.html"))


@pytest.mark.parametrize("path", templates(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_every_error_message_is_tied_to_its_control(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    named = {
        ref for refs in DESCRIBED_BY.findall(source) for ref in re.split(r"\s+(?![^{]*\}\})", refs)
    } | {as_attribute(expression) for expression in DESCRIBED_BY_IN_CALL.findall(source)}
    loose = []
    for element in ERROR_ELEMENT.findall(source):
        if 'role="alert"' in element:
            continue
        found = ID.search(element)
        if found is None or found.group(1) not in named:
            loose.append(element)
    assert not loose, f"{path.name}: {loose}"


def test_the_walk_sees_the_error_messages() -> None:
    assert sum(len(ERROR_ELEMENT.findall(p.read_text(encoding="utf-8"))) for p in templates()) > 15
