"""Page bodies kept between requests while the data they show is unchanged.

Some pages (the network, charts, country profiles, the follow-up dashboard) render thousands of
elements from data that changes rarely; rendering was most of their time. Their body lives in
its own template (``<folder>/_<page>_content.html``) that may depend only on the data, the
address (path and query), the interface language and an explicit key (such as today's date),
never on who is signed in. It is rendered once per database, version of the records
(:func:`sscmatch.db.change_version`) and key; the page around it (menu, flashed messages, the
language switcher with its CSRF token) is rendered for every request.

The store is per process, least recently used first out, within :data:`BODY_CACHE_CHARS`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from flask import render_template, request
from markupsafe import Markup

from sscmatch.db import change_version, database_key
from sscmatch.web.translate import current_lang

BODY_CACHE_CHARS = 32_000_000
"""Characters of HTML kept: a body is a few kB to a few MB (a country with thousands of
exchanges); one larger than an eighth of this is rendered each time instead."""

_LOCK = threading.Lock()
_BODIES: OrderedDict[Hashable, str] = OrderedDict()


def render_kept(
    folder: str,
    page: str,
    key: tuple[Hashable, ...],
    make_context: Callable[[], dict[str, Any]],
    **shell: Any,
) -> str:
    """``<folder>/<page>.html`` with ``content`` = ``<folder>/_<page>_content.html`` rendered
    with ``make_context()``, which runs only when no kept body fits."""
    from sscmatch.web import get_session

    session = get_session()
    changes = change_version(session)  # None: this request wrote and has not committed
    full_key: Hashable | None = None
    if changes is not None:
        full_key = (
            database_key(session),
            changes,
            folder,
            page,
            request.full_path,
            current_lang(),
            *key,
        )
    body = _recall(full_key)
    if body is None:
        body = render_template(f"{folder}/_{page}_content.html", **make_context())
        if full_key is not None:
            _keep(full_key, body)
    return render_template(f"{folder}/{page}.html", content=Markup(body), **shell)


def _recall(key: Hashable | None) -> str | None:
    if key is None:
        return None
    with _LOCK:
        body = _BODIES.get(key)
        if body is not None:
            _BODIES.move_to_end(key)
        return body


def _keep(key: Hashable, body: str) -> None:
    if len(body) > BODY_CACHE_CHARS // 8:
        return
    with _LOCK:
        _BODIES[key] = body
        total = sum(map(len, _BODIES.values()))
        while total > BODY_CACHE_CHARS:
            total -= len(_BODIES.popitem(last=False)[1])


def clear() -> None:
    """Forget every kept body (for tests and benchmarks)."""
    with _LOCK:
        _BODIES.clear()
