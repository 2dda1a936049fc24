"""Form widgets and choice lists shared by the registry and matching forms.

Large selects (250 countries, 68 themes, every institution) were most of a form page's time when
WTForms built each option anew; these build each list once per vocabulary and language.
"""

from __future__ import annotations

import functools
from typing import Any

from markupsafe import Markup, escape
from wtforms import widgets
from wtforms.fields.choices import SelectChoice

from sscmatch.vocab import Vocabulary
from sscmatch.web.templating import lang, name_order


def theme_choices(vocab: Vocabulary) -> list[tuple[str, str]]:
    """Themes as (id, label) in the interface language, each parent followed by its children."""
    return list(_theme_options_in(vocab, lang()))


def country_choices(vocab: Vocabulary) -> list[tuple[str, str]]:
    return list(_country_options_in(vocab, lang()))


# Every list page and form shows these; built once per vocabulary and language, not per request.
@functools.lru_cache(maxsize=16)
def _theme_options_in(vocab: Vocabulary, language: str) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    for root in vocab.roots():
        out.append((root, vocab.themes[root].label(language)))
        out.extend(
            (child, "— " + vocab.themes[child].label(language)) for child in vocab.children(root)
        )
    return tuple(out)


@functools.lru_cache(maxsize=16)
def _country_options_in(vocab: Vocabulary, language: str) -> tuple[tuple[str, str], ...]:
    names = ((code, country.name(language)) for code, country in vocab.countries.items())
    return tuple(sorted(names, key=lambda pair: name_order(pair[1])))


@functools.lru_cache(maxsize=64)
def _option_parts(
    choices: tuple[tuple[str, str], ...],
) -> tuple[tuple[str, ...], dict[str, tuple[int, ...]]]:
    """Each choice's ``<option>`` as WTForms writes it (not selected), and where each value is."""
    parts: list[str] = []
    where: dict[str, tuple[int, ...]] = {}
    for i, (value, label) in enumerate(choices):
        parts.append(f'<option value="{escape(value)}">{escape(label)}</option>')
        where[value] = (*where.get(value, ()), i)
    return tuple(parts), where


def _plain_choices(choices: Any) -> tuple[tuple[str, str], ...] | None:
    """``(value, label)`` pairs of choices without groups or option attributes, else None."""
    if not isinstance(choices, list | tuple):
        return None
    pairs: list[tuple[str, str]] = []
    for c in choices:
        if type(c) is tuple and len(c) == 2:
            value, label = c
        elif isinstance(c, SelectChoice) and not c.render_kw and c.optgroup is None:
            value, label = c.value, c.label
        else:
            return None
        if isinstance(value, bool):  # WTForms writes a bool value as text too
            value = str(value)
        pairs.append((str(value), str(label or value)))
    return tuple(pairs)


class FastSelect(widgets.Select):  # type: ignore[misc]
    """WTForms' ``Select`` widget, writing the same HTML, with the options built once per list
    of choices (the form's 250 countries and its themes were most of the page's time).

    Only for plain choices (no groups, no option attributes) of a field that keeps strings
    (``coerce=str``); any other field is rendered by WTForms' own widget."""

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        pairs = _plain_choices(field.choices) if getattr(field, "coerce", None) is str else None
        if pairs is None:
            rendered: Markup = super().__call__(field, **kwargs)
            return rendered
        kwargs.setdefault("id", field.id)
        if self.multiple:
            kwargs["multiple"] = True
        flags = getattr(field, "flags", {})
        for k in dir(flags):
            if k in self.validation_attrs and k not in kwargs:
                kwargs[k] = getattr(flags, k)
        parts, where = _option_parts(pairs)
        out = list(parts)
        data = field.data
        for value in (data or ()) if self.multiple else (data,):
            if isinstance(value, str):
                for i in where.get(value, ()):
                    out[i] = out[i].replace("<option ", "<option selected ", 1)
        return Markup(
            f"<select {widgets.html_params(name=field.name, **kwargs)}>{''.join(out)}</select>"
        )
