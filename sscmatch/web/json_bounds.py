"""Bounded JSON parsing for every request body the app reads.

Python's parser recurses once per nesting level: ``[[[[…]]]]`` ten thousand deep raised
``RecursionError``, which Flask does not treat as bad JSON, so it was a 500 (before sign-in, since
the NUL check reads the body of every request). The app's JSON provider refuses a document nested
deeper than :data:`MAX_DEPTH` before parsing it; Flask then answers 400 like any malformed body.
Sizes are bounded by ``MAX_CONTENT_LENGTH`` (``MAX_UPLOAD_MB``).
"""

from __future__ import annotations

import re
from typing import Any

from flask.json.provider import DefaultJSONProvider

MAX_DEPTH = 32
"""Deepest nesting of arrays and objects accepted (the API's bodies need 4)."""

_TOKENS = re.compile(r'"(?:[^"\\]++|\\.)*+"|[\[\]{}]', re.DOTALL)


class TooDeep(ValueError):
    """A JSON document nested deeper than :data:`MAX_DEPTH`."""


def too_deep(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether arrays and objects nest deeper than ``limit`` in ``text`` (brackets inside
    strings do not count).

    >>> too_deep('{"a": [1, {"b": "[[[[["}]}', 3), too_deep("[" * 33 + "]" * 33)
    (False, True)
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for token in _TOKENS.finditer(text):
        mark = token.group()
        if mark in "[{":
            depth += 1
            if depth > limit:
                return True
        elif mark in "]}":
            depth -= 1
    return False


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing documents nested deeper than :data:`MAX_DEPTH`."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        text = s.decode("utf-8", errors="replace") if isinstance(s, bytes | bytearray) else s
        if too_deep(text):
            raise TooDeep(f"JSON nested deeper than {MAX_DEPTH} levels")
        try:
            return super().loads(s, **kwargs)
        except RecursionError:  # pragma: no cover - the depth check comes first
            raise TooDeep(f"JSON nested deeper than {MAX_DEPTH} levels") from None
