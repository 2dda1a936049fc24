"""Sign-in throttling, one request at a time, on every backend (the parallel attacks are in
test_auth_parallel.py): the same answer and the same work for every e-mail, the per-account,
per-client and per-device limits, windows that end, and what lifts a lockout.

Clients are told apart by their address (``REMOTE_ADDR``); a "browser" is a test client, which
keeps its cookies (the device cookie among them).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, select

from sscmatch.models import SignInThrottle, User, utcnow
from sscmatch.workflow import accounts, throttle
from sscmatch.workflow import users as users_module
from tests.conftest import PASSWORD, make_test_app

WRONG = "not-the-password"


def _post(client: Any, email: str, password: str, address: str = "10.0.0.1", **kw: Any) -> Any:
    return client.post(
        "/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
        **kw,
    )


def _normalised(response: Any, email: str) -> str:
    """The page without the e-mail typed (echoed in the form) and the CSRF tokens (random)."""
    page = response.get_data(as_text=True).replace(email, "<e-mail>")
    return re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token"', page)


@pytest.fixture
def inactive(app: Flask, users: dict[str, int]) -> str:
    with Session(app.extensions["sscmatch.engine"]) as s:
        user = s.get(User, users["analyst"])
        assert user is not None
        user.active = False
        s.add(user)
        s.commit()
    return "analyst@test.org"


def test_every_refusal_reads_the_same_for_every_email(
    app: Flask, users: dict[str, int], inactive: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wrong password, an unknown e-mail, an inactive account with its right password: the
    same status, page and headers, before the limit and after it. The clock is held still:
    each account's window starts at its first failure, so on a running clock two windows a
    second apart would give Retry-After 900 and 899 whatever the accounts."""
    start = utcnow()
    monkeypatch.setattr(accounts, "utcnow", lambda: start)
    cases = [("sec@test.org", WRONG), ("nobody@test.org", WRONG), (inactive, PASSWORD)]
    for round_ in range(7):
        answers = []
        for index, (email, password) in enumerate(cases):
            # a new address per e-mail and round: only the per-account limit is in play
            response = _post(app.test_client(), email, password, f"10.{index}.{round_}.1")
            answers.append(
                (
                    response.status_code,
                    _normalised(response, email),
                    response.headers.get("Retry-After"),
                )
            )
        statuses = {a[0] for a in answers}
        assert statuses == ({401} if round_ < 5 else {429}), (round_, statuses)
        assert len({a[1] for a in answers}) == 1, f"pages differ in round {round_}"
        assert len({a[2] for a in answers}) == 1
        expected = "Wrong e-mail or password." if round_ < 5 else "Too many failed sign-ins"
        assert expected in answers[0][1]


def test_an_unknown_email_costs_one_password_hash_like_a_real_one(
    app: Flask, users: dict[str, int], inactive: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The work is the same, not just the words: exactly one password check, against a hash of
    the same method and cost, whether or not the e-mail has an account (no timings: the work)."""
    checked: list[str] = []
    real = users_module.check_password_hash

    def counting(password_hash: str, password: str) -> bool:
        checked.append(password_hash.split("$")[0])  # the method and its cost
        return real(password_hash, password)

    monkeypatch.setattr(users_module, "check_password_hash", counting)
    methods = {}
    for index, (email, password) in enumerate(
        [("sec@test.org", WRONG), ("nobody@test.org", WRONG), (inactive, PASSWORD)]
    ):
        checked.clear()
        assert _post(app.test_client(), email, password, f"10.9.{index}.1").status_code == 401
        assert len(checked) == 1, email
        methods[email] = checked[0]
    assert len(set(methods.values())) == 1, methods
    assert methods["sec@test.org"] == users_module.HASH_METHOD


def test_a_locked_account_still_opens_from_a_browser_that_signed_in_before(
    app: Flask, users: dict[str, int]
) -> None:
    owner = app.test_client()
    assert _post(owner, "sec@test.org", PASSWORD, "10.0.0.1").status_code == 302
    owner.post("/logout")
    for index in range(8):  # an attacker, from several addresses
        _post(app.test_client(), "sec@test.org", WRONG, f"10.66.0.{index}")
    stranger = app.test_client()  # the right password from a browser never used for it
    assert _post(stranger, "sec@test.org", PASSWORD, "10.0.0.2").status_code == 429
    assert _post(owner, "sec@test.org", PASSWORD, "10.0.0.1").status_code == 302
    assert owner.get("/account").status_code == 200


def test_a_device_has_a_budget_of_its_own(app: Flask, users: dict[str, int]) -> None:
    """A stolen device cookie does not give unlimited guesses: after DEVICE.attempts failures
    the browser counts as unknown, and the account's lock applies to it again."""
    owner = app.test_client()
    assert _post(owner, "sec@test.org", PASSWORD).status_code == 302
    for index in range(throttle.ACCOUNT.attempts):  # the account is locked for strangers
        _post(app.test_client(), "sec@test.org", WRONG, f"10.66.0.{index}")
    for _ in range(throttle.DEVICE.attempts):
        assert _post(owner, "sec@test.org", WRONG).status_code == 401
    assert _post(owner, "sec@test.org", PASSWORD).status_code == 429


def test_a_device_cookie_counts_only_for_its_own_account(
    app: Flask, users: dict[str, int]
) -> None:
    browser = app.test_client()
    assert _post(browser, "sec@test.org", PASSWORD).status_code == 302
    for index in range(throttle.ACCOUNT.attempts):
        _post(app.test_client(), "analyst@test.org", WRONG, f"10.66.0.{index}")
    assert _post(browser, "analyst@test.org", PASSWORD).status_code == 429


def test_a_forged_device_cookie_is_ignored(app: Flask, users: dict[str, int]) -> None:
    for index in range(throttle.ACCOUNT.attempts):
        _post(app.test_client(), "sec@test.org", WRONG, f"10.66.0.{index}")
    forger = app.test_client()
    digest = throttle.email_digest("sec@test.org")
    forger.set_cookie("sscmatch_device", f'[["{digest}","abc"]].forged.signature')
    assert _post(forger, "sec@test.org", PASSWORD).status_code == 429
    other_key = make_test_app(app.config["DATABASE_URL"], _tmp(app), SECRET_KEY="other-secret")
    elsewhere = other_key.test_client()  # signed with another deployment's key
    assert _post(elsewhere, "sec@test.org", PASSWORD, "10.5.5.5").status_code == 429
    other_key.extensions["sscmatch.engine"].dispose()


def _tmp(app: Flask) -> Any:
    from pathlib import Path

    return Path(app.instance_path).parent / "other"


def test_one_client_gets_a_limited_number_of_failures_whatever_the_emails(
    app: Flask, users: dict[str, int]
) -> None:
    client = app.test_client()
    for index in range(throttle.CLIENT.attempts):
        assert _post(client, f"someone{index}@test.org", WRONG, "10.7.0.1").status_code == 401
    assert _post(client, "sec@test.org", PASSWORD, "10.7.0.1").status_code == 429
    assert _post(app.test_client(), "sec@test.org", PASSWORD, "10.7.0.2").status_code == 302


def test_an_ipv6_client_is_its_64_network(app: Flask, users: dict[str, int]) -> None:
    for index in range(throttle.CLIENT.attempts):
        address = f"2001:db8:1:2::{index + 1:x}"  # one attacker walking its /64
        _post(app.test_client(), f"someone{index}@test.org", WRONG, address)
    assert _post(app.test_client(), "sec@test.org", PASSWORD, "2001:db8:1:2::ffff").status_code == 429
    assert _post(app.test_client(), "sec@test.org", PASSWORD, "2001:db8:1:3::1").status_code == 302
    assert throttle.client_key("::ffff:10.1.2.3") == throttle.client_key("10.1.2.3")


def test_a_success_is_no_pardon_for_a_clients_other_failures(
    app: Flask, users: dict[str, int]
) -> None:
    """Signing in to one's own account between guesses must not reset the client's count."""
    for index in range(throttle.CLIENT.attempts - 1):
        _post(app.test_client(), f"someone{index}@test.org", WRONG, "10.8.0.1")
    assert _post(app.test_client(), "gtm@test.org", PASSWORD, "10.8.0.1").status_code == 302
    assert _post(app.test_client(), "someone@test.org", WRONG, "10.8.0.1").status_code == 401
    assert _post(app.test_client(), "other@test.org", WRONG, "10.8.0.1").status_code == 429


def test_a_correct_password_clears_the_accounts_count(app: Flask, users: dict[str, int]) -> None:
    for _ in range(throttle.ACCOUNT.attempts - 1):
        _post(app.test_client(), "sec@test.org", WRONG, "10.1.1.1")
    assert _post(app.test_client(), "sec@test.org", PASSWORD, "10.1.1.1").status_code == 302
    for _ in range(throttle.ACCOUNT.attempts):
        assert _post(app.test_client(), "sec@test.org", WRONG, "10.1.1.2").status_code == 401


def test_the_window_ends(
    app: Flask, users: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    start = utcnow()
    monkeypatch.setattr(accounts, "utcnow", lambda: start)
    for index in range(throttle.ACCOUNT.attempts):
        _post(app.test_client(), "sec@test.org", WRONG, f"10.2.0.{index}")
    refused = _post(app.test_client(), "sec@test.org", PASSWORD, "10.2.1.1")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == str(throttle.WINDOW_SECONDS)
    assert "Try again in 15 minutes." in refused.get_data(as_text=True)
    monkeypatch.setattr(accounts, "utcnow", lambda: start + timedelta(minutes=14))
    assert _post(app.test_client(), "sec@test.org", PASSWORD, "10.2.1.2").status_code == 429
    monkeypatch.setattr(accounts, "utcnow", lambda: start + timedelta(minutes=15, seconds=1))
    assert _post(app.test_client(), "sec@test.org", PASSWORD, "10.2.1.3").status_code == 302


def test_old_counters_are_purged(
    app: Flask, users: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    start = utcnow()
    monkeypatch.setattr(accounts, "utcnow", lambda: start)
    _post(app.test_client(), "nobody@test.org", WRONG, "10.3.0.1")
    monkeypatch.setattr(accounts, "utcnow", lambda: start + timedelta(minutes=16))
    _post(app.test_client(), "sec@test.org", PASSWORD, "10.3.0.2")
    with Session(app.extensions["sscmatch.engine"]) as s:
        keys = set(s.exec(select(SignInThrottle.key)))
    assert throttle.account_key("nobody@test.org") not in keys
    assert throttle.client_key("10.3.0.1") not in keys
    assert not any("nobody" in key for key in keys)  # e-mails are stored as digests only


def test_an_admin_reset_lifts_the_lock(app: Flask, as_user: Any, users: dict[str, int]) -> None:
    for index in range(throttle.ACCOUNT.attempts):
        _post(app.test_client(), "sec@test.org", WRONG, f"10.4.0.{index}")
    admin = as_user("admin")
    new = "a-brand-new-password"
    response = admin.post(
        f"/admin/users/{users['secretariat']}/password", data={"password": new, "confirm": new}
    )
    assert response.status_code == 302
    assert _post(app.test_client(), "sec@test.org", new, "10.4.1.1").status_code == 302


def test_forwarded_addresses_count_only_behind_trusted_proxies(
    database_url: str, tmp_path: Any, users: dict[str, int]
) -> None:
    """With TRUSTED_PROXIES=1 the proxy's X-Forwarded-For names the client; without it the
    header is the client's own claim and is ignored (else an attacker would pick a new address
    for every guess)."""
    for proxies, expected in ((0, 429), (1, 302)):
        app = make_test_app(database_url, tmp_path / str(proxies), TRUSTED_PROXIES=proxies)
        for index in range(throttle.CLIENT.attempts):
            app.test_client().post(
                "/login",
                data={"email": f"x{proxies}-{index}@test.org", "password": WRONG},
                headers={"X-Forwarded-For": f"10.{proxies}.9.{index}"},
                environ_base={"REMOTE_ADDR": f"192.168.{proxies}.1"},
            )
        response = app.test_client().post(
            "/login",
            data={"email": "gtm@test.org", "password": PASSWORD},
            headers={"X-Forwarded-For": "10.200.0.1"},
            environ_base={"REMOTE_ADDR": f"192.168.{proxies}.1"},
        )
        assert response.status_code == expected, proxies
        app.extensions["sscmatch.engine"].dispose()


@pytest.mark.parametrize("lang", ["es", "pt", "fr"])
def test_refusals_are_translated(app: Flask, users: dict[str, int], lang: str) -> None:
    english = ["Wrong e-mail or password.", "Too many failed sign-ins"]
    for index in range(throttle.ACCOUNT.attempts + 1):
        response = _post(
            app.test_client(),
            "sec@test.org",
            WRONG,
            f"10.6.0.{index}",
            headers={"Accept-Language": lang},
        )
        flashed = re.findall(r'class="flash[^"]*"[^>]*>([^<]+)<', response.get_data(as_text=True))
        assert flashed and not any(e in f for e in english for f in flashed), (lang, flashed)
