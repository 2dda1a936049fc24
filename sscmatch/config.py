"""Configuration: documented defaults, then ``instance/config.py``, then the environment.

Every setting the service reads is declared once in :data:`SETTINGS` with a line of documentation
and the check of its value; ``tests/test_docs.py`` fails when one is missing from the README.
Environment variables ``SSCMATCH_<NAME>`` override ``<NAME>`` (values are parsed as JSON where
they parse, so ``SSCMATCH_DEMO=true`` gives ``True``; text settings, :data:`TEXT_SETTINGS`, are
taken as typed, so a password ``12345678`` stays text); ``DATABASE_URL`` and ``SECRET_KEY`` are
also read unprefixed. :func:`check` refuses, when the app is made, any value a setting's check
refuses (``tests/test_settings_checked.py`` walks every setting).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from sscmatch.dates import PartialDate, PartialDateError

Check = Callable[[Any], str | None]
"""A setting's check: what its value must be when the service cannot use it (``"a whole number
from 1 to 200"``, said after the setting's name), or None when it can."""


class SettingError(ValueError):
    """A setting whose value the service cannot use: said when the app starts, not as a 500 on
    the first page that reads it. ``must`` is what the value must be."""

    def __init__(self, message: str, must: str = "") -> None:
        super().__init__(message)
        self.must = must


def refusal(name: str, must: str, value: object, *, secret: bool = False) -> SettingError:
    """The one line that refuses a setting: ``NAME must be …; got …`` (a secret's value unsaid)."""
    got = repr(value)
    if secret:
        got = "text" if isinstance(value, str) else f"a {type(value).__name__}"
        got += " (not shown)"
    return SettingError(f"{name} must be {must}; got {got}", must)


def _whole(low: int, high: int | None = None, *, unset: bool = False) -> Check:
    must = f"a whole number from {low}" + (f" to {high}" if high is not None else "")
    must += ", or unset" if unset else ""

    def check(value: Any) -> str | None:
        if value is None and unset:
            return None
        number = isinstance(value, int) and not isinstance(value, bool)
        if number and value >= low and (high is None or value <= high):
            return None
        return must

    return check


def _flag(value: Any) -> str | None:
    return None if value is None or isinstance(value, bool) else "true or false, or unset"


def _text(value: Any) -> str | None:
    return None if value is None or isinstance(value, str) else "text, or unset"


def _address(value: Any) -> str | None:
    if value is None or value == "" or (isinstance(value, str) and "@" in value):
        return None
    return "an e-mail address (name@host), or unset"


def _database_url(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str) and re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", value):
        return None
    return "a database URL such as postgresql://user@host/sscmatch, or unset for SQLite"


def _data_dir(value: Any) -> str | None:
    """The vocabularies are loaded once a process, by code that has no app at hand
    (``sscmatch.vocab.loading.default_data_dir``), from ``SSCMATCH_DATA_DIR`` or ``data/`` of the
    checkout: a DATA_DIR given only in ``instance/config.py`` naming another folder would be
    checked and then ignored, so it is refused with where to set it."""
    if value is None or value == "":
        return None
    if not isinstance(value, str | os.PathLike) or not (Path(value) / "vocab").is_dir():
        return "a folder that holds the vocabularies (vocab/), or unset for data/ of the checkout"
    from sscmatch.vocab.loading import default_data_dir  # here: config is read at import

    if Path(value).resolve() != default_data_dir().resolve():
        return (
            "given in the environment (SSCMATCH_DATA_DIR), where the vocabularies are read "
            "from, not in instance/config.py alone"
        )
    return None


def _checked_by(parse: Callable[[Any], object]) -> Check:
    """The check of a setting that has a parser (the one its readers call), refusing as it does."""

    def check(value: Any) -> str | None:
        try:
            parse(value)
        except SettingError as exc:
            return exc.must
        return None

    return check


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
    raise refusal("TODAY", "a date YYYY-MM-DD, or unset for the real date", value)


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    doc: str
    check: Check
    text: bool = False
    """Taken from ``SSCMATCH_<NAME>`` as typed (any text is one), not as JSON reads it."""
    secret: bool = False
    """A refusal does not repeat its value (it may be, or hold, a password)."""


MAX_PAGE_SIZE = 200
"""The most rows a list page may show: as many as the API's ``per_page`` allows."""

TOUR_RATE_DEFAULTS: Mapping[str, Any] = {
    "currency": "USD",
    "air_per_km": 0.12,  # economy return fare per km of one-way great-circle distance, per leg
    "air_minimum": 300.0,  # smallest return ticket
    "per_diem": 220.0,  # lodging and meals per person per night (UN-style DSA order of size)
    "local_transport": 150.0,  # per day, for the whole delegation (field visits)
    "interpretation": 900.0,  # per day, a pair of interpreters
    "delegation_size": 4,  # when the delegation is not named yet
}
"""Study tour cost rates (``workflow/tours/costing.py`` says how a tour's cost is computed from
them); the setting ``TOUR_RATES`` overrides any of them."""


def cost_rate_wrong(key: object, value: object) -> str | None:
    """The one rule on a cost rate: None when ``key`` is a rate of :data:`TOUR_RATE_DEFAULTS`
    and ``value`` one it may take, else what is wrong: ``"unknown"``, ``"currency"`` (the
    currency must be text) or ``"number"`` (the others are finite numbers ≥ 0)."""
    if key not in TOUR_RATE_DEFAULTS:
        return "unknown"
    if key == "currency":
        return None if isinstance(value, str) and value.strip() else "currency"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "number"
    return None if math.isfinite(value) and value >= 0 else "number"


def _tour_rates(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        return 'a JSON object of cost rates such as {"per_diem": 180}, or unset'
    for key, rate in value.items():
        wrong = cost_rate_wrong(key, rate)
        if wrong == "unknown":
            known = ", ".join(TOUR_RATE_DEFAULTS)
            return f"an object of cost rates among {known} ({key!r} is none of them)"
        if wrong == "currency":
            return f"an object whose {key!r} is text such as USD"
        if wrong is not None:
            return f"an object whose {key!r} is a number ≥ 0"
    return None


def remind_at(value: object) -> time | None:
    """``REMIND_AT`` as a time of day (UTC), or None when the workers send no reminders (unset,
    ``off``, ``false``); anything else is a :class:`SettingError`."""
    if value is None or value is False or value in ("", "off"):
        return None
    if isinstance(value, time) and value.tzinfo is None:
        return value
    if isinstance(value, str):
        try:
            found = time.fromisoformat(value)
        except ValueError:
            found = None
        if found is not None and found.tzinfo is None:
            return found
    raise refusal("REMIND_AT", "a time of day HH:MM (UTC), or off", value)


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "DATABASE_URL",
        None,
        "SQLAlchemy URL; unset means SQLite in the instance folder. "
        "`postgresql://…` uses psycopg 3.",
        _database_url,
        text=True,
        secret=True,
    ),
    Setting(
        "SECRET_KEY",
        None,
        "Signs sessions and CSRF tokens. Unset: a random key is "
        "generated once and kept in `instance/secret_key`.",
        _text,
        text=True,
        secret=True,
    ),
    Setting(
        "DEMO",
        False,
        "Demo mode: creates one demo user per role with a published password "
        "and says so on every page. Never enable it on a real deployment.",
        _flag,
    ),
    Setting(
        "DATA_DIR",
        None,
        "Folder of the knowledge base and vocabularies; default `data/` of the checkout.",
        _data_dir,
        text=True,
    ),
    Setting(
        "TRUSTED_PROXIES",
        0,
        "How many reverse proxies in front of the app to believe about the client: their "
        "`X-Forwarded-For`, `-Proto`, `-Host` and `-Port` headers (0: none, the client is the "
        "connection's address). Behind nginx or a load balancer set 1, so sign-in throttling "
        "counts real clients and HTTPS is recognised (HSTS, secure cookies).",
        _whole(0, unset=True),
    ),
    Setting("PAGE_SIZE", 25, "Rows per page in lists.", _whole(1, MAX_PAGE_SIZE)),
    Setting("MAX_UPLOAD_MB", 20, "Largest bundle accepted by upload, in MiB.", _whole(1)),
    Setting(
        "JOBS_SYNC",
        None,
        "Carry out jobs (match runs, imports, calibrations) inside the web request that starts "
        "them instead of handing them to a worker process; unset means: only when testing.",
        _flag,
    ),
    Setting(
        "REMIND_AT",
        "07:00",
        "Time of day (UTC, HH:MM) after which the workers send the day's reminder digests "
        "(as `sscmatch remind` does); `off`: they send none.",
        _checked_by(remind_at),
    ),
    Setting(
        "WARM_CACHE",
        None,
        "Build the network page's data in the background at a server worker's first request; "
        "unset means: yes, except when testing.",
        _flag,
    ),
    Setting(
        "TOUR_RATES",
        None,
        "Study tour cost rates overriding the documented defaults of `TOUR_RATE_DEFAULTS` "
        '(a JSON object, e.g. `{"per_diem": 180}`; see `workflow/tours/costing.py`).',
        _tour_rates,
    ),
    Setting(
        "SMTP_HOST",
        None,
        "Mail server for `sscmatch remind`; unset writes digests to files.",
        _text,
        text=True,
    ),
    Setting("SMTP_PORT", 25, "Mail server port.", _whole(1, 65535, unset=True)),
    Setting("SMTP_USER", None, "Mail server user name, if it needs one.", _text, text=True),
    Setting(
        "SMTP_PASSWORD",
        None,
        "Mail server password, if it needs one.",
        _text,
        text=True,
        secret=True,
    ),
    Setting("SMTP_FROM", "sscmatch@localhost", "Sender address of reminders.", _address, text=True),
    Setting("SMTP_STARTTLS", False, "Upgrade the mail connection with STARTTLS.", _flag),
    Setting(
        "SECRETARIAT_EMAIL",
        None,
        "Where reminders go when an owner country has no focal point with an e-mail.",
        _address,
        text=True,
    ),
    Setting(
        "TODAY",
        None,
        "Pin today's date (YYYY-MM-DD) for demos and tests of reminders and "
        "overdue commitments; unset means the real date.",
        _checked_by(pinned_today),
    ),
)

DEFAULTS: dict[str, Any] = {s.name: s.default for s in SETTINGS}
TEXT_SETTINGS: tuple[str, ...] = tuple(s.name for s in SETTINGS if s.text)


def check(config: Mapping[str, Any]) -> None:
    """Refuse, when the app is made, a setting it could not use later: the first one whose
    check refuses its value, in one line (:class:`SettingError`)."""
    for setting in SETTINGS:
        value = config.get(setting.name)
        must = setting.check(value)
        if must is not None:
            raise refusal(setting.name, must, value, secret=setting.secret)


def today(config: Mapping[str, Any]) -> date:
    """The day the service works on: ``TODAY`` when pinned (demos, tests), else today in UTC."""
    return pinned_today(config.get("TODAY")) or datetime.now(UTC).date()
