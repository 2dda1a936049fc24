"""The edge: extensions (sign-in, CSRF, translations), access rules, blueprints, error pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, current_app, g, jsonify, render_template, request
from flask_babel import Babel
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlmodel import Session
from werkzeug.exceptions import HTTPException

csrf = CSRFProtect()
babel = Babel()

TRANSLATIONS = Path(__file__).resolve().parents[1] / "translations"

# Content Security Policy: everything from our own origin, no inline script.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def get_session() -> Session:
    """The request's session, opened on first use and closed on teardown."""
    if "db_session" not in g:
        g.db_session = Session(current_app.extensions["sscmatch.engine"], expire_on_commit=False)
    session: Session = g.db_session
    return session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def _http_error(exc: HTTPException) -> Any:
    code = exc.code or 500
    if request.path.startswith("/api/"):
        name = (exc.name or "error").lower().replace(" ", "_")
        return jsonify(error=name, message=exc.description), code
    return render_template("error.html", code=code, title=exc.name, message=exc.description), code


def _csrf_error(exc: CSRFError) -> Any:
    message = (
        "The form expired or was sent from elsewhere (CSRF check failed); reload and try again."
    )
    if request.path.startswith("/api/"):
        return jsonify(error="csrf_failed", message=message), 400
    return render_template("error.html", code=400, title="Bad request", message=message), 400


def _security_headers(response: Any) -> Any:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def init_app(app: Flask) -> None:
    from sscmatch import cli
    from sscmatch.web import (
        access,
        admin,
        auth,
        followup,
        i18n,
        main,
        matching,
        network,
        registry,
        review,
        templating,
        tours,
    )
    from sscmatch.web import api as api_package
    from sscmatch.web.api import load_modules

    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config.setdefault(
        "SESSION_COOKIE_SECURE", not (app.debug or app.testing or app.config.get("DEMO"))
    )
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    app.config["MAX_CONTENT_LENGTH"] = int(app.config["MAX_UPLOAD_MB"]) * 1024 * 1024

    app.teardown_appcontext(_close_session)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.after_request(_security_headers)

    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    auth.login_manager.init_app(app)
    auth.login_manager.login_view = "auth.login"
    app.before_request(access.enforce)

    blueprints = (main, auth, i18n, registry, review, matching, admin, tours, followup, network)
    for module in blueprints:
        app.register_blueprint(module.bp)
    load_modules()
    csrf.exempt(api_package.bp)  # the API ignores cookies and trusts Bearer tokens only
    app.register_blueprint(api_package.bp)
    app.jinja_env.globals["LANGUAGE_NAMES"] = i18n.LANGUAGE_NAMES
    templating.init_app(app)
    cli.register(app)
