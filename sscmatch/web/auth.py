"""Sign-in, sign-out, the account page (API token) and loading the current user."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

from sscmatch.models import User
from sscmatch.web.access import PUBLIC, SIGNED_IN, access
from sscmatch.web.translate import gettext as _
from sscmatch.web.translate import lazy_gettext as _l
from sscmatch.workflow.accounts import SignInError, authenticate, issue_api_token, user_for_token
from sscmatch.workflow.audit import record_event

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


@login_manager.user_loader  # type: ignore[untyped-decorator]
def _load_user(user_id: str) -> CurrentUser | None:
    from sscmatch.web import get_session

    if request.path.startswith("/api/"):
        return None  # the API trusts tokens only, never the browser's session cookie
    user = get_session().get(User, int(user_id)) if user_id.isdigit() else None
    return CurrentUser.of(user) if user is not None and user.active else None


@login_manager.request_loader  # type: ignore[untyped-decorator]
def _load_user_from_token(req: Any) -> CurrentUser | None:
    from sscmatch.web import get_session

    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    user = user_for_token(get_session(), header.removeprefix("Bearer ").strip())
    return CurrentUser.of(user) if user is not None else None


class LoginForm(FlaskForm):  # type: ignore[misc]
    email = EmailField(_l("E-mail"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


def _safe_next(target: str | None) -> str:
    if (
        target
        and urlsplit(target).netloc == ""
        and target.startswith("/")
        and not target.startswith("//")
    ):
        return target
    return url_for("main.index")


@bp.route("/login", methods=["GET", "POST"])
@access(PUBLIC)
def login() -> Any:
    from sscmatch.web import get_session

    form = LoginForm()
    if form.validate_on_submit():
        db = get_session()
        try:
            user = authenticate(db, form.email.data or "", form.password.data or "")
        except SignInError as exc:
            db.commit()  # keep the failure count
            flash(str(exc), "error")
            return render_template("auth/login.html", form=form), 401
        record_event(db, user_id=user.id, action="sign_in", entity="user", entity_id=user.id or 0)
        db.commit()
        login_user(CurrentUser.of(user))
        session["lang"] = user.language
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@access(SIGNED_IN)
def logout() -> Any:
    logout_user()
    flash(_("You are signed out."), "info")
    return redirect(url_for("main.index"))


class TokenForm(FlaskForm):  # type: ignore[misc]
    pass


@bp.route("/account", methods=["GET", "POST"])
@access(SIGNED_IN)
def account() -> Any:
    from sscmatch.web import get_session

    form = TokenForm()
    token = None
    if form.validate_on_submit():
        db = get_session()
        user = db.get(User, current_user.id)
        assert user is not None
        token = issue_api_token(db, user)
        record_event(
            db, user_id=user.id, action="issue_token", entity="user", entity_id=user.id or 0
        )
        db.commit()
    return render_template("auth/account.html", form=form, token=token)
