"""Template helpers: navigation by role, labels of roles and statuses, localised names."""

from __future__ import annotations

import functools
from typing import Any

from flask import Flask, current_app, has_request_context, request, url_for
from flask_login import current_user

from sscmatch.models import Institution
from sscmatch.vocab import load_vocabulary
from sscmatch.web.access import PUBLIC, SIGNED_IN, rule_for
from sscmatch.web.translate import current_lang
from sscmatch.web.translate import lazy_gettext as _l

# The main menu; an entry shows when its blueprint exists and the user's role may open it.
NAV: tuple[tuple[str, Any], ...] = (
    ("registry.needs", _l("Needs")),
    ("registry.capacities", _l("Capacities")),
    ("registry.exchanges", _l("Exchanges")),
    ("network.countries", _l("Countries")),
    ("review.my_proposals", _l("Our proposals")),
    ("matching.runs", _l("Matching")),
    ("review.queue", _l("Review queue")),
    ("tours.index", _l("Study tours")),
    ("followup.dashboard", _l("Follow-up")),
    ("network.index", _l("Network")),
    ("admin.users", _l("Users")),
    ("admin.audit", _l("Audit log")),
)

ROLE_LABELS = {
    "focal_point": _l("Focal point"),
    "secretariat": _l("Technical secretariat"),
    "analyst": _l("Analyst"),
    "admin": _l("Administrator"),
}

MATURITY_LABELS = {
    "pilot": _l("pilot"),
    "operational": _l("operational"),
    "scaled": _l("scaled up"),
    "institutionalised": _l("institutionalised"),
}

STATUS_LABELS = {
    "draft": _l("draft"),
    "open": _l("open"),
    "matched": _l("matched"),
    "closed": _l("closed"),
    "published": _l("published"),
    "archived": _l("archived"),
    "submitted": _l("submitted"),
    "proposed": _l("proposed"),
    "provider_confirmed": _l("provider confirmed"),
    "provider_declined": _l("provider declined"),
    "accepted": _l("accepted"),
    "rejected": _l("rejected"),
    "superseded": _l("superseded"),
    "pending": _l("pending"),
    "in_progress": _l("in progress"),
    "fulfilled": _l("fulfilled"),
    "dropped": _l("dropped"),
    "overdue": _l("overdue"),
    "agreed": _l("agreed"),
    "scheduled": _l("scheduled"),
    "completed": _l("completed"),
    "cancelled": _l("cancelled"),
    "running": _l("running"),
    "done": _l("done"),
    "failed": _l("failed"),
}


def nav_links() -> list[tuple[str, Any]]:
    if not current_user.is_authenticated:
        return []
    links = []
    for endpoint, label in NAV:
        if endpoint not in current_app.view_functions:
            continue
        rule = rule_for(endpoint) or frozenset()
        if PUBLIC in rule or SIGNED_IN in rule or current_user.role in rule:
            links.append((endpoint, label))
    return links


def lang() -> str:
    return current_lang()


def country_name(code: str | None) -> str:
    if not code:
        return ""
    country = load_vocabulary().countries.get(code)
    return country.name(lang()) if country else code


def institution_name(institution_id: str | None) -> str:
    """An institution's name by id: what a record without a country shows as its holder (an
    international or regional body)."""
    if not institution_id:
        return ""
    from sscmatch.web import get_session  # the request's session; web imports this module

    found = get_session().get(Institution, institution_id)
    return found.name if found else institution_id


def theme_label(theme_id: str) -> str:
    theme = load_vocabulary().themes.get(theme_id)
    return theme.label(lang()) if theme else theme_id


@functools.lru_cache(maxsize=16_384)
def _built_url(app: Flask, script_root: str, endpoint: str, items: tuple[Any, ...]) -> str:
    return url_for(endpoint, **dict(items))


def fast_url_for(endpoint: str, **values: Any) -> str:
    """``url_for`` that remembers what it built.

    A list or dashboard page builds one to two hundred links, and Werkzeug's builder takes tens
    of microseconds each: a tenth of such a page. A relative URL depends only on the app, the
    script root (where the app is mounted), the endpoint and the values (this app registers no
    URL defaults or subdomains), so it is kept under exactly those. External or special links
    (``_external``, ``_anchor``…) and unhashable values are built each time."""
    if not has_request_context() or any(key.startswith("_") for key in values):
        return url_for(endpoint, **values)
    try:
        items = tuple(sorted(values.items()))
        return _built_url(current_app._get_current_object(), request.script_root, endpoint, items)  # type: ignore[attr-defined]
    except TypeError:  # an unhashable value (a list of query values)
        return url_for(endpoint, **values)


def url_if(endpoint: str, **values: Any) -> str | None:
    """The URL of ``endpoint`` if that page exists (areas link to each other through this)."""
    if endpoint not in current_app.view_functions:
        return None
    return fast_url_for(endpoint, **values)


def init_app(app: Flask) -> None:
    from sscmatch.workflow.users import DEMO_ACCOUNTS

    app.jinja_env.globals.update(
        url_for=fast_url_for,
        nav_links=nav_links,
        get_locale=lang,
        role_label=lambda role: ROLE_LABELS.get(role, role),
        status_label=lambda status: STATUS_LABELS.get(status, status),
        maturity_label=lambda maturity: MATURITY_LABELS.get(maturity, maturity),
        country_name=country_name,
        institution_name=institution_name,
        url_if=url_if,
        theme_label=theme_label,
        demo_accounts=lambda: DEMO_ACCOUNTS if app.config.get("DEMO") else (),
    )
