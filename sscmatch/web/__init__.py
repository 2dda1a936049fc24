"""The edge: blueprints, per-request database sessions and error pages."""

from __future__ import annotations

from typing import Any

from flask import Flask, g, jsonify, render_template, request
from sqlmodel import Session
from werkzeug.exceptions import HTTPException

from sscmatch.web import main


def get_session() -> Session:
    """The request's session, opened on first use and closed on teardown."""
    if "db_session" not in g:
        from flask import current_app

        g.db_session = Session(current_app.extensions["sscmatch.engine"], expire_on_commit=False)
    session: Session = g.db_session
    return session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _http_error(exc: HTTPException) -> Any:
    code = exc.code or 500
    if _wants_json():
        name = (exc.name or "error").lower().replace(" ", "_")
        return jsonify(error=name, message=exc.description), code
    return render_template("error.html", code=code, title=exc.name, message=exc.description), code


def init_app(app: Flask) -> None:
    app.teardown_appcontext(_close_session)
    app.register_error_handler(HTTPException, _http_error)
    app.register_blueprint(main.bp)

    from sscmatch import cli

    cli.register(app)
