"""Sign-in, lockout, sign-out, API tokens, CSRF and security headers."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, select

from sscmatch.models import AuditEvent, SignInThrottle, User
from sscmatch.web.auth import LANGUAGE_SAVED
from sscmatch.web.i18n import SWITCHED_HERE_ONLY
from sscmatch.workflow import throttle
from sscmatch.workflow import users as users_module
from sscmatch.workflow.reminders import catalogue
from tests.conftest import PASSWORD, make_test_app, sign_in


def test_sign_in_and_out(client: Any, users: dict[str, int]) -> None:
    response = client.post(
        "/login?next=/account", data={"email": "sec@test.org", "password": PASSWORD}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    page = client.get("/account")
    assert page.status_code == 200 and b"sec@test.org" in page.data
    client.post("/logout")
    assert client.get("/account").status_code == 302


def test_wrong_password_is_refused_without_saying_which_part(
    client: Any, users: dict[str, int]
) -> None:
    for email in ("sec@test.org", "nobody@test.org"):
        response = client.post("/login", data={"email": email, "password": "wrong-password"})
        assert response.status_code == 401
        assert b"Wrong e-mail or password." in response.data


def test_lockout_after_five_failures(app: Any, client: Any, users: dict[str, int]) -> None:
    for _ in range(5):
        client.post("/login", data={"email": "sec@test.org", "password": "nope-nope-nope"})
    response = client.post("/login", data={"email": "sec@test.org", "password": PASSWORD})
    assert response.status_code == 429 and b"Too many failed sign-ins" in response.data
    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60
    with Session(app.extensions["sscmatch.engine"]) as s:
        row = s.get(SignInThrottle, throttle.account_key("sec@test.org"))
        assert row is not None and row.failures == 6


def test_open_redirect_is_refused(client: Any, users: dict[str, int]) -> None:
    response = client.post(
        "/login?next=//evil.example/x", data={"email": "sec@test.org", "password": PASSWORD}
    )
    assert response.headers["Location"] == "/"


def test_passwords_are_hashed(app: Any, users: dict[str, int], monkeypatch: Any) -> None:
    with Session(app.extensions["sscmatch.engine"]) as s:
        for user in s.exec(select(User)):
            assert PASSWORD not in user.password_hash and user.password_hash.startswith("pbkdf2:")
    monkeypatch.setattr(users_module, "HASH_METHOD", "scrypt")  # the production default
    assert users_module.hash_password(PASSWORD).startswith("scrypt:")


def test_api_token_is_shown_once_and_stored_hashed(app: Any, as_user: Any) -> None:
    client = as_user("analyst")
    page = client.post("/account").get_data(as_text=True)
    token = page.split('<pre class="token">')[1].split("</pre>")[0]
    assert token.startswith("ssc_")
    with Session(app.extensions["sscmatch.engine"]) as s:
        user = s.exec(select(User).where(User.email == "analyst@test.org")).one()
        assert user.api_token_hash and token not in user.api_token_hash
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "issue_token")).first()


def test_forms_need_a_csrf_token(database_url: str, tmp_path: Any, users: dict[str, int]) -> None:
    app = make_test_app(database_url, tmp_path, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    response = client.post("/login", data={"email": "sec@test.org", "password": PASSWORD})
    assert response.status_code == 400 and b"CSRF" in response.data
    app.extensions["sscmatch.engine"].dispose()


def test_security_headers(client: Any) -> None:
    headers = client.get("/").headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_language_switch_and_browser_preference(client: Any) -> None:
    page = client.get("/", headers={"Accept-Language": "pt-BR,pt;q=0.9"})
    assert b'<html lang="pt">' in page.data
    client.post("/language", data={"lang": "fr", "next": "/"})
    assert b'<html lang="fr">' in client.get("/").data


def test_the_account_keeps_the_language_chosen_on_its_page(
    app: Flask, users: dict[str, int], session: Session
) -> None:
    """The switcher at the top changes this browser's pages; the account page sets the
    account's language, which the next sign-in (any device) and the digests use."""
    browser = sign_in(app.test_client(), "focal_gtm")
    browser.post("/language", data={"lang": "pt", "next": "/"})
    session.expire_all()
    assert session.get(User, users["focal_gtm"]).language != "pt"  # this browser only
    saved = browser.post("/account/language", data={"language": "fr"}, follow_redirects=True)
    assert saved.status_code == 200
    page = saved.get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert catalogue("fr").ugettext(LANGUAGE_SAVED) in page
    session.expire_all()
    assert session.get(User, users["focal_gtm"]).language == "fr"
    events = session.exec(select(AuditEvent.action).where(AuditEvent.entity == "user")).all()
    assert "change_language" in events
    again = sign_in(app.test_client(), "focal_gtm")
    assert b'<html lang="fr">' in again.get("/").data


@pytest.mark.parametrize("value", ["xx", " ", "FR", "fr\u00a0"])
def test_a_language_that_is_not_offered_is_refused_beside_the_field(
    app: Flask, users: dict[str, int], session: Session, value: str
) -> None:
    before = session.get(User, users["focal_gtm"]).language
    browser = sign_in(app.test_client(), "focal_gtm")
    refused = browser.post("/account/language", data={"language": value})
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert 'id="language"' in page and 'aria-invalid="true"' in page
    session.expire_all()
    assert session.get(User, users["focal_gtm"]).language == before


@pytest.mark.parametrize("lang", ["es", "pt", "fr"])
def test_the_account_page_names_the_constituency_in_the_readers_language(
    app: Flask, users: dict[str, int], lang: str
) -> None:
    browser = sign_in(app.test_client(), "focal_gtm")
    browser.post("/language", data={"lang": lang, "next": "/"})
    page = browser.get("/account").get_data(as_text=True)
    assert "(government)" not in page
    assert f"({catalogue(lang).ugettext('Government')})" in page


def test_an_account_without_a_language_reads_its_browsers_from_the_sign_in_on(
    app: Flask, users: dict[str, int], session: Session
) -> None:
    """Until its holder chooses, an account's pages follow each browser (a Spanish browser
    read an English home page right after signing in: the account's language was "en" by
    default), and the header's switcher used on the sign-in page is kept through it."""
    assert session.get(User, users["focal_gtm"]).language == users_module.BROWSER_LANGUAGE
    spanish = app.test_client()
    spanish.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es-GT,es;q=0.9"
    assert '<html lang="es">' in sign_in(spanish, "focal_gtm").get("/").get_data(as_text=True)
    switched = app.test_client()
    switched.post("/language", data={"lang": "pt", "next": "/login"})
    assert '<html lang="pt">' in sign_in(switched, "focal_gtm").get("/").get_data(as_text=True)
    # a language chosen for the account wins over the browser's
    browser = sign_in(app.test_client(), "focal_gtm")
    browser.post("/account/language", data={"language": "fr"})
    assert '<html lang="fr">' in sign_in(spanish, "focal_gtm").get("/").get_data(as_text=True)


def test_the_account_can_follow_the_browser_again(
    app: Flask, users: dict[str, int], session: Session
) -> None:
    browser = app.test_client()
    browser.environ_base["HTTP_ACCEPT_LANGUAGE"] = "pt-BR"
    sign_in(browser, "focal_gtm")
    browser.post("/account/language", data={"language": "fr"})
    assert '<html lang="fr">' in browser.get("/").get_data(as_text=True)
    saved = browser.post("/account/language", data={"language": ""}, follow_redirects=True)
    page = saved.get_data(as_text=True)
    assert '<html lang="pt">' in page  # the switcher's choice of this browser is forgotten too
    assert catalogue("pt").ugettext(LANGUAGE_SAVED) in page
    session.expire_all()
    assert session.get(User, users["focal_gtm"]).language == ""


def test_the_switcher_says_where_the_accounts_language_is_kept(
    app: Flask, users: dict[str, int]
) -> None:
    browser = sign_in(app.test_client(), "focal_gtm")
    page = browser.post(
        "/language", data={"lang": "es", "next": "/"}, follow_redirects=True
    ).get_data(as_text=True)
    assert catalogue("es").ugettext(SWITCHED_HERE_ONLY).replace("'", "&#39;") in page
    anonymous = app.test_client().post(
        "/language", data={"lang": "es", "next": "/login"}, follow_redirects=True
    )
    assert catalogue("es").ugettext(SWITCHED_HERE_ONLY) not in anonymous.get_data(as_text=True)


@pytest.mark.parametrize(
    ("language", "country", "written"),
    [
        ("", "GTM", "es"),
        ("", "BRA", "pt"),
        ("", "SEN", "fr"),
        ("", "KEN", "en"),
        ("", None, "en"),
        ("fr", "GTM", "fr"),
    ],
)
def test_e_mails_to_an_account_without_a_language_use_its_countrys(
    language: str, country: str | None, written: str
) -> None:
    assert users_module.written_language(language, country) == written


def test_a_new_token_replaces_the_old_one_only_when_confirmed(app: Any, as_user: Any) -> None:
    """Making a token when one exists ends it (scripts using it break), and cannot be undone:
    the page asks first, beside the button, and nothing changes until the box is ticked."""
    client = as_user("analyst")
    first = client.post("/account").get_data(as_text=True)  # no token yet: no question
    assert '<pre class="token">' in first

    def stored() -> str | None:
        with Session(app.extensions["sscmatch.engine"]) as s:
            return s.exec(select(User).where(User.email == "analyst@test.org")).one().api_token_hash

    before = stored()
    asked = client.post("/account")
    page = asked.get_data(as_text=True)
    assert asked.status_code == 400 and '<pre class="token">' not in page
    assert 'id="replace"' in page and 'aria-invalid="true"' in page
    assert stored() == before
    again = client.post("/account", data={"replace": "y"}).get_data(as_text=True)
    assert '<pre class="token">' in again and stored() != before


def test_a_wrong_current_password_is_said_with_the_other_problems(
    app: Flask, users: dict[str, int]
) -> None:
    browser = sign_in(app.test_client(), "focal_gtm")
    page = browser.post(
        "/account/password",
        data={"current": "not-my-password", "password": "short", "confirm": "other"},
    ).get_data(as_text=True)
    assert "The current password is wrong." in page
    assert "at least 10 characters" in page and "The passwords differ." in page
    kept = browser.post(
        "/account/password", data={"current": PASSWORD, "password": "short", "confirm": "short"}
    )
    assert kept.status_code == 400
    assert "The current password is wrong." not in kept.get_data(as_text=True)


def test_a_token_is_made_from_the_account_page_drawn_after_a_refused_password_change(
    app: Flask, users: dict[str, int]
) -> None:
    """The account page drawn at /account/password (a refused change): its token form still
    posts to /account, so a token is made, not a second password change."""
    browser = sign_in(app.test_client(), "focal_gtm")
    refused = browser.post("/account/password", data={"current": "wrong", "password": "x"})
    assert refused.status_code == 400
    assert '<form method="post" action="/account" novalidate>' in refused.get_data(as_text=True)
    assert '<pre class="token">' in browser.post("/account").get_data(as_text=True)
