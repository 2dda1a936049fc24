"""A message's values that are codes (a role: ``focal_point``; a status: ``provider_declined``) are named in the reader's
language, never shown as the code: every catalogue message of the source that takes such a value
is rendered with every code, in es/pt/fr (``tourtext.message``, which every use-case error goes
through: ``errors.error_text``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from sscmatch.enums import ROLES
from sscmatch.web.templating import ROLE_LABELS, STATUS_LABELS, tour_status_label
from sscmatch.web.tourtext import message

ROOT = Path(__file__).resolve().parents[2]
# the value's name in a message → every code it can take, with its label
CODED: dict[str, dict[str, Any]] = {
    "role": ROLE_LABELS,
    "status": STATUS_LABELS,
    "to": STATUS_LABELS,
}


def _messages_with(name: str) -> list[str]:
    found = []
    for path in (ROOT / "sscmatch").rglob("*.py"):
        for call in re.finditer(r'N_\(\s*((?:"[^"]*"\s*)+)\)', path.read_text(encoding="utf-8")):
            text = "".join(re.findall(r'"([^"]*)"', call.group(1)))
            if f"%({name})s" in text:
                found.append(text)
    return found


def test_the_scan_finds_messages_with_a_role() -> None:
    assert "Your role (%(role)s) may not change %(what)s." in _messages_with("role")
    assert set(ROLES) == set(ROLE_LABELS)
    assert _messages_with("status") and _messages_with("to")


@pytest.mark.one_case_on_postgresql(lang="es")
@pytest.mark.parametrize("lang", ["es", "pt", "fr"])
def test_every_coded_value_is_named_in_the_readers_language(app: Flask, lang: str) -> None:
    shown = []
    with app.app_context(), app.test_request_context(headers={"Accept-Language": lang}):
        for name, labels in CODED.items():
            for text in _messages_with(name):
                fields = {k: "x" for k in re.findall(r"%\((\w+)\)s", text)}
                for code, label in labels.items():
                    if "study tour" in text and name in ("status", "to"):  # the tour's forms
                        label = tour_status_label(code)  # agree with its noun (a3d50e7)
                    said = message(text, {**fields, name: code})
                    if code in said or str(label) not in said:
                        shown.append(f"{text!r} with {name}={code}: {said!r}")
    assert shown == []


@pytest.mark.parametrize(
    ("lang", "day", "moment"),
    [("es", "2 de diciembre de 2026", "dic"), ("pt", "2 de dezembro de 2026", "dez"),
     ("fr", "2 décembre 2026", "déc")],
)  # fmt: skip
def test_dates_and_moments_in_messages_are_written_the_readers_way(
    app: Flask, lang: str, day: str, moment: str
) -> None:
    """A message's date or moment value (a calibration asked for a later day, one still running
    since a moment) is written as the reader writes it, never as its ISO text."""
    from datetime import date, datetime

    later = (
        "the calibration date %(day)s is after today (%(today)s): a calibration learns "
        "from the history before its date"
    )
    busy = (
        "calibration %(id)s is still running (started %(started)s UTC); wait until it has finished"
    )
    with app.app_context(), app.test_request_context(headers={"Accept-Language": lang}):
        said = message(later, {"day": date(2099, 1, 1), "today": date(2026, 12, 2)})
        running = message(busy, {"id": 3, "started": datetime(2026, 12, 6, 4, 36)})
    assert day in said and "2026-12-02" not in said, said
    assert moment in running and ":36" in running and "2026-12-06" not in running, running
