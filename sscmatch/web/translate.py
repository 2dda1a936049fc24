"""Translation lookups done once per request.

Flask-Babel resolves the locale and its catalogue again on every ``gettext`` (a dozen
context-local lookups), and a page translates a few hundred strings and names: that was a tenth
of a page's time. Neither can change within a request, so both are kept beside the identity of
the app context they belong to (holding that context keeps its identity from being reused).
Templates, lazy strings and view code all go through here; Flask-Babel still chooses the locale
(``sscmatch.web.i18n.select_locale``) and loads the catalogues.
"""

from __future__ import annotations

import functools
import re
from contextvars import ContextVar
from typing import Any

from babel.numbers import format_decimal
from babel.support import NullTranslations
from flask import Flask
from flask.globals import _cv_app
from flask_babel import LazyString, get_locale, get_translations
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

# (app context, its catalogue, its language code)
_CACHED: ContextVar[tuple[object, NullTranslations, str] | None] = ContextVar(
    "sscmatch_translations", default=None
)


def _current() -> tuple[object, NullTranslations, str]:
    owner = _cv_app.get(None)
    cached = _CACHED.get()
    if cached is not None and cached[0] is owner:
        return cached
    fresh = (owner, get_translations(), str(get_locale() or "en"))
    _CACHED.set(fresh)
    return fresh


def catalogue() -> NullTranslations:
    """The current request's catalogue."""
    return _current()[1]


def current_lang() -> str:
    """The current request's interface language code (``en`` outside a request)."""
    return _current()[2]


def gettext(string: str, **variables: Any) -> str:
    """Like Flask-Babel's ``gettext``: translate, then fill ``%(name)s`` placeholders."""
    translated: str = catalogue().ugettext(string)
    return translated % variables if variables else translated


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """Like Flask-Babel's ``ngettext``: the form for ``num``, then fill ``%(num)s`` and the rest,
    the count written the reader's way (:func:`_counted`)."""
    translated: str = catalogue().ungettext(singular, plural, num)
    return str(_counted(translated, num, {"num": num, **variables}))


@functools.lru_cache(maxsize=1024)
def _as_text_slots(message: str, names: frozenset[str]) -> str:
    return re.sub(r"%\((\w+)\)d", lambda m: f"%({m[1]})s" if m[1] in names else m[0], message)


def _counted(message: str, num: int, variables: dict[str, Any]) -> Any:
    """``message % variables`` with the plural's count (``num``, and any variable holding the same
    count, e.g. ``count``) grouped as the reader writes numbers: "3 993 jours de retard", "3,993
    days overdue" (a plain ``%(num)d`` printed "3993" in every language). Other numbers (years,
    ids) are left as they are: only the count a plural form was chosen for is surely a
    quantity."""
    if isinstance(num, bool) or not isinstance(num, int) or -1000 < num < 1000:
        return message % variables  # nothing to group
    grouped = format_decimal(num, locale=current_lang())
    names = frozenset(
        k
        for k, v in variables.items()
        if type(v) is int and v == num  # a bool is no count
    )
    filled = {k: (grouped if k in names else v) for k, v in variables.items()}
    slots = _as_text_slots(str(message), names)
    return (Markup(slots) if isinstance(message, Markup) else slots) % filled


@pass_context
def _template_ngettext(
    context: Context, singular: str, plural: str, num: int, **variables: Any
) -> Any:
    """Templates' ``ngettext`` (Jinja's "newstyle": the call fills the placeholders), with the
    count grouped as :func:`ngettext` does; escaped like Jinja's own when autoescaping."""
    variables.setdefault("num", num)
    translated: Any = catalogue().ungettext(singular, plural, num)
    if context.eval_ctx.autoescape:
        translated = Markup(translated)
    return _counted(translated, num, variables)


def lazy_gettext(string: str, **variables: Any) -> LazyString:
    """A string translated when shown (module-level labels), through :func:`gettext`."""
    return LazyString(gettext, string, **variables)


def install(app: Flask) -> None:
    """Templates translate through the cached catalogue (replacing Flask-Babel's callables)."""
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: catalogue().ugettext(s),
        ngettext=lambda s, p, n: catalogue().ungettext(s, p, n),
        pgettext=lambda c, s: catalogue().upgettext(c, s),
        npgettext=lambda c, s, p, n: catalogue().unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.jinja_env.globals["ngettext"] = _template_ngettext
