"""Sign-in, sign-out, the account page (API token) and loading the current user.

Sign-in rules (throttling per e-mail, client and device; identical answers for every e-mail) are
in :mod:`sscmatch.workflow.accounts`. This module adds the device cookie: after a successful
sign-in the browser keeps a signed cookie naming the account (by a digest of its e-mail) with a
random nonce, which lets it past a lockout that an attacker caused (see the README, *Security*).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import event
from sqlmodel import Session, col, select
from wtforms import BooleanField, EmailField, PasswordField, SelectField
from wtforms.validators import DataRequired, EqualTo, Length

from sscmatch.models import User
from sscmatch.schemas import whole_number
from sscmatch.vocab import INTERFACE_LANGUAGES
from sscmatch.web.access import PUBLIC, SIGNED_IN, access, rule_for
from sscmatch.web.db import get_session
from sscmatch.web.errors import answer
from sscmatch.web.i18n import language_choices
from sscmatch.web.pageform import PageForm
from sscmatch.web.sent_once import SentMeanwhile, aside, is_aside, sent_meanwhile, sent_once
from sscmatch.web.textlimit import TextLength
from sscmatch.web.translate import gettext as _
from sscmatch.web.translate import lazy_gettext as _l
from sscmatch.web.translate import ngettext
from sscmatch.workflow.accounts import (
    SignInAttempt,
    TooManyAttempts,
    WrongCredentials,
    admit,
    check,
    hash_token,
    housekeeping,
    issue_api_token,
    may_sign_in,
    record_failed_sign_in,
    user_for_token,
    withdraw,
)
from sscmatch.workflow.audit import record_event
from sscmatch.workflow.base import N_
from sscmatch.workflow.reminders import catalogue
from sscmatch.workflow.throttle import email_digest
from sscmatch.workflow.users import (
    BROWSER_LANGUAGE,
    MAX_EMAIL,
    MIN_PASSWORD_LENGTH,
    SESSIONS_ENDED,
    end_sessions,
    sessions_ended_here,
    set_language,
    set_password,
)

bp = Blueprint("auth", __name__)
login_manager = LoginManager()


@dataclass(frozen=True)
class CurrentUser(UserMixin):  # type: ignore[misc]
    """What the views need to know about the signed-in user (no live database row)."""

    id: int
    email: str
    name: str
    role: str
    country: str | None
    constituency: str | None
    language: str

    @classmethod
    def of(cls, user: User) -> CurrentUser:
        assert user.id is not None
        return cls(
            user.id,
            user.email,
            user.name,
            user.role,
            user.country,
            user.constituency,
            user.language,
        )

    def get_id(self) -> str:
        return str(self.id)

    @property
    def display(self) -> str:
        return self.name or self.email


AUTH_VERSION = "auth_version"  # the session's copy of User.auth_version at sign-in


def _demo_mode() -> bool:
    return bool(current_app.config.get("DEMO"))


@login_manager.user_loader  # type: ignore[untyped-decorator]
def _load_user(user_id: str) -> CurrentUser | None:
    if request.path.startswith("/api/"):
        return None  # the API trusts tokens only, never the browser's session cookie
    number = whole_number(user_id, 1)
    user = get_session().get(User, number) if number is not None else None
    if user is None or not may_sign_in(user, _demo_mode()):
        return None
    if session.get(AUTH_VERSION) != user.auth_version:
        return None  # signed out, new password, new role…: this session (or a copy) has ended
    _hold_access(user, None)
    return CurrentUser.of(user)


@login_manager.request_loader  # type: ignore[untyped-decorator]
def _load_user_from_token(req: Any) -> CurrentUser | None:
    """An API token signs in to the API alone: a page asked with one is asked by nobody (a
    token that leaked must not open the pages, whose forms would then give it a CSRF token and
    everything the API does not offer), as the API ignores the pages' session cookie."""
    # "Bearer", "bearer": an authentication scheme's name is read whatever its case (RFC 9110)
    scheme, *token = req.headers.get("Authorization", "").split(None, 1)[:2] or [""]
    if scheme.lower() != "bearer" or not token or not req.path.startswith("/api/"):
        return None
    user = user_for_token(get_session(), token[0].strip(), _demo_mode())
    if user is None:
        return None
    _hold_access(user, hash_token(token[0].strip()))
    return CurrentUser.of(user)


# ----- access that ends while a request is carried out ------------------------------------------


class AccessEnded(Exception):
    """The session or API token that let the request in ended before its change was committed."""


@dataclass
class _LetIn:
    """Checks again, in the transaction that commits the request's change, that the session or
    API token that let it in still holds (:func:`_hold_access`). The account's row is read
    ``FOR SHARE`` (PostgreSQL; on SQLite the writing transaction holds the database's write
    lock), so a sign-out, new password, new role or deactivation committing at that moment waits
    for this commit, and one committed since the request began is seen: a change let in before
    an admin's "deactivate" was otherwise committed after it had answered. The sessions a
    transaction ended itself (its owner's new password) are counted out; an ending by anyone
    else meanwhile refuses it (a password change or a new token let in before a deactivation
    is no exception: the exemption of the changes made here once let both through). Signing
    out is public: not held. Once a commit has written the request's change, the rest is
    bookkeeping (where a form sent once led) and is not checked, nor are the sign-in
    throttle's counters."""

    user_id: int
    auth_version: int  # the browser session's (an API token's request: its account's)
    token_hash: str | None  # the API token's; None for a browser session
    demo_mode: bool
    wrote: bool = False
    done: bool = False

    def install(self, db: Session) -> None:
        for name in ("before_commit", "after_flush", "after_commit", "after_rollback"):
            event.listen(db, name, getattr(self, name))

    def before_commit(self, db: Session) -> None:
        if self.done or is_aside():
            return  # the change made already, or the sign-in throttle's counters
        db.flush()  # the change first: on SQLite its write lock, then the look
        query = select(User).where(col(User.id) == self.user_id).with_for_update(read=True)
        user = db.exec(query.execution_options(populate_existing=True)).first()
        if user is None or not may_sign_in(user, self.demo_mode):
            raise AccessEnded
        if self.token_hash is not None:
            if user.api_token_hash != self.token_hash:
                raise AccessEnded
        elif user.auth_version != self.auth_version + sessions_ended_here(db, self.user_id):
            raise AccessEnded  # its own new password counted out, nobody else's ending

    def after_flush(self, _db: Session, _context: Any) -> None:
        self.wrote = True

    def after_commit(self, db: Session) -> None:
        db.info.pop(SESSIONS_ENDED, None)
        self.done = self.done or (self.wrote and not is_aside())
        self.wrote = False

    def after_rollback(self, db: Session) -> None:
        db.info.pop(SESSIONS_ENDED, None)
        self.wrote = False


def _hold_access(user: User, token_hash: str | None) -> None:
    """Check again when the request commits that ``user``'s session (or API token) still holds;
    signing in and out, public, need nothing held."""
    if user.id is None or PUBLIC in (rule_for(request.endpoint) or ()):
        return
    _LetIn(user.id, user.auth_version, token_hash, _demo_mode()).install(get_session())


@bp.app_errorhandler(AccessEnded)
def _access_ended(_exc: AccessEnded) -> Any:
    get_session().rollback()
    return answer(
        401,
        "unauthorized",
        _(
            "Your session or API token ended while this request was carried out (signed out "
            "elsewhere, a new password, role or token, or the account deactivated): nothing "
            "of it was saved."
        ),
    )


class LoginForm(PageForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), TextLength(max=MAX_EMAIL)])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


def local_address(target: str | None) -> str | None:
    """``target`` if a browser reads it as an address on this site (``/needs?page=2``), else
    None: the one check of every address a request asks to be sent back to (``next`` of the
    sign-in and of the language switcher). A browser drops tabs and line breaks from an address
    and reads ``\\`` as ``/``, so ``/\\evil.com`` and ``/<tab>/evil.com`` are ``//evil.com``,
    another site; those, and any other control character, are refused."""
    if not target or any(ord(c) < 0x20 or c == "\x7f" for c in target):
        return None
    read = target.replace("\\", "/")
    if urlsplit(read).netloc or not read.startswith("/") or read.startswith("//"):
        return None
    return target


def _safe_next(target: str | None) -> str:
    return local_address(target) or url_for("main.index")


# ----- the device cookie -------------------------------------------------------------------------

DEVICE_COOKIE = "sscmatch_device"
DEVICE_LIFETIME = timedelta(days=365)
DEVICES_PER_BROWSER = 5  # accounts one browser remembers (a shared office computer)


def _device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(str(current_app.config["SECRET_KEY"]), salt="sscmatch-device")


def _remembered_devices() -> list[tuple[str, str]]:
    """(e-mail digest, nonce) pairs of this browser's device cookie; [] if absent or forged."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return []
    try:
        entries = _device_serializer().loads(raw, max_age=int(DEVICE_LIFETIME.total_seconds()))
    except BadData:
        return []
    if not isinstance(entries, list):
        return []
    return [
        (e[0], e[1])
        for e in entries
        if isinstance(e, list) and len(e) == 2 and all(isinstance(x, str) for x in e)
    ]


def _device_for(email: str) -> str | None:
    digest = email_digest(email)
    return next((nonce for d, nonce in _remembered_devices() if d == digest), None)


def _remember_device(response: Any, email: str) -> None:
    """After a successful sign-in: a fresh nonce for this account in the browser's cookie."""
    import secrets

    digest = email_digest(email)
    others = [[d, n] for d, n in _remembered_devices() if d != digest]
    entries = [[digest, secrets.token_urlsafe(18)], *others[: DEVICES_PER_BROWSER - 1]]
    response.set_cookie(
        DEVICE_COOKIE,
        _device_serializer().dumps(entries),
        max_age=int(DEVICE_LIFETIME.total_seconds()),
        httponly=True,
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        samesite="Lax",
    )


# ----- signing in --------------------------------------------------------------------------------


def _client_address() -> str:
    """The client's address (behind TRUSTED_PROXIES reverse proxies, the one they forwarded)."""
    return request.remote_addr or "unknown"


def verify_sign_in(db: Session, email: str, password: str) -> User:
    """Check an e-mail and password under the throttling rules; raise a ``SignInError``.

    Commits twice: the attempt's reservation before the password check (so parallel attempts on
    other workers see it), and the outcome after, each on its own: bookkeeping, never the
    change of a form sent once (:func:`sscmatch.web.sent_once.aside`), so a password change
    sent twice at the same moment, whose second sending meets the first's change and is rolled
    back, leaves no failure counted. Its second sending checked after the first changed the
    password (the current one given is then the old one) hands its attempt back and raises
    :class:`~sscmatch.web.sent_once.SentMeanwhile`: no failure either. The caller commits what
    it adds on success."""
    attempt = SignInAttempt(
        email=email,
        password=password,
        client=_client_address(),
        device=_device_for(email),
        demo_mode=_demo_mode(),
    )
    with aside():
        try:
            admission = admit(db, attempt)
        except TooManyAttempts:
            db.commit()
            raise
        db.commit()
        try:
            user = check(db, admission)
        except WrongCredentials:
            if sent_meanwhile(db):  # this form's first sending changed the password meanwhile
                withdraw(db, admission)
                db.commit()
                raise SentMeanwhile() from None
            db.commit()
            raise
        db.commit()
    return user


def _still_signing_in(db: Session, user: User) -> bool:
    """Whether ``user`` may still sign in with the password just checked, read again in the
    transaction that records the sign-in (``FOR SHARE`` on PostgreSQL; on SQLite after the
    flush, under the write lock). An ending committed while the password was checked used to
    give a session dead on arrival (its version read before) and an audit "sign_in" after a
    deactivation: now a deactivation or a new password refuses the sign-in, and a sign-out
    elsewhere, a new role or country give the session the account's version as it is now."""
    checked = user.password_hash
    db.flush()
    query = select(User).where(col(User.id) == user.id).with_for_update(read=True)
    now = db.exec(query.execution_options(populate_existing=True)).first()
    return now is not None and may_sign_in(now, _demo_mode()) and now.password_hash == checked


def _tidy_counters(db: Session) -> None:
    """Drop counters whose window ended, in a transaction of its own; never fails a request."""
    try:
        housekeeping(db)
        db.commit()
    except Exception:
        db.rollback()
        current_app.logger.exception("could not purge old sign-in counters")


def refusal_message(exc: Exception) -> tuple[str, int]:
    """What a refused sign-in says, and its HTTP status (the same for every e-mail)."""
    if isinstance(exc, TooManyAttempts):
        minutes = max(1, math.ceil(exc.retry_after / 60))
        return ngettext(
            "Too many failed sign-ins. Try again in %(num)s minute. A browser that has "
            "signed in to this account before is not held back.",
            "Too many failed sign-ins. Try again in %(num)s minutes. A browser that has "
            "signed in to this account before is not held back.",
            minutes,
        ), 429
    return _("Wrong e-mail or password."), 401


@bp.route("/login", methods=["GET", "POST"])
@access(PUBLIC)
def login() -> Any:
    form = LoginForm()
    if form.validate_on_submit():
        db = get_session()
        email = form.email.data or ""
        try:
            user = verify_sign_in(db, email, form.password.data or "")
        except (WrongCredentials, TooManyAttempts) as exc:
            message, status = refusal_message(exc)
            flash(message, "error")
            response = make_response(render_template("auth/login.html", form=form), status)
            if isinstance(exc, TooManyAttempts):
                response.headers["Retry-After"] = str(exc.retry_after)
            else:
                record_failed_sign_in(db, email)
                db.commit()
            _tidy_counters(db)
            return response
        record_event(db, user_id=user.id, action="sign_in", entity="user", entity_id=user.id or 0)
        if not _still_signing_in(db, user):
            db.rollback()
            flash(refusal_message(WrongCredentials())[0], "error")
            return make_response(render_template("auth/login.html", form=form), 401)
        db.commit()
        login_user(CurrentUser.of(user))
        session[AUTH_VERSION] = user.auth_version
        if user.language in INTERFACE_LANGUAGES:  # else the language the sign-in page was in
            session["lang"] = user.language
        response = make_response(redirect(_safe_next(request.args.get("next"))))
        _remember_device(response, email)
        _tidy_counters(db)
        return response
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@access(PUBLIC)
def logout() -> Any:
    """Sign out: every session of the account ends, on every device (a copy of this browser's
    cookie included). API tokens stay: scripts are not signed in through the browser. Sent
    again (a double click), or from a page left open after signing out, it says so: signed
    out already (not the sign-in page, which led back to this address, a POST)."""
    if not current_user.is_authenticated:
        flash(_("You are signed out."), "info")
        return redirect(url_for("main.index"))
    db = get_session()
    end_sessions(db, current_user.id)
    record_event(
        db, user_id=current_user.id, action="sign_out", entity="user", entity_id=current_user.id
    )
    db.commit()
    logout_user()
    session.pop(AUTH_VERSION, None)
    flash(_("You are signed out."), "info")
    return redirect(url_for("main.index"))


class TokenForm(PageForm):
    # Asked only when the account has a token: a new one ends it, and that cannot be undone.
    replace = BooleanField(
        _l(
            "I understand: the current token stops working, and scripts that use it need the "
            "new one."
        )
    )


class PasswordChangeForm(PageForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(),
            Length(
                min=MIN_PASSWORD_LENGTH,
                message=_l(
                    "The password must have at least %(n)s characters.", n=MIN_PASSWORD_LENGTH
                ),
            ),
        ],
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


LANGUAGE_SAVED = N_("Your language is saved: the pages and your e-mails use it.")


class LanguageForm(PageForm):
    language = SelectField(_l("Language of the pages and of your e-mails"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.language.choices = language_choices()


def _account_page(
    token: str | None = None,
    password_form: Any = None,
    language_form: Any = None,
    token_form: Any = None,
    status: int = 200,
) -> Any:
    if language_form is None:
        language_form = LanguageForm(formdata=None, language=current_user.language)
    user = get_session().get(User, current_user.id)
    return render_template(
        "auth/account.html",
        form=token_form or TokenForm(formdata=None),
        has_token=bool(user and user.api_token_hash),
        password_form=password_form or PasswordChangeForm(formdata=None),
        language_form=language_form,
        token=token,
        min_password=MIN_PASSWORD_LENGTH,
    ), status


@bp.post("/account/language")
@access(SIGNED_IN)
@sent_once
def change_language() -> Any:
    """The account's language: the pages at each sign-in, on any device, and the reminder
    digests. (The header's switcher changes this browser's pages only.)"""
    form = LanguageForm()
    if not form.validate_on_submit():
        return _account_page(language_form=form, status=400)
    db = get_session()
    language = form.language.data or BROWSER_LANGUAGE
    if set_language(db, current_user.id, language):
        record_event(
            db,
            user_id=current_user.id,
            action="change_language",
            entity="user",
            entity_id=current_user.id,
        )
        db.commit()
    if language in INTERFACE_LANGUAGES:
        session["lang"] = language
    else:  # the browser's again: forget this browser's choice of the header's switcher too
        session.pop("lang", None)
        language = request.accept_languages.best_match(INTERFACE_LANGUAGES) or "en"
    # Said in the language chosen: this request's pages were drawn in the one before.
    flash(catalogue(language).ugettext(LANGUAGE_SAVED), "info")
    return redirect(url_for("auth.account"))


@bp.route("/account", methods=["GET", "POST"])
@access(SIGNED_IN)
@sent_once
def account() -> Any:
    form = TokenForm()
    token = None
    if form.validate_on_submit():
        db = get_session()
        user = db.get(User, current_user.id)
        assert user is not None
        if user.api_token_hash and not form.replace.data:
            form.replace.errors = [_("Tick this box to replace the current token.")]
            return _account_page(token_form=form, status=400)
        token = issue_api_token(db, user)
        record_event(
            db, user_id=user.id, action="issue_token", entity="user", entity_id=user.id or 0
        )
        db.commit()
    return _account_page(token)


@bp.post("/account/password")
@access(SIGNED_IN)
@sent_once
def change_password() -> Any:
    """A new password, given the current one (checked under the sign-in throttling rules). The
    account's other sessions end and its API token stops working; this browser stays in."""
    form = PasswordChangeForm()
    valid = form.validate_on_submit()
    if not form.current.data or form.current.errors:  # nothing to check it with
        return _account_page(password_form=form, status=400)
    # The current password is checked even when the new one is refused: every problem of
    # the form at once, not a wrong current password found on the next try.
    db = get_session()
    try:
        user = verify_sign_in(db, current_user.email, form.current.data)
    except (WrongCredentials, TooManyAttempts) as exc:
        message = (
            refusal_message(exc)[0]
            if isinstance(exc, TooManyAttempts)
            else _("The current password is wrong.")
        )
        form.current.errors = [message]
        return _account_page(password_form=form, status=400)
    if not valid:
        return _account_page(password_form=form, status=400)
    version = set_password(db, user, form.password.data or "")
    record_event(
        db, user_id=user.id, action="change_password", entity="user", entity_id=user.id or 0
    )
    db.commit()
    session[AUTH_VERSION] = version
    flash(
        _(
            "Your password is changed. Your other sessions are signed out and your API token "
            "no longer works; make a new one if scripts need it."
        ),
        "info",
    )
    return redirect(url_for("auth.account"))
