"""The matcher's reasons in the reader's language, for pages (the ``reason`` filter) and the API.

The engine gives each proposal reason codes with parameters (``matching.reasons``); here they
become sentences with the request's catalogue and names in the request's language: countries and
themes from the vocabulary, languages and UN M49 regions from CLDR (Babel).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import babel
from flask import Flask

from sscmatch.matching import Reason
from sscmatch.matching.reasons import render
from sscmatch.vocab import load_vocabulary
from sscmatch.web.templating import MATURITY_LABELS, country_name, percent, theme_label
from sscmatch.web.translate import catalogue, current_lang, reader_number
from sscmatch.web.translate import lazy_gettext as _l

GROUPINGS: dict[str, Any] = {
    "SIDS": _l("small island developing States"),
    "LDC": _l("least developed countries"),
    "LLDC": _l("landlocked developing countries"),
}


class WebNames:
    """``matching.reasons.Names`` in the current request's language."""

    def __init__(self) -> None:
        self.lang = current_lang()
        self.locale = babel.Locale.parse(self.lang)

    def country(self, code: str) -> str:
        return country_name(code)

    def theme(self, theme_id: str) -> str:
        return theme_label(theme_id)

    def language(self, code: str) -> str:
        found = load_vocabulary().languages.get(code)
        if found is not None and self.lang in found.names:
            return found.label(self.lang)
        return str(self.locale.languages.get(code) or (found.label(self.lang) if found else code))

    def region(self, code: str) -> str:
        return str(self.locale.territories.get(code) or code)

    def maturity(self, level: str) -> str:
        return str(MATURITY_LABELS.get(level, level))

    def join(self, items: Iterable[str]) -> str:
        names = [str(GROUPINGS.get(x, x)) for x in items]
        return ", ".join(names)

    def number(self, value: int) -> str:
        return reader_number(value)

    def percent(self, value: float) -> str:
        return percent(value / 100)


def text_of(reason: Reason | Mapping[str, Any] | str) -> str:
    """One reason as a sentence in the request's language."""
    cat = catalogue()
    return render(reason, WebNames(), cat.ugettext, cat.ungettext)


def as_json(reason: Reason | Mapping[str, Any] | str) -> dict[str, Any]:
    """A reason for the API: its code and parameters (a client may render them itself) and the
    sentence in the request's language."""
    if isinstance(reason, str):
        return {"code": None, "params": {}, "text": reason}
    data = reason.to_dict() if isinstance(reason, Reason) else dict(reason)
    return {"code": data.get("code"), "params": data.get("params") or {}, "text": text_of(reason)}


def init_app(app: Flask) -> None:
    app.jinja_env.filters["reason"] = text_of
