"""Every API list filters as its page does, as a class.

The API lists come from openapi.json (every GET without a path parameter); each is paired with
the list page it mirrors in :data:`PAGE_OF`, or declared in :data:`NO_PAGE` with its reason (a
new API list fails here until it is one or the other). For each pair, read by the first role
that reads the page (:func:`tests.web.test_every_list_page._reader`) and by an API token of
the same user, on the records of ``test_every_list_page._seed``:

- every argument of the page's filter form is documented on the API list;
- every value the form offers (``_choices``: a select's options, a checkbox, a text field's
  example) gives on the API exactly the rows it gives on the page (the ids of the page's JSON
  export, which holds exactly the filtered rows), and some value narrows each list;
- a bad value of each filter is a 400 in the one error shape, said in the requester's language
  (their account's: Spanish here), never a 5xx.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlmodel import Session

from sscmatch.models import User
from tests.web.test_bad_filters import _token
from tests.web.test_every_list_page import (
    PAGE,
    _choices,
    _export_links,
    _lists,
    _reader,
    _rows,
    _seed,
)

PAGE_OF = {
    "/calibrations": "matching.calibrations",
    "/capacities": "registry.capacities",
    "/commitments": "followup.commitments",
    "/exchanges": "registry.exchanges",
    "/needs": "registry.needs",
    "/notices": "main.notices_page",
    "/proposals": "review.queue",
    "/tours": "tours.index",
    "/vetoes": "review.vetoes",
}
NO_PAGE = {
    "/calibrations/latest": "one calibration, not a list",
    "/institutions": "no list page: institutions are named in the records' forms",
    "/network": "the network as files; its page draws it (network.index is no list)",
    "/openapi.json": "the API's description",
    "/worklist": "the home page's few lists of what needs the caller now: no filters",
}
# A bad value of each filter argument the pages have (the API answers 400 for each).
BAD = {
    "status": "bogus",
    "by": "nobody",
    "entity": "bogus",
    "origin": "elsewhere",
    "when": "someday",
    "unread": "maybe",
    "country": "ZZZ",
    "region": "Atlantis",
    "theme": "no-such-theme",
    "language": "no-such-language",
    "year": "abc",
    "sort": "sideways",
    "min_score": "high",
    "max_score": "high",
}
FREE = {"q"}  # any text is a search


def _bearer(app: Flask, user_id: int) -> dict[str, str]:
    return {"Authorization": f"Bearer {_token(app, user_id)}"}


def _speaks(app: Flask, user_id: int, lang: str) -> None:
    """The account's language, the one its API answers are said in."""
    with Session(app.extensions["sscmatch.engine"]) as s:
        user = s.get(User, user_id)
        assert user is not None
        user.language = lang
        s.add(user)
        s.commit()


def _api_ids(client: Any, path: str, query: dict[str, str], headers: dict[str, str]) -> set[str]:
    """The ids of every row an API list gives for ``query``, page after page."""
    ids: set[str] = set()
    number = 1
    while True:
        response = client.get(
            f"/api/v1{path}", query_string={**query, "page": number}, headers=headers
        )
        assert response.status_code == 200, f"{path}?{query}: {response.get_json()}"
        body = response.get_json()
        ids |= {str(item["id"]) for item in body["items"]}
        if "pages" not in body or number >= body["pages"] or not body["items"]:
            return ids
        number += 1


def _api_lists(app: Flask) -> dict[str, dict[str, Any]]:
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    return {
        path: item["get"]
        for path, item in spec["paths"].items()
        if "get" in item and "{" not in path
    }


def test_every_api_list_is_paired_with_its_page_or_declared(app: Flask) -> None:
    lists = set(_api_lists(app))
    assert not lists - set(PAGE_OF) - set(NO_PAGE), "pair in PAGE_OF or declare in NO_PAGE"
    assert not (set(PAGE_OF) | set(NO_PAGE)) - lists, "PAGE_OF or NO_PAGE names a list gone"


def test_every_api_list_filters_as_its_page(app: Flask, users: dict[str, int]) -> None:
    world = _seed(app, users)
    app.config["PAGE_SIZE"] = PAGE
    pages = dict(_lists(app, world))
    documented = _api_lists(app)
    api = app.test_client()
    wrong: list[str] = []
    compared = 0
    for path, endpoint in sorted(PAGE_OF.items()):
        params = {p["name"] for p in documented[path].get("parameters", []) if p["in"] == "query"}
        who, client = _reader(app, pages[endpoint])
        headers = _bearer(app, users[who])
        html = client.get(pages[endpoint]).get_data(as_text=True)
        choices = _choices(html)
        names = {name for name, _value in choices}
        assert names, f"{endpoint}: no filter form"
        missing = names - params
        if missing:
            wrong.append(f"{path}: the page {endpoint} filters by {sorted(missing)}, the API not")
            continue
        everything = _api_ids(api, path, {}, headers)
        narrowed = False
        for name, value in choices:
            shown = client.get(pages[endpoint], query_string={name: value})
            assert shown.status_code == 200, f"{endpoint}?{name}={value}"
            link = _export_links(shown.get_data(as_text=True))["json"]
            on_page = {str(r["id"]) for r in _rows(client, link)}
            on_api = _api_ids(api, path, {name: value}, headers)
            compared += 1
            if on_page != on_api:
                wrong.append(
                    f"{path}?{name}={value} ({who}): page {sorted(on_page)[:8]}, "
                    f"API {sorted(on_api)[:8]}"
                )
            narrowed = narrowed or 0 < len(on_api) < len(everything)
        if not narrowed:
            wrong.append(f"{path} ({who}): no filter of the page narrowed {len(everything)} rows")
        print(f"{path} ~ {endpoint} as {who}: {sorted(names)}")
    print(f"{compared} filter values compared")
    assert not wrong, "\n".join(wrong)
    assert compared >= 40, compared


def test_a_bad_page_filter_on_the_api_is_a_400_in_the_requesters_language(
    app: Flask, users: dict[str, int]
) -> None:
    """Each filter argument of each paired page, sent to the API with a bad value: 400 in the
    one error shape; for an account in Spanish the message differs from the English one and
    still names the value (the shared filter's message of the catalogue, in Spanish)."""
    world = _seed(app, users)
    pages = dict(_lists(app, world))
    api = app.test_client()
    wrong: list[str] = []
    said: set[str] = set()
    for path, endpoint in sorted(PAGE_OF.items()):
        who, client = _reader(app, pages[endpoint])
        headers = _bearer(app, users[who])
        html = client.get(pages[endpoint]).get_data(as_text=True)
        for name in sorted({name for name, _value in _choices(html)} - FREE):
            value = BAD[name]
            answers = {}
            for lang in ("en", "es"):
                _speaks(app, users[who], lang)
                response = api.get(f"/api/v1{path}", query_string={name: value}, headers=headers)
                body = response.get_json(silent=True) or {}
                if response.status_code != 400 or not body.get("error") or not body.get("message"):
                    wrong.append(
                        f"{lang} {path}?{name}={value}: {response.status_code} {str(body)[:200]}"
                    )
                answers[lang] = str(body.get("message"))
            if answers["en"] == answers["es"]:
                wrong.append(f"{path}?{name}={value}: not said in Spanish: {answers['es']!r}")
            elif value not in answers["es"]:
                wrong.append(f"{path}?{name}={value}: the message does not name the value")
            said.add(f"{path}?{name}")
    assert not wrong, "\n".join(wrong)
    assert {"/calibrations?status", "/calibrations?by", "/notices?entity"} <= said
    assert {"/commitments?origin", "/commitments?when"} <= said


def test_a_negative_page_is_told_its_range_not_that_it_is_no_number(
    app: Any, users: Any
) -> None:
    """``page=-1`` answered "page must be a whole number": it is one, below the range."""
    from tests.web.test_api_registry import issue_tokens

    token = issue_tokens(app, users)["secretariat"]
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    below = client.get("/api/v1/needs?page=-1", headers=headers).get_json()
    assert below["error"] == "bad_parameter" and "between 1 and" in below["message"]
    word = client.get("/api/v1/needs?page=abc", headers=headers).get_json()
    assert "must be a whole number" in word["message"]
