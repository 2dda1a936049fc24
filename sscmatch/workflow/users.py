"""Users: creation, password checks and the demo accounts.

Passwords are hashed with werkzeug's scrypt; the clear text is never stored. Demo accounts, with
passwords published on screen, are flagged ``demo``: they work only while the app runs in demo
mode, a rule checked at every sign-in, session and API token
(:func:`sscmatch.workflow.accounts.may_sign_in`), so a database prepared in demo mode and served
without it lets none of them in. ``sscmatch demo-users`` outside demo mode also deactivates them.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select
from werkzeug.security import check_password_hash, generate_password_hash

from sscmatch.models import User
from sscmatch.schemas import CONSTITUENCIES, ROLES
from sscmatch.vocab import INTERFACE_LANGUAGES, load_vocabulary
from sscmatch.workflow.base import N_, DomainError

MIN_PASSWORD_LENGTH = 10
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


MAX_EMAIL = 254  # RFC 5321's longest address, and the column's length
MAX_NAME = 200
FOCAL_CONSTITUENCIES = ("government", "employers", "workers")


class UserError(DomainError):
    """Bad input for a user; the message says what is wrong, ``field`` which value is at fault
    (None: the whole request) and ``code`` which refusal it is, for an edge with its own words."""

    def __init__(
        self, message: str, /, *, field: str | None = None, code: str = "invalid", **params: Any
    ) -> None:
        super().__init__(message, **params)
        self.field = field
        self.code = code


BROWSER_LANGUAGE = ""
"""An account's language when its holder has not chosen one: each browser's language chooses
the pages (a Spanish browser reads Spanish from the sign-in page on), and e-mails are written in
the account's country's language (:func:`written_language`)."""


def written_language(language: str, country: str | None) -> str:
    """The language of what is written to an account without a page in front of it (its
    reminder digests): its own, else its country's first interface language (a focal point of
    Guatemala: Spanish), else English."""
    if language in INTERFACE_LANGUAGES:
        return language
    found = load_vocabulary().countries.get(country or "")
    spoken = [code for code in (found.languages if found else ()) if code in INTERFACE_LANGUAGES]
    return spoken[0] if spoken else "en"


@dataclass(frozen=True)
class DemoAccount:
    email: str
    password: str
    role: str
    country: str | None = None
    constituency: str | None = None
    language: str = BROWSER_LANGUAGE
    name: str = ""


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    # People's names, not role words: a name is shown as it is on pages in every language
    # (the role beside it is translated). No language: their pages follow the browser's.
    DemoAccount("admin@demo.sscmatch", "demo-admin-pass", "admin", name="Nadia Rahman"),
    DemoAccount(
        "secretariat@demo.sscmatch", "demo-secretariat", "secretariat", name="Amina Diallo"
    ),
    DemoAccount("analyst@demo.sscmatch", "demo-analyst-pass", "analyst", name="Lucas Ferreira"),
    DemoAccount(
        "gtm@demo.sscmatch",
        "demo-focal-gtm",
        "focal_point",
        "GTM",
        "government",
        "es",
        "Punto focal Guatemala",
    ),
    DemoAccount(
        "bra@demo.sscmatch",
        "demo-focal-bra",
        "focal_point",
        "BRA",
        "government",
        "pt",
        "Ponto focal Brasil",
    ),
    DemoAccount(
        "cri@demo.sscmatch",
        "demo-focal-cri",
        "focal_point",
        "CRI",
        "workers",
        "es",
        "Punto focal Costa Rica (trabajadores)",
    ),
)
DEMO_DOMAIN = "@demo.sscmatch"


# scrypt is slow by design; the test suite swaps in a cheap method to keep itself fast.
HASH_METHOD = "scrypt"


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=HASH_METHOD)


def _too_long(field: str, value: str, limit: int) -> UserError:
    return UserError(
        N_("too long (%(n)s characters; at most %(limit)s)"),
        field=field,
        code="too_long",
        n=len(value),
        limit=limit,
    )


def check_email(email: str) -> str:
    """The address as stored (trimmed, lower case), or :class:`UserError`."""
    email = email.strip().lower()
    if len(email) > MAX_EMAIL:
        raise _too_long("email", email, MAX_EMAIL)
    if not _EMAIL.match(email):
        raise UserError(
            N_("%(value)s is not an e-mail address"),
            field="email",
            code="bad_email",
            value=repr(email),
        )
    return email


def check_password_length(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(
            N_("the password must have at least %(n)s characters"),
            field="password",
            code="short_password",
            n=MIN_PASSWORD_LENGTH,
        )


def check_name(name: str) -> str:
    """The name as stored (trimmed), or :class:`UserError`."""
    name = name.strip()
    if len(name) > MAX_NAME:
        raise _too_long("name", name, MAX_NAME)
    return name


def check_profile(
    role: str, country: str | None, constituency: str | None, language: str
) -> tuple[str | None, str | None]:
    """Check role, country, constituency and language together, for every way an account is
    made or changed (the command line, the admin's pages); return (country, constituency) as
    stored. Raises :class:`UserError` naming the field at fault."""
    if role not in ROLES:
        raise UserError(
            N_("unknown role %(value)s (expected one of: %(known)s)"),
            field="role",
            code="bad_role",
            value=repr(role),
            known=", ".join(ROLES),
        )
    country = (country or "").strip().upper() or None
    constituency = (constituency or "").strip() or None
    if country is not None and country not in load_vocabulary().countries:
        raise UserError(
            N_("unknown country code %(value)s"),
            field="country",
            code="bad_country",
            value=repr(country),
        )
    if constituency is not None and constituency not in CONSTITUENCIES:
        raise UserError(
            N_("unknown constituency %(value)s"),
            field="constituency",
            code="bad_constituency",
            value=repr(constituency),
        )
    if role == "focal_point":
        if country is None:
            raise UserError(
                N_("a focal point needs a country (ISO alpha-3, e.g. GTM)"),
                field="country",
                code="focal_needs_country",
            )
        if constituency not in FOCAL_CONSTITUENCIES:
            raise UserError(
                N_("a focal point needs a constituency: government, employers or workers"),
                field="constituency",
                code="focal_needs_constituency",
            )
    if language != BROWSER_LANGUAGE and language not in INTERFACE_LANGUAGES:
        raise UserError(
            N_("unknown language %(value)s (expected one of: %(known)s)"),
            field="language",
            code="bad_language",
            value=repr(language),
            known=", ".join(INTERFACE_LANGUAGES),
        )
    return country, constituency


def create_user(
    session: Session,
    email: str,
    password: str,
    role: str,
    *,
    name: str = "",
    country: str | None = None,
    constituency: str | None = None,
    language: str = BROWSER_LANGUAGE,
) -> User:
    """Validate and add a user (the caller commits). Raises :class:`UserError`."""
    email = check_email(email)
    name = check_name(name)
    country, constituency = check_profile(role, country, constituency, language)
    check_password_length(password)
    if session.exec(select(User).where(User.email == email)).first():
        raise UserError(
            N_("a user with e-mail %(email)s already exists"),
            field="email",
            code="duplicate_email",
            email=email,
        )
    user = User(
        email=email,
        name=name,
        password_hash=hash_password(password),
        role=role,
        country=country,
        constituency=constituency,
        language=language,
    )
    session.add(user)
    session.flush()
    return user


_DUMMY_HASHES: dict[str, str] = {}


def _dummy_hash() -> str:
    """A hash of a random password made with the current method (kept per method)."""
    if HASH_METHOD not in _DUMMY_HASHES:
        _DUMMY_HASHES[HASH_METHOD] = hash_password(secrets.token_urlsafe(24))
    return _DUMMY_HASHES[HASH_METHOD]


def check_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``. Without a hash (no such account) the
    password is checked against a dummy hash of the same method, so the answer takes the same
    time and an attacker cannot tell by the clock which e-mails have accounts."""
    if password_hash is None:
        check_password_hash(_dummy_hash(), password)
        return False
    return check_password_hash(password_hash, password)


SESSIONS_ENDED = "sscmatch.sessions_ended"
"""``session.info`` key: how many times the session's transaction ended each account's sessions
itself (``{user id: count}``: a new password, a sign-out). A request checks before it commits
that the session that let it in still holds (:mod:`sscmatch.web.auth`): its own endings are
counted out, any other one refuses it."""


def keep(session: Session, user: User, **values: object) -> None:
    """Write bookkeeping of ``user`` that no editor changes (``User.__unversioned_fields__``: a
    last sign-in, a password hash, a token) in one UPDATE by id, without the ORM's ``WHERE
    version = <read>``: an admin's edit of the account's profile committed since the request
    read it refused a correct sign-in, a new password or a new token (StaleVersion), though they
    change none of its fields. The object takes the values as stored."""
    assert user.id is not None and set(values) <= User.__unversioned_fields__, values
    session.execute(
        update(User)
        .where(col(User.id) == user.id)
        .values(values)
        .execution_options(synchronize_session=False)
    )
    for name, value in values.items():
        set_committed_value(user, name, value)


def sessions_ended_here(session: Session, user_id: int) -> int:
    """How many times this transaction ended ``user_id``'s sessions itself."""
    ended: dict[int, int] = session.info.get(SESSIONS_ENDED, {})
    return ended.get(user_id, 0)


def end_sessions(session: Session, user_id: int, *, revoke_token: bool = False) -> int:
    """End every session of the account (each carries the ``auth_version`` it signed in with,
    checked at every request) and, with ``revoke_token``, its API token. Returns the new
    ``auth_version``. One UPDATE that adds one in the database: two at once both count, and
    an admin's concurrent edit of the account is not disturbed (no version check)."""
    values: dict[str, object] = {"auth_version": col(User.auth_version) + 1}
    if revoke_token:
        values["api_token_hash"] = None
    statement = (
        update(User).where(col(User.id) == user_id).values(values).returning(col(User.auth_version))
    )
    ended = session.info.setdefault(SESSIONS_ENDED, {})
    ended[user_id] = ended.get(user_id, 0) + 1
    return int(session.execute(statement).scalar_one())


def set_language(session: Session, user_id: int, language: str) -> bool:
    """The account's language (its *Account* page sets it): the pages at every sign-in, on any
    device, and the reminder digests; ``BROWSER_LANGUAGE`` lets each browser's language choose
    the pages (:func:`written_language` the e-mails'). True when it changed."""
    user = session.get(User, user_id)
    if user is None or user.language == language:
        return False
    # The field alone, its version moved in the same statement (an admin's form open on the
    # account is still refused: the language is on it), not the ORM's WHERE version = <read>:
    # an admin's rename committed since the request read the account refused it (409).
    version = session.execute(
        update(User)
        .where(col(User.id) == user_id)
        .values(language=language, version=col(User.version) + 1)
        .returning(col(User.version))
    ).scalar_one()
    set_committed_value(user, "language", language)
    set_committed_value(user, "version", version)
    return True


def set_password(session: Session, user: User, password: str) -> int:
    """Give the account a new password: its sessions end and its API token stops working (who
    knew the old password may hold either). Returns the new ``auth_version``; the caller keeps
    its own session alive with it, if it should."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(
            N_("the password must have at least %(n)s characters"), n=MIN_PASSWORD_LENGTH
        )
    keep(session, user, password_hash=hash_password(password))
    assert user.id is not None
    return end_sessions(session, user.id, revoke_token=True)


def ensure_demo_users(session: Session, enabled: bool) -> list[DemoAccount]:
    """In demo mode create (or re-enable) the demo accounts; otherwise disable any that exist."""
    query = select(User).where(col(User.email).endswith(DEMO_DOMAIN))
    existing = {u.email: u for u in session.exec(query)}
    if not enabled:
        for user in existing.values():
            user.active = False
        return []
    for account in DEMO_ACCOUNTS:
        found = existing.get(account.email)
        if found is None:
            found = create_user(
                session,
                account.email,
                account.password,
                account.role,
                name=account.name,
                country=account.country,
                constituency=account.constituency,
                language=account.language,
            )
        found.active = True
        found.demo = True
        session.add(found)
    return list(DEMO_ACCOUNTS)
