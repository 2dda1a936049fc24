"""Web hardening: cookies, security headers, sign-in throttling, escaping, templates, uploads.

- the session cookie is HttpOnly and SameSite, and Secure unless debugging, testing or demo;
- every page and API answer carries a CSP without inline script, frame denial and nosniff;
- five wrong passwords lock the account (the right password is then refused too);
- hostile text stored in needs, capacities, exchanges, tours, commitments and user names is
  escaped on every page that shows it, also when it comes back in a search box; the JSON the
  network page draws from is served as JSON (nosniff) and parses back to the same text;
- templates hold no inline script, event handler, ``javascript:`` link or style attribute;
- the bundle import page (secretariat, admin) is all-or-nothing, lists every problem as
  ``file:line: field: message``, refuses zip-slip paths, broken zips, non-UTF-8 files, and
  answers 413 (a page, or JSON in the API) beyond MAX_UPLOAD_MB.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, url_for
from sqlmodel import Session, func, select

from sscmatch.models import AuditEvent, Capacity, Commitment, Exchange, Need, StudyTour, User
from sscmatch.workflow.users import create_user
from tests.conftest import ACCOUNTS, PASSWORD, make_test_app
from tests.web.test_fuzz_api import build_world, table_digest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
HOSTILE = f"Hostile {SCRIPT} {IMG} end"
RAW = ("<script>alert(1)", "<img src=x", "onerror=alert(1)>")


# --------------------------------------------------------------------------- cookies


def test_session_cookie_is_httponly_and_samesite(app: Flask, users: dict[str, int]) -> None:
    client = app.test_client()
    response = client.post(
        "/login", data={"email": ACCOUNTS["secretariat"][0], "password": PASSWORD}
    )
    assert response.status_code == 302
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, response.headers
    assert "HttpOnly" in cookies[0]
    assert re.search(r"SameSite=(Lax|Strict)", cookies[0])
    assert app.config["REMEMBER_COOKIE_HTTPONLY"] is True


@pytest.mark.parametrize(
    ("extra", "secure"),
    [
        ({"TESTING": False}, True),
        ({"TESTING": True}, False),
        ({"TESTING": False, "DEMO": True}, False),
        ({"TESTING": False, "DEBUG": True}, False),
    ],
)
def test_session_cookie_is_secure_outside_debug_testing_and_demo(
    database_url: str, tmp_path: Path, extra: dict[str, Any], secure: bool
) -> None:
    application = make_test_app(database_url, tmp_path, **extra)
    try:
        assert application.config["SESSION_COOKIE_SECURE"] is secure
        assert application.config["SESSION_COOKIE_HTTPONLY"] is True
        assert application.config["SESSION_COOKIE_SAMESITE"] in ("Lax", "Strict")
        if secure:
            with application.app_context():
                from sscmatch.db import session_scope

                with session_scope(application.extensions["sscmatch.engine"]) as s:
                    create_user(s, "secure@test.org", PASSWORD, "analyst")
            client = application.test_client()
            response = client.post(
                "/login", data={"email": "secure@test.org", "password": PASSWORD}
            )
            cookie = next(
                c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")
            )
            assert "Secure" in cookie
    finally:
        application.extensions["sscmatch.engine"].dispose()


# --------------------------------------------------------------------------- headers


def _check_headers(response: Any, where: str) -> None:
    csp = response.headers.get("Content-Security-Policy", "")
    directives = {d.strip().split(" ")[0]: d.strip() for d in csp.split(";") if d.strip()}
    script = directives.get("script-src") or directives.get("default-src", "")
    assert script, f"{where}: no script-src in CSP {csp!r}"
    assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script, where
    assert "frame-ancestors 'none'" in csp, where
    assert response.headers.get("X-Frame-Options") == "DENY", where
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where


def test_security_headers_on_pages_and_api(app: Flask, users: dict[str, int], as_user: Any) -> None:
    world = build_world(app, users)
    anonymous = app.test_client()
    for path in ("/", "/login", "/no-such-page", "/needs", "/static/css/app.css"):
        response = anonymous.get(path)
        _check_headers(response, f"GET {path}")
        response.close()
    signed_in = as_user("secretariat")
    for path in ("/needs", "/needs/N-GTM-1", "/network", "/network/data", "/admin/import"):
        response = signed_in.get(path)
        assert response.status_code == 200, path
        _check_headers(response, f"GET {path} signed in")
    token = {"Authorization": f"Bearer {world['tokens']['secretariat']}"}
    for method, path, kwargs in (
        ("GET", "/api/v1/openapi.json", {}),
        ("GET", "/api/v1/needs", {"headers": token}),
        ("GET", "/api/v1/needs", {}),  # 401
        ("GET", "/api/v1/needs/NOPE", {"headers": token}),  # 404
        ("POST", "/api/v1/needs", {"headers": token, "data": "{"}),  # 400
    ):
        response = anonymous.open(path, method=method, **kwargs)
        _check_headers(response, f"{method} {path} ({response.status_code})")
        assert response.is_json


# --------------------------------------------------------------------------- throttling


def test_sign_in_is_throttled_after_repeated_failures(app: Flask, users: dict[str, int]) -> None:
    client = app.test_client()
    email = ACCOUNTS["analyst"][0]
    for _attempt in range(5):
        response = client.post("/login", data={"email": email, "password": "wrong-password!"})
        assert response.status_code == 401
    # Held back now: even the right password is refused (this browser never signed in to the
    # account), with a message that says so and when to come back.
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    assert "too many failed sign-ins" in response.get_data(as_text=True).lower()
    # Another account is not affected.
    other = app.test_client().post(
        "/login", data={"email": ACCOUNTS["secretariat"][0], "password": PASSWORD}
    )
    assert other.status_code == 302


# --------------------------------------------------------------------------- escaping


def _assert_escaped(response: Any, where: str) -> None:
    assert response.status_code in (200, 400), f"{where}: {response.status_code}"
    text = response.get_data(as_text=True)
    if response.is_json:
        # JSON is data, not markup: served as JSON (with nosniff) and parsed back intact.
        assert response.mimetype == "application/json", where
        assert response.headers.get("X-Content-Type-Options") == "nosniff"
        json.loads(text)
        return
    for raw in RAW:
        assert raw not in text, f"{where}: {raw!r} rendered unescaped"


def test_user_supplied_text_is_escaped_everywhere(
    app: Flask, users: dict[str, int], as_user: Any
) -> None:
    world = build_world(app, users)
    engine = app.extensions["sscmatch.engine"]
    token = {"Authorization": f"Bearer {world['tokens']['secretariat']}"}
    api = app.test_client()
    created = api.post(
        "/api/v1/needs",
        headers=token,
        json={
            "country": "GTM",
            "title": HOSTILE,
            "description": HOSTILE,
            "themes": ["labour-inspection"],
            "languages": ["es"],
            "status": "open",
        },
    )
    assert created.status_code == 201, created.get_json()
    need_id = created.get_json()["id"]
    created = api.post(
        "/api/v1/capacities",
        headers=token,
        json={
            "country": "GTM",
            "title": HOSTILE,
            "description": HOSTILE,
            "themes": ["labour-inspection"],
            "languages": ["es"],
            "status": "published",
        },
    )
    assert created.status_code == 201, created.get_json()
    capacity_id = created.get_json()["id"]
    with Session(engine) as s:
        exchange = next(e for e in s.exec(select(Exchange)) if e.providers)
        exchange_id, provider, version = exchange.id, exchange.providers[0], exchange.version
        tour = s.get(StudyTour, world["tour_id"])
        assert tour is not None
        tour.title = HOSTILE
        tour.objective = HOSTILE
        commitment = s.get(Commitment, "K-GTM-1")
        assert commitment is not None
        commitment.description = HOSTILE
        commitment.evidence = HOSTILE
        s.add_all([tour, commitment])
        s.commit()
        hostile_user = create_user(s, "hostile@test.org", PASSWORD, "analyst", name=HOSTILE)
        s.commit()
        user_id = hostile_user.id
        event = s.exec(select(AuditEvent).where(AuditEvent.entity == "need")).first()
        assert event is not None
        event_id = event.id

    changed = api.patch(
        f"/api/v1/exchanges/{exchange_id}",
        headers=token,
        json={"title": HOSTILE, "version": version},
    )
    assert changed.status_code == 200, changed.get_json()
    with app.test_request_context():
        pages = [
            url_for("registry.needs"),
            url_for("registry.needs", q=HOSTILE),
            url_for("registry.need", need_id=need_id),
            url_for("registry.need_edit", need_id=need_id),
            url_for("registry.capacities"),
            url_for("registry.capacities", q=SCRIPT, country=IMG),
            url_for("registry.capacity", capacity_id=capacity_id),
            url_for("registry.capacity_edit", capacity_id=capacity_id),
            url_for("registry.exchanges"),
            url_for("registry.exchanges", q=IMG),
            url_for("registry.exchange", exchange_id=exchange_id),
            url_for("tours.index"),
            url_for("tours.show", tour_id=world["tour_id"]),
            url_for("tours.brief", tour_id=world["tour_id"]),
            url_for("tours.edit", tour_id=world["tour_id"]),
            url_for("followup.dashboard"),
            url_for("followup.dashboard", country=SCRIPT),
            url_for("followup.commitment", commitment_id="K-GTM-1"),
            url_for("network.index"),
            url_for("network.data"),
            url_for("network.exchanges", format="json"),
            url_for("network.country", code="GTM"),
            url_for("admin.users"),
            url_for("admin.edit_user", user_id=user_id),
            url_for("admin.audit"),
            url_for("admin.audit", entity_id=SCRIPT),
            url_for("admin.audit_event", event_id=event_id),
            url_for("review.proposal", proposal_id=world["proposal_id"]),
        ]
    admin = as_user("admin")
    for path in pages:
        _assert_escaped(admin.get(path), f"GET {path}")
    # The focal point's own views, and the drawing data with the hostile exchange in it.
    focal = as_user("focal_gtm")
    for path in (f"/needs/{need_id}", "/followup", f"/tours/{world['tour_id']}"):
        _assert_escaped(focal.get(path), f"GET {path} as focal point")
    # The network page's details come back as JSON holding the very text (data, not markup).
    details = admin.get(f"/network/exchanges?format=json&node={provider}")
    assert details.status_code == 200 and details.is_json
    mine = [x for x in details.get_json()["exchanges"] if x["id"] == exchange_id]
    assert [x["title"] for x in mine] == [HOSTILE], (changed.get_json()["title"], mine)


def test_templates_have_no_inline_script_or_handlers() -> None:
    offenders = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for number, line in enumerate(text.splitlines(), 1):
            where = f"{path.relative_to(ROOT)}:{number}"
            for tag in re.findall(r"<script\b[^>]*>", line, flags=re.IGNORECASE):
                if "src=" not in tag:
                    offenders.append(f"{where}: inline <script> block")
            if re.search(r"\son[a-z]+\s*=", line, flags=re.IGNORECASE):
                offenders.append(f"{where}: inline event handler")
            if re.search(r"javascript:", line, flags=re.IGNORECASE):
                offenders.append(f"{where}: javascript: URL")
            if re.search(r"\sstyle\s*=", line, flags=re.IGNORECASE):
                offenders.append(f"{where}: style attribute (blocked by the CSP)")
    assert offenders == [], "\n".join(offenders)


# --------------------------------------------------------------------------- uploads

NEEDS_HEADER = "id,country,title,themes,languages,status\n"
GOOD_NEED = "N-UP-1,GTM,Labour inspection upload,labour-inspection,es,open\n"
BAD_NEED = "N-UP-2,XXX,Bad country,no-such-theme,es,open\n"


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _upload(client: Any, name: str, content: bytes) -> Any:
    return client.post(
        "/admin/import",
        data={"bundle": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def _count(app: Flask, model: Any) -> int:
    with Session(app.extensions["sscmatch.engine"]) as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


def test_import_page_success_counts_and_audit(
    app: Flask, users: dict[str, int], as_user: Any
) -> None:
    client = as_user("secretariat")
    assert client.get("/admin/import").status_code == 200
    before = _count(app, Need)
    response = _upload(
        client, "bundle.zip", _zip({"needs.csv": (NEEDS_HEADER + GOOD_NEED).encode()})
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 200, text[:2000]
    assert "needs" in text and 'class="import-created">1<' in text
    assert _count(app, Need) == before + 1
    with Session(app.extensions["sscmatch.engine"]) as s:
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "import")).one()
        assert event.user_id == users["secretariat"]
    # A .json bundle works too.
    document = {
        "capacities": [
            {
                "id": "C-UP-1",
                "country": "BRA",
                "title": "Upload capacity",
                "themes": ["labour-inspection"],
                "languages": ["pt"],
            }
        ]
    }
    response = _upload(client, "bundle.json", json.dumps(document).encode())
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    assert _count(app, Capacity) == 1


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("bundle.zip", b"this is not a zip", "not a readable zip"),
        (
            "bundle.zip",
            _zip({"../needs.csv": (NEEDS_HEADER + GOOD_NEED).encode()}),
            "../needs.csv:1: file:",
        ),
        (
            "bundle.zip",
            _zip({"/etc/needs.csv": (NEEDS_HEADER + GOOD_NEED).encode()}),
            "/etc/needs.csv:1: file:",
        ),
        (
            "bundle.zip",
            _zip({"sub/needs.csv": (NEEDS_HEADER + GOOD_NEED).encode()}),
            "sub/needs.csv:1: file:",
        ),
        ("bundle.zip", _zip({"evil.sh": b"rm -rf /"}), "evil.sh:1: file:"),
        ("bundle.zip", _zip({}), "no CSV file"),
        (
            "bundle.zip",
            _zip({"needs.csv": (NEEDS_HEADER + "N-UP-9,GTM,Caf\xe9\n").encode("latin-1")}),
            "needs.csv:2: file: byte 0xe9 is not UTF-8",
        ),
        (
            "bundle.zip",
            _zip({"needs.csv": (NEEDS_HEADER + GOOD_NEED + BAD_NEED).encode()}),
            "needs.csv:3: country:",
        ),
        ("bundle.json", b"{not json", "bundle.json:1: file: invalid JSON"),
        ("bundle.json", b"\xff\xfe\x00garbage", "not UTF-8"),
        ("bundle.exe", b"MZ", "expected a .json bundle or a .zip"),
    ],
)
def test_import_page_refuses_bad_bundles_and_writes_nothing(
    app: Flask, users: dict[str, int], as_user: Any, name: str, content: bytes, expected: str
) -> None:
    from tests.web.test_fuzz_api import JOB_TABLES
    from tests.web.test_import_input import assert_refused_job

    client = as_user("admin")
    engine = app.extensions["sscmatch.engine"]
    before = table_digest(engine, skip=JOB_TABLES)
    response = _upload(client, name, content)
    text = response.get_data(as_text=True)
    assert response.status_code == 400, text[:1500]
    assert "Nothing was imported" in text
    import html

    assert expected in html.unescape(text), html.unescape(text)[:3000]
    assert table_digest(engine, skip=JOB_TABLES) == before
    assert_refused_job(engine, expected)
    assert not (Path(app.instance_path) / "needs.csv").exists()


def test_import_without_a_file_says_so(app: Flask, users: dict[str, int], as_user: Any) -> None:
    response = as_user("admin").post("/admin/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Choose a file" in response.get_data(as_text=True)


def test_uploads_and_bodies_beyond_the_limit_get_413(database_url: str, tmp_path: Path) -> None:
    application = make_test_app(database_url, tmp_path, MAX_UPLOAD_MB=1)
    try:
        from sscmatch.db import session_scope

        with session_scope(application.extensions["sscmatch.engine"]) as s:
            create_user(s, "sec2@test.org", PASSWORD, "secretariat")
            user = s.exec(select(User).where(User.email == "sec2@test.org")).one()
            from sscmatch.workflow.accounts import issue_api_token

            token = issue_api_token(s, user)
        engine = application.extensions["sscmatch.engine"]
        client = application.test_client()
        client.post("/login", data={"email": "sec2@test.org", "password": PASSWORD})
        before = table_digest(engine)
        big = b"x" * (1024 * 1024 + 10)
        # A raw multipart body (the test client would spool a file this size to a temp file).
        raw = (
            b'--x\r\nContent-Disposition: form-data; name="bundle"; filename="bundle.json"\r\n'
            b"Content-Type: application/json\r\n\r\n" + big + b"\r\n--x--\r\n"
        )
        response = client.post(
            "/admin/import", data=raw, content_type="multipart/form-data; boundary=x"
        )
        assert response.status_code == 413
        text = response.get_data(as_text=True)
        assert "1 MiB" in text and "<html" in text.lower()
        response = application.test_client().post(
            "/api/v1/needs",
            data=b'{"title": "' + big + b'"}',
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        assert response.status_code == 413
        body = response.get_json()
        assert body["error"] == "too_large" and "1 MiB" in body["message"]
        assert table_digest(engine) == before
    finally:
        application.extensions["sscmatch.engine"].dispose()


def test_import_page_is_closed_to_other_roles(
    app: Flask, users: dict[str, int], as_user: Any
) -> None:
    for who in ("focal_gtm", "analyst"):
        assert as_user(who).get("/admin/import").status_code == 403
    assert app.test_client().get("/admin/import").status_code == 302
