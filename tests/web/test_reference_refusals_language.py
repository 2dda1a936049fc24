"""A record's references refused in the reader's language, each beside its field: every check
the registry makes of a need's or capacity's references (sscmatch.workflow.registry.records:
an unknown theme, an unknown institution, an institution of another country, a national
institution with no country given), through the API's creation of both kinds, said in Spanish
and French with no English left (tests.web.english_text.Detector). Before, the last one said
"country is required (only a record held by an international or regional body has none, and
… is not one)" in English whatever the reader's language."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session

from sscmatch.models import Institution
from tests.web.english_text import Detector
from tests.web.test_api_list_filters import _speaks
from tests.web.test_bad_filters import _token

NATIONAL = Institution(id="gtm-mintrab", name="Ministerio de Trabajo", country="GTM")
BODY = {"title": "Inspección del trabajo en fincas", "themes": ["labour-inspection"]}
REFUSED = {
    "unknown theme": ({"country": "GTM", "themes": ["no-such-theme"]}, "themes"),
    "unknown institution": ({"country": "GTM", "institution": "no-such-body"}, "institution"),
    "institution of another country": (
        {"country": "CRI", "institution": NATIONAL.id},
        "institution",
    ),
    "national institution, no country": ({"institution": NATIONAL.id}, "country"),
}


@pytest.mark.one_case_on_postgresql(lang="es")
@pytest.mark.parametrize("lang", ["es", "fr"])
def test_every_reference_refusal_is_said_in_the_readers_language(
    app: Flask, session: Session, users: dict[str, int], lang: str
) -> None:
    session.add(Institution.model_validate(NATIONAL.model_dump()))
    session.commit()
    token = _token(app, users["secretariat"])
    client = app.test_client()
    detector = Detector(lang, (), {"no-such-theme", "no-such-body", NATIONAL.id})
    wrong: list[str] = []
    for kind in ("needs", "capacities"):
        for case, (fields, field) in REFUSED.items():
            said: dict[str, Any] = {}
            for language in ("en", lang):
                _speaks(app, users["secretariat"], language)
                response = client.post(
                    f"/api/v1/{kind}",
                    json={**BODY, **fields},
                    headers={"Authorization": f"Bearer {token}"},
                )
                said[language] = (response.status_code, response.get_json() or {})
            (status, english), (_, answer) = said["en"], said[lang]
            reason = dict(answer.get("fields") or {}).get(field, "")
            findings = list(detector.findings([str(answer.get("message") or ""), reason]))
            english_reason = dict(english.get("fields") or {}).get(field)
            if status != 422 or not reason or reason == english_reason or findings:
                wrong.append(f"{kind}, {case}: {status} {reason!r} (en {english_reason!r})")
    assert not wrong, "\n".join(wrong)
