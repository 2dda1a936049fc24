"""Caching and transport headers, walked over every route: no page of a signed-in user (nor the
sign-in and account pages) may be stored by a browser or proxy cache; HSTS is sent exactly when
the request came over HTTPS (directly, or through a trusted proxy that says so)."""

from __future__ import annotations

from typing import Any

from flask import Flask, url_for

from tests.conftest import make_test_app
from tests.web.world import Walk, world_fixture

HSTS = "max-age=31536000"
shared_world = world_fixture()  # the walk of every GET route only reads


def _get_paths(app: Flask, values: dict[str, Any]) -> list[str]:
    paths = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" in (rule.methods or set()) and rule.endpoint != "static":
                paths.append(url_for(rule.endpoint, **{a: values[a] for a in rule.arguments}))
    return sorted(paths)


def test_every_page_and_api_answer_for_a_signed_in_user_is_no_store(shared_world: Walk) -> None:
    paths = _get_paths(shared_world.app, shared_world.values)
    assert len(paths) > 40
    cached = []
    for who in ("admin", "focal_gtm"):  # a focal point meets other refusals (403s) than an admin
        client = shared_world.client(who)
        for path in paths:
            headers = {}
            if path.startswith("/api/"):
                headers["Authorization"] = f"Bearer {shared_world.tokens[who]}"
            response = client.get(path, headers=headers)
            if response.headers.get("Cache-Control") != "no-store":
                cached.append((who, path, response.status_code))
            response.close()
    assert cached == []


def test_the_account_page_with_a_new_token_is_no_store(as_user: Any) -> None:
    response = as_user("analyst").post("/account")
    assert '<pre class="token">' in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"


def test_anonymous_pages_other_than_sign_in_may_be_cached(
    client: Any, users: dict[str, int]
) -> None:
    assert client.get("/login").headers["Cache-Control"] == "no-store"
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")
    static = client.get("/static/css/app.css")
    assert "no-store" not in static.headers.get("Cache-Control", "")
    static.close()


def test_hsts_only_over_https(client: Any) -> None:
    assert "Strict-Transport-Security" not in client.get("/").headers
    secure = client.get("/", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"] == HSTS
    # without a trusted proxy, a client's own X-Forwarded-Proto is not believed
    claimed = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in claimed.headers


def test_hsts_behind_a_trusted_proxy_that_terminates_https(
    database_url: str, tmp_path: Any
) -> None:
    app = make_test_app(database_url, tmp_path, TRUSTED_PROXIES=1)
    client = app.test_client()
    forwarded = client.get(
        "/", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "1.2.3.4"}
    )
    assert forwarded.headers["Strict-Transport-Security"] == HSTS
    plain = client.get("/", headers={"X-Forwarded-Proto": "http", "X-Forwarded-For": "1.2.3.4"})
    assert "Strict-Transport-Security" not in plain.headers
    app.extensions["sscmatch.engine"].dispose()
