"""Administration: users (create, edit, reset a password, unlock) and reading the audit log.

Every change records an :class:`~sscmatch.models.AuditEvent` with the user before and after
(:func:`~sscmatch.workflow.audit.snapshot` leaves password and token hashes out). An admin cannot
deactivate or demote themself, so the service never loses its last way in by accident. An edit
carries the ``version`` of the user it started from; a stale one is refused with
:class:`sscmatch.db.StaleVersion`, like every other record's.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import func
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from sscmatch.db import BadVersion, expect_version
from sscmatch.models import AuditEvent, User
from sscmatch.schemas import ROLES, json_value, whole_number
from sscmatch.workflow import throttle
from sscmatch.workflow.accounts import SIGN_IN_FAILED
from sscmatch.workflow.audit import record_event, snapshot
from sscmatch.workflow.base import N_, DomainError, Page
from sscmatch.workflow.users import (
    BROWSER_LANGUAGE,
    UserError,
    check_name,
    check_password_length,
    check_profile,
    create_user,
    end_sessions,
    set_password,
)

T = TypeVar("T")

EDITABLE = ("name", "role", "country", "constituency", "language", "active")
# What a user may see and change follows these: changing one ends the account's sessions and API
# token (:func:`update_user`), so the user page confirms it first (sscmatch.web.admin_status).
RIGHTS_FIELDS = ("role", "country", "constituency")


class AdminError(DomainError):
    """A refused admin change. ``field`` names the form field at fault (None: the whole form);
    ``code`` lets the edge show a translated message; ``status`` is the HTTP answer it deserves."""

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str = "invalid",
        status: int = 400,
        **params: Any,
    ) -> None:
        super().__init__(message, **params)
        self.field = field
        self.code = code
        self.status = status


def paginate(session: Session, query: SelectOfScalar[T], number: int, size: int) -> Page[T]:
    if number < 1:
        raise AdminError(N_("the page number must be 1 or more"), field="page", code="bad_page")
    count_query = select(func.count()).select_from(query.order_by(None).subquery())
    total = int(session.exec(count_query).one())
    pages = max(1, math.ceil(total / size))
    if number > pages:
        raise AdminError(
            N_("there is no page %(n)s; the list has %(pages)s"),
            field="page",
            code="page_too_far",
            n=number,
            pages=pages,
        )
    items = list(session.exec(query.offset((number - 1) * size).limit(size)))
    return Page(items=items, number=number, size=size, total=total)


# ----- users -------------------------------------------------------------------------------------


def list_users(
    session: Session,
    *,
    role: str | None = None,
    country: str | None = None,
    active: bool | None = None,
    page: int = 1,
    size: int = 25,
) -> Page[User]:
    """Users filtered by role, country and whether they are active, by e-mail."""
    query = select(User)
    if role:
        if role not in ROLES:
            raise AdminError(
                N_("unknown role %(value)s"), field="role", code="bad_role", value=repr(role)
            )
        query = query.where(User.role == role)
    if country:
        query = query.where(User.country == country.upper())
    if active is not None:
        query = query.where(User.active == active)
    return paginate(session, query.order_by(col(User.email)), page, size)


@contextmanager
def _as_admin_refusal() -> Iterator[None]:
    """The account's rules (:mod:`sscmatch.workflow.users`: one set for every way an account is
    made or changed), a refusal of theirs raised as the admin's, with its field and code."""
    try:
        yield
    except UserError as exc:
        raise AdminError(exc.message, field=exc.field, code=exc.code, **exc.params) from None


def add_user(
    session: Session,
    actor_id: int,
    *,
    email: str,
    password: str,
    role: str,
    name: str = "",
    country: str | None = None,
    constituency: str | None = None,
    language: str = BROWSER_LANGUAGE,
) -> User:
    """Create a user on an admin's behalf and audit it (the caller commits); the account's
    rules are :func:`~sscmatch.workflow.users.create_user`'s, for every way one is made."""
    with _as_admin_refusal():
        user = create_user(
            session,
            email,
            password,
            role,
            name=name,
            country=country,
            constituency=constituency,
            language=language,
        )
    assert user.id is not None
    record_event(
        session,
        user_id=actor_id,
        action="create",
        entity="user",
        entity_id=user.id,
        after=snapshot(user),
    )
    return user


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise AdminError(N_("there is no user %(id)s"), code="no_user", status=404, id=user_id)
    return user


def update_user(
    session: Session,
    actor_id: int,
    user_id: int,
    *,
    version: Any,
    name: str,
    role: str,
    country: str | None,
    constituency: str | None,
    language: str,
    active: bool,
) -> User:
    """Change a user's profile, role and status; refuse a stale ``version`` and self-demotion."""
    user = get_user(session, user_id)
    try:
        expect_version(user, version)
    except BadVersion as exc:
        raise AdminError(str(exc), code="bad_version") from None
    if user_id == actor_id and role != "admin":
        raise AdminError(
            N_("you cannot remove your own admin role; ask another admin"),
            field="role",
            code="self_demote",
        )
    if user_id == actor_id and not active:
        raise AdminError(
            N_("you cannot deactivate your own account; ask another admin"),
            field="active",
            code="self_deactivate",
        )
    with _as_admin_refusal():
        country, constituency = check_profile(role, country, constituency, language)
        name = check_name(name)
    before = snapshot(user)
    user.name = name
    user.role = role
    user.country = country
    user.constituency = constituency
    user.language = language
    user.active = active
    after = snapshot(user)
    if before == after:
        return user
    session.add(user)
    session.flush()
    note = None
    if _rights_shrink(before, after):
        # Sessions and the API token were granted to the account as it was: end them.
        end_sessions(session, user_id, revoke_token=True)
        note = "sessions and API token ended"
    record_event(
        session,
        user_id=actor_id,
        action="update",
        entity="user",
        entity_id=user_id,
        before=before,
        after=after,
        note=note,
    )
    return user


def _rights_shrink(before: dict[str, Any] | None, after: dict[str, Any] | None) -> bool:
    """Whether a change may take rights away: another role, country or constituency (what a
    focal point may change follows them), or deactivation. Name and language do not."""
    old, new = before or {}, after or {}
    moved = any(old.get(k) != new.get(k) for k in RIGHTS_FIELDS)
    return moved or (bool(old.get("active")) and not new.get("active"))


def reset_password(session: Session, actor_id: int, user_id: int, password: str) -> User:
    """Give a user a new password, clear a lockout, end their sessions and API token (whoever
    made the reset needed may hold them); the audit notes it, never the hash."""
    user = get_user(session, user_id)
    with _as_admin_refusal():
        check_password_length(password)
    before = snapshot(user)
    set_password(session, user, password)  # ends the user's sessions and API token too
    throttle.clear(session, throttle.account_key(user.email))
    record_event(
        session,
        user_id=actor_id,
        action="reset_password",
        entity="user",
        entity_id=user_id,
        before=before,
        after=snapshot(user),
        note="password reset by an admin; sessions and API token ended",
    )
    return user


def sign_in_locks(
    session: Session, users: Sequence[User], now: datetime | None = None
) -> dict[str, throttle.Lock]:
    """Failed sign-ins counted now for these users' e-mails, by e-mail (see
    :mod:`sscmatch.workflow.throttle`)."""
    moment = int((now or datetime.now(UTC)).timestamp())
    return throttle.account_locks(session, [u.email for u in users], moment)


def unlock(session: Session, actor_id: int, user_id: int) -> User:
    """Forget the failed sign-ins counted for this user's e-mail (a lockout ends with them)."""
    user = get_user(session, user_id)
    lock = sign_in_locks(session, [user])
    if user.email not in lock:
        raise AdminError(N_("this account is not locked"), code="not_locked")
    found = lock[user.email]
    throttle.clear(session, throttle.account_key(user.email))
    record_event(
        session,
        user_id=actor_id,
        action="unlock",
        entity="user",
        entity_id=user_id,
        before={
            "failed_sign_ins": found.failures,
            "locked_until": json_value(found.until),
        },
        after={"failed_sign_ins": 0, "locked_until": None},
    )
    return user


# ----- audit log ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilter:
    entity: str | None = None
    entity_id: str | None = None
    action: str | None = None
    user: str | None = None  # an e-mail, or a user id
    date_from: date | None = None
    date_to: date | None = None


def _user_id_for(session: Session, who: str) -> int:
    who = who.strip()
    if who.isascii() and who.isdigit():  # a user's number (an e-mail is never all digits)
        number = whole_number(who)
        if number is None:  # beyond any id: no such user, not an overflow
            raise AdminError(
                N_("there is no user number %(value)s"),
                field="user",
                code="no_such_user_number",
                value=who,
            )
        return number
    user = session.exec(select(User).where(User.email == who.lower())).first()
    if user is None or user.id is None:
        raise AdminError(
            N_("there is no user with e-mail %(email)s"),
            field="user",
            code="no_such_user",
            email=who,
        )
    return user.id


def _by_user(session: Session, who: str) -> Any:
    """The audit events of the user ``who`` (an e-mail or a number): theirs, and the failed
    sign-ins with an e-mail that is no account's (recorded on the e-mail tried)."""
    tried = who.strip().lower()
    failed = (AuditEvent.action == SIGN_IN_FAILED) & (AuditEvent.entity_id == tried)
    if "@" in tried and session.exec(select(AuditEvent.id).where(failed).limit(1)).first():
        return failed
    return AuditEvent.user_id == _user_id_for(session, who)


def list_events(session: Session, filters: AuditFilter, page: int = 1, size: int = 25) -> Page[Any]:
    """Audit events matching the filters, newest first, each with its user's e-mail."""
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise AdminError(
            N_("the start date is after the end date"), field="date_from", code="bad_range"
        )
    query = select(AuditEvent, User.email).join(
        User, col(AuditEvent.user_id) == col(User.id), isouter=True
    )
    if filters.entity:
        query = query.where(AuditEvent.entity == filters.entity)
    if filters.entity_id:
        query = query.where(AuditEvent.entity_id == filters.entity_id.strip())
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.user:
        query = query.where(_by_user(session, filters.user))
    if filters.date_from:
        start = datetime.combine(filters.date_from, time.min, tzinfo=UTC)
        query = query.where(col(AuditEvent.at) >= start)
    if filters.date_to:
        end = datetime.combine(filters.date_to + timedelta(days=1), time.min, tzinfo=UTC)
        query = query.where(col(AuditEvent.at) < end)
    query = query.order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
    return paginate(session, query, page, size)  # type: ignore[arg-type]


def event_choices(session: Session) -> tuple[list[str], list[str]]:
    """The entities and actions that occur in the log (for the filter menus)."""
    entities = session.exec(select(AuditEvent.entity).distinct().order_by(AuditEvent.entity))
    actions = session.exec(select(AuditEvent.action).distinct().order_by(AuditEvent.action))
    return list(entities), list(actions)


def get_event(session: Session, event_id: int) -> tuple[AuditEvent, str | None]:
    event = session.get(AuditEvent, event_id)
    if event is None:
        raise AdminError(
            N_("there is no audit event %(id)s"), code="no_event", status=404, id=event_id
        )
    actor = session.get(User, event.user_id) if event.user_id is not None else None
    return event, actor.email if actor else None


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: Any
    after: Any
    changed: bool


def compare(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[FieldChange]:
    """Every field of either side, in the record's order, marking those whose value changed.

    >>> [c.field for c in compare({"a": 1, "b": 2}, {"a": 1, "b": 3}) if c.changed]
    ['b']
    """
    names: list[str] = list(before or {})
    names += [n for n in (after or {}) if n not in names]
    rows = []
    for name in names:
        old = (before or {}).get(name)
        new = (after or {}).get(name)
        changed = before is None or after is None or old != new
        rows.append(FieldChange(name, old, new, changed))
    return rows


def changed_fields(before: dict[str, Any] | None, after: dict[str, Any] | None) -> Sequence[str]:
    if before is None or after is None:
        return []
    return [c.field for c in compare(before, after) if c.changed]
