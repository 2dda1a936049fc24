"""Configuration: documented defaults, then ``instance/config.py``, then the environment.

Every setting the service reads is declared once in :data:`DEFAULTS` with a line of documentation;
``tests/test_docs.py`` fails when one is missing from the README. Environment variables
``SSCMATCH_<NAME>`` override ``<NAME>`` (values are parsed as JSON where they parse, so
``SSCMATCH_DEMO=true`` gives ``True``); ``DATABASE_URL`` and ``SECRET_KEY`` are read as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sscmatch.dates import PartialDate, PartialDateError


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    doc: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "DATABASE_URL",
        None,
        "SQLAlchemy URL; unset means SQLite in the instance folder. "
        "`postgresql://…` uses psycopg 3.",
    ),
    Setting(
        "SECRET_KEY",
        None,
        "Signs sessions and CSRF tokens. Unset: a random key is "
        "generated once and kept in `instance/secret_key`.",
    ),
    Setting(
        "DEMO",
        False,
        "Demo mode: creates one demo user per role with a published password "
        "and says so on every page. Never enable it on a real deployment.",
    ),
    Setting(
        "DATA_DIR",
        None,
        "Folder of the knowledge base and vocabularies; default `data/` of the checkout.",
    ),
    Setting(
        "TRUSTED_PROXIES",
        0,
        "How many reverse proxies in front of the app to believe about the client: their "
        "`X-Forwarded-For`, `-Proto`, `-Host` and `-Port` headers (0: none, the client is the "
        "connection's address). Behind nginx or a load balancer set 1, so sign-in throttling "
        "counts real clients and HTTPS is recognised (HSTS, secure cookies).",
    ),
    Setting("PAGE_SIZE", 25, "Rows per page in lists."),
    Setting("MAX_UPLOAD_MB", 20, "Largest bundle accepted by upload, in MiB."),
    Setting(
        "JOBS_SYNC",
        None,
        "Carry out jobs (match runs, imports, calibrations) inside the web request that starts "
        "them instead of handing them to a worker process; unset means: only when testing.",
    ),
    Setting(
        "REMIND_AT",
        "07:00",
        "Time of day (UTC, HH:MM) after which the workers send the day's reminder digests "
        "(as `sscmatch remind` does); `off`: they send none.",
    ),
    Setting(
        "WARM_CACHE",
        None,
        "Build the network page's data in the background at a server worker's first request; "
        "unset means: yes, except when testing.",
    ),
    Setting(
        "TOUR_RATES",
        None,
        "Study tour cost rates overriding the documented defaults "
        '(a JSON object, e.g. `{"per_diem_usd": 180}`; see `workflow/tours/costing.py`).',
    ),
    Setting("SMTP_HOST", None, "Mail server for `sscmatch remind`; unset writes digests to files."),
    Setting("SMTP_PORT", 25, "Mail server port."),
    Setting("SMTP_USER", None, "Mail server user name, if it needs one."),
    Setting("SMTP_PASSWORD", None, "Mail server password, if it needs one."),
    Setting("SMTP_FROM", "sscmatch@localhost", "Sender address of reminders."),
    Setting("SMTP_STARTTLS", False, "Upgrade the mail connection with STARTTLS."),
    Setting(
        "SECRETARIAT_EMAIL",
        None,
        "Where reminders go when an owner country has no focal point with an e-mail.",
    ),
    Setting(
        "TODAY",
        None,
        "Pin today's date (YYYY-MM-DD) for demos and tests of reminders and "
        "overdue commitments; unset means the real date.",
    ),
)

DEFAULTS: dict[str, Any] = {s.name: s.default for s in SETTINGS}


class SettingError(ValueError):
    """A setting whose value the service cannot use: said when the app starts, not as a 500 on
    the first page that reads it."""


def pinned_today(value: object) -> date | None:
    """``TODAY``: None when unset (the real date), else its day. Anything but a date YYYY-MM-DD
    by the one rule of :mod:`sscmatch.dates` is a :class:`SettingError` (an environment's
    ``SSCMATCH_TODAY=20261206`` arrives as a number and was silently the real date)."""
    if value is None or value == "":
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            found = PartialDate.parse(value)
        except PartialDateError:
            found = None
        if found is not None and found.precision == "day":
            return found.first
    raise SettingError(
        f"TODAY must be a date YYYY-MM-DD, or unset for the real date; got {value!r}"
    )


def check(config: Mapping[str, Any]) -> None:
    """Refuse, when the app is made, a setting it could not use later (:class:`SettingError`)."""
    pinned_today(config.get("TODAY"))


def today(config: Mapping[str, Any]) -> date:
    """The day the service works on: ``TODAY`` when pinned (demos, tests), else today in UTC."""
    return pinned_today(config.get("TODAY")) or datetime.now(UTC).date()
