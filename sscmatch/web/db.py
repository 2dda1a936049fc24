"""The request's database session, as flaskr keeps ``get_db`` in its ``db`` module.

:func:`get_session` opens one session per request (or app context) on first use; the teardown
:func:`init_app` registers closes it. The engine and the session class live below the edge, in
:mod:`sscmatch.db`, which must not import Flask (``tests/test_architecture.py``); this module is
their Flask side and imports nothing else of ours, so every view module imports it at the top.
"""

from __future__ import annotations

from flask import Flask, current_app, g

from sscmatch.db import VersionedSession


def get_session() -> VersionedSession:
    """The request's session, opened on first use and closed on teardown."""
    if "db_session" not in g:
        g.db_session = VersionedSession(
            current_app.extensions["sscmatch.engine"], expire_on_commit=False
        )
    session: VersionedSession = g.db_session
    return session


def close_session(_exc: BaseException | None = None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_session)
