"""An API token signs in to the API alone, as a class: every page (every GET route outside
``/api/``), asked with only an admin's token, answers as it does to nobody, and every form's POST
with a token and no session is refused as an anonymous one; the API, asked with the token, knows
its caller. A token that leaked must not open the pages (whose forms hand out CSRF tokens, and do
what the API does not offer)."""

from __future__ import annotations

from flask import Flask, url_for

from tests.web.world import Walk, world_fixture

shared_world = world_fixture()  # only reads: every refused POST writes nothing (digest checked)


def _paths(app: Flask, values: dict[str, object], method: str) -> list[str]:
    with app.test_request_context():
        return sorted(
            url_for(rule.endpoint, **{a: values[a] for a in rule.arguments})
            for rule in app.url_map.iter_rules()
            if method in (rule.methods or set())
            and rule.endpoint != "static"
            and not rule.rule.startswith("/api/")
        )


def test_a_token_opens_no_page_and_no_form(shared_world: Walk) -> None:
    app, token = shared_world.app, shared_world.tokens["admin"]
    bearer = {"Authorization": f"Bearer {token}"}
    app.config["WTF_CSRF_ENABLED"] = False  # the token alone, not the CSRF check, must refuse
    wrong = []
    for method in ("GET", "POST"):
        paths = _paths(app, shared_world.values, method)
        assert len(paths) > 20, method
        for path in paths:
            nobody = app.test_client().open(path, method=method)
            with_token = app.test_client().open(path, method=method, headers=bearer)
            answers = [(r.status_code, r.location) for r in (with_token, nobody)]
            if answers[0] != answers[1]:
                wrong.append(f"{method} {path}: with the token {answers[0]}, nobody {answers[1]}")
    assert wrong == [], "\n".join(wrong)
    assert app.test_client().get("/api/v1/needs", headers=bearer).status_code == 200
    assert app.test_client().get("/api/v1/needs").status_code == 401
