"""Signing in: password checks with lockout after repeated failures, and API tokens.

API tokens are random; only their SHA-256 is stored, so a database leak does not leak tokens.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from sscmatch.models import User, utcnow
from sscmatch.workflow.users import verify_password

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)


class SignInError(ValueError):
    """Why a sign-in was refused (the message never says whether the e-mail exists)."""


def authenticate(session: Session, email: str, password: str) -> User:
    """Return the user for a correct e-mail and password; count failures and lock after 5."""
    user = session.exec(select(User).where(User.email == email.strip().lower())).first()
    now = utcnow()
    if user is None or not user.active:
        raise SignInError("Wrong e-mail or password.")
    if user.locked_until is not None and _aware(user.locked_until) > now:
        raise SignInError("Too many failed attempts: this account is locked for 15 minutes.")
    if not verify_password(user, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
        raise SignInError("Wrong e-mail or password.")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    return user


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_api_token(session: Session, user: User) -> str:
    """Give the user a new API token (replacing any old one); return it, shown only once."""
    token = "ssc_" + secrets.token_urlsafe(32)
    user.api_token_hash = hash_token(token)
    session.add(user)
    return token


def user_for_token(session: Session, token: str) -> User | None:
    if not token:
        return None
    query = select(User).where(col(User.api_token_hash) == hash_token(token), col(User.active))
    return session.exec(query).first()
