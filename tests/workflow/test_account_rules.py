"""An account's rules hold for every way an account is made or changed.

``sscmatch create-user`` checked an e-mail's and a name's length and the country code itself
(click callbacks), the admin's form by its validators, and the use cases under them only some of
it: a caller of :func:`sscmatch.workflow.users.create_user` or of the admin's use cases other than
those two (a script, an import, a future API) stored a 300-character name, and on PostgreSQL a long
e-mail or an unknown country reached the database as a driver error. The rules now live in
:mod:`sscmatch.workflow.users` (``check_email``, ``check_name``, ``check_profile``), and every
writer below refuses every bad value, naming its field, and writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import Session, select

from sscmatch.models import AuditEvent, User
from sscmatch.workflow import admin
from sscmatch.workflow.base import DomainError
from sscmatch.workflow.users import MAX_EMAIL, MAX_NAME, create_user

GOOD: dict[str, Any] = {
    "email": "new.person@test.org",
    "name": "New Person",
    "role": "focal_point",
    "country": "GTM",
    "constituency": "government",
    "language": "es",
}

BAD: dict[str, tuple[str, Any]] = {
    "long e-mail": ("email", "a" * (MAX_EMAIL - len("@test.org") + 1) + "@test.org"),
    "no e-mail": ("email", "not an address"),
    "long name": ("name", "N" * (MAX_NAME + 1)),
    "unknown country": ("country", "XXZ"),
    "a country's name": ("country", "Guatemala"),
    "unknown role": ("role", "superuser"),
    "unknown language": ("language", "de"),
    "unknown constituency": ("constituency", "farmers"),
    "focal point without a country": ("country", None),
    "focal point without a constituency": ("constituency", None),
}
"""Each bad value, with the field that must be named."""


def _created(session: Session, values: dict[str, Any]) -> None:
    create_user(session, password="long-enough-password", **values)


def _added(session: Session, values: dict[str, Any]) -> None:
    admin.add_user(session, _admin_id(session), password="long-enough-password", **values)


def _target(session: Session) -> User:
    """The account :func:`_updated` changes (made before the state is taken)."""
    found = session.exec(select(User).where(User.email == "target@test.org")).first()
    if found is None:
        found = create_user(session, "target@test.org", "long-enough-password", "analyst")
        session.commit()
    return found


def _updated(session: Session, values: dict[str, Any]) -> None:
    target = _target(session)
    assert target.id is not None
    changes = {k: v for k, v in values.items() if k != "email"}
    admin.update_user(
        session,
        _admin_id(session),
        target.id,
        version=target.version,
        active=True,
        **changes,
    )


def _admin_id(session: Session) -> int:
    found = session.exec(select(User).where(User.role == "admin")).first()
    if found is None:
        found = create_user(session, "the.admin@test.org", "long-enough-password", "admin")
        session.commit()
    assert found.id is not None
    return found.id


WRITERS: dict[str, Callable[[Session, dict[str, Any]], None]] = {
    "users.create_user": _created,
    "admin.add_user": _added,
    "admin.update_user": _updated,
}


def _state(session: Session) -> tuple[Any, ...]:
    users = session.exec(select(User).order_by(User.id)).all()
    events = session.exec(select(AuditEvent.id)).all()
    return tuple((u.email, u.name, u.role, u.country, u.version) for u in users), len(events)


@pytest.mark.parametrize("writer", WRITERS)
def test_every_writer_takes_a_good_profile(session: Session, writer: str) -> None:
    WRITERS[writer](session, dict(GOOD))
    session.commit()
    email = "target@test.org" if writer == "admin.update_user" else GOOD["email"]
    stored = session.exec(select(User).where(User.email == email)).one()
    profile = (stored.name, stored.role, stored.country, stored.constituency, stored.language)
    assert profile == tuple(
        GOOD[k] for k in ("name", "role", "country", "constituency", "language")
    )


@pytest.mark.parametrize("writer", WRITERS)
def test_every_writer_refuses_every_bad_value(session: Session, writer: str) -> None:
    failures = []
    for case, (field, value) in BAD.items():
        if writer == "admin.update_user" and field == "email":
            continue  # an account's e-mail does not change
        _admin_id(session)
        _target(session)
        before = _state(session)
        try:
            WRITERS[writer](session, GOOD | {field: value})
            session.flush()
        except DomainError as exc:
            named = getattr(exc, "field", None)
            if named != field:
                failures.append(f"{case}: refused naming {named!r}, not {field!r}: {exc}")
        except Exception as exc:
            failures.append(f"{case}: {type(exc).__name__}: {exc}")
        else:
            failures.append(f"{case}: taken")
        session.rollback()
        if _state(session) != before:
            failures.append(f"{case}: rows changed")
    assert not failures, "\n".join(failures)
