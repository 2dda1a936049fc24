"""The header names the signed-in account, then its role and country unless the name already
says them, in any of the four interface languages (issue 14, item 9: the header repeated the
role)."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from sqlmodel import Session

from sscmatch.models import User


def _who(client: Any) -> str:
    html = client.get("/", headers={"Accept-Language": "es"}).get_data(as_text=True)
    found = re.search(r'class="who">([^<]*)</a>', html)
    assert found, html[:2000]
    return found.group(1)


def _rename(app: Flask, user_id: int, name: str) -> None:
    with Session(app.extensions["sscmatch.engine"]) as s:
        user = s.get(User, user_id)
        assert user is not None
        user.name, user.language = name, "es"
        s.commit()


def test_the_role_and_country_are_said_once(
    app: Flask, as_user: Any, users: dict[str, int]
) -> None:
    # Named in Portuguese, read in Spanish: neither "Punto focal" nor "Brasil" again.
    _rename(app, users["focal_bra"], "Ponto focal Brasil")
    assert _who(as_user("focal_bra")) == "Ponto focal Brasil"
    # Named in English, read in Spanish: not "· Secretaría Técnica".
    _rename(app, users["secretariat"], "Technical secretariat")
    assert _who(as_user("secretariat")) == "Technical secretariat"
    # A name that says neither gets both, in the reader's language.
    _rename(app, users["focal_gtm"], "Ana López")
    assert _who(as_user("focal_gtm")) == "Ana López · Punto focal · Guatemala"


def _menu(client: Any, path: str = "/") -> list[tuple[str, str, bool]]:
    html = client.get(path).get_data(as_text=True)
    nav = re.search(r'class="main-nav">(.*?)</nav>', html, re.S)
    assert nav is not None
    return [
        (href, label, bool(current))
        for href, current, label in re.findall(
            r'<a href="([^"]+)"( aria-current="page")?>([^<]+)</a>', nav.group(1)
        )
    ]


def test_the_menu_follows_the_role_the_page_and_the_language(as_user: Any, client: Any) -> None:
    """The menu (kept per role, language and page) lists what the role may open, marks the
    page being read, in the reader's language; a visitor gets none."""
    assert _menu(client, "/login") == []
    analyst, secretariat, focal = as_user("analyst"), as_user("secretariat"), as_user("focal_gtm")
    staff = _menu(secretariat, "/needs")
    assert ("/review/queue", "Review queue", False) in staff
    assert [link for link in staff if link[2]] == [("/needs", "Needs", True)]
    assert ("/review/mine", "Our proposals", False) in _menu(focal)
    assert all(href != "/review/mine" for href, _, _ in staff)
    assert all(href != "/admin/users" for href, _, _ in _menu(analyst))
    assert [link for link in _menu(secretariat, "/capacities") if link[2]] == [
        ("/capacities", "Capacities", True)
    ]
    assert not any(current for *_, current in _menu(secretariat, "/"))
    secretariat.post("/language", data={"lang": "es", "next": "/"})
    assert ("/needs", "Necesidades", True) in _menu(secretariat, "/needs")
    assert _menu(as_user("secretariat"), "/needs") == staff  # nothing crossed from Spanish
