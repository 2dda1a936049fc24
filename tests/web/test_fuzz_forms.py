"""Property tests: hostile input at the main forms, the API's writes and the lists.

Hypothesis throws malformed, oversized, wrong-typed and hostile values (very long strings, NUL
bytes, unusual unicode, HTML and script, SQL-ish text, bad dates, negative and huge numbers,
unknown fields), and the kinds an outside test found (issue 13, class 6): digits of other
scripts in dates, times and numbers, real ids and codes with whitespace around them, huge whole
numbers, values nested inside values, bodies nested up to 200,000 deep, odd page numbers and
filters. Targets: need and capacity create/edit, a proposal decision with its reason, the tour
edit form, a commitment update, the admin's new-user form, the sign-in form; POST, PATCH of
needs, capacities, exchanges, tours and commitments in the API; and the query strings of every
list, pages and API. Properties: never a 5xx; a rejected request (4xx) writes nothing (a digest
of every table is unchanged); an API refusal says why.
"""

from __future__ import annotations

import os
import re
import traceback
from typing import Any

import pytest
from flask import Flask, got_request_exception
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.conftest import sign_in
from tests.web.test_fuzz_api import SEED, build_world, seeded, table_digest

EXAMPLES = int(os.environ.get("FUZZ_FORM_EXAMPLES", "40"))

HOSTILE = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "abc\x00def",
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "'; DROP TABLE need; --",
        "1 OR 1=1",
        "%s%s%n",
        "../../etc/passwd",
        "ñandú 漢字 🙂 \u202e\u200b",
        "\ud7ff\ue000\uffff",
        "2024-02-30",
        "2024-13-01",
        "31/12/2024",
        "9999999999-01-01",
        "-1",
        "-2147483649",
        "99999999999999999999999",
        "1e309",
        "NaN",
        "null",
        "true",
        "[]",
        "{}",
        "09:00-08:00",
        "x" * 5000,
        "é" * 70000,
    ]
)
# Digits of other scripts: str.isdigit() and int() take many of them, a database or a parser
# further on does not.
OTHER_DIGITS = st.sampled_from(
    [
        "٢٠٢٦-٠٣-٠١",  # Arabic-Indic
        "۲۰۲۶",  # extended Arabic-Indic
        "２０２６-０３-０１",  # full width
        "2026-0³-01",
        "²⁰²⁶",
        "०९:००",  # Devanagari
        "0⁹:00",
        "09:0０",
        "١",
        "²",
        "𝟙𝟚",  # mathematical digits
    ]
)
# Huge whole numbers, as text (page numbers, versions, ids, quotas, days).
HUGE = st.one_of(
    st.sampled_from(["1" + "0" * 17, "9" * 30, str(2**31), str(2**63), "-" + "9" * 20, "0" * 50]),
    st.integers(min_value=2**31 - 2, max_value=10**40).map(str),
)
# Real values with whitespace around them: ids, codes and dates the records hold.
REAL = ["N-GTM-1", "C-GTM-1", "K-GTM-1", "GTM", "BRA", "es", "labour-inspection", "2026-03-02"]
SPACES = [" ", "\t", "\n", "\r\n", "\u00a0", "\u2003", "\u200b", "\ufeff", "\x0b", "\x0c"]
WHITESPACE = st.builds(
    lambda before, value, after: before + value + after,
    st.sampled_from(["", *SPACES]),
    st.sampled_from(REAL),
    st.sampled_from(["", *SPACES]),
)
TEXT = st.one_of(
    HOSTILE,
    OTHER_DIGITS,
    HUGE,
    WHITESPACE,
    st.text(max_size=40),
    st.text(min_size=300, max_size=2000),
)
# Nesting: arrays and objects inside values the API expects flat, a few to dozens of levels.
NESTED = st.recursive(
    st.one_of(TEXT, st.integers(), st.none()),
    lambda inner: st.one_of(st.lists(inner, max_size=2), st.dictionaries(TEXT, inner, max_size=2)),
    max_leaves=40,
)


def _nest(depth: int) -> Any:
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value


DEEP = st.integers(min_value=2, max_value=60).map(_nest)
JSON_VALUE = st.one_of(
    TEXT,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
    st.lists(TEXT, max_size=4),
    st.dictionaries(TEXT, TEXT, max_size=2),
    NESTED,
    DEEP,
)
# Whole bodies nested far deeper than any parser should follow (sent as raw bytes: building
# them as Python lists would hit the test's own recursion limit).
RAW_DEEP = st.integers(min_value=30, max_value=200_000).map(
    lambda n: b"[" * n + b"]" * n if n % 2 else b'{"a":' * n + b"1" + b"}" * n
)
# Query strings of lists: page numbers and filters, odd ones included.
QUERY = st.fixed_dictionaries(
    {},
    optional={
        "page": st.one_of(HUGE, OTHER_DIGITS, WHITESPACE, st.sampled_from(["0", "-1", "1", "2"])),
        "per_page": st.one_of(HUGE, OTHER_DIGITS, st.sampled_from(["0", "1", "200", "201"])),
        "q": TEXT,
        "status": st.one_of(TEXT, st.sampled_from(["draft", "open", "all", "proposed"])),
        "country": st.one_of(WHITESPACE, TEXT),
        "year": st.one_of(OTHER_DIGITS, HUGE, st.sampled_from(["2019", " 2019 "])),
        "year_from": st.one_of(OTHER_DIGITS, HUGE),
        "run": st.one_of(OTHER_DIGITS, HUGE),
        "min_score": st.one_of(HUGE, TEXT),
        "top": st.one_of(OTHER_DIGITS, HUGE),
    },
)


def _form(fields: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Some of the form's fields (any of them may be missing) plus maybe unknown ones."""
    known = st.fixed_dictionaries({}, optional={name: TEXT for name in fields})
    extra = st.dictionaries(
        st.sampled_from(["admin", "role", "id", "__proto__", "csrf_token"]), TEXT, max_size=2
    )
    return st.builds(lambda a, b: {**b, **a}, known, extra)


def _json(fields: list[str]) -> st.SearchStrategy[Any]:
    body = st.builds(
        lambda a, b: {**b, **a},
        st.fixed_dictionaries({}, optional={name: JSON_VALUE for name in fields}),
        st.dictionaries(
            st.sampled_from(["unknown", "version", "id", "status"]), JSON_VALUE, max_size=2
        ),
    )
    return st.one_of(body, JSON_VALUE)  # sometimes not even an object


RECORD = [
    "country",
    "title",
    "description",
    "themes",
    "institution",
    "languages",
    "modalities",
    "version",
    "status",
]
NEED = [*RECORD, "priority", "desired_from", "desired_to"]
CAPACITY = [*RECORD, "maturity", "available_from", "available_to", "max_per_year"]
TOUR = [
    "version",
    "title",
    "modality",
    "objective",
    "expected_change",
    "start",
    "end",
    "languages",
    "interpretation",
    "delegation",
    "agenda",
    "funders",
    "recalculate_cost",
]
# The tour editor's form: its rows are fields of their own (delegation-0-name, agenda-0-day…).
TOUR_FORM = [
    *(f for f in TOUR if f not in ("delegation", "agenda")),
    "delegation-0-side",
    "delegation-0-name",
    "delegation-0-role",
    "delegation-0-institution",
    "delegation-0-constituency",
    "agenda-0-day",
    "agenda-0-start",
    "agenda-0-end",
    "agenda-0-kind",
    "agenda-0-title",
    "agenda-0-place",
]
USER = ["email", "name", "role", "country", "constituency", "language", "password", "confirm"]
EXCHANGE = [
    "id",
    "title",
    "providers",
    "recipients",
    "start",
    "end",
    "themes",
    "modality",
    "languages",
    "participants",
    "partners",
    "status",
]


def _targets(world: dict[str, Any]) -> list[tuple[str, str, str, st.SearchStrategy[Any]]]:
    """(who, method, path, body strategy); a path ending in ``.json`` means a JSON body."""
    tour, proposal = world["tour_id"], world["proposal_id"]
    return [
        ("focal_gtm", "POST", "/needs/new", _form(NEED)),
        ("secretariat", "POST", "/needs/N-GTM-1/edit", _form(NEED)),
        ("focal_gtm", "POST", "/capacities/new", _form(CAPACITY)),
        ("focal_gtm", "POST", "/capacities/C-GTM-1/edit", _form(CAPACITY)),
        (
            "secretariat",
            "POST",
            f"/proposals/{proposal}/decision",
            _form(["decision", "reason", "alternate", "version"]),
        ),
        ("secretariat", "POST", f"/tours/{tour}/edit", _form(TOUR_FORM)),
        (
            "focal_gtm",
            "POST",
            "/followup/commitments/K-GTM-1",
            _form(["version", "status", "evidence", "due", "note"]),
        ),
        ("admin", "POST", "/admin/users/new", _form(USER)),
        ("secretariat", "POST", "json:/api/v1/needs", _json(NEED)),
        ("focal_gtm", "POST", "json:/api/v1/capacities", _json(CAPACITY)),
        ("secretariat", "POST", "json:/api/v1/exchanges", _json(EXCHANGE)),
        ("secretariat", "POST", "json:/api/v1/tours", _json(["proposal_id", "need", "capacity"])),
        (
            "secretariat",
            "POST",
            f"json:/api/v1/tours/{tour}/commitments",
            _json(
                ["owner_country", "description", "owner_institution", "due", "status", "evidence"]
            ),
        ),
        ("secretariat", "PATCH", "json:/api/v1/needs/N-GTM-1", _json(NEED)),
        ("secretariat", "PATCH", "json:/api/v1/needs/N-GTM-1%20", _json(NEED)),
        ("secretariat", "PATCH", f"json:/api/v1/tours/{tour}", _json(TOUR)),
        (
            "focal_gtm",
            "POST",
            "json:/api/v1/commitments/K-GTM-1/updates",
            _json(["version", "status", "evidence", "due", "note"]),
        ),
        # whole bodies nested far too deep, to the API and to a form
        ("secretariat", "POST", "raw:/api/v1/needs", RAW_DEEP),
        ("secretariat", "PATCH", f"raw:/api/v1/tours/{tour}", RAW_DEEP),
        ("focal_gtm", "POST", "raw:/needs/new", RAW_DEEP),
        ("focal_gtm", "POST", "raw:/login", RAW_DEEP),
        # lists with odd page numbers and filters
        *(
            ("secretariat", "GET", f"query:{path}", QUERY)
            for path in (
                "/needs",
                "/capacities",
                "/exchanges",
                "/tours",
                "/review/queue",
                "/matching/runs",
                "/network/exchanges",
                "/network/charts",
                "/countries",
                "/followup",
                "/api/v1/needs",
                "/api/v1/capacities",
                "/api/v1/exchanges",
                "/api/v1/institutions",
                "/api/v1/proposals",
                "/api/v1/tours",
                "/api/v1/commitments",
                "/api/v1/network",
            )
        ),
        ("focal_gtm", "GET", "query:/review/mine", QUERY),
        ("admin", "GET", "query:/admin/users", QUERY),
        ("admin", "GET", "query:/admin/audit", QUERY),
    ]


MAX_FAILURES = 20  # reported in full; past them the run stops trying


def _shown(value: Any, limit: int = 300) -> str:
    """A value as a failure report shows it: its repr, cut to ``limit`` characters with the
    length it had (a hostile body is up to 400,000 characters)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


def _answer(response: Any) -> str:
    """The response as a failure report shows it: status, type and the start of its body (a
    page's main text without its markup)."""
    if response is None:
        return "none (the request itself raised)"
    body = response.get_data(as_text=True)
    if response.mimetype == "text/html":
        body = body[max(body.find("<main"), 0) :]
        body = " ".join(re.sub(r"<[^>]*>", " ", body).split())
    return f"{response.status} {response.mimetype}: {_shown(body, 500)}"


def test_hostile_input_never_breaks_a_form_or_writes_when_refused(
    app: Flask, users: dict[str, int]
) -> None:
    """Every failure is reported by this test with its example and the response, not by
    Hypothesis: an exception in an example is caught and recorded like a broken property, so
    Hypothesis never replays it to print its draws (a draw's printout holding one of the long
    hostile values made Hypothesis warn of an overly large repr, and ``filterwarnings = error``
    turned that warning into the error reported in place of the real one). The target is drawn
    by its name, so even a printout of Hypothesis's own is short."""
    world = build_world(app, users)
    engine = app.extensions["sscmatch.engine"]
    app.config["PROPAGATE_EXCEPTIONS"] = False
    crashes: list[str] = []
    got_request_exception.connect(
        lambda _s, exception, **_k: crashes.append(f"{type(exception).__name__}: {exception}"),
        app,
        weak=False,
    )
    clients = {
        who: sign_in(app.test_client(), who) for who in ("focal_gtm", "secretariat", "admin")
    }
    tokens = world["tokens"]
    targets = {f"{t[1]} {t[2]} as {t[0]}": t for t in _targets(world)}
    failures: dict[str, int] = {}  # a report and how many examples gave it
    seen: dict[int, int] = {}
    state = {"digest": table_digest(engine)}

    def send(who: str, method: str, path: str, body: Any) -> Any:
        kind, _, address = path.partition(":") if ":" in path else ("form", "", path)
        api = address.startswith("/api/")
        headers = {"Authorization": f"Bearer {tokens[who]}"} if api else {}
        client = app.test_client() if api else clients[who]
        if kind == "json":
            return client.open(address, method=method, json=body, headers=headers)
        if kind == "raw":
            return client.open(
                address, method=method, data=body, headers=headers, content_type="application/json"
            )
        if kind == "query":
            return client.open(address, method=method, query_string=body, headers=headers)
        return client.open(address, method=method, data=body)

    def problems(path: str, response: Any) -> list[str]:
        """What is wrong with one answer (the properties of the module's docstring)."""
        found = []
        status = response.status_code
        seen[status] = seen.get(status, 0) + 1
        if status >= 500:
            found.append(f"a server error: {crashes.pop() if crashes else 'no exception seen'}")
        after = table_digest(engine)
        if 400 <= status < 500:
            if after != state["digest"]:
                found.append("refused, yet the database changed")
            if "/api/" in path:
                answer = response.get_json(silent=True) or {}
                if not answer.get("error") or not str(answer.get("message", "")).strip():
                    found.append("an API error without a message")
        state["digest"] = after
        return found

    @settings(
        max_examples=EXAMPLES * len(targets) // 4,
        deadline=None,
        database=None,
        derandomize=SEED is None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def run(data: Any) -> None:
        if len(failures) >= MAX_FAILURES:
            return
        name = data.draw(st.sampled_from(sorted(targets)), label="target")
        who, method, path, strategy = targets[name]
        body = data.draw(strategy, label="body")
        response = None
        try:
            response = send(who, method, path, body)
            found = problems(path, response)
        except Exception:  # the test's own failure, reported below with its example
            found = [traceback.format_exc(limit=-6).rstrip()]
            state["digest"] = table_digest(engine)
        for problem in found:
            report = f"{name} with {_shown(body)}\n    answer: {_answer(response)}\n    {problem}"
            failures[report] = failures.get(report, 0) + 1

    seeded(run)()
    print(f"form fuzz: {sum(seen.values())} requests, statuses {dict(sorted(seen.items()))}")
    if failures:
        reports = [f"{r}{f' ({n} times)' if n > 1 else ''}" for r, n in failures.items()]
        pytest.fail(
            f"{len(failures)} failing example(s) (FUZZ_SEED={SEED}):\n" + "\n".join(reports),
            pytrace=False,
        )
    assert sum(n for code, n in seen.items() if 400 <= code < 500) > 20
