"""Translation lookups done once per request.

Flask-Babel resolves the locale and its catalogue again on every ``gettext`` (a dozen
context-local lookups), and a page translates a few hundred strings and names: that was a tenth
of a page's time. Neither can change within a request, so both are kept beside the identity of
the app context they belong to (holding that context keeps its identity from being reused).
Templates, lazy strings and view code all go through here; Flask-Babel still chooses the locale
(``sscmatch.web.i18n.select_locale``) and loads the catalogues.
"""

from __future__ import annotations

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

from sscmatch.plurals import count_slots

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


def _counted(message: str, num: int, variables: dict[str, Any]) -> Any:
    """``message % variables`` with the plural's count grouped as the reader writes numbers
    (:func:`sscmatch.plurals.count_slots`); a Markup message stays Markup (its values
    escaped)."""
    slots, filled = count_slots(str(message), num, variables, reader_number)
    return (Markup(slots) if isinstance(message, Markup) else slots) % filled


def reader_number(value: int) -> str:
    """A whole number as the current reader writes it (``12,345``, ``12.345``, ``12 345``)."""
    return str(format_decimal(value, locale=current_lang()))


@pass_context
def _template_ngettext(
    context: Context, singular: str, plural: str, count: int, /, **variables: Any
) -> Any:
    """Templates' ``ngettext`` (Jinja's "newstyle": the call fills the placeholders), with the
    count grouped as :func:`ngettext` does; escaped like Jinja's own when autoescaping. The
    first four are positional only, so that ``num=`` may give the placeholder another value
    (``num='{n}'``: a form for a script to fill)."""
    variables.setdefault("num", count)
    translated: Any = catalogue().ungettext(singular, plural, count)
    if context.eval_ctx.autoescape:
        translated = Markup(translated)
    return _counted(translated, count, variables)


def pgettext(context: str, string: str, **variables: Any) -> str:
    """``string`` as translated in ``context`` (a word whose form depends on what it is said
    of: a study tour's status agrees with the language's noun for a study tour)."""
    translated = catalogue().upgettext(context, string)
    return translated % variables if variables else translated


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
