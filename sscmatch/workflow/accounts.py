"""Signing in (throttled per e-mail, per client and per device) and API tokens.

A sign-in is two steps with a commit between them (:func:`admit`, then :func:`check`): the
attempt's place in the counters of :mod:`sscmatch.workflow.throttle` is committed before the
slow password check, so parallel attempts on every worker see each other. The rules:

- every answer is the same for an e-mail with an account and one without: a wrong password, an
  unknown e-mail, an inactive account all say "wrong e-mail or password" after the same work
  (an unknown e-mail is checked against a dummy hash of the same method); counters are kept per
  e-mail typed, existing or not;
- after ``ACCOUNT.attempts`` failures for one e-mail within the window, browsers that have not
  signed in to that account before are refused until the window ends (no password is checked);
- after ``CLIENT.attempts`` failures from one client (address, IPv6 /64) within the window, that
  client is refused whatever e-mail it tries;
- a browser that has signed in to the account before (it holds a device cookie for it) is not
  held back by either: it has ``DEVICE.attempts`` failures of its own per window. So an attacker
  who keeps an account "locked" never locks its owner out of the browsers they use.

API tokens are random; only their SHA-256 is stored, so a database leak does not leak tokens.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from sscmatch.models import User, utcnow
from sscmatch.workflow import throttle
from sscmatch.workflow.audit import record_event
from sscmatch.workflow.base import N_, DomainError
from sscmatch.workflow.proposals import notes
from sscmatch.workflow.throttle import ACCOUNT, CLIENT, DEVICE
from sscmatch.workflow.users import check_password, keep


class SignInError(DomainError):
    """Why a sign-in was refused (never whether the e-mail has an account)."""


class WrongCredentials(SignInError):
    status = 401

    def __init__(self) -> None:
        super().__init__(N_("Wrong e-mail or password."))


class TooManyAttempts(SignInError):
    """Too many failures for this e-mail or from this client: ``retry_after`` seconds to wait."""

    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            N_("Too many failed sign-ins; try again in %(seconds)s seconds."), seconds=retry_after
        )
        self.retry_after = retry_after


@dataclass(frozen=True)
class SignInAttempt:
    email: str
    password: str
    client: str
    device: str | None = None
    """The nonce of this browser's device cookie for this e-mail, if it holds a valid one."""
    demo_mode: bool = False


@dataclass(frozen=True)
class Admission:
    """An attempt that may have its password checked, and the counters it reserved."""

    attempt: SignInAttempt
    reserved: tuple[str, ...]
    trusted: bool
    now: datetime


def _seconds(moment: datetime) -> int:
    return int(moment.timestamp())


def admit(session: Session, attempt: SignInAttempt, now: datetime | None = None) -> Admission:
    """Step one: reserve the attempt's place in its counters, or raise :class:`TooManyAttempts`.

    The caller commits whether this returns or raises (a refused attempt still counts)."""
    now = now or utcnow()
    seconds = _seconds(now)
    if attempt.device:
        device = throttle.reserve(session, throttle.device_key(attempt.device), DEVICE, seconds)
        if device.allowed:
            return Admission(attempt, (device.key,), trusted=True, now=now)
        # a device over its own limit is treated as any unknown browser
    client = throttle.reserve(session, throttle.client_key(attempt.client), CLIENT, seconds)
    if not client.allowed:
        raise TooManyAttempts(client.retry_after(seconds))
    account = throttle.reserve(session, throttle.account_key(attempt.email), ACCOUNT, seconds)
    if not account.allowed:
        raise TooManyAttempts(account.retry_after(seconds))
    return Admission(attempt, (client.key, account.key), trusted=False, now=now)


def may_sign_in(user: User, demo_mode: bool) -> bool:
    """Whether this account may be used at all (password, session or API token): an active
    account, and a demo account (published password) only while the app runs in demo mode. The
    rule is checked at every use, whatever the database holds: a database prepared in demo mode
    keeps its demo accounts, but a server started without demo mode does not let them in."""
    return user.active and (demo_mode or not user.demo)


def check(session: Session, admission: Admission) -> User:
    """Step two: check the password; return the user or raise :class:`WrongCredentials`.

    Every refusal does the same work and says the same thing: the password is checked (against
    a dummy hash when no account has the e-mail) before anything else is looked at. The caller
    commits either way."""
    attempt = admission.attempt
    email = throttle.normalise_email(attempt.email)
    user = session.exec(select(User).where(User.email == email)).first()
    correct = check_password(user.password_hash if user else None, attempt.password)
    if user is None or not correct or not may_sign_in(user, attempt.demo_mode):
        raise WrongCredentials()
    for key in admission.reserved:
        if key.startswith(f"{ACCOUNT.kind}:") or key.startswith(f"{DEVICE.kind}:"):
            throttle.clear(session, key)
        else:  # a client's other failures stand: signing in to one's own account is no pardon
            throttle.release(session, key)
    keep(session, user, last_login_at=admission.now)
    return user


def withdraw(session: Session, admission: Admission) -> None:
    """Hand back every attempt ``admission`` reserved: the password checked was refused for no
    fault of its sender (a password change sent twice, whose first sending changed it while the
    second was checked: :mod:`sscmatch.web.sent_once`), so it is no failed sign-in. The caller
    commits."""
    for key in admission.reserved:
        throttle.release(session, key)


SIGN_IN_FAILED = "sign_in_failed"
"""The audit action of a sign-in refused for its e-mail or password (``sign_in``: one that
succeeded)."""
EMAIL_TRIED_LIMIT = 200
"""Characters of the e-mail tried that a failed sign-in's audit event keeps."""


def record_failed_sign_in(session: Session, email: str) -> None:
    """Audit a sign-in refused for its e-mail or password (the caller commits): the e-mail
    tried, in the event's note (never the password); the account it names, if one does, as the
    event's user and record, else the e-mail tried as its record (so the admin finds attempts
    on addresses that have no account too). A refusal for too many attempts is not recorded:
    the failures that led to it were, and an attacker held back would fill the log."""
    tried = throttle.normalise_email(email)[:EMAIL_TRIED_LIMIT]
    user = session.exec(select(User).where(User.email == tried)).first()
    account = user.id if user is not None else None
    record_event(
        session,
        user_id=account,
        action=SIGN_IN_FAILED,
        entity="user",
        entity_id=tried if account is None else account,
        note_code=notes.code(notes.EMAIL_TRIED, email=tried),
    )


def housekeeping(session: Session, now: datetime | None = None) -> None:
    """Drop counters whose window has ended (run in a transaction of its own)."""
    throttle.purge(session, _seconds(now or utcnow()))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_api_token(session: Session, user: User) -> str:
    """Give the user a new API token (replacing any old one); return it, shown only once."""
    token = "ssc_" + secrets.token_urlsafe(32)
    keep(session, user, api_token_hash=hash_token(token))
    return token


def user_for_token(session: Session, token: str, demo_mode: bool) -> User | None:
    """The user an API token belongs to, if that account may be used (:func:`may_sign_in`)."""
    if not token:
        return None
    query = select(User).where(col(User.api_token_hash) == hash_token(token))
    user = session.exec(query).first()
    return user if user is not None and may_sign_in(user, demo_mode) else None
