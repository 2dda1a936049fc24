"""Interface language: chosen by the switcher, else the user's preference, else the browser's."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, request, session
from flask_login import current_user

from sscmatch.vocab import INTERFACE_LANGUAGES
from sscmatch.web.access import PUBLIC, access
from sscmatch.web.translate import lazy_gettext as _l
from sscmatch.workflow.base import N_
from sscmatch.workflow.reminders import catalogue
from sscmatch.workflow.users import BROWSER_LANGUAGE

bp = Blueprint("i18n", __name__)

SWITCHED_HERE_ONLY = N_(
    "This browser now shows the pages in this language. To have it at every sign-in, on any "
    "device, and in your e-mails, choose it on the page Your account (your name, at the top)."
)

LANGUAGE_NAMES = {"en": "English", "es": "Español", "pt": "Português", "fr": "Français"}


def language_choices() -> list[tuple[str, Any]]:
    """An account's language as its forms offer it: the browser's (not chosen), or one of the
    four, each named in itself."""
    return [(BROWSER_LANGUAGE, _l("The browser's language")), *LANGUAGE_NAMES.items()]


def select_locale() -> str:
    chosen = session.get("lang")
    if chosen in INTERFACE_LANGUAGES:
        return str(chosen)
    if (
        current_user
        and current_user.is_authenticated
        and current_user.language in INTERFACE_LANGUAGES
    ):
        return str(current_user.language)
    return request.accept_languages.best_match(INTERFACE_LANGUAGES) or "en"


@bp.post("/language")
@access(PUBLIC)
def switch_language() -> Any:
    lang = request.form.get("lang", "")
    if lang in INTERFACE_LANGUAGES:
        session["lang"] = lang
        if current_user.is_authenticated and current_user.language != lang:
            # The switcher is this browser's; say where the account's language is kept, in
            # the language just chosen (this request was read in the one before).
            flash(catalogue(lang).ugettext(SWITCHED_HERE_ONLY), "info")
    from sscmatch.web.auth import local_address  # auth imports this module

    return redirect(local_address(request.form.get("next")) or "/")
