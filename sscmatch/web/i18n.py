"""Interface language: chosen by the switcher, else the user's preference, else the browser's."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, request, session
from flask_login import current_user

from sscmatch.vocab import INTERFACE_LANGUAGES
from sscmatch.web.access import PUBLIC, access

bp = Blueprint("i18n", __name__)

LANGUAGE_NAMES = {"en": "English", "es": "Español", "pt": "Português", "fr": "Français"}


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
    target = request.form.get("next") or "/"
    return redirect(target if target.startswith("/") and not target.startswith("//") else "/")
