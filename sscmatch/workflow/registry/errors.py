"""The registry's errors: what cannot be done, and why, with the HTTP meaning each carries
(:mod:`sscmatch.workflow.base`); :class:`InvalidRecord` names every field at fault."""

from __future__ import annotations

from pydantic import ValidationError

from sscmatch.workflow import base
from sscmatch.workflow.base import DomainError


class RegistryError(DomainError):
    """A registry request that cannot be done; the message says why."""


class NotFound(RegistryError, base.NotFound):
    pass


class Forbidden(RegistryError, base.Forbidden):
    pass


class Conflict(RegistryError, base.Conflict):
    """An illegal status change or an id already taken (a stale version is StaleVersion)."""


class BadFilter(RegistryError, base.BadParameter):
    pass


class InvalidRecord(RegistryError):
    """Input that fails validation; ``errors`` maps a field name (or ``""``) to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__(
            "; ".join(f"{name}: {msg}" if name else msg for name, msg in errors.items())
        )


def invalid(exc: ValidationError) -> InvalidRecord:
    errors: dict[str, str] = {}
    for error in exc.errors():
        loc = error["loc"]
        name = str(loc[0]) if loc else ""
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown field"
        elif error["type"] == "missing":
            message = "this field is required"
        elif error["type"] == "too_short" and name == "themes":
            message = "choose at least one theme"
        elif error["type"] == "string_too_short" and name == "title":
            message = "a title is required"
        elif error["type"] == "string_too_long":
            limit = (error.get("ctx") or {}).get("max_length")
            message = f"too long ({len(str(error['input']))} characters; at most {limit})"
        elif error["type"] == "too_long":
            message = f"too many items (at most {(error.get('ctx') or {}).get('max_length')})"
        if len(loc) > 1 and isinstance(loc[1], int):
            message = f"item {loc[1] + 1}: {message}"
        errors[name] = f"{errors[name]} {message}" if name in errors else message
    return InvalidRecord(errors)
