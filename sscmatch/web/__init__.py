"""The edge: extensions (sign-in, CSRF, translations), access rules, blueprints, error pages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask import Flask, request
from flask_babel import Babel
from flask_login import current_user
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from sscmatch.db import VersionedSession
from sscmatch.web import db, errors, pageform
from sscmatch.web.translate import lazy_gettext as _l

csrf = CSRFProtect()
babel = Babel()

TRANSLATIONS = Path(__file__).resolve().parents[1] / "translations"

# Content Security Policy: everything from our own origin, no inline script.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


NUL_MESSAGE = _l("Text may not contain NUL characters; remove them and send again.")


def _has_nul(value: Any) -> bool:
    """Whether a NUL is in ``value`` or anything it holds (a loop, not recursion: depth is
    bounded by the JSON provider, but a loop needs no such promise)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _refuse_nul() -> Any:
    """before_request (after the access check): no NUL character in the address, query, form or
    JSON body. Databases refuse them (PostgreSQL cannot store one in text), so they would turn
    into errors deep down; here they get a 400 that says what is wrong. One typed in a page
    form's field is the form's to refuse, beside that field, the rest of the text kept and
    nothing written (:func:`sscmatch.web.pageform.hold_nul`)."""
    if request.endpoint is None:
        return None
    found = (
        _has_nul(request.view_args or {})
        or any(_has_nul(k) or _has_nul(v) for k, v in request.args.items(multi=True))
        or any(_has_nul(k) for k in request.form)
        or (request.is_json and _has_nul(request.get_json(silent=True)))
    )
    typed = {k for k, v in request.form.items(multi=True) if _has_nul(v)}
    if not found and not typed:
        return None
    if not found and not request.path.startswith("/api/"):
        # typed in a page form's field: the form says so beside it, the rest kept
        pageform.hold_nul(typed)
        return None
    # in the reader's language, in the shape of every refusal: the API's JSON, and a page
    # script's (views marked errors.answers_json), else the error page
    return errors.answer(400, "bad_text", str(NUL_MESSAGE))


HSTS = "max-age=31536000"  # one year; no includeSubDomains: other hosts of the domain are not ours
ALWAYS_PRIVATE = frozenset({"auth.login", "auth.account", "auth.change_password"})


def _security_headers(response: Any) -> Any:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.is_secure:  # over HTTPS (behind TRUSTED_PROXIES, as the proxy says): stay on it
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if request.endpoint != "static" or response.status_code >= 400:
        # Its words may be in the browser's language (i18n.select_locale): a cache that may
        # keep a public page (the home page, an error page) keeps one per language, not the
        # first visitor's Spanish page for the next one's French browser.
        response.vary.add("Accept-Language")
    if response.headers.get("Cache-Control") == "no-store":
        return response  # already private (readiness's answers: nothing may load the user)
    if request.endpoint != "static" and (
        request.endpoint in ALWAYS_PRIVATE or current_user.is_authenticated
    ):
        # What a signed-in user sees (an API token on the account page, records, exports) must
        # not stay in a browser's or a proxy's cache for the next person at a shared computer.
        response.headers["Cache-Control"] = "no-store"
    return response


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` limited to what an INTEGER column holds: a larger id is unknown (404), not a
    database error (PostgreSQL refuses to compare an INTEGER with 2**31 or more). Written in
    ASCII digits only, as numbers in query strings are: Werkzeug's ``\\d`` also takes ``١`` or
    ``１``, which made ``/review/proposals/١`` a second address of proposal 1."""

    regex = "[0-9]+"  # its signed form, Werkzeug's property: "-?" before it

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def _head_is_get() -> None:
    """before_request: a HEAD request is the GET of the same page without its body (RFC 9110),
    so the views see it as a GET. The router already sends HEAD to the GET rule, but a view that
    shows a page and takes its form (``if request.method == "GET": …`` else the form's branch)
    took HEAD for a sending of the form: ``HEAD /admin/import`` answered 400 "the form
    expired". The answer stays bodiless: Werkzeug reads the method from the request's
    environment when it sends it."""
    if request.method == "HEAD":
        request.method = "GET"


class _ReadBody:
    """The request body as the server hands it over (``wsgi.input``), failing as Werkzeug
    expects when it cannot be read. Werkzeug answers a body that ends early 400 (it catches
    ``OSError`` and ``ValueError`` while reading, :class:`werkzeug.exceptions.ClientDisconnected`),
    but gunicorn refuses a malformed chunked body (``Transfer-Encoding: chunked`` with a chunk
    size that is not hexadecimal, a chunk without its CRLF…) with its own ``ParseException``,
    which was a 500 on every route that reads a body: here it is an ``OSError`` like any other
    body that cannot be read, so it gets the same 400 in the reader's language (the API's JSON
    too, :mod:`sscmatch.web.errors`).

    ``limit``: a body that states no length (chunked) may not pass it. Werkzeug stops reading
    such a body at ``MAX_CONTENT_LENGTH`` and, read whole (``get_data``, the JSON), takes those
    first bytes for all of it: 22 MB of JSON was answered "expected a JSON object" instead of
    413. Reaching the limit, one byte more is asked for; if there is one, 413."""

    def __init__(self, stream: Any, limit: int | None = None) -> None:
        self._stream, self._limit, self._read = stream, limit, 0

    def _reading(self, how: str, *args: Any) -> Any:
        try:
            return getattr(self._stream, how)(*args)
        except (OSError, ValueError):
            raise
        except Exception as exc:  # the server's own refusal of the body's framing
            raise OSError(f"unreadable request body: {exc}") from exc

    def _counted(self, data: bytes) -> bytes:
        self._read += len(data)
        if self._limit is not None and self._read >= self._limit and self._reading("read", 1):
            raise RequestEntityTooLarge()
        return data

    def read(self, *args: Any) -> bytes:
        return self._counted(bytes(self._reading("read", *args)))

    def readline(self, *args: Any) -> bytes:
        return self._counted(bytes(self._reading("readline", *args)))

    def readlines(self, *args: Any) -> list[bytes]:
        return [self._counted(bytes(line)) for line in self._reading("readlines", *args)]

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.readline, b"")


def _readable_bodies(app: Flask) -> Any:
    """``app``'s WSGI application reading every request body through :class:`_ReadBody`, held
    to ``MAX_CONTENT_LENGTH`` when the server says it ends the body (``wsgi.input_terminated``:
    gunicorn, a chunked body on Werkzeug's server), so that asking for one byte more never
    waits for the connection's next request. A stated length over the limit is refused by
    Werkzeug before anything is read."""
    wsgi_app = app.wsgi_app

    def read_through(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("wsgi.input") is not None:
            ends = environ.get("wsgi.input_terminated")  # the server ends the body: safe to ask
            limit = app.config.get("MAX_CONTENT_LENGTH") if ends else None
            environ["wsgi.input"] = _ReadBody(environ["wsgi.input"], limit)
        return wsgi_app(environ, start_response)

    return read_through


def _warm_network_cache(app: Flask) -> None:
    """At the first request of a worker, build the unfiltered network in the background: at
    200,000 exchanges reading them takes seconds, which the first visitor of the network page
    would otherwise wait for. CLI commands never trigger it (they make no requests)."""
    import threading

    started = threading.Event()

    def warm() -> None:
        from sscmatch.analytics.data import warm_cache

        try:
            warm_cache(app.extensions["sscmatch.engine"])
        except Exception:  # a cache is an optimisation: never let it break serving
            app.logger.exception("could not warm the network cache")

    @app.before_request
    def _start_warming() -> None:
        if not started.is_set():
            started.set()
            threading.Thread(target=warm, name="warm-network-cache", daemon=True).start()


def _sweep_interrupted_runs(app: Flask) -> None:
    """At a worker's first request, move on the jobs of job workers that stopped (a restart
    of the whole deployment), and mark failed the match runs that no job will finish; see
    :func:`sscmatch.jobs.recover` and :func:`sscmatch.workflow.matchruns.sweep_interrupted`.
    Pages that show a job, and every job worker, recover too."""
    import threading

    done = threading.Event()

    @app.before_request
    def _sweep_once() -> None:
        if done.is_set():
            return
        done.set()
        from sscmatch.jobs import recover
        from sscmatch.workflow.matchruns import sweep_interrupted

        try:
            recover(app.extensions["sscmatch.engine"])
            with VersionedSession(app.extensions["sscmatch.engine"]) as session:
                swept = sweep_interrupted(session)
                session.commit()
        except Exception:  # housekeeping must never stop the request it rides on
            app.logger.exception("could not sweep interrupted match runs")
            return
        if swept:
            app.logger.warning("match runs %s were interrupted; marked failed", swept)


def init_app(app: Flask) -> None:
    from sscmatch import cli

    # Modules with a comment add their routes to another area's blueprint: imported for that.
    from sscmatch.web import (  # noqa: F401
        access,
        admin,
        auth,
        calibrations,  # matching's blueprint: /matching/calibrate, /matching/calibrations…
        conflict,
        export_routes,  # the registry's, review's and followup's: each list's export
        followup,
        followup_list,  # followup's: /followup/commitments
        i18n,
        imports,  # admin's: /admin/import
        json_bounds,
        main,
        matching,
        need_steps,  # registry's: a need's endorsement steps
        network,
        readiness,
        reasons,
        registry,
        review,
        review_actions,  # review's: decisions, reverts, vetoes
        review_bulk,  # review's: one decision over many proposals
        review_needs,  # review's: the needs' view
        sent_once,
        templating,
        tour_editor,  # tours': the tour's edit form
        tours,
        translate,
    )
    from sscmatch.web import api as api_package
    from sscmatch.web.api import load_modules

    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies > 0:  # client address and scheme as the reverse proxies forwarded them
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies
        )
    app.wsgi_app = _readable_bodies(app)  # type: ignore[method-assign]
    app.json = json_bounds.BoundedJSONProvider(app)
    app.url_map.converters["int"] = BoundedIntConverter
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    # Flask's own defaults (SameSite None, Secure False) are already in the config, so setdefault
    # would never apply: replace them unless a setting chose otherwise.
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    if not app.config.get("SESSION_COOKIE_SAMESITE"):
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    if not app.config.get("SESSION_COOKIE_SECURE"):
        app.config["SESSION_COOKIE_SECURE"] = not (
            app.debug or app.testing or app.config.get("DEMO")
        )
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    app.config.setdefault("REMEMBER_COOKIE_SAMESITE", app.config["SESSION_COOKIE_SAMESITE"])
    app.config.setdefault("REMEMBER_COOKIE_SECURE", app.config["SESSION_COOKIE_SECURE"])
    app.config["MAX_CONTENT_LENGTH"] = int(app.config["MAX_UPLOAD_MB"]) * 1024 * 1024
    # A form's CSRF token lives as long as the session that holds it (Flask-WTF's default was an
    # hour): a focal point writing a long description was refused on sending, the text lost. A
    # session ends on signing out, a new password and the other ways the README lists.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)

    db.init_app(app)
    readiness.init_app(app)  # the first check of every request: the database is ready
    app.before_request(_head_is_get)
    errors.init_app(app)
    conflict.init_app(app)
    app.after_request(_security_headers)

    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    translate.install(app)
    auth.login_manager.init_app(app)
    auth.login_manager.login_view = "auth.login"
    app.before_request(access.enforce)
    app.before_request(_refuse_nul)

    blueprints = (main, auth, i18n, registry, review, matching, admin, tours, followup, network)
    for module in blueprints:
        app.register_blueprint(module.bp)
    load_modules()
    csrf.exempt(api_package.bp)  # the API ignores cookies and trusts Bearer tokens only
    app.register_blueprint(api_package.bp)
    app.jinja_env.globals["LANGUAGE_NAMES"] = i18n.LANGUAGE_NAMES
    templating.init_app(app)
    reasons.init_app(app)
    sent_once.init_app(app)  # the forms' one-time key field
    cli.register(app)
    _sweep_interrupted_runs(app)
    warm = app.config.get("WARM_CACHE")  # declared, so present: None is "unset"
    if warm is None:
        warm = not app.testing
    if warm:
        _warm_network_cache(app)
