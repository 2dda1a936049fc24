"""An address that only takes a form's answer, opened again from the address bar, a bookmark or
a restored tab, leads to the page it belongs to (``/review/proposals/5/decision`` →
``/review/proposals/5``) instead of "405 · This address does not take that kind of request":
a refused form or a confirmation step leaves such an address in the address bar (the audit
found five). The class is every page route that takes no GET, from the app's URL map."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule

from tests.conftest import sign_in

SAMPLES = {"int": "1", "string": "x", "default": "x", "path": "x"}
ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?\w+>")


def _address(rule: Rule) -> str:
    """The rule's address with a sample value in each of its parts (``<int:run_id>`` → 1)."""
    return ARGUMENT.sub(lambda m: SAMPLES.get(m[1] or "default", "x"), rule.rule)


def _shows_a_page(adapter: Any, address: str) -> bool:
    try:
        adapter.match(address, method="GET")
    except HTTPException:
        return False
    return True


def _form_only_pages(app: Flask) -> list[Rule]:
    return sorted(
        (
            rule
            for rule in app.url_map.iter_rules()
            if "GET" not in (rule.methods or set())
            and not rule.rule.startswith("/api/")
            and rule.endpoint != "static"
        ),
        key=lambda rule: rule.rule,
    )


def test_every_form_only_address_leads_to_its_page(app: Flask, users: dict[str, int]) -> None:
    client: Any = sign_in(app.test_client(), "secretariat")
    adapter = app.url_map.bind("localhost")
    rules = _form_only_pages(app)
    assert len(rules) > 20
    wrong = {}
    for rule in rules:
        address = _address(rule)
        if _shows_a_page(adapter, address):
            continue  # the same address shows a page too (a list that its form posts to)
        answer = client.get(address)
        location = answer.headers.get("Location", "")
        if answer.status_code != 303:
            wrong[address] = answer.status_code
            continue
        above = location == "/" or address.startswith(location + "/")
        if not _shows_a_page(adapter, location) or not above:
            wrong[address] = location  # not a page, or not the one the address belongs to
    assert wrong == {}


def test_the_api_still_says_the_method_is_wrong(app: Flask, users: dict[str, int]) -> None:
    """A script gets its 405 (and the methods allowed), never a page to follow."""
    client: Any = app.test_client()
    rules = [
        rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/") and "GET" not in (rule.methods or set())
    ]
    adapter = app.url_map.bind("localhost")
    addresses = [a for a in map(_address, rules) if not _shows_a_page(adapter, a)]
    assert addresses
    assert {client.get(a).status_code for a in addresses} == {405}
