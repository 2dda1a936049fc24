"""Sign-in throttling: failure counters kept in the database, so every worker shares them.

One row of ``sign_in_throttle`` counts the failed sign-ins of one window (15 minutes from the
first failure) for one key:

- ``account:<digest of the e-mail>``: failures for one e-mail address, whether an account has it
  or not, so a refusal never tells which addresses have accounts;
- ``client:<address>``: failures from one client, any e-mail (an IPv4 address, or the /64
  network of an IPv6 one, since one IPv6 host usually holds a whole /64);
- ``device:<nonce>``: failures from one browser that has signed in to the account before (it
  holds a signed device cookie naming the account's e-mail).

Atomic by construction: an attempt first *reserves* its place with one
``INSERT … ON CONFLICT DO UPDATE … RETURNING`` (the count moves inside the database, never as a
read-modify-write in Python), and the caller commits that before the slow password check. An
attempt whose reservation passes the limit is refused without checking any password, so any
number of parallel attempts on any number of workers check at most ``attempts`` passwords per
key and window. A successful sign-in hands its reservation back (:func:`release`) or clears the
account's counter (:func:`clear`).
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import case, delete, select, update
from sqlmodel import Session

from sscmatch.db import upsert
from sscmatch.models import SignInThrottle

WINDOW_SECONDS = 15 * 60


@dataclass(frozen=True)
class Limit:
    """At most ``attempts`` failed sign-ins per window for one key of this kind."""

    kind: str
    attempts: int


ACCOUNT = Limit("account", 5)
CLIENT = Limit("client", 20)
DEVICE = Limit("device", 5)

_TABLE = SignInThrottle.__table__  # type: ignore[attr-defined]


def normalise_email(email: str) -> str:
    return email.strip().lower()


def email_digest(email: str) -> str:
    """A digest of the e-mail: the table never holds the addresses people typed (some type their
    password into the e-mail field)."""
    return hashlib.sha256(normalise_email(email).encode("utf-8")).hexdigest()[:40]


def account_key(email: str) -> str:
    return f"{ACCOUNT.kind}:{email_digest(email)}"


def client_key(address: str) -> str:
    """The client's key: its IPv4 address, or its IPv6 /64 network; anything else as given."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return f"{CLIENT.kind}:{address.strip()[:80]}"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return f"{CLIENT.kind}:{ip.ipv4_mapped}"
        return f"{CLIENT.kind}:{ipaddress.IPv6Network((int(ip) >> 64 << 64, 64))}"
    return f"{CLIENT.kind}:{ip}"


def device_key(nonce: str) -> str:
    return f"{DEVICE.kind}:{nonce[:80]}"


@dataclass(frozen=True)
class Reservation:
    """What :func:`reserve` found: whether the attempt may go on, and when the window ends."""

    key: str
    allowed: bool
    failures: int
    window_end: int

    def retry_after(self, now: int) -> int:
        """Seconds until this key's window ends (at least one)."""
        return max(1, self.window_end - now)


def reserve(session: Session, key: str, limit: Limit, now: int) -> Reservation:
    """Count one attempt for ``key`` (a new window if the last one ended) in one statement.

    ``allowed`` is false when this attempt passes ``limit``: refuse it without checking the
    password. The caller commits before doing the slow work, so other workers see the count."""
    expired = _TABLE.c.window_start <= now - WINDOW_SECONDS
    statement = (
        upsert(session)(_TABLE)
        .values(key=key, failures=1, window_start=now)
        .on_conflict_do_update(
            index_elements=[_TABLE.c.key],
            set_={
                "failures": case((expired, 1), else_=_TABLE.c.failures + 1),
                "window_start": case((expired, now), else_=_TABLE.c.window_start),
            },
        )
        .returning(_TABLE.c.failures, _TABLE.c.window_start)
    )
    failures, window_start = session.execute(statement).one()
    return Reservation(
        key=key,
        allowed=failures <= limit.attempts,
        failures=failures,
        window_end=window_start + WINDOW_SECONDS,
    )


def release(session: Session, key: str) -> None:
    """Hand back one reserved attempt (the attempt succeeded, so it was no failure)."""
    session.execute(
        update(_TABLE)
        .where(_TABLE.c.key == key, _TABLE.c.failures > 0)
        .values(failures=_TABLE.c.failures - 1)
    )


def clear(session: Session, key: str) -> None:
    """Forget the failures of ``key`` (a correct password, or an admin's unlock)."""
    session.execute(delete(_TABLE).where(_TABLE.c.key == key))


@dataclass(frozen=True)
class Lock:
    """The state of one account's counter: ``until`` is set while new browsers are refused."""

    failures: int
    until: datetime | None


def account_locks(session: Session, emails: list[str], now: int) -> dict[str, Lock]:
    """The live counters of these e-mails (those with failures in a running window)."""
    keys = {account_key(email): normalise_email(email) for email in emails}
    if not keys:
        return {}
    rows = session.execute(
        select(_TABLE.c.key, _TABLE.c.failures, _TABLE.c.window_start).where(
            _TABLE.c.key.in_(list(keys)),
            _TABLE.c.window_start > now - WINDOW_SECONDS,
            _TABLE.c.failures > 0,
        )
    )
    found = {}
    for key, failures, window_start in rows:
        end = datetime.fromtimestamp(window_start + WINDOW_SECONDS, UTC)
        found[keys[key]] = Lock(failures, end if failures >= ACCOUNT.attempts else None)
    return found


def purge(session: Session, now: int, batch: int = 500) -> int:
    """Delete up to ``batch`` counters whose window has ended; return how many.

    Run it in a transaction of its own: rows another attempt holds are skipped (PostgreSQL
    ``SKIP LOCKED``), so housekeeping never waits for, or deadlocks with, a sign-in."""
    stale = (
        select(_TABLE.c.key)
        .where(_TABLE.c.window_start <= now - WINDOW_SECONDS)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    result = session.execute(delete(_TABLE).where(_TABLE.c.key.in_(stale.scalar_subquery())))
    return int(getattr(result, "rowcount", 0) or 0)
