"""Column types shared by the tables: lists and mappings stored as JSON text.

Text rather than a native JSON column so that SQLite and PostgreSQL store and compare them the
same way. Never filter on this text: the lists that queries select by (themes, languages, the
countries of an exchange by role) are also rows of association tables, kept in step with these
columns (:mod:`sscmatch.relations`: ``relations.having(Need, "themes", family)``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.types import Text, TypeDecorator


class JSONList(TypeDecorator[list[Any]]):
    """A list of JSON values kept as text; ``None`` reads back as ``[]``."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: list[Any] | None, dialect: Dialect) -> str:
        return json.dumps(list(value or []), ensure_ascii=False)

    def process_result_value(self, value: str | None, dialect: Dialect) -> list[Any]:
        return list(json.loads(value)) if value else []


def json_list_reader() -> Callable[[str | None], tuple[str, ...]]:
    """A parser of :class:`JSONList` columns read as text (``type_coerce(col, Text)``), keeping
    each distinct value: bulk reads (every exchange) repeat the same few country and theme lists,
    and decoding them once each, without ORM objects, is many times faster."""
    memo: dict[str | None, tuple[str, ...]] = {}

    def parse(raw: str | None) -> tuple[str, ...]:
        found = memo.get(raw)
        if found is None:
            found = memo[raw] = tuple(json.loads(raw)) if raw else ()
        return found

    return parse


class JSONDict(TypeDecorator[dict[str, Any]]):
    """A JSON object kept as text; ``None`` stays ``None`` (an absent snapshot)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: dict[str, Any] | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)

    def process_result_value(self, value: str | None, dialect: Dialect) -> dict[str, Any] | None:
        return dict(json.loads(value)) if value else None
