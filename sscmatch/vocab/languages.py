"""Every ISO 639-3 language (pycountry), named in the vocabulary's languages by CLDR (Babel)."""

from __future__ import annotations

from types import MappingProxyType

import babel
import pycountry

from sscmatch.vocab.records import NAME_LANGUAGES, Language

# Everyday names that CLDR does not list (autonyms and older English names).
_LANGUAGE_NAMES: dict[str, tuple[str, ...]] = {
    "es": ("castellano", "castelhano", "castillan", "Castilian"),
    "ht": ("kreyòl", "kreyòl ayisyen", "créole haïtien", "criollo haitiano", "crioulo haitiano"),
    "pt": ("português", "portugués"),
    "fa": ("Farsi",),
    "id": ("Bahasa Indonesia",),
    "ms": ("Bahasa Melayu", "Bahasa Malaysia"),
    "sw": ("Kiswahili",),
    "tet": ("Tetun", "tétum"),
    "gn": ("avañeʼẽ", "guaraní"),
    "qu": ("runasimi", "quechua"),
    "ky": ("кыргызча", "кыргыз тили"),
    "kk": ("қазақ тілі",),
    "tg": ("тоҷикӣ",),
    "uz": ("oʻzbekcha",),
}


def build_languages() -> tuple[dict[str, Language], dict[str, str], set[str]]:
    """Every ISO 639-3 language (pycountry), named in the vocabulary languages by CLDR.

    Returns the languages by key, extra code aliases (ISO 639-2/B codes such as ``fre``)
    and the keys of the "major" languages (a 639-1 code or a CLDR name), the only ones
    whose names take part in fuzzy matching.
    """
    cldr: dict[str, dict[str, str]] = {}
    for lang in NAME_LANGUAGES:
        for code, name in babel.Locale(lang).languages.items():
            if "_" not in code:
                cldr.setdefault(code, {})[lang] = name
    languages: dict[str, Language] = {}
    aliases: dict[str, str] = {}
    major: set[str] = set()
    for entry in pycountry.languages:
        alpha3 = str(entry.alpha_3)
        alpha2 = getattr(entry, "alpha_2", None)
        key = str(alpha2) if alpha2 else alpha3
        names = dict(cldr.get(key, {}))
        if not names and alpha2:
            names = dict(cldr.get(alpha3, {}))
        english = names.get("en") or str(entry.name)
        names.setdefault("en", english)
        iso_names = (entry.name, getattr(entry, "inverted_name", None))
        other = tuple(str(n) for n in iso_names if n and n != english)
        other += _LANGUAGE_NAMES.get(key, ())
        languages[key] = Language(
            code=key, name=english, names=MappingProxyType(names), alpha3=alpha3, aliases=other
        )
        if alpha2 or key in cldr:
            major.add(key)
        bibliographic = getattr(entry, "bibliographic", None)
        if bibliographic:
            aliases[str(bibliographic)] = key
    return languages, aliases, major
