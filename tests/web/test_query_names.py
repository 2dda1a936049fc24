"""Any query-string name with any value, on every GET route, for every role that may read it:
never a 5xx. An outside probe found two classes the walks of ``test_malformed_input`` and
``test_every_list_page`` did not reach:

- names a link builder keeps for itself (``fmt`` of the export links, ``endpoint``, ``_anchor``,
  ``_scheme``…): every list page passed its query string on to ``url_for`` and broke (a 500 on
  ``/needs?fmt=x``); the links now take their arguments from ``paging.link_args``;
- a number beyond any database integer in a name only some pages read (the audit log's ``user``:
  ``user=99999999999999999999999`` was an overflow, a 500). Here every name each route reads
  (seen by ``test_malformed_input``'s request tracker) gets such numbers, not only page numbers.
"""

from __future__ import annotations

from flask import Request

from tests.web.test_malformed_input import _READ, ALL, RAW, _routes, _TrackedRequest
from tests.web.world import Walk, world_fixture

RESERVED = ("fmt", "endpoint", "_anchor", "_external", "_scheme", "_method", "values", "page")
"""Names that ``url_for`` or the export links use themselves."""
HUGE = ("9" * 23, "-" + "9" * 23, "²")
ROLES = ("secretariat", "admin", "focal_gtm", "analyst")
shared_world = world_fixture()  # the walk only reads


def test_any_name_with_any_value_never_breaks_a_page(shared_world: Walk) -> None:
    app = shared_world.app
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert app.request_class is Request
    app.request_class = _TrackedRequest
    clients = {role: shared_world.client(role) for role in ROLES}
    token = shared_world.tokens["secretariat"]
    api = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    read: set[tuple[str, str]] = set()
    for method, path in _routes(app, shared_world.values):
        if method != "GET" or path == "/logout":
            continue
        readers = [("api", app.test_client())] if path.startswith("/api/") else clients.items()
        for role, client in readers:
            headers = api if role == "api" else {}
            reserved = client.get(path, query_string=dict.fromkeys(RESERVED, "x"), headers=headers)
            if reserved.status_code >= 500:
                failures.append(f"{role} GET {path} with {RESERVED}: {reserved.status_code}")
            _READ.clear()  # what the route reads when asked plainly
            if client.get(path, headers=headers).status_code in (401, 403, 404):
                continue  # this role may not read it: another role walks it
            names = sorted(_READ - {ALL, RAW} - set(RESERVED))
            for name in names:
                read.add((path, name))
                for raw in HUGE:
                    got = client.get(path, query_string={name: raw}, headers=headers)
                    if got.status_code >= 500:
                        failures.append(f"{role} GET {path}?{name}={raw!r}: {got.status_code}")
    # the walk reaches what the probe found, and more than a handful of names
    assert {("/admin/audit", "user"), ("/api/v1/needs", "per_page")} <= read, sorted(read)[:40]
    print(f"{len(read)} (route, name) pairs read")
    assert len(read) > 100
    assert failures == [], "\n".join(failures)
