"""Odd requests at the HTTP level, of the kinds an outside tester sent to a real server (gunicorn),
each walked over every route of its class: never a 5xx, a 4xx said in the requester's language
(the page in it; the API as JSON with ``error`` and ``message``), nothing written.

- a body the server cannot read: ``Transfer-Encoding: chunked`` with a malformed chunk (a size
  that is not hexadecimal, a chunk without its CRLF, a bad extension). gunicorn refuses it with
  its own ``ParseException`` while the app reads the body, which Werkzeug does not take for a
  broken body (it does for an ``OSError``): a 500 on every route that reads one. The walk reads
  through gunicorn's own chunked reader (``gunicorn.http.body``) over those bytes, as the server
  does, without starting one;
- an ``<int:…>`` id written in other scripts' digits (``/review/proposals/١``, ``１``): Werkzeug's
  ``\\d`` took them for 1, a second address of every record; now unknown (404), as numbers in
  query strings are refused;
- a NUL in the API's body or query: refused in English whatever the reader's language;
- a number the client sent, said back in a refusal (a focal point registering a need "for
  1e308"): formatting it the reader's way failed beyond decimal's 28 digits (a 500).
"""

from __future__ import annotations

import io
import json
import math
import re
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from flask import Flask, url_for
from gunicorn.http.body import Body, ChunkedReader
from gunicorn.http.unreader import IterUnreader
from pydantic import BaseModel, ValidationError

from sscmatch.web.errors import ERROR_MESSAGES
from sscmatch.web.messages import translated
from sscmatch.web.templating import number
from sscmatch.web.tourtext import message
from sscmatch.web.translate import gettext
from tests.conftest import ACCOUNTS, PASSWORD, make_test_app
from tests.web.test_malformed_input import _routes
from tests.web.world import Walk, world_fixture

shared_world = world_fixture()

ROLES = ("anonymous", "focal_gtm", "secretariat")
BAD_CHUNKS = (
    b"zz\r\ncsrf_token=x\r\n0\r\n\r\n",  # a size that is not hexadecimal
    b"3\r\nabcXX0\r\n\r\n",  # a chunk without its CRLF
    b"3;\x01\r\nabc\r\n0\r\n\r\n",  # a chunk extension that is not one
)
BODY_TYPES = (
    "application/x-www-form-urlencoded",
    "application/json",
    "multipart/form-data; boundary=b",
)


def _routes_of(app: Flask, values: dict[str, Any], methods: set[str]) -> list[tuple[str, str]]:
    """(method, path) of every route taking one of ``methods``, its arguments filled in."""
    return [(m, path) for m, path in _routes(app, values) if m in methods]


def _call(walk: Walk, who: str, method: str, path: str, **kwargs: Any) -> Any:
    headers = {"Accept-Language": "es", **kwargs.pop("headers", {})}
    if who != "anonymous" and path.startswith("/api/"):
        headers["Authorization"] = f"Bearer {walk.tokens[who]}"
    return walk.client(who).open(path, method=method, headers=headers, **kwargs)


def _said_in_spanish(response: Any, path: str, expected: str | None = None) -> str | None:
    """What is wrong with an error answer's form or language (None: nothing)."""
    if path.startswith("/api/"):
        body = response.get_json(silent=True)
        if not (isinstance(body, dict) and body.get("error") and body.get("message")):
            return f"not the API's error shape: {response.data[:120]!r}"
        if expected is not None and body["message"] != expected:
            return f"message {body['message']!r}, not {expected!r}"
        return None
    html = response.get_data(as_text=True)
    if '<html lang="es"' not in html:
        return "the page is not in Spanish"
    if expected is not None and expected not in html:
        said = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.split('id="content"')[-1]))
        return f"the page does not say {expected!r}: {said[:160]!r}"
    return None


def _sent_body(walk: Walk, who: str, method: str, path: str, kind: str, environ: Any) -> Any:
    """The answer to ``who`` sending ``path`` a body of content type ``kind`` as the server
    hands it over (``environ``: its ``wsgi.input``…)."""
    return _call(walk, who, method, path, content_type=kind, environ_overrides=environ)


def _refused(response: Any, path: str, status: int, expected: str) -> str | None:
    """What is wrong with the answer to a body that must be refused with ``status`` and the
    sentence ``expected`` (None: nothing). The access rules' refusal comes before a body is
    read, and is right too."""
    got = response.status_code
    if got == status:
        return _said_in_spanish(response, path, expected)
    if got in (401, 403, 404):
        return _said_in_spanish(response, path)
    if got == 302 and "/login" in response.headers.get("Location", ""):
        return None
    return str(got)


def test_a_body_the_server_cannot_read_is_a_400_on_every_route(shared_world: Walk) -> None:
    """Every route that takes a body, as each role, with each malformed chunked body (read by
    gunicorn's own reader) and each body type: 400 with the request sentence in Spanish, the
    API's JSON too (or the access rules' refusal, which comes before a body is read), and
    nothing written (the shared world checks its tables afterwards)."""
    app = shared_world.app
    app.config["PROPAGATE_EXCEPTIONS"] = False
    with app.test_request_context(headers={"Accept-Language": "es"}):
        expected = str(ERROR_MESSAGES[400])
    failures, sent = [], 0
    for method, path in _routes_of(app, shared_world.values, {"POST", "PUT", "PATCH"}):
        for who in ROLES:
            for raw, content_type in zip(BAD_CHUNKS, BODY_TYPES, strict=True):
                body = Body(ChunkedReader(None, IterUnreader([raw])))
                environ = {"wsgi.input": body, "wsgi.input_terminated": True}
                response = _sent_body(shared_world, who, method, path, content_type, environ)
                sent += 1
                if problem := _refused(response, path, 400, expected):
                    failures.append(f"{who} {method} {path} {content_type} {raw!r}: {problem}")
    assert failures == [], f"{len(failures)} of {sent}:\n" + "\n".join(failures[:40])
    assert sent > 300  # the walk reached the routes


OTHER_DIGITS = {"0": "٠", "1": "١", "2": "٢", "3": "٣", "4": "٤", "5": "٥", "6": "٦", "7": "٧"}
OTHER_DIGITS |= {"8": "٨", "9": "٩"}


def _in(digits: str, script: int) -> str:
    """``digits`` in Arabic-Indic digits (``script`` 0) or fullwidth ones (1)."""
    if script == 0:
        return "".join(OTHER_DIGITS[d] for d in digits)
    return "".join(chr(0xFF10 + int(d)) for d in digits)


def test_an_id_in_other_digits_is_no_address_of_a_record(shared_world: Walk) -> None:
    """Every route with an ``<int:…>`` argument, each such argument written in Arabic-Indic and
    fullwidth digits, as each role: 404 (the page in Spanish, the API's JSON), while the same
    id in ASCII digits is found by that route (not a 404, for a role that may read it)."""
    app = shared_world.app
    failures, sent = [], 0
    for rule in app.url_map.iter_rules():
        numbered = re.findall(r"<int:(\w+)>", rule.rule)
        if not numbered:
            continue
        method = "GET" if "GET" in (rule.methods or set()) else "POST"
        for arg in numbered:
            value = str(shared_world.values[arg])
            for script in (0, 1):
                values = {a: shared_world.values[a] for a in rule.arguments} | {arg: 987654321}
                with app.test_request_context():
                    path = url_for(rule.endpoint, **values)
                path = path.replace("987654321", _in(value, script))
                for who in ROLES:
                    response = _call(shared_world, who, method, path)
                    sent += 1
                    if response.status_code != 404:
                        failures.append(f"{who} {method} {path}: {response.status_code}")
                    elif problem := _said_in_spanish(response, path):
                        failures.append(f"{who} {method} {path}: {problem}")
    assert failures == [], "\n".join(failures)
    assert sent > 100
    # ASCII digits still reach the record: the proposal's page, to the secretariat
    proposal = shared_world.values["proposal_id"]
    ok = _call(shared_world, "secretariat", "GET", f"/review/proposals/{proposal}")
    assert ok.status_code == 200


@pytest.mark.one_case_on_postgresql(lang="es")
@pytest.mark.parametrize("lang", ["es", "pt", "fr"])
def test_a_nul_in_the_api_is_refused_in_the_readers_language(shared_world: Walk, lang: str) -> None:
    """Every API route that takes a body (a NUL in a value and in a key) and every API GET (a NUL
    in the query), with the secretariat's token: 400 ``bad_text`` with the catalogue's sentence
    in the reader's language (it was English whatever the language)."""
    app = shared_world.app
    with app.test_request_context(headers={"Accept-Language": lang}):
        expected = gettext("Text may not contain NUL characters; remove them and send again.")
    assert expected != "Text may not contain NUL characters; remove them and send again."
    routes = _routes_of(app, shared_world.values, {"GET", "POST", "PUT", "PATCH"})
    failures, sent = [], 0
    for method, path in routes:
        if not path.startswith("/api/"):
            continue
        if method == "GET":
            asked = [{"query_string": {"q": "a\x00b"}}]
        else:
            asked = [{"json": {"title": "a\x00b"}}, {"json": {"a\x00": 1}}]
        for kwargs in asked:
            response = _call(
                shared_world,
                "secretariat",
                method,
                path,
                headers={"Accept-Language": lang},
                **kwargs,
            )
            sent += 1
            body = response.get_json(silent=True) or {}
            if response.status_code == 403:  # the role's refusal comes before the body is read
                continue
            if response.status_code != 400 or body.get("error") != "bad_text":
                failures.append(f"{method} {path} {kwargs}: {response.status_code} {body}")
            elif body.get("message") != expected:
                failures.append(f"{method} {path} {kwargs}: {body.get('message')!r}")
    assert failures == [], "\n".join(failures)
    assert sent > 60


HUGE = (1e308, -1e308, 10**400, -(10**60), 1e27, math.inf)


@pytest.mark.same_on_every_database
@pytest.mark.parametrize("lang", ["en", "es", "pt", "fr"])
def test_any_number_is_written_the_readers_way(shared_world: Walk, lang: str) -> None:
    """The one formatting of figures (``num``, and every number a message of the catalogue is
    said with) takes any number a client can send, at every precision and sign: written out,
    never an error (1e308 and 10**400 failed: decimal's 28 digits, float() of a huge int)."""
    with shared_world.app.test_request_context(headers={"Accept-Language": lang}):
        for value in HUGE:
            for digits in (0, 2):
                for signed in (False, True):
                    written = number(value, digits, signed)
                    assert written and (value == math.inf or written.count("0") >= 27), written
            said = message(
                "too long (%(n)s characters; at most %(limit)s)", {"n": value, "limit": 5}
            )
            assert said and "%(" not in said


def test_a_huge_number_in_any_field_of_the_api_is_never_a_500(shared_world: Walk) -> None:
    """Every field of every API body (from openapi.json) set to 1e308, then every field at once
    to 10**400, as Guatemala's focal point (whose "need for 1e+308" was refused with the number
    said back, which broke): a 4xx in the API's shape, never a 5xx."""
    app = shared_world.app
    app.config["PROPAGATE_EXCEPTIONS"] = False
    spec = _call(shared_world, "focal_gtm", "GET", "/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    failures, sent = [], 0
    for template, operations in spec["paths"].items():
        path = "/api/v1" + template if not template.startswith("/api/") else template
        for name, value in shared_world.values.items():
            path = path.replace("{" + name + "}", str(value))
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            if schema is None:
                continue
            while "$ref" in schema:
                schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
            fields = list(schema.get("properties", {}))
            if not fields:  # a body of no fields ({}: "mark every notice read") is no refusal
                continue
            bodies = [{f: 1e308} for f in fields] + [dict.fromkeys(fields, 10**400)]
            for body in bodies:
                response = _call(
                    shared_world,
                    "focal_gtm",
                    method.upper(),
                    path,
                    data=json.dumps(body),
                    content_type="application/json",
                )
                sent += 1
                if response.status_code >= 500 or not 200 <= response.status_code < 500:
                    failures.append(f"{method} {path} {list(body)}: {response.status_code}")
                elif response.status_code >= 400 and (problem := _said_in_spanish(response, path)):
                    failures.append(f"{method} {path} {list(body)}: {problem}")
    assert failures == [], "\n".join(failures)
    assert sent > 50


ODD_VALUES: tuple[Any, ...] = ([], {}, 1.5, True, "x", "", "9" * 5000, 2**70, "\ud800", [{}], [1.5])
ENGLISH = re.compile(
    r"\b(Input|[Ss]hould|valid|[Uu]nable|parse|String|List|instance|or|unknown|characters?)\b"
)


def _models(model: type[BaseModel]) -> Iterator[type[BaseModel]]:
    """``model`` and the models its fields hold (a bulk decision's items), once each."""
    seen, todo = set(), [model]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        yield current
        for info in current.model_fields.values():
            for arg in [info.annotation, *typing.get_args(info.annotation)]:
                for inner in [arg, *typing.get_args(arg)]:
                    if isinstance(inner, type) and issubclass(inner, BaseModel):
                        todo.append(inner)


@pytest.mark.same_on_every_database
@pytest.mark.parametrize("lang", ["es", "pt", "fr"])
def test_every_problem_of_any_api_body_is_said_in_the_readers_language(
    shared_world: Walk, lang: str
) -> None:
    """Every field of every model an API body is read with (the operations' declared bodies and
    the models they hold), given each JSON type it does not take: each problem pydantic finds,
    as the API and the import say it (``messages.translated``), reads in the reader's language.
    "Input should be a valid string" came out as "El valor debe ser a valid string", a list of
    allowed values with an English "or", and some sentences whole in English."""
    app = shared_world.app
    bodies = {
        op.body
        for view in app.view_functions.values()
        if (op := getattr(view, "_operation", None)) is not None and op.body is not None
    }
    models = {m for body in bodies for m in _models(body)}
    failures, said = set(), 0
    with app.test_request_context(headers={"Accept-Language": lang}):
        for model in models:
            for name in model.model_fields:
                for value in ODD_VALUES:
                    try:
                        model.model_validate({name: value})
                    except ValidationError as exc:
                        problems = [
                            str(e["msg"]).removeprefix("Value error, ") for e in exc.errors()
                        ]
                    else:
                        continue
                    for problem in problems:
                        text = translated(problem)
                        said += 1
                        if text == problem or ENGLISH.search(re.sub(r"'[^']*'", "", text)):
                            failures.add(f"{problem!r} -> {text!r}")
    assert failures == set(), "\n".join(sorted(failures))
    assert said > 300


@pytest.mark.one_case_on_postgresql(lang="es")
@pytest.mark.parametrize("lang", ["es", "pt", "fr"])
def test_a_wrong_reference_in_a_record_is_said_in_the_readers_language(
    shared_world: Walk, lang: str
) -> None:
    """A need and a capacity created through the API by Guatemala's focal point with each wrong
    reference the registry checks (an institution that does not exist, another country's
    institution, a theme misspelt so that it resolves, one that does not): every field's
    problem in the reader's language ("institution 'bra-abc' belongs to BRA, not GTM" and
    "(did you mean …?)" were English)."""
    wrong = (
        {"institution": "no-such-institution"},
        {"institution": "bra-abc"},
        {"themes": ["chld labour monitorng"]},
        {"themes": ["no such theme at all"]},
    )
    failures = []
    for path in ("/api/v1/needs", "/api/v1/capacities"):
        for fields in wrong:
            body = {"title": "A title", "themes": ["child-labour-monitoring"], **fields}
            response = _call(
                shared_world,
                "focal_gtm",
                "POST",
                path,
                json=body,
                headers={"Accept-Language": lang},
            )
            problems = (response.get_json(silent=True) or {}).get("fields") or {}
            said = " ".join(re.sub(r"'[^']*'", "", str(p)) for p in problems.values())
            if response.status_code != 422 or not problems or ENGLISH.search(said):
                failures.append(f"{path} {fields}: {response.status_code} {problems}")
            elif re.search(r"\b(belongs|did you mean|not)\b", said):
                failures.append(f"{path} {fields}: {problems}")
    assert failures == [], "\n".join(failures)


@pytest.mark.same_on_every_database
def test_a_form_beyond_the_parsers_limits_is_not_called_too_large_a_file(
    shared_world: Walk,
) -> None:
    """Every route that takes a body, as the roles that may send it, with a multipart form of
    more parts than ``MAX_FORM_PARTS`` and with one text field over ``MAX_FORM_MEMORY_SIZE``
    (both far under the upload limit; the limits lowered here so the bodies stay small): 413
    saying the form is too large, in Spanish, not "larger than the limit of 20 MiB; send a
    smaller file" (it said so of a 600 KB form)."""
    app = shared_world.app
    app.config.update(MAX_FORM_PARTS=5, MAX_FORM_MEMORY_SIZE=100)
    with app.test_request_context(headers={"Accept-Language": "es"}):
        expected = gettext(
            "The form has too many fields, or a field with too much text; nothing was saved."
        )
    many = b"".join(
        b'--b\r\nContent-Disposition: form-data; name="f%d"\r\n\r\nx\r\n' % i for i in range(8)
    )
    long = (
        b'--b\r\nContent-Disposition: form-data; name="description"\r\n\r\n' + b"a" * 200 + b"\r\n"
    )
    failures, sent = [], 0
    for method, path in _routes_of(app, shared_world.values, {"POST", "PUT", "PATCH"}):
        for who in ("focal_gtm", "secretariat"):
            for parts in (many, long):
                response = _call(
                    shared_world,
                    who,
                    method,
                    path,
                    data=parts + b"--b--\r\n",
                    content_type="multipart/form-data; boundary=b",
                )
                sent += 1
                if problem := _refused(response, path, 413, expected):
                    failures.append(f"{who} {method} {path} {parts[:60]!r}: {problem}")
    assert failures == [], f"{len(failures)} of {sent}:\n" + "\n".join(failures[:30])
    assert sent > 200


OFF_SITE = (
    "//evil.example",
    "/\\evil.example",
    "/\\/evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "\t//evil.example",
    "https://evil.example",
    "https:evil.example",
    "javascript:alert(1)",
    "/\x00/evil.example",
)


def _lands_here(location: str) -> bool:
    """Whether a browser sent to ``location`` stays on this site (it drops tabs and line
    breaks and reads a backslash as a slash)."""
    read = re.sub(r"[\t\r\n]", "", location).replace("\\", "/")
    return urlsplit(urljoin("http://localhost/page", read)).netloc == "localhost"


def test_an_address_to_go_back_to_never_leads_off_site(app: Flask, users: dict[str, int]) -> None:
    """Both places that send the browser to an address the request names, the language
    switcher (``next`` of its form) and the sign-in (``?next=``), with each address a browser
    reads as another site: sent home instead ("/\\t/evil.example" was sent on as
    "//evil.example"). A local address is still followed."""
    failures = []
    client = app.test_client()
    for target in (*OFF_SITE, "/needs?page=2"):
        response = client.post("/language", data={"lang": "es", "next": target})
        location = response.headers.get("Location", "")
        if not _lands_here(location) or (target.startswith("/needs") and location != target):
            failures.append(f"language {target!r}: {location!r}")
    for target in ("/\t/evil.example", "/\\evil.example", "//evil.example", "/needs?page=2"):
        client = app.test_client()
        response = client.post(
            "/login",
            query_string={"next": target},
            data={"email": ACCOUNTS["analyst"][0], "password": PASSWORD},
        )
        location = response.headers.get("Location", "")
        if response.status_code != 302 or not _lands_here(location):
            failures.append(f"login {target!r}: {response.status_code} {location!r}")
        elif target.startswith("/needs") and location != target:
            failures.append(f"login {target!r}: {location!r}")
    assert failures == [], "\n".join(failures)


def test_an_api_token_is_read_whatever_the_schemes_case(shared_world: Walk) -> None:
    """Every API GET route with the secretariat's token sent as ``bearer``, ``BEARER``, with a
    tab or two spaces after the scheme: read as the token (an authentication scheme's name is
    case-insensitive, RFC 9110; "bearer <token>" was refused with "send 'Authorization: Bearer
    <token>'"). Another scheme, or no token, is still a 401."""
    token = shared_world.tokens["secretariat"]
    failures = []
    for _method, path in _routes_of(shared_world.app, shared_world.values, {"GET"}):
        if not path.startswith("/api/") or path.endswith("openapi.json"):
            continue
        for header in (
            f"bearer {token}",
            f"BEARER {token}",
            f"Bearer\t{token}",
            f"Bearer  {token}",
        ):
            status = (
                shared_world.app.test_client()
                .get(path, headers={"Authorization": header})
                .status_code
            )
            if status == 401:
                failures.append(f"{path} {header[:8]!r}: 401")
    for header in (f"Basic {token}", "Bearer ", token, f"Token {token}"):
        status = (
            shared_world.app.test_client()
            .get("/api/v1/needs", headers={"Authorization": header})
            .status_code
        )
        if status != 401:
            failures.append(f"/api/v1/needs {header[:8]!r}: {status}, not 401")
    assert failures == [], "\n".join(failures)


@pytest.mark.one_case_on_postgresql(lang="es")
@pytest.mark.parametrize("lang", ["es", "fr"])
def test_a_nul_sent_to_a_pages_script_is_refused_in_its_json(shared_world: Walk, lang: str) -> None:
    """Every view that answers a page's script in JSON (``errors.answers_json``), asked for that
    JSON with a NUL in its query, as the secretariat: 400 as the script reads it, ``error`` and
    ``message`` in the reader's language (it was the HTML error page, which the script cannot
    show)."""
    app = shared_world.app
    with app.test_request_context(headers={"Accept-Language": lang}):
        expected = gettext("Text may not contain NUL characters; remove them and send again.")
    failures, sent = [], 0
    for rule in app.url_map.iter_rules():
        if not hasattr(app.view_functions[rule.endpoint], "_answers_json"):
            continue
        with app.test_request_context():
            path = url_for(rule.endpoint, **{a: shared_world.values[a] for a in rule.arguments})
        query = {"x": "a\x00b", "format": "json"}  # format: the network's data is JSON on demand
        response = _call(
            shared_world,
            "secretariat",
            "GET",
            path,
            query_string=query,
            headers={"Accept-Language": lang},
        )
        sent += 1
        body = response.get_json(silent=True) or {}
        if response.status_code != 400 or body.get("message") != expected or not body.get("error"):
            failures.append(f"{path}: {response.status_code} {response.data[:80]!r}")
    assert failures == [], "\n".join(failures)
    assert sent >= 4


@pytest.mark.same_on_every_database
def test_every_page_view_that_answers_json_is_marked_so(shared_world: Walk) -> None:
    """A page's view that answers JSON to its script (a good request answered
    application/json, outside the API) is marked ``errors.answers_json``, so that its refusals
    reach the script as JSON too: the walk above only asks the marked ones, and the theme
    picker's ``/themes/suggest`` was not marked (its refusals were the HTML page)."""
    app = shared_world.app
    unmarked, seen = [], 0
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(("/api/", "/static/")) or "GET" not in (rule.methods or ()):
            continue
        if rule.rule == "/healthz":
            continue  # a monitor's, not a page's script: its own answer (status, message)
        with app.test_request_context():
            path = url_for(rule.endpoint, **{a: shared_world.values[a] for a in rule.arguments})
        response = _call(shared_world, "secretariat", "GET", path, query_string={"q": "trabajo"})
        if response.mimetype != "application/json":
            continue
        seen += 1
        if not hasattr(app.view_functions[rule.endpoint], "_answers_json"):
            unmarked.append(rule.rule)
    assert unmarked == [], unmarked
    assert seen >= 4


def test_a_pages_script_is_told_the_database_is_not_ready_in_json(tmp_path: Path) -> None:
    """Every view that answers a page's script in JSON, on a database not set up: 503 as the
    script reads it (``error`` ``database_not_ready``, the cause in the reader's language), as
    the API is told; it was the HTML page, which a run's progress bar cannot show."""
    app = make_test_app(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path)
    failures, sent = [], 0
    for rule in app.url_map.iter_rules():
        if not hasattr(app.view_functions[rule.endpoint], "_answers_json"):
            continue
        with app.test_request_context():
            path = url_for(rule.endpoint, **dict.fromkeys(rule.arguments, 1))
        response = app.test_client().get(
            path, query_string={"format": "json"}, headers={"Accept-Language": "es"}
        )
        sent += 1
        body = response.get_json(silent=True) or {}
        if response.status_code != 503 or body.get("error") != "database_not_ready":
            failures.append(f"{path}: {response.status_code} {response.data[:80]!r}")
        elif (
            "sscmatch init-db" not in body.get("message", "")
            or "base de datos" not in body["message"]
        ):
            failures.append(f"{path}: {body}")
    assert failures == [], "\n".join(failures)
    assert sent >= 4


def test_head_answers_as_get_on_every_page_that_also_takes_its_form(shared_world: Walk) -> None:
    """Every route that shows a page and takes its form's POST (``/admin/import``, a record's
    edit page, a user's page…), asked with HEAD by every role: the same status and headers as
    GET, no body, nothing written. Those views branch on ``request.method == "GET"``, so HEAD
    ran the form's branch: ``HEAD /admin/import`` answered 400 "the form expired"."""
    app = shared_world.app
    both = {
        path
        for method, path in _routes_of(app, shared_world.values, {"GET", "POST"})
        if method == "POST"
    } & {path for method, path in _routes_of(app, shared_world.values, {"GET"})}
    headers = ("Content-Type", "Location", "Cache-Control", "Content-Disposition")
    failures = []
    for path in sorted(both):
        for who in ("anonymous", "focal_gtm", "secretariat", "admin"):
            get = _call(shared_world, who, "GET", path)
            head = _call(shared_world, who, "HEAD", path)
            if head.status_code != get.status_code or head.data:
                failures.append(f"{who} {path}: GET {get.status_code}, HEAD {head.status_code}")
            elif differ := [h for h in headers if get.headers.get(h) != head.headers.get(h)]:
                failures.append(f"{who} {path}: {differ}")
    assert failures == [], "\n".join(failures)
    assert len(both) >= 8


def test_an_answer_that_may_be_cached_varies_with_the_browsers_language(
    shared_world: Walk,
) -> None:
    """Every GET route and an unknown address, asked anonymously in Spanish and in French: each
    answer that a cache may keep (not ``no-store``) and whose words may follow the browser's
    language says ``Vary: Accept-Language`` (it said ``Vary: Cookie`` alone: a proxy could give
    the home page, or a 404, in the first visitor's language to the next). Static files do not
    depend on it and keep their cache."""
    app = shared_world.app
    paths = sorted({p for _m, p in _routes_of(app, shared_world.values, {"GET"})} | {"/nowhere"})
    failures = []
    for path in paths:
        for lang in ("es", "fr"):
            response = app.test_client().get(path, headers={"Accept-Language": lang})
            if response.headers.get("Cache-Control") == "no-store":
                continue
            if "accept-language" not in {v.lower() for v in response.vary}:
                failures.append(f"{path} ({lang}): {response.status_code} Vary {response.vary}")
    with app.test_client().get("/static/css/app.css") as static:
        assert static.status_code == 200
        assert "accept-language" not in {v.lower() for v in static.vary}
    assert failures == [], "\n".join(failures)


def _chunked(body: bytes) -> dict[str, Any]:
    """A request's environment as gunicorn hands over a chunked body: no length, ended."""
    return {"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True}


def test_a_body_of_no_stated_length_over_the_limit_is_a_413_on_every_route(
    shared_world: Walk,
) -> None:
    """Every route that takes a body, as the focal point and the secretariat, sent a chunked
    body (no Content-Length, as gunicorn hands it over) longer than ``MAX_CONTENT_LENGTH``
    (lowered here), as JSON and as a form: 413 saying the limit, in Spanish. Werkzeug read the
    first MAX_CONTENT_LENGTH bytes as the whole body: the API answered "expected a JSON
    object". A body of no stated length under the limit is read whole, as before."""
    app = shared_world.app
    app.config["MAX_CONTENT_LENGTH"] = 2000
    with app.test_request_context(headers={"Accept-Language": "es"}):
        expected = gettext(
            "What you sent is larger than the limit of %(mb)s MiB; send a smaller file (or "
            "split the bundle).",
            mb=app.config["MAX_UPLOAD_MB"],
        )
    bodies = {
        "application/json": b'{"title": "' + b"a" * 3000 + b'"}',
        "application/x-www-form-urlencoded": b"title=" + b"a" * 3000,
    }
    failures, sent = [], 0
    for method, path in _routes_of(app, shared_world.values, {"POST", "PUT", "PATCH"}):
        for who in ("focal_gtm", "secretariat"):
            for content_type, body in bodies.items():
                response = _sent_body(shared_world, who, method, path, content_type, _chunked(body))
                sent += 1
                if problem := _refused(response, path, 413, expected):
                    failures.append(f"{who} {method} {path} {content_type}: {problem}")
    small = _call(
        shared_world,
        "secretariat",
        "POST",
        "/api/v1/needs",
        content_type="application/json",
        environ_overrides=_chunked(b'{"title": ""}'),
    )
    assert small.status_code == 422, small.data  # read whole: the title's problem, not the size
    assert failures == [], f"{len(failures)} of {sent}:\n" + "\n".join(failures[:30])
    assert sent > 200
