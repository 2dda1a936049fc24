"""The JSON that pages' scripts read (a job's status, the network's data) answers its errors
through the one handler (``sscmatch.web.errors``): ``{"error", "message"}`` with the status, the
message in the reader's language, never an English sentence built by the view.

The routes come from the URL map: every page route marked ``@answers_json`` and every route
whose address ends in ``/status`` (a job's progress, polled by ``static/js/jobs.js``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po
from flask import Flask

from tests.conftest import sign_in

UNKNOWN_ID = 987654
CATALOGUE = Path(__file__).resolve().parents[2] / "sscmatch/translations/es/LC_MESSAGES/messages.po"


def _spanish_sentences_of_an_id() -> set[str]:
    """Every sentence of the Spanish catalogue that names a record by ``%(id)s``, for the id."""
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle)
    return {
        m.string % {"id": UNKNOWN_ID}
        for m in catalogue
        if isinstance(m.string, str)
        and "%(id)s" in m.string
        and "%(" not in m.string.replace("%(id)s", "")
    }


def _script_routes(app: Flask) -> list[Any]:
    found = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") or "GET" not in (rule.methods or ()):
            continue
        view = app.view_functions[rule.endpoint]
        if rule.rule.endswith("/status") and rule.arguments:
            assert hasattr(view, "_answers_json"), f"{rule.rule}: mark it @answers_json()"
        if hasattr(view, "_answers_json") and rule.arguments:
            found.append(rule)
    return found


def test_a_scripts_json_404_is_in_the_readers_language(app: Flask, users: dict[str, int]) -> None:
    """Each status route with an id nobody has: 404, ``not_found``, and a message that is the
    Spanish one for a Spanish reader (not the English one)."""
    rules = _script_routes(app)
    assert {r.endpoint for r in rules} >= {
        "matching.status",
        "matching.calibration_status",
        "admin.import_status",
    }
    english = sign_in(app.test_client(), "admin")
    spanish = sign_in(app.test_client(), "admin")
    spanish.post("/language", data={"lang": "es", "next": "/"})
    sentences = _spanish_sentences_of_an_id()
    for rule in rules:
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<int:{name}>", str(UNKNOWN_ID)).replace(f"<{name}>", "nope")
        said = {}
        for lang, client in (("en", english), ("es", spanish)):
            response = client.get(path)
            assert response.status_code == 404 and response.is_json, f"{lang} {path}"
            body = response.get_json()
            assert body["error"] == "not_found", f"{lang} {path}: {body}"
            assert str(UNKNOWN_ID) in body["message"] or "nope" in body["message"], body
            said[lang] = body["message"]
        assert said["es"] != said["en"], f"{path}: the message is not translated: {said}"
        assert said["es"] in sentences, f"{path}: not a sentence of the catalogue: {said['es']!r}"
