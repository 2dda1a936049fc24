"""Every error the JSON API answers is said in the caller's language, as a class.

Each kind of error the API's edge answers is walked, each for every route it can reach:

- an unknown record: every route of the URL map under ``/api/`` with a parameter in its path,
  with every method, asked about ids that do not exist (404, or the 4xx its body gets first);
- a bad page number (``page``, ``per_page``) on every API list of openapi.json;
- a body failing its schema (an unknown field, a field of the wrong kind) on every operation
  of openapi.json that takes a body and has no path parameter, and a body that is no JSON;
- a method the address does not take (405) and an address the API does not have (404);
- no token and a wrong token (401: no account, so the request's ``Accept-Language``);
- a role's refusal (403) on every API route that some signed-in role may not call.

Each is asked twice by the same account, in English and in Spanish (and a sample in French):
the code (``error``) and status are the same in both, and the message differs from the English
one and holds no English (:class:`tests.web.english_text.Detector`, as the pages' crawl).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from flask import Flask

from sscmatch.web.access import PUBLIC, SIGNED_IN, rule_for
from tests.conftest import ACCOUNTS
from tests.web.english_text import Detector
from tests.web.test_api_list_filters import _speaks
from tests.web.test_bad_filters import _token

API = "/api/v1"
UNKNOWN_INT = "987654321"
UNKNOWN_TEXT = "no-such-record"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# the roles a route's rule is tried with, the widest first
ROLE_ACCOUNT = {
    "admin": "admin",
    "secretariat": "secretariat",
    "analyst": "analyst",
    "focal_point": "focal_gtm",
}


@dataclass(frozen=True)
class Call:
    """One request of one error kind, asked by ``who`` (None: no account, by its header)."""

    kind: str
    who: str | None
    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    body: Any = None
    raw: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


def _tokens(app: Flask, users: dict[str, int]) -> dict[str, str]:
    return {who: _token(app, users[who]) for who in ROLE_ACCOUNT.values()}


def _caller(app: Flask, endpoint: str) -> str | None:
    """An account whose role may call ``endpoint`` (None: a public route)."""
    with app.test_request_context():
        rule = rule_for(endpoint) or frozenset()
    if PUBLIC in rule:
        return None
    if SIGNED_IN in rule:
        return "secretariat"
    return next((who for role, who in ROLE_ACCOUNT.items() if role in rule), None)


def _refused(app: Flask, endpoint: str) -> str | None:
    """An account whose role may not call ``endpoint`` (None: every signed-in role may)."""
    with app.test_request_context():
        rule = rule_for(endpoint) or frozenset()
    if PUBLIC in rule or SIGNED_IN in rule:
        return None
    return next((who for role, who in ROLE_ACCOUNT.items() if role not in rule), None)


def _filled(rule: str) -> str:
    """The rule's path with ids that exist nowhere."""
    path = re.sub(r"<int:\w+>", UNKNOWN_INT, rule)
    return re.sub(r"<(?:\w+:)?\w+>", UNKNOWN_TEXT, path)


# A value of another JSON kind than the schema's, for each kind a field may have.
WRONG_KIND: dict[str, Any] = {
    "string": 12,
    "array": "not a list",
    "integer": "twelve",
    "number": "twelve",
    "boolean": "perhaps",
    "object": [1],
}


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _kind(spec: dict[str, Any], schema: dict[str, Any]) -> str | None:
    schema = _resolve(spec, schema)
    kinds = [schema.get("type")] + [
        _resolve(spec, s).get("type") for s in schema.get("anyOf", []) + schema.get("oneOf", [])
    ]
    return next((k for k in kinds if k in WRONG_KIND), None)


def _wrong_kinds(spec: dict[str, Any], operation: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """A body per field of the operation's schema, that field of the wrong JSON kind (a title
    as a number, a list of themes as text): pydantic's own reasons, which must be said in the
    caller's language too (a number for a title answered "Input should be a valid string")."""
    content = operation["requestBody"].get("content", {}).get("application/json", {})
    body = _resolve(spec, content.get("schema", {}))
    for name, prop in sorted(body.get("properties", {}).items()):
        kind = _kind(spec, prop)
        if kind is not None:
            yield {name: WRONG_KIND[kind]}


def _calls(app: Flask) -> Iterator[Call]:
    spec = app.test_client().get(f"{API}/openapi.json").get_json()
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith(f"{API}/") or not rule.arguments:
            continue
        for method in sorted(set(rule.methods or ()) & set(METHODS)):
            who = _caller(app, rule.endpoint)
            body = {} if method in ("POST", "PUT", "PATCH") else None
            yield Call("unknown record", who, method, _filled(rule.rule), body=body)
    for path, item in sorted(spec["paths"].items()):
        if "{" in path:
            continue  # an unknown id answers first: walked above
        endpoint = _endpoint(app, f"{API}{path}")
        for method, operation in sorted(item.items()):
            if method == "get":
                who = _caller(app, endpoint)
                for query in _bad_pages(operation):
                    yield Call("bad page number", who, "GET", f"{API}{path}", query=query)
            if "requestBody" in operation:
                who = _caller(app, endpoint)
                m = method.upper()
                yield Call("body failing its schema", who, m, f"{API}{path}", body={"zzz": 1})
                yield Call("body failing its schema", who, m, f"{API}{path}", body=[1, 2])
                for body in _wrong_kinds(spec, operation):
                    yield Call("field of the wrong kind", who, m, f"{API}{path}", body=body)
                yield Call("body that is no JSON", who, m, f"{API}{path}", raw="{not json")
    yield Call("method not allowed", "secretariat", "DELETE", f"{API}/needs")
    yield Call("method not allowed", "secretariat", "PUT", f"{API}/openapi.json")
    yield Call("no such address", "secretariat", "GET", f"{API}/no-such-thing")
    yield Call("no token", None, "GET", f"{API}/needs")
    yield Call(
        "wrong token",
        None,
        "GET",
        f"{API}/needs",
        headers=(("Authorization", "Bearer not-a-token"),),
    )
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.rule.startswith(f"{API}/") and not rule.arguments:
            who = _refused(app, rule.endpoint)
            if who is not None:
                method = sorted(set(rule.methods or ()) & set(METHODS))[0]
                yield Call("role refused", who, method, rule.rule, body={})


def _endpoint(app: Flask, path: str) -> str:
    adapter = app.url_map.bind("localhost")
    for method in METHODS:
        try:
            endpoint, _args = adapter.match(path, method=method)
            return str(endpoint)
        except Exception:
            continue
    raise AssertionError(f"{path}: in openapi.json but not in the URL map")


def _bad_pages(operation: dict[str, Any]) -> list[dict[str, str]]:
    """Bad values of the page arguments the operation documents."""
    names = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
    bad = {"page": ("abc", "0"), "per_page": ("abc", "100000")}
    return [{name: value} for name in sorted(names & set(bad)) for value in bad[name]]


def _ask(client: Any, call: Call, lang: str, tokens: dict[str, str]) -> tuple[int, dict[str, Any]]:
    headers = dict(call.headers)
    if call.who is None:
        headers["Accept-Language"] = lang
    else:
        headers["Authorization"] = f"Bearer {tokens[call.who]}"
    options: dict[str, Any] = {"query_string": call.query, "headers": headers}
    if call.raw is not None:
        options["data"] = call.raw
        options["content_type"] = "application/json"
    elif call.body is not None:
        options["json"] = call.body
    response = client.open(call.path, method=call.method, **options)
    return response.status_code, response.get_json(silent=True) or {}


def _wrong(
    app: Flask, users: dict[str, int], tokens: dict[str, str], calls: list[Call], lang: str
) -> tuple[list[str], int]:
    """What is wrong with ``calls`` said in ``lang``, and how many were checked."""
    detector = Detector(lang, (), {UNKNOWN_INT, UNKNOWN_TEXT, "zzz"})
    client = app.test_client()
    wrong: list[str] = []
    checked = 0
    for call in calls:
        said = {}
        for language in ("en", lang):
            if call.who is not None:
                _speaks(app, users[call.who], language)
            said[language] = _ask(client, call, language, tokens)
        (status, english), (other_status, answer) = said["en"], said[lang]
        where = f"{call.kind}: {call.method} {call.path}{'?' if call.query else ''}"
        where += "&".join(f"{k}={v}" for k, v in call.query.items())
        shape = {"error", "message"} <= set(english) <= {"error", "message", "fields"}
        if not 400 <= status < 500 or not shape:
            wrong.append(f"{where}: {status} {str(english)[:160]}")
            continue
        checked += 1
        if call.kind == "unknown record" and call.body is None and status != 404:
            wrong.append(f"{where}: {status}, not 404 {english}")
        if other_status != status or answer.get("error") != english["error"]:
            wrong.append(f"{where}: {lang} {other_status} {answer} vs en {status} {english}")
            continue
        text = str(answer.get("message") or "")
        # each field's problem too (``fields``), said in the reader's language
        findings = list(detector.findings([text, *dict(answer.get("fields") or {}).values()]))
        if not text or text == english["message"] or findings:
            why = findings[0].why if findings else "the English message"
            wrong.append(f"{where} ({lang}, {why}): {text[:200]!r}")
            continue
        # a field's own reason as English gives it ("Input should be a valid string": one
        # English-only word, so no sentence to the detector), under a translated label
        in_english = dict(english.get("fields") or {})
        for name, reason in dict(answer.get("fields") or {}).items():
            if reason == in_english.get(name):
                wrong.append(f"{where} ({lang}, {name}'s English reason): {reason[:200]!r}")
    return wrong, checked


def test_every_api_error_is_said_in_the_callers_language(app: Flask, users: dict[str, int]) -> None:
    assert set(ROLE_ACCOUNT.values()) <= set(ACCOUNTS)
    tokens = _tokens(app, users)
    calls = list(_calls(app))
    kinds = {call.kind for call in calls}
    assert kinds == {
        "unknown record",
        "bad page number",
        "body failing its schema",
        "field of the wrong kind",
        "body that is no JSON",
        "method not allowed",
        "no such address",
        "no token",
        "wrong token",
        "role refused",
    }, kinds
    wrong, checked = _wrong(app, users, tokens, calls, "es")
    # French for a sample: the first call of each kind
    sample = list({call.kind: call for call in reversed(calls)}.values())
    french, _ = _wrong(app, users, tokens, sample, "fr")
    print(
        f"{checked} API errors checked in Spanish over {len(kinds)} kinds, {len(sample)} in French"
    )
    assert not wrong + french, f"{len(wrong + french)} not said in the caller's language:\n" + (
        "\n".join(wrong + french)
    )
    unknown = [c for c in calls if c.kind == "unknown record"]
    assert len(unknown) >= 30, len(unknown)
