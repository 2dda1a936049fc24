"""Bad filter input on every list and data endpoint is a clear 4xx, never a 5xx: the pages and
the JSON their scripts read (``/network/data``, the network's side panel) say what is wrong in
the reader's language, through the one error handler (``sscmatch.web.errors``); the API answers
its one error shape.

The endpoints come from the app's URL map (every GET route without path arguments but the few
that are not lists), and each gets one bad value at a time of every filter argument any list
reads, so a new list or a new filter is walked without being named here.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from sqlmodel import Session

from sscmatch.models import User
from sscmatch.workflow.accounts import issue_api_token
from tests.conftest import sign_in
from tests.web.english_text import Detector, visible_texts
from tests.web.test_every_word_translated import _known_english

# GET routes without path arguments that are not lists of records or data.
NOT_LISTS = {
    "main.index",
    "main.health",
    "favicon",
    "auth.login",
    "auth.account",
    "admin.new_user",
    "registry.need_new",
    "registry.capacity_new",
    "matching.calibrate_confirm",
    "api.openapi",
    "api.calibrations_latest",
    "api.worklist",
    "registry.suggest_themes",  # free text (?q=): nothing it could refuse
}
BAD = {
    "page": "x",
    "per_page": "0",
    "theme": "no-such-theme",
    "year": "abc",
    "year_from": "abc",
    "year_to": "abc",
    "status": "bogus",
    "country": "Atlantis",
    "region": "Atlantis",
    "language": "no-such-language",  # klingon is a language (tlh)
    "sort": "sideways",
    "modality": "bogus",
    "min_score": "high",
    "when": "someday",
    "origin": "elsewhere",
    "unread": "maybe",
    "overdue": "maybe",
    "node": "XXX",
    "kind": "bogus",
    "action": "bogus",
    "entity": "bogus",
    "user": "abc",
    "from": "yesterday",
    "to": "tomorrow",
    "format": "bogus",
}
LANGS = ("es", "fr")


def _lists(app: Flask) -> list[tuple[str, str]]:
    found = [
        (rule.endpoint, rule.rule)
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or ()) and not rule.arguments
    ]
    found = [(e, r) for e, r in found if e not in NOT_LISTS and e != "static"]
    assert {"network.data", "network.exchanges", "registry.needs", "api.api_needs"} <= {
        e for e, _ in found
    }
    return sorted(found)


def _token(app: Flask, user_id: int) -> str:
    with Session(app.extensions["sscmatch.engine"]) as s:
        user = s.get(User, user_id)
        assert user is not None
        token = issue_api_token(s, user)
        s.commit()
    return token


def test_bad_filters_are_a_clear_4xx_in_the_readers_language(
    app: Flask, users: dict[str, int]
) -> None:
    lists = _lists(app)
    token = _token(app, users["secretariat"])
    server_errors: list[str] = []
    unclear: list[str] = []
    no_way_back: list[str] = []
    unfiltered: set[str] = set()
    refused: dict[str, set[str]] = {endpoint: set() for endpoint, _ in lists}
    for lang in LANGS:
        # the values a filter accepts are named as the address takes them (``study_tour``)
        known = {k for k in _known_english() if "_" not in k}
        detector = Detector(lang, known, set(BAD.values()))
        client = app.test_client()
        sign_in(client, "secretariat")
        client.post("/language", data={"lang": lang, "next": "/"})
        api = app.test_client()
        for endpoint, rule in lists:
            for name, value in BAD.items():
                path = f"{rule}?{name}={value}"
                if endpoint.startswith("api."):
                    response = api.get(path, headers={"Authorization": f"Bearer {token}"})
                else:
                    response = client.get(path)
                response.close()
                status = response.status_code
                if status >= 500:
                    server_errors.append(f"{path}: {status}")
                    continue
                if not 400 <= status < 500:
                    continue  # the list does not read that argument
                refused[endpoint].add(name)
                problem = _unclear(response, detector, english=endpoint.startswith("api."))
                if problem:
                    unclear.append(f"{lang} {path}: {problem}")
                html = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
                if "<h1>400 · " in html and not _a_download(endpoint):
                    # the error page (not the list itself with the problems beside its
                    # filters, as the audit log's page answers) links to the page unfiltered
                    if f'<a href="{rule}">' not in html:
                        no_way_back.append(path)
                    else:
                        unfiltered.add(rule)
    assert not server_errors, "\n".join(server_errors)
    assert not unclear, "\n".join(sorted(set(unclear)))
    assert not no_way_back, f"refused pages without a link to the page unfiltered: {no_way_back}"
    assert {"/needs", "/followup/commitments"} <= unfiltered
    answers = {rule: client.get(rule, follow_redirects=True).status_code for rule in unfiltered}
    assert {r: a for r, a in answers.items() if a != 200} == {}
    deaf = sorted(e for e, names in refused.items() if not names)
    assert not deaf, f"lists that refused no bad filter (add it to BAD or NOT_LISTS): {deaf}"
    assert {"year_from", "theme", "region"} <= refused["network.data"]
    assert {"theme", "node"} <= refused["network.exchanges"]


def _a_download(endpoint: str) -> bool:
    return "export" in endpoint or "download" in endpoint


def _unclear(response: Any, detector: Detector, *, english: bool) -> str | None:
    """What is unclear about a refusal: no message, the wrong shape, or English on a page."""
    if response.is_json:
        body = response.get_json()
        if not isinstance(body, dict) or not body.get("error") or not body.get("message"):
            return f"not the error shape: {response.get_data(as_text=True)[:200]}"
        texts = [str(body["message"])]
    else:
        if response.mimetype != "text/html":
            return f"a {response.mimetype} answer"
        texts = visible_texts(response.get_data(as_text=True))
    if english:
        return None  # the API says its messages in English
    found = [f.text for f in detector.findings(texts)]
    return f"English: {found[:3]}" if found else None


def test_the_network_data_refusal_is_json_in_the_readers_language(
    app: Flask, users: dict[str, int]
) -> None:
    """The drawing's data and the side panel answer their script in JSON, through the one
    handler, with the message it shows; the same side panel without ``format=json`` is a page."""
    client = app.test_client()
    sign_in(client, "secretariat")
    english = client.get("/network/data?year_from=abc").get_json()
    client.post("/language", data={"lang": "es", "next": "/"})
    for path in ("/network/data?year_from=abc", "/network/exchanges?format=json&node=XXX"):
        response = client.get(path)
        assert response.status_code == 400 and response.is_json, path
        assert response.get_json()["error"] in ("bad_filter", "bad_parameter"), path
    spanish = client.get("/network/data?year_from=abc").get_json()
    assert english["error"] == spanish["error"] == "bad_filter"
    assert english["message"] != spanish["message"]
    page = client.get("/network/exchanges?node=XXX")
    assert page.status_code == 400 and page.mimetype == "text/html"


# --------------------------------------------------------------------------- countries, choices

# Query arguments that name a country; ZZZ is a well-formed code of no country.
COUNTRY_ARGS = ("country", "node", "source", "target")
UNKNOWN_COUNTRY = "ZZZ"
# Arguments whose value is free (words, ids of records): any value is a search, not a mistake.
FREE_ARGS = {"q", "need", "tour", "run"}


def _bad_value(name: str, schema: dict[str, Any]) -> str | None:
    """A value of a documented query argument that the list must refuse, or None (free)."""
    if name in COUNTRY_ARGS:
        return UNKNOWN_COUNTRY
    if name in FREE_ARGS:
        return None
    if "enum" in schema:
        return "bogus"
    if schema.get("type") in ("integer", "number"):
        return "abc"
    if schema.get("type") == "boolean":
        return "maybe"
    return BAD.get(name, "bogus")


def test_every_api_list_refuses_every_bad_filter(app: Flask, users: dict[str, int]) -> None:
    """Each documented query argument of every API list (openapi.json) with a value it cannot
    use, one at a time, an unknown country (``ZZZ``) included: 400 in the one error shape
    (never a 200 that lists nothing for a typo, never a 422 or a 5xx)."""
    token = _token(app, users["secretariat"])
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    client = app.test_client()
    wrong: list[str] = []
    countries: set[str] = set()
    for path, item in spec["paths"].items():
        op = item.get("get")
        if op is None or "{" in path:
            continue
        for param in op.get("parameters", []):
            value = _bad_value(param["name"], param["schema"])
            if param["in"] != "query" or value is None:
                continue
            if param["name"] == "target":
                continue  # a link needs its source: walked with it below
            query = {param["name"]: value}
            if param["name"] == "source":
                query["target"] = "GTM"
            response = client.get(
                f"/api/v1{path}",
                query_string=query,
                headers={"Authorization": f"Bearer {token}"},
            )
            body = response.get_json(silent=True) or {}
            if response.status_code != 400 or not body.get("message"):
                wrong.append(f"{path}?{query}: {response.status_code} {body}")
            if value == UNKNOWN_COUNTRY:
                countries.add(path)
                if "ZZZ" not in str(body.get("message")):
                    wrong.append(f"{path}?{query}: the message does not name the country")
    assert not wrong, "\n".join(wrong)
    lists = {"/needs", "/capacities", "/exchanges", "/institutions", "/proposals", "/vetoes"}
    assert lists | {"/tours", "/commitments", "/network"} <= countries, countries


def _filters_on_country(html: str) -> bool:
    """Whether a page's filter form (a GET form: a POST form starts something) has a country."""
    for form in re.findall(r"<form\b[^>]*>.*?</form>", html, flags=re.S | re.I):
        opening = form[: form.index(">")].lower()
        if 'method="post"' not in opening and re.search(r'name="country"', form):
            return True
    return False


def test_every_list_with_a_country_filter_refuses_an_unknown_country(
    app: Flask, users: dict[str, int]
) -> None:
    """Every page list whose filter form offers a country (``name="country"``) and every API
    list documenting a country argument answers ``country=ZZZ`` with a 400 that names it, the
    page in the reader's language (Spanish here), through the one handler; a known code or a
    name the vocabulary resolves is a 200."""
    token = _token(app, users["secretariat"])
    client = app.test_client()
    sign_in(client, "secretariat")
    client.post("/language", data={"lang": "es", "next": "/"})
    api = {"Authorization": f"Bearer {token}"}
    walked = set()
    for endpoint, rule in _lists(app):
        headers = api if endpoint.startswith("api.") else {}
        plain = client.get(rule, headers=headers)
        if plain.status_code != 200:
            continue  # not this role's
        if endpoint.startswith("api."):
            spec = client.get("/api/v1/openapi.json").get_json()
            op = spec["paths"][rule.removeprefix("/api/v1")]["get"]
            if "country" not in {p["name"] for p in op.get("parameters", [])}:
                continue
        elif not _filters_on_country(plain.get_data(as_text=True)):
            continue
        walked.add(endpoint)
        for known in ("GTM", "gtm", "Guatemala"):
            found = client.get(rule, query_string={"country": known}, headers=headers)
            assert found.status_code == 200, f"{rule}?country={known}: {found.status_code}"
        refused = client.get(rule, query_string={"country": "ZZZ"}, headers=headers)
        assert refused.status_code == 400, f"{rule}?country=ZZZ: {refused.status_code}"
        text = refused.get_data(as_text=True)
        assert "ZZZ" in text, rule
        if not endpoint.startswith("api."):
            assert "País desconocido" in text, f"{rule}: not in Spanish"
    pages = {"registry.needs", "review.queue", "tours.index", "followup.commitments"}
    pages |= {"followup.dashboard"}
    assert pages | {"api.api_tours", "api.api_commitments", "api.review_vetoes"} <= walked, walked
