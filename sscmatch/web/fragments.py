"""Page bodies kept between requests while the data they show is unchanged.

Some pages (the network, charts, country profiles, the follow-up dashboard) render thousands of
elements from data that changes rarely; rendering was most of their time. Their body lives in
its own template (``<folder>/_<page>_content.html``) that may depend only on the data, the
address (path and query), the interface language and an explicit key (such as today's date),
never on who is signed in. It is rendered once per database, version of the records
(:func:`sscmatch.db.change_version`) and key; the page around it (menu, flashed messages, the
language switcher with its CSRF token) is rendered for every request.

The store is the process cache ``page bodies`` (:mod:`sscmatch.caches`), least recently used
first out, within :data:`BODY_CACHE_CHARS`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from flask import render_template, request
from markupsafe import Markup

from sscmatch.caches import Cache
from sscmatch.db import data_key
from sscmatch.web.db import get_session
from sscmatch.web.translate import current_lang

BODY_CACHE_CHARS = 32_000_000
"""Characters of HTML kept: a body is a few kB to a few MB (a country with thousands of
exchanges); one larger than an eighth of this is rendered each time instead."""

_BODIES: Cache[str] = Cache(
    "page bodies", size=BODY_CACHE_CHARS, weight=len, largest=BODY_CACHE_CHARS // 8
)


def render_kept(
    folder: str,
    page: str,
    key: tuple[Hashable, ...],
    make_context: Callable[[], dict[str, Any]],
    **shell: Any,
) -> str:
    """``<folder>/<page>.html`` with ``content`` = ``<folder>/_<page>_content.html`` rendered
    with ``make_context()``, which runs only when no kept body fits."""
    version = data_key(get_session())  # None: this request wrote and has not committed
    full_key: Hashable | None = None
    if version is not None:
        full_key = (*version, folder, page, request.full_path, current_lang(), *key)
    body = _BODIES.get_or_make(
        full_key, lambda: render_template(f"{folder}/_{page}_content.html", **make_context())
    )
    return render_template(f"{folder}/{page}.html", content=Markup(body), **shell)
