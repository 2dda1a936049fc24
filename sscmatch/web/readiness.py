"""Pages, the API and ``/healthz`` answer 503 with the cause until the database is ready.

The first check of every request (registered before the access check, which reads the
signed-in user from the database): is the database reachable, and at the schema this version
needs (:func:`sscmatch.schema.schema_state`)? Until it is, every address but the static files
answers 503 with ``Retry-After`` and says what is wrong in the reader's language (the page, the
API's ``{"error", "message"}``, ``/healthz``'s ``status``); once it is, a flag on the app ends the
checks for the process (a schema does not go back) until a request finds the database lost
(``OperationalError``: the same 503, and the checks start again). Without this, an update
deployed without ``sscmatch init-db`` answered every page with "Something went wrong" and
``/healthz`` with "ok".

The answer reads nothing from the database: the language comes from the visitor's session or
browser (not the account's setting), and the page is ``templates/unavailable.html``, without the
menus that need the signed-in user.
"""

from __future__ import annotations

import contextlib
from typing import Any

from flask import Flask, current_app, jsonify, request, session
from flask_babel import force_locale
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError

from sscmatch.schema import SchemaState, schema_state
from sscmatch.vocab import INTERFACE_LANGUAGES
from sscmatch.web import errors
from sscmatch.web.db import get_session
from sscmatch.web.translate import gettext as _

READY = "sscmatch.database_ready"
LOGGED = "sscmatch.database_state_logged"
RETRY_AFTER_SECONDS = 30


def init_app(app: Flask) -> None:
    app.extensions[READY] = False
    app.before_request(refuse_until_ready)
    # The database lost while serving (a restart, the network, a full disk): the same 503, and
    # the next requests check again before anything else.
    app.register_error_handler(OperationalError, _lost)
    app.register_error_handler(InterfaceError, _lost)


def _lost(exc: Exception) -> Any:
    current_app.extensions[READY] = False
    current_app.logger.error("the database failed during a request: %s", exc)
    with contextlib.suppress(SQLAlchemyError):
        get_session().rollback()
    return _unavailable("database_unreachable", None)


def refuse_until_ready() -> Any:
    """before_request: None when the database is ready, else the 503 answer."""
    app = current_app
    if app.extensions.get(READY) or request.endpoint == "static":
        return None
    try:
        state = schema_state(app.extensions["sscmatch.engine"])
    except SQLAlchemyError:
        app.logger.exception("the database cannot be reached")
        return _unavailable("database_unreachable", None)
    if state.ready:
        app.extensions[READY] = True
        return None
    if app.extensions.get(LOGGED) != state:  # once per state, not at every request
        app.extensions[LOGGED] = state
        app.logger.error("not serving: %s", state.describe())
    return _unavailable("database_not_ready", state)


def _message(state: SchemaState | None) -> str:
    if state is None:
        return _("The service cannot reach its database. Try again in a moment.")
    if state.problem == "empty":
        return _(
            "The service's database has not been set up yet: an administrator runs "
            "“sscmatch init-db”, then this page works."
        )
    if state.problem == "behind":
        return _(
            "The service was updated but its database was not: an administrator runs "
            "“sscmatch init-db” (database at revision %(current)s, this version needs "
            "%(head)s), then this page works.",
            current=state.current,
            head=state.head,
        )
    return _(
        "The service's database was upgraded by a newer version of sscmatch (revision "
        "%(current)s, unknown to this one): an administrator starts that version again.",
        current=state.current,
    )


def _visitor_language() -> str:
    chosen = session.get("lang")
    if chosen in INTERFACE_LANGUAGES:
        return str(chosen)
    return request.accept_languages.best_match(INTERFACE_LANGUAGES) or "en"


def _unavailable(code: str, state: SchemaState | None) -> Any:
    lang = _visitor_language()
    answer: Any
    with force_locale(lang):
        text = _message(state)
        if request.path == "/healthz":
            body: dict[str, str | None] = {"status": code, "message": text}
            if state is not None:
                body |= {"database_revision": state.current, "needed_revision": state.head}
            answer = jsonify(body)
        elif errors.json_expected():  # the API, and a page's script (a run's progress)
            answer = jsonify(error=code, message=text)
        else:
            # Straight from the environment: the context processors would load the signed-in
            # user (Flask-Login's current_user) from the database.
            page = current_app.jinja_env.get_template("unavailable.html")
            answer = page.render(title=_("Not available"), message=text, lang=lang)
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
    return answer, 503, headers
