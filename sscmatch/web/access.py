"""Who may call which view: declared on each view, enforced for every request, denied by default.

``@access("secretariat", "admin")`` lets those roles in; ``@access(PUBLIC)`` lets everyone in;
``@access(SIGNED_IN)`` any signed-in user. A view without a declaration answers 403 to everyone,
so a new route cannot be open by accident (tests/web/test_authorization.py walks the URL map).
Record-level rules (a focal point edits only their country's records) live in the views and use
cases on top of this.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, current_app, jsonify, redirect, request, url_for
from flask_login import current_user

PUBLIC = "public"
SIGNED_IN = "signed_in"
ROLES = ("focal_point", "secretariat", "analyst", "admin")

F = TypeVar("F", bound=Callable[..., Any])


def access(*allowed: str) -> Callable[[F], F]:
    unknown = set(allowed) - {PUBLIC, SIGNED_IN, *ROLES}
    if unknown or not allowed:
        raise ValueError(f"unknown access rule {sorted(unknown)}")

    def mark(view: F) -> F:
        view._access = frozenset(allowed)  # type: ignore[attr-defined]
        return view

    return mark


def rule_for(endpoint: str | None) -> frozenset[str] | None:
    if endpoint is None:
        return None
    if endpoint == "static":
        return frozenset({PUBLIC})
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "_access", None)


def is_api() -> bool:
    return request.path.startswith("/api/")


def _deny(status: int, message: str) -> Any:
    if is_api():
        code = "unauthorized" if status == 401 else "forbidden"
        return jsonify(error=code, message=message), status
    abort(status, description=message)


def enforce() -> Any:
    """before_request: apply the view's rule (404s pass through to the router's error)."""
    if request.endpoint is None:
        return None
    # said in the reader's language (for a token, its account's); templating reads this
    # module's rules, hence the imports here
    from sscmatch.web.templating import ROLE_LABELS
    from sscmatch.web.translate import gettext

    rule = rule_for(request.endpoint)
    if rule is None:
        return _deny(403, gettext("This address has no access rule; it is closed to everyone."))
    if PUBLIC in rule:
        return None
    if not current_user.is_authenticated:
        if is_api():
            return _deny(
                401, gettext("Sign in with an API token: send 'Authorization: Bearer <token>'.")
            )
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if SIGNED_IN in rule or current_user.role in rule:
        return None
    role = str(ROLE_LABELS.get(current_user.role, current_user.role))
    if is_api():
        return _deny(403, gettext("Your role (%(role)s) may not do this.", role=role))
    return _deny(403, gettext("Your role (%(role)s) may not open this page.", role=role))
