"""Sentences of the reason codes the engine returns, in any interface language.

The engine's ``Reason`` is a code with parameters (ids, codes, counts). Every sentence a reader
sees is one of the templates below, an English message id that the translation catalogues carry
in Spanish, Portuguese and French; the web layer and the API pass their gettext functions and a
``Names`` that turns ids into names in the reader's language, the command line uses the
identity (English). Templates are marked with ``N_`` / ``NP_`` so that ``scripts/i18n update``
extracts them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sscmatch.matching.model import Reason
from sscmatch.plurals import count_slots


def N_(message: str) -> str:
    return message


def NP_(singular: str, plural: str) -> tuple[str, str]:
    return singular, plural


@dataclass(frozen=True)
class Template:
    """A message id, or a singular/plural pair chosen by the parameter ``count``."""

    message: str | tuple[str, str]
    count: str | None = None


TEMPLATES: Mapping[str, Template] = {
    "fallback.no_capacity": Template(
        N_("No registered offer of %(country)s fits this need: proposed for its experience")
    ),
    "near_tie.language": Template(
        N_("Scores nearly level with %(country)s: ranked above it for a closer working language")
    ),
    "near_tie.region": Template(
        N_("Scores nearly level with %(country)s: ranked above it for a closer region")
    ),
    "topic.same": Template(N_("Offers %(offer_theme)s, the theme of the need")),
    "topic.broader_narrower": Template(
        N_("Offers %(offer_theme)s, broader or narrower than the need's %(need_theme)s")
    ),
    "topic.sibling": Template(
        N_("Offers %(offer_theme)s, next to the need's %(need_theme)s: does not address it")
    ),
    "topic.family": Template(
        N_(
            "Offers %(offer_theme)s, in the family of the need's %(need_theme)s: does not"
            " address it"
        )
    ),
    "topic.unrelated": Template(N_("Offers nothing on the need's themes")),
    "topic.fallback_same": Template(
        NP_(
            "%(country)s provided %(count)d exchange on %(offer_theme)s (latest %(latest)s)",
            "%(country)s provided %(count)d exchanges on %(offer_theme)s (latest %(latest)s)",
        ),
        "count",
    ),
    "topic.fallback_broader_narrower": Template(
        NP_(
            "%(country)s provided %(count)d exchange on %(offer_theme)s, broader or narrower"
            " than %(need_theme)s (latest %(latest)s)",
            "%(country)s provided %(count)d exchanges on %(offer_theme)s, broader or narrower"
            " than %(need_theme)s (latest %(latest)s)",
        ),
        "count",
    ),
    "topic.fallback_sibling": Template(
        NP_(
            "%(country)s provided %(count)d exchange on %(offer_theme)s, next to %(need_theme)s"
            " (latest %(latest)s)",
            "%(country)s provided %(count)d exchanges on %(offer_theme)s, next to"
            " %(need_theme)s (latest %(latest)s)",
        ),
        "count",
    ),
    "topic.fallback_family": Template(
        NP_(
            "%(country)s provided %(count)d exchange on %(offer_theme)s, in the family of"
            " %(need_theme)s (latest %(latest)s)",
            "%(country)s provided %(count)d exchanges on %(offer_theme)s, in the family of"
            " %(need_theme)s (latest %(latest)s)",
        ),
        "count",
    ),
    "topic.fallback_unrelated": Template(
        N_("%(country)s has no registered offer and no past exchange on the need's themes")
    ),
    "text.alike": Template(N_("Texts %(percent)s alike")),
    "text.unrelated": Template(N_("Texts not alike")),
    "text.missing": Template(N_("Texts not compared yet")),
    "text.fallback_alike": Template(
        N_("The need's text is %(percent)s similar to what the country offered and provided")
    ),
    "text.fallback_unrelated": Template(
        N_("The need's text is not similar to what the country offered and provided")
    ),
    "experience.provided": Template(
        NP_(
            "%(country)s has provided %(count)d exchange since %(since)s, %(on_theme)d on"
            " these themes",
            "%(country)s has provided %(count)d exchanges since %(since)s, %(on_theme)d on"
            " these themes",
        ),
        "count",
    ),
    "experience.took_part": Template(
        NP_(
            "%(country)s took part in %(count)d exchange (role not stated) and provided none",
            "%(country)s took part in %(count)d exchanges (role not stated) and provided none",
        ),
        "count",
    ),
    "experience.none": Template(N_("No recorded exchanges of %(country)s")),
    "relationship.helped": Template(
        NP_(
            "%(provider)s has helped %(recipient)s before (%(count)d exchange)",
            "%(provider)s has helped %(recipient)s before (%(count)d exchanges)",
        ),
        "count",
    ),
    "relationship.together": Template(
        NP_(
            "%(provider)s and %(recipient)s took part in %(count)d exchange together (its"
            " credit shared among all its members)",
            "%(provider)s and %(recipient)s took part in %(count)d exchanges together (their"
            " credit shared among all their members)",
        ),
        "count",
    ),
    "relationship.none": Template(N_("No past exchanges between %(provider)s and %(recipient)s")),
    "relationship.partners": Template(
        NP_(
            "%(partner_count)d shared partner: %(partners)s",
            "%(partner_count)d shared partners: %(partners)s",
        ),
        "partner_count",
    ),
    "region.same": Template(N_("Same region: %(region)s")),
    "region.grouping": Template(N_("Both %(groupings)s")),
    "region.different": Template(N_("Different regions")),
    "region.unknown": Template(N_("Region unknown")),
    "language.shared": Template(N_("Shares %(languages)s")),
    "language.intelligible": Template(
        N_("%(need_language)s and %(offer_language)s are mutually intelligible")
    ),
    "language.interpretation": Template(
        N_("Needs interpretation (%(offer_language)s to %(need_language)s)")
    ),
    "language.unknown": Template(N_("Working languages unknown")),
    "maturity.level": Template(N_("Maturity: %(level)s")),
    "maturity.unknown": Template(N_("Maturity not stated (neutral)")),
    "maturity.fallback": Template(N_("No registered programme: maturity neutral")),
    "follow_through.record": Template(
        NP_(
            "%(country)s fulfilled %(fulfilled)d of %(count)d decided commitment",
            "%(country)s fulfilled %(fulfilled)d of %(count)d decided commitments",
        ),
        "count",
    ),
    "follow_through.none": Template(N_("No decided commitments of %(country)s yet (neutral)")),
    "damped": Template(
        N_("Score lowered %(percent)s because %(country)s already leads many other needs")
    ),
    "excluded.unknown_need": Template(N_("Unknown need %(need)s")),
    "excluded.unknown_capacity": Template(N_("Unknown capacity %(capacity)s")),
    "excluded.need_not_open": Template(N_("The need is not open")),
    "excluded.need_later": Template(N_("The need did not exist yet on that date")),
    "excluded.capacity_not_published": Template(N_("The capacity is not published")),
    "excluded.capacity_later": Template(N_("The capacity did not exist yet on that date")),
    "excluded.body": Template(
        N_("The capacity is an international body's: bodies are partners, not providers")
    ),
    "excluded.same_country": Template(N_("A country is never matched with itself")),
    "excluded.donor": Template(
        N_("%(country)s is an OECD DAC member: a funder of triangular cooperation, not a provider")
    ),
    "excluded.veto_pair": Template(N_("The secretariat vetoed %(provider)s helping %(recipient)s")),
    "excluded.veto_offer": Template(N_("The secretariat vetoed this capacity for this need")),
    "excluded.window": Template(N_("The capacity is not available when the need wants it")),
    "excluded.family": Template(N_("No theme of the capacity is in the need's theme family")),
}

COUNTRY_PARAMS = ("country", "provider", "recipient")
THEME_PARAMS = ("need_theme", "offer_theme")
LANGUAGE_PARAMS = ("need_language", "offer_language")


class Names(Protocol):
    """Names in the reader's language (the web passes the vocabulary's, in the user's locale)."""

    def country(self, code: str) -> str: ...

    def theme(self, theme_id: str) -> str: ...

    def language(self, code: str) -> str: ...

    def region(self, code: str) -> str: ...

    def maturity(self, level: str) -> str: ...

    def join(self, items: Iterable[str]) -> str: ...

    def number(self, value: int) -> str: ...

    def percent(self, value: float) -> str:
        """A whole percentage (``value`` of 100) as the reader writes it: ``96%``, ``96 %``."""
        ...


class CodeNames:
    """Ids as they are: for a reader without a vocabulary (tests, plain English output)."""

    def country(self, code: str) -> str:
        return code

    def theme(self, theme_id: str) -> str:
        return theme_id.replace("-", " ")

    def language(self, code: str) -> str:
        return code

    def region(self, code: str) -> str:
        return code

    def maturity(self, level: str) -> str:
        return level

    def join(self, items: Iterable[str]) -> str:
        return ", ".join(items)

    def number(self, value: int) -> str:
        return str(value)

    def percent(self, value: float) -> str:
        return f"{value:g}%"  # plain English output (the command line, tests)


Gettext = Callable[[str], str]
Ngettext = Callable[[str, str, int], str]


def _names(params: Mapping[str, Any], names: Names) -> dict[str, Any]:
    out = dict(params)
    for key in COUNTRY_PARAMS:
        if key in out:
            out[key] = names.country(str(out[key]))
    for key in THEME_PARAMS:
        if key in out:
            out[key] = names.theme(str(out[key]))
    for key in LANGUAGE_PARAMS:
        if key in out:
            out[key] = names.language(str(out[key]))
    if "languages" in out:
        out["languages"] = names.join(names.language(x) for x in out["languages"])
    if "partners" in out:
        out["partners"] = names.join(names.country(x) for x in out["partners"])
    if "groupings" in out:
        out["groupings"] = names.join(out["groupings"])
    if "region" in out:
        out["region"] = names.region(str(out["region"]))
    if "level" in out:
        out["level"] = names.maturity(str(out["level"]))
    if "percent" in out:  # a stored reason keeps the whole number; the reader's way is shown
        with contextlib.suppress(TypeError, ValueError):
            out["percent"] = names.percent(float(out["percent"]))
    return out


def _one(
    code: str, params: Mapping[str, Any], names: Names, gettext: Gettext, ngettext: Ngettext
) -> str:
    template = TEMPLATES.get(code)
    if template is None:
        return code  # a code this version does not know: shown as it is, never dropped
    values = _names(params, names)
    if isinstance(template.message, tuple):
        count = int(params.get(template.count or "count", 0))
        text = ngettext(template.message[0], template.message[1], count)
        text, values = count_slots(text, count, values, names.number)
    else:
        text = gettext(template.message)
    try:
        return text % values
    except (KeyError, TypeError, ValueError):
        return text


def render(
    reason: Reason | Mapping[str, Any] | str,
    names: Names | None = None,
    gettext: Gettext | None = None,
    ngettext: Ngettext | None = None,
) -> str:
    """One reason as a sentence. Accepts a ``Reason``, its stored dict form, or a stored
    sentence from before reasons had codes (returned as it is)."""
    if isinstance(reason, str):
        return reason
    names = names or CodeNames()
    gettext = gettext or (lambda s: s)
    ngettext = ngettext or (lambda s, p, n: s if n == 1 else p)
    code = reason.code if isinstance(reason, Reason) else str(reason.get("code", ""))
    params = reason.params if isinstance(reason, Reason) else reason.get("params") or {}
    text = _one(code, params, names, gettext, ngettext)
    if code.startswith("relationship.") and int(params.get("partner_count", 0)):
        text += "; " + _one("relationship.partners", params, names, gettext, ngettext)
    return text
