"""Malformed input of the kinds an outside test found (issue 13, class 6), walked over every route
that could meet it: never a 5xx, a 4xx with a message where the API answers, nothing written.

- JSON nested 100,000 deep, sent to every route and method, anonymously and as the secretariat
  (it was a RecursionError: a 500 before sign-in);
- page numbers of 10**17, superscript and Arabic-Indic digits, on every GET route;
- dates and times written with other scripts' digits, in every date and time field of the API;
- an existing id with spaces around it, when creating and when reading.
"""

from __future__ import annotations

import sys
from typing import Any
from urllib.parse import parse_qsl

import pytest
from flask import Flask, Request, url_for
from sqlmodel import Session, select
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.utils import cached_property

from sscmatch.models import Need, StudyTour
from sscmatch.web import _refuse_nul
from tests.conftest import sign_in
from tests.web.test_authorization import _world
from tests.web.test_fuzz_api import table_digest
from tests.web.world import Walk, world_fixture

DEEP = b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
ODD_NUMBERS = ("10" * 9, "1" + "0" * 17, "²", "٣", "１", " 1 ", "1\u00a0", "-1", "0", "1e3")
ODD_DATES = ("٢٠٢٦-٠٣-٠٢", "２０２６-03-02", "2026-0³-02", "²⁰²⁶", "2026-03-0\u2082")
ODD_TIMES = ("٠٩:٠٠", "0⁹:00", "09:0０", "9:00", "09:60", "24:00", "09 00")
# The walks that only read share one world; the others write (POST /logout with a token signs
# the secretariat out) and build their own.
shared_world = world_fixture()


def _routes(app: Flask, values: dict[str, Any]) -> list[tuple[str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        with app.test_request_context():
            path = url_for(rule.endpoint, **{arg: values[arg] for arg in rule.arguments})
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((method, path))
    return found


def test_deeply_nested_json_is_a_400_on_every_route(app: Flask, users: dict[str, int]) -> None:
    world = _world(app, users)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    token = world["tokens"]["secretariat"]
    failures = []
    for method, path in _routes(app, world["values"]):
        if method == "GET":
            continue
        for headers in ({}, {"Authorization": f"Bearer {token}"}):
            response = app.test_client().open(
                path, method=method, data=DEEP, headers=headers, content_type="application/json"
            )
            if response.status_code >= 500:
                failures.append(f"{method} {path} {sorted(headers)}: {response.status_code}")
            elif (
                headers
                and path.startswith("/api/")
                and response.status_code
                not in (
                    400,
                    403,
                    404,
                    405,
                    409,
                    415,
                    422,
                )
            ):
                failures.append(f"{method} {path}: {response.status_code}, expected a 4xx")
    assert failures == [], "\n".join(failures)
    # and the API says why
    response = app.test_client().post(
        "/api/v1/needs",
        data=DEEP,
        headers={"Authorization": f"Bearer {token}"},
        content_type="application/json",
    )
    assert response.status_code == 400 and response.get_json()["message"]


# JSON bodies that are not an object of fields (Flask-WTF read a JSON body as a form's fields and
# failed on these with a 500: ``[[…]]`` at the sign-in form, found by scripts/fuzz), and objects
# whose fields are not text.
ODD_JSON = (
    b"[[[[[[]]]]]]",
    b"[[1]]",
    b'[["a", "b", "c"]]',
    b"[1, 2]",
    b"5",
    b'"text"',
    b"null",
    b"true",
    b'{"email": {"a": 1}, "password": [[1]], "csrf_token": null}',
)


def test_a_json_body_that_is_not_a_form_never_breaks_a_page(
    app: Flask, users: dict[str, int]
) -> None:
    """Every route that takes a body, with each of ODD_JSON, anonymously and signed in as the
    secretariat (pages) or with its token (API): a 4xx or the page's own answer, never a 5xx."""
    world = _world(app, users)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    token = world["tokens"]["secretariat"]
    failures, sent = [], 0
    for method, path in _routes(app, world["values"]):
        if method == "GET" or path.endswith("/logout"):  # signing out would end the walk
            continue
        for who in ("anonymous", "secretariat"):
            client = app.test_client()
            headers = {}
            if who != "anonymous":
                if path.startswith("/api/"):
                    headers = {"Authorization": f"Bearer {token}"}
                else:
                    sign_in(client, who)
            for body in ODD_JSON:
                response = client.open(
                    path, method=method, data=body, headers=headers, content_type="application/json"
                )
                sent += 1
                if response.status_code >= 500:
                    failures.append(f"{who} {method} {path} {body!r}: {response.status_code}")
    assert failures == [], "\n".join(failures)
    assert sent > 500  # the walk reached the routes


NUMBER_NAMES = ("page", "per_page", "run", "year_from", "top")
ALL = "*"  # every name was read at once (args iterated, to_dict…): each value may be parsed
RAW = "raw"  # the query string's text was read (a link back here, a cache key): echoed, not parsed
_READ: set[str] = set()  # what the current request read of its query string


class _ReadArgs(ImmutableMultiDict):  # type: ignore[type-arg]
    """``request.args`` noting in ``_READ`` each name read, and ``ALL`` when read as a whole
    (but by the app's NUL check, which answers the same for every value of ODD_NUMBERS)."""

    def _note(self, key: Any) -> None:
        _READ.add(key if isinstance(key, str) else ALL)

    def _note_all(self) -> None:
        if sys._getframe(2).f_code is not _refuse_nul.__code__:
            _READ.add(ALL)

    def __getitem__(self, key: Any) -> Any:
        self._note(key)
        return super().__getitem__(key)

    def get(self, key: Any, *args: Any, **kwargs: Any) -> Any:
        self._note(key)
        return super().get(key, *args, **kwargs)

    def getlist(self, key: Any, *args: Any, **kwargs: Any) -> Any:
        self._note(key)
        return super().getlist(key, *args, **kwargs)

    def __contains__(self, key: object) -> bool:
        self._note(key)
        return super().__contains__(key)


def _whole(name: str) -> Any:
    def read_whole(self: _ReadArgs, *args: Any, **kwargs: Any) -> Any:
        self._note_all()
        return getattr(ImmutableMultiDict, name)(self, *args, **kwargs)

    return read_whole


for _name in (
    "keys", "values", "items", "lists", "listvalues", "to_dict", "copy", "deepcopy",
    "__iter__", "__len__", "__bool__", "__eq__", "__ne__", "__repr__", "__reduce_ex__",
    "__copy__", "__deepcopy__", "__getstate__",
):  # fmt: skip
    if hasattr(ImmutableMultiDict, _name):
        setattr(_ReadArgs, _name, _whole(_name))


class _TrackedRequest(Request):
    """A request whose query string says what of it was read (``_READ``)."""

    @property  # type: ignore[override]
    def query_string(self) -> bytes:
        _READ.add(RAW)  # url, full_path and anything reading the raw text
        return self._query

    @query_string.setter
    def query_string(self, value: bytes) -> None:
        self._query = value

    @cached_property
    def args(self) -> Any:  # as werkzeug parses it (sansio.request.Request.args)
        query = self._query.decode()
        return _ReadArgs(parse_qsl(query, keep_blank_values=True, errors="werkzeug.url_quote"))


def test_odd_page_numbers_never_break_a_list(shared_world: Walk) -> None:
    """Every GET route with every number name and every odd number. A route that did not read
    a name (nor its whole query) with the first odd number is not asked the others: a value
    never read cannot change what the request does (``_READ`` says what each request read). A
    route that read only the query's text (every page does, for the language form's way back)
    is asked every odd number under one name: that text is handled alike whatever the name."""
    app = shared_world.app
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert app.request_class is Request
    app.request_class = _TrackedRequest
    assert not any("\0" in raw for raw in ODD_NUMBERS)  # the NUL check answers alike for all
    browser = shared_world.client("secretariat")
    token = shared_world.tokens["secretariat"]
    failures = []
    tried = skipped = 0
    read: set[tuple[str, str]] = set()
    raw_name: dict[str, str] = {}  # per route, the one name whose text tries every odd number
    for method, path in _routes(app, shared_world.values):
        if method != "GET" or path in ("/logout",):
            continue
        for name in NUMBER_NAMES:
            for raw in ODD_NUMBERS:
                _READ.clear()
                if path.startswith("/api/"):
                    response = app.test_client().get(
                        path, query_string={name: raw}, headers={"Authorization": f"Bearer {token}"}
                    )
                else:
                    response = browser.get(path, query_string={name: raw})
                tried += 1
                if response.status_code >= 500:
                    failures.append(f"GET {path}?{name}={raw!r}: {response.status_code}")
                if name in _READ or ALL in _READ:
                    read.add((path, name))
                elif RAW in _READ and raw_name.setdefault(path, name) == name:
                    pass
                elif raw == ODD_NUMBERS[0]:
                    skipped += len(ODD_NUMBERS) - 1
                    break
    print(f"{tried} requests, {skipped} not sent (their name unread), {len(read)} pairs read")
    # the tracker sees what a list reads (else every route would be asked one number alone)
    assert {("/needs", "page"), ("/api/v1/needs", "per_page"), ("/review/queue", "run")} <= read
    assert tried + skipped > 1000 and len(read) > 50
    assert failures == [], "\n".join(failures)


def _api(app: Flask, token: str) -> Any:
    client = app.test_client()

    def call(method: str, path: str, body: Any) -> Any:
        return client.open(
            path, method=method, json=body, headers={"Authorization": f"Bearer {token}"}
        )

    return call


def test_dates_and_times_in_other_digits_are_refused(app: Flask, users: dict[str, int]) -> None:
    world = _world(app, users)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    engine = app.extensions["sscmatch.engine"]
    with Session(engine) as s:
        tour = s.get(StudyTour, world["values"]["tour_id"])
        assert tour is not None
        tour.status = "scheduled"
        s.add(tour)
        s.commit()
        version = tour.version
    call = _api(app, world["tokens"]["secretariat"])
    tour_path = f"/api/v1/tours/{world['values']['tour_id']}"
    session = {"start": "09:00", "end": "10:00", "kind": "opening", "title": "Opening"}
    cases: list[tuple[str, str, Any]] = []
    for odd in ODD_DATES:
        base = {"country": "GTM", "title": "t", "themes": ["labour-inspection"]}
        cases += [
            ("POST", "/api/v1/needs", {**base, "desired_from": odd}),
            ("POST", "/api/v1/capacities", {**base, "available_to": odd}),
            (
                "POST",
                "/api/v1/exchanges",
                {
                    "start": odd,
                    "providers": ["BRA"],
                    "recipients": ["GTM"],
                    "themes": ["labour-inspection"],
                },
            ),
            ("PATCH", tour_path, {"version": version, "start": odd}),
            (
                "POST",
                f"{tour_path}/commitments",
                {"owner_country": "GTM", "description": "d", "due": odd},
            ),
            ("POST", "/api/v1/commitments/K-GTM-1/updates", {"version": 1, "due": odd}),
        ]
    for odd in ODD_TIMES:
        cases += [
            (
                "PATCH",
                tour_path,
                {
                    "version": version,
                    "agenda": [{"day": 1, "sessions": [{**session, "start": odd}]}],
                },
            ),
            (
                "PATCH",
                tour_path,
                {"version": version, "agenda": [{"day": 1, "sessions": [{**session, "end": odd}]}]},
            ),
        ]
    failures = []
    for method, path, body in cases:
        before = table_digest(engine)
        response = call(method, path, body)
        answer = response.get_json(silent=True) or {}
        if not 400 <= response.status_code < 500 or not answer.get("message"):
            failures.append(f"{method} {path} {body}: {response.status_code} {answer}")
        elif table_digest(engine) != before:
            failures.append(f"{method} {path} {body}: refused but a table changed")
    assert failures == [], "\n".join(failures)


@pytest.mark.parametrize("spaced", [" N-GTM-1", "N-GTM-1 ", "\tN-GTM-1\n"])
def test_an_existing_id_with_spaces_is_the_same_id(
    app: Flask, users: dict[str, int], spaced: str
) -> None:
    world = _world(app, users)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    call = _api(app, world["tokens"]["secretariat"])
    engine = app.extensions["sscmatch.engine"]
    before = table_digest(engine)
    created = call(
        "POST",
        "/api/v1/needs",
        {"id": spaced, "country": "GTM", "title": "t", "themes": ["labour-inspection"]},
    )
    assert created.status_code == 409 and "already exists" in created.get_json()["message"]
    assert table_digest(engine) == before
    read = call("GET", f"/api/v1/needs/{spaced.strip()} ", None)
    assert read.status_code == 200 and read.get_json()["id"] == "N-GTM-1"
    fresh = call(
        "POST",
        "/api/v1/needs",
        {
            "id": f" N-NEW-{len(spaced)} ",
            "country": "GTM",
            "title": "t",
            "themes": ["labour-inspection"],
        },
    )
    assert fresh.status_code == 201 and fresh.get_json()["id"] == f"N-NEW-{len(spaced)}"
    with Session(engine) as s:
        assert s.exec(select(Need.id).where(Need.id.startswith("N-NEW"))).all() == [  # type: ignore[attr-defined]
            f"N-NEW-{len(spaced)}"
        ]
