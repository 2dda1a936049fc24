"""Template helpers: navigation by role, labels of roles and statuses, localised names."""

from __future__ import annotations

import decimal
import functools
import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date, format_skeleton
from babel.numbers import NumberPattern, format_percent, parse_pattern
from flask import Flask, Response, current_app, has_request_context, request, url_for
from flask_babel import LazyString
from flask_login import current_user
from markupsafe import Markup, escape

from sscmatch.dates import PartialDate, PartialDateError, format_range
from sscmatch.models import Institution
from sscmatch.plurals import lateness
from sscmatch.schemas import moment_text
from sscmatch.vocab import INTERFACE_LANGUAGES, Vocabulary, load_vocabulary
from sscmatch.web.access import PUBLIC, SIGNED_IN, access, rule_for
from sscmatch.web.db import get_session
from sscmatch.web.fieldnames import field_label
from sscmatch.web.paging import link_args
from sscmatch.web.translate import current_lang, gettext, ngettext, pgettext
from sscmatch.web.translate import lazy_gettext as _l
from sscmatch.workflow.base import N_

# The main menu; an entry shows when its blueprint exists and the user's role may open it.
NAV: tuple[tuple[str, Any], ...] = (
    ("registry.needs", _l("Needs")),
    ("registry.capacities", _l("Capacities")),
    ("registry.exchanges", _l("Exchanges")),
    ("network.countries", _l("Countries")),
    ("review.my_proposals", _l("Our proposals")),
    ("matching.runs", _l("Matching")),
    ("review.queue", _l("Review queue")),
    ("tours.index", _l("Study tours")),
    ("followup.dashboard", _l("Follow-up")),
    ("network.index", _l("Network")),
    ("admin.users", _l("Users")),
    ("admin.audit", _l("Audit log")),
)

ROLE_LABELS = {
    "focal_point": _l("Focal point"),
    "secretariat": _l("Technical secretariat"),
    "analyst": _l("Analyst"),
    "admin": _l("Administrator"),
}


@functools.cache
def _role_words(role: str) -> tuple[str, ...]:
    """A role's label in every interface language, lower-cased."""
    from sscmatch.workflow.reminders import catalogue

    label = ROLE_LABELS.get(role)
    if label is None:
        return (role.lower(),)
    msgid = str(label._args[0])
    return tuple({catalogue(lang).ugettext(msgid).lower() for lang in INTERFACE_LANGUAGES})


def names_role(name: str, role: str) -> bool:
    """Whether an account's name already says its role, in any interface language: the header
    shows the role only when it does not (a demo account called "Ponto focal Brasil", read in
    Spanish, showed "Ponto focal Brasil · Punto focal")."""
    low = name.lower()
    return any(word in low for word in _role_words(role))


def names_country(name: str, code: str) -> bool:
    """Whether an account's name already says its country (code or name in any language)."""
    country = load_vocabulary().countries.get(code)
    names = {country.name(lang) for lang in INTERFACE_LANGUAGES} if country else set()
    return any(n and n in name for n in (code, *names))


MATURITY_LABELS = {
    "pilot": _l("pilot"),
    "operational": _l("operational"),
    "scaled": _l("scaled up"),
    "institutionalised": _l("institutionalised"),
}

STATUS_LABELS = {
    "draft": _l("draft"),
    "open": _l("open"),
    "matched": _l("matched"),
    "closed": _l("closed"),
    "published": _l("published"),
    "archived": _l("archived"),
    "submitted": _l("submitted"),
    "proposed": _l("proposed"),
    "provider_confirmed": _l("provider confirmed"),
    "provider_declined": _l("provider declined"),
    "accepted": _l("accepted"),
    "rejected": _l("rejected"),
    "superseded": _l("superseded"),
    "pending": _l("pending"),
    "in_progress": _l("in progress"),
    "fulfilled": _l("fulfilled"),
    "dropped": _l("dropped"),
    "overdue": _l("overdue"),
    "agreed": _l("agreed"),
    "scheduled": _l("scheduled"),
    "completed": _l("completed"),
    "cancelled": _l("cancelled"),
    "running": _l("running"),
    "done": _l("done"),
    "failed": _l("failed"),
}

# A study tour's statuses agree with the noun each language uses for it ("voyage d'étude" is
# masculine, "visita de estudio/estudo" feminine), where the shared labels above agree with
# other records ("proposée" is said of a proposal): their own forms, in the context "study tour".
TOUR_STATUS_LABELS: dict[str, Any] = {
    "draft": LazyString(lambda: pgettext("study tour", "draft")),
    "proposed": LazyString(lambda: pgettext("study tour", "proposed")),
    "agreed": LazyString(lambda: pgettext("study tour", "agreed")),
    "scheduled": LazyString(lambda: pgettext("study tour", "scheduled")),
    "completed": LazyString(lambda: pgettext("study tour", "completed")),
    "closed": LazyString(lambda: pgettext("study tour", "closed")),
    "cancelled": LazyString(lambda: pgettext("study tour", "cancelled")),
}


def tour_status_label(status: str) -> str:
    """A study tour's status in the reader's language, agreeing with its noun."""
    return str(TOUR_STATUS_LABELS.get(status, STATUS_LABELS.get(status, status)))


def tour_badge(status: str) -> Markup:
    """A study tour's status as a badge (as :func:`badge`, in the tour's own forms)."""
    return Markup('<span class="badge badge-%s">%s</span>') % (status, tour_status_label(status))


CONSTITUENCY_LABELS: dict[str, Any] = {
    "government": _l("Government"),
    "employers": _l("Employers"),
    "workers": _l("Workers"),
    "un_agency": _l("UN agency"),
    "cooperation_agency": _l("Cooperation agency"),
    "international": _l("International body"),
    "ngo": _l("NGO"),
    "academia": _l("Academia"),
    "other": _l("Other"),
}
# The audit log's record types and actions (what sscmatch.workflow writes).
ENTITY_LABELS: dict[str, Any] = {
    "bundle": _l("bundle"),
    "calibration": _l("calibration"),
    "capacity": _l("capacity"),
    "commitment": _l("commitment"),
    "exchange": _l("exchange"),
    "institution": _l("institution"),
    "match_run": _l("match run"),
    "need": _l("need"),
    "proposal": _l("proposal"),
    "study_tour": _l("study tour"),
    "user": _l("user"),
    "veto": _l("veto"),
}
ACTION_LABELS: dict[str, Any] = {
    "accept": _l("accept"),
    "agree": _l("agree (for one country)"),
    "change_password": _l("change password"),
    "change_language": _l("change language"),
    "comment": _l("comment"),
    "confirm": _l("confirm"),
    "create": _l("create"),
    "decide": _l("decide"),
    "decline": _l("decline"),
    "does_not_fit": _l("does not fit"),
    "draft": _l("draft"),
    "endorse": _l("endorse"),
    "fail": _l("fail"),
    "fits": _l("fits"),
    "finish": _l("finish"),
    "import": _l("import"),
    "issue_token": _l("issue an API token"),
    "lift": _l("lift"),
    "match": _l("match"),
    "reject": _l("reject"),
    "reopen": _l("reopen"),
    "reset_password": _l("reset password"),
    "respond": _l("respond"),
    "return": _l("return"),
    "revert": _l("revert"),
    "sign_in": _l("sign in"),
    "sign_in_failed": _l("sign-in failed"),
    "sign_out": _l("sign out"),
    "start": _l("start"),
    "submit": _l("submit"),
    "withdraw_endorsement": _l("withdraw endorsement"),
    "take_back": _l("take back the submission"),
    "withdraw": _l("withdraw"),
    "reinstate": _l("reinstate"),
    "supersede": _l("supersede"),
    "unlock": _l("unlock"),
    "update": _l("update"),
    "veto": _l("veto the pair"),  # "veto" alone reads the same in Spanish and French
}


def action_label(action: str) -> str:
    """An audit action in the reader's language (``status:agreed`` → "status: agreed")."""
    if action.startswith("status:"):
        status = action.split(":", 1)[1]
        return f"{ACTION_STATUS} {STATUS_LABELS.get(status, status)}"
    return str(ACTION_LABELS.get(action, action))


ACTION_STATUS = _l("status →")
# Notes the use cases write in English; anything else is a person's note, shown as written.
NOTE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^drafted from proposal (?P<id>\d+)$"), N_("drafted from proposal %(id)s")),
    (re.compile(r"^drafted$"), N_("drafted")),
    (re.compile(r"^recorded$"), N_("recorded")),
    (
        re.compile(r"^recorded from completed study tour (?P<id>\S+)$"),
        N_("recorded from completed study tour %(id)s"),
    ),
    (re.compile(r"^(?P<n>\d+) proposals$"), N_("%(n)s proposals")),
    (
        re.compile(r"^password reset by an admin; sessions and API token ended$"),
        N_("password reset by an admin; sessions and API token ended"),
    ),
    (
        re.compile(
            r"^changed by its focal point after endorsement: submitted for endorsement again$"
        ),
        N_("changed by its focal point after endorsement: submitted for endorsement again"),
    ),
    # a calibration's finish and its interruption (sscmatch.workflow.calibrations)
    (
        re.compile(r"^(?P<cases>\d+) cases from (?P<projects>\d+) projects$"),
        N_("%(cases)s cases from %(projects)s projects"),
    ),
    (re.compile(r"^interrupted$"), N_("interrupted: the server stopped before it finished")),
)


def audit_note(note: str | None) -> str:
    """A note of the audit log or a commitment's history in the reader's language, when the
    service wrote it; a person's note as written."""
    if not note:
        return ""
    for pattern, message in NOTE_PATTERNS:
        found = pattern.match(note)
        if found is not None:
            return gettext(message, **found.groupdict())
    return note


# M49 areas that CLDR names otherwise, or not at all (its 419 is "Latin America" only).
REGION_OVERRIDES: dict[str, Any] = {
    "419": _l("Latin America and the Caribbean"),
    "830": _l("Channel Islands"),
}


def nav_links() -> list[tuple[str, Any]]:
    if not current_user.is_authenticated:
        return []
    links = []
    for endpoint, label in NAV:
        if endpoint not in current_app.view_functions:
            continue
        rule = rule_for(endpoint) or frozenset()
        if PUBLIC in rule or SIGNED_IN in rule or current_user.role in rule:
            links.append((endpoint, label))
    return links


def main_nav() -> Markup:
    """The main menu's links for the signed-in user (none for a visitor), the current page
    marked; kept per app, mount point, role, language and page: every page draws it, and
    drawing its dozen links in the template was a fifth of the page's frame."""
    if not current_user.is_authenticated:
        return Markup("")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return _main_nav(app, request.script_root, current_user.role, lang(), request.endpoint)


@functools.lru_cache(maxsize=1024)
def _main_nav(
    app: Flask, script_root: str, role: str, language: str, endpoint: str | None
) -> Markup:
    links = Markup("")
    for target, label in nav_links():
        current = Markup(' aria-current="page"') if target == endpoint else ""
        links += Markup('\n          <a href="%s"%s>%s</a>') % (
            fast_url_for(target),
            current,
            label,
        )
    return links


def lang() -> str:
    return current_lang()


def country_name(code: str | None) -> str:
    if not code:
        return ""
    country = load_vocabulary().countries.get(code)
    return country.name(lang()) if country else code


def name_order(name: str) -> str:
    """The key that orders names as a reader expects: case and accents aside ("Émirats" among
    the E's, not after "Zimbabwe")."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def by_country_name(codes: Iterable[str]) -> list[str]:
    """Country codes in the order of their names in the reader's language (a filter's options,
    a table by country), not of their ISO codes."""
    return sorted(codes, key=lambda code: (name_order(country_name(code)), code))


def by_region_name(codes: Iterable[str]) -> list[str]:
    """Region codes in the order of their names in the reader's language (a region filter's
    options), not of the English names or the codes."""
    return sorted(codes, key=lambda code: (name_order(region_name(code)), code))


def country_link(code: str | None) -> Markup:
    """A country by its name, linked to its profile when the network pages exist (the
    ``country`` macro of ``_macros.html``). Kept per app, mount point, code and language: list
    pages show two to four countries a row, and drawing each through the macro (a URL, a name,
    escaping) was a tenth of such a page."""
    if not code:
        return Markup("")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return _country_link(app, request.script_root if has_request_context() else "", code, lang())


@functools.lru_cache(maxsize=4096)
def _country_link(app: Flask, script_root: str, code: str, language: str) -> Markup:
    href = url_if("network.country", code=code)
    name = country_name(code)
    # class "name": a name of the service's vocabulary, whose words a squeezed column keeps
    # whole (static/css/app.css)
    return Markup('<a class="name" href="%s">%s</a>') % (href, name) if href else escape(name)


def holder(code: str | None, institution: str | None) -> Markup:
    """Who holds a record: its country, or (no country) the international or regional body
    named as its institution, shown as what it is (the ``holder`` of ``_macros.html``)."""
    if code:
        return country_link(code)
    # translated as the templates' ``_`` does: the catalogue's text is taken as it is
    return Markup('%s <span class="badge">%s</span>') % (
        institution_name(institution),
        Markup(gettext("international body")),
    )


def badge(status: str) -> Markup:
    """A status as a badge (the ``badge`` of ``_macros.html``)."""
    return Markup('<span class="badge badge-%s">%s</span>') % (
        status,
        STATUS_LABELS.get(status, status),
    )


@functools.lru_cache(maxsize=32)
def _number_pattern(digits: int, signed: bool) -> NumberPattern:
    body = "#,##0" + ("." + "0" * digits if digits else "")
    return parse_pattern(f"+{body};-{body}" if signed else body)


def overdue(days_late: int) -> str:
    """How late something is, in the reader's language and the unit a reader takes in ("13
    years overdue", not "5088 days overdue": :func:`sscmatch.plurals.lateness`)."""
    singular, plural, count = lateness(days_late)
    return ngettext(singular, plural, count)


def number(value: float | int | None, digits: int = 2, signed: bool = False) -> str:
    """A number as the reader writes it (the ``num`` filter): ``0.88`` in English, ``0,88`` in
    Spanish, French and Portuguese, thousands grouped (``1 250`` in French); ``signed`` writes
    a plus before a positive number (a score's contributions). Empty for no number."""
    if value is None:
        return ""
    with decimal.localcontext() as context:
        # as many digits as the figure has: a value a client sent (1e308), said back in a
        # refusal, is wider than decimal's default 28, which made formatting it fail (a 500)
        context.prec = max(context.prec, decimal.Decimal(str(value)).adjusted() + digits + 2)
        return str(_number_pattern(digits, signed).apply(value, _locale(lang())))


def percent(share: float | None) -> str:
    """A share of 1 as a whole percentage in the reader's way (``38%``, ``38 %``)."""
    if share is None:
        return ""
    return str(format_percent(share, locale=_locale(lang())))


def score_bar(value: float, label: Any = None) -> Markup:
    """A score as a ``<meter>`` and its figure (the ``score_bar`` of ``_macros.html``); a
    ``<meter>``, not a styled span: the CSP forbids inline style attributes."""
    text = number(value, 2)
    bar = Markup(
        '<span class="score"><meter class="score-meter" min="0" max="1" value="%s">%s</meter>'
        '<span class="score-num">%s</span>'
    ) % (value, text, text)
    if label:
        bar += Markup(' <span class="score-label">%s</span>') % label
    return bar + Markup("</span>")


@functools.lru_cache(maxsize=4)
def _region_codes(vocab: Vocabulary) -> dict[str, str]:
    """UN M49 area name (as data/vocab/countries.csv writes it) → its M49 code."""
    codes: dict[str, str] = {}
    for c in vocab.countries.values():
        for name, code in (
            (c.region, c.region_code),
            (c.subregion, c.subregion_code),
            (c.intermediate_region, c.intermediate_region_code),
        ):
            if name and code:
                codes[name] = code
    return codes


def region_name(name: str | None) -> str:
    """A UN M49 region, sub-region or intermediate region in the reader's language: CLDR's
    names through Babel (by M49 code), a few of ours where CLDR has none or a narrower one."""
    if not name:
        return ""
    code = _region_codes(load_vocabulary()).get(name)
    if code is None:
        return name
    if code in REGION_OVERRIDES:
        return str(REGION_OVERRIDES[code])
    locale = _locale(lang())
    found = locale.territories.get(code) or locale.territories.get("AQ" if code == "010" else "")
    return str(found) if found else name


def language_name(code: str | None) -> str:
    """A language (ISO 639-1 code) by its name in the reader's language (CLDR through Babel)."""
    if not code:
        return ""
    found = _locale(lang()).languages.get(code)
    return str(found) if found else code


@functools.lru_cache(maxsize=8)
def _locale(code: str) -> Locale:
    return Locale.parse(code)


_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")


def evidence(text: str | None) -> Markup:
    """Text with its web addresses as links (evidence, notes): the rest is escaped."""
    if not text:
        return Markup("—")
    out: list[str] = []
    last = 0
    for found in _URL.finditer(text):
        out.append(str(escape(text[last : found.start()])))
        url = found.group(0)
        link = f'<a class="url" href="{escape(url)}" rel="noopener noreferrer">{escape(url)}</a>'
        out.append(link)
        last = found.end()
    out.append(str(escape(text[last:])))
    return Markup("".join(out))


def institution_name(institution_id: str | None) -> str:
    """An institution's name by id: what a record without a country shows as its holder (an
    international or regional body)."""
    if not institution_id:
        return ""
    found = get_session().get(Institution, institution_id)
    return found.name if found else institution_id


def theme_label(theme_id: str) -> str:
    theme = load_vocabulary().themes.get(theme_id)
    return theme.label(lang()) if theme else theme_id


def period(value: PartialDate | date | str | None) -> str:
    """A partial date as a reader of the page's language writes it (the ``period`` filter):
    ``2014``, ``marzo de 2014``, ``12 mars 2014``; a ``date`` is a day. Empty for no date, so
    ``{{ x.due|period or '—' }}`` reads naturally; text that is not a date is shown as it is.
    Form fields, exports and the API keep the ISO text; only what a page prints goes here."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            found = PartialDate.parse(value)
        except PartialDateError:
            return value
    else:
        found = value if isinstance(value, PartialDate) else PartialDate(value, "day")
    return _formatted(found, lang())


def period_range(
    start: PartialDate | date | str | None,
    end: PartialDate | date | str | None = None,
    open_end: str = "",
) -> str:
    """A period from ``start`` to ``end`` as the page's reader writes it (the ``period_range``
    filter: ``{{ e.start|period_range(e.end) }}``), what the two ends share said once
    (``22–25 de octubre de 2019``, ``2016`` for 2016 to 2016: :func:`sscmatch.dates.format_range`).
    ``open_end`` stands for a missing end (``'…'``); text that is not a date is shown as it is."""
    ends: list[PartialDate | None] = []
    for value in (start, end):
        if value is None or value == "":
            ends.append(None)
        elif isinstance(value, PartialDate):
            ends.append(value)
        elif isinstance(value, str):
            try:
                ends.append(PartialDate.parse(value))
            except PartialDateError:
                return " – ".join(str(v) for v in (start, end) if v)
        else:
            ends.append(PartialDate(value, "day"))
    return format_range(ends[0], ends[1], lang(), open_end)


@functools.lru_cache(maxsize=8_192)
def _formatted(value: PartialDate, locale: str) -> str:
    """Babel's formatting is tens of microseconds a date; a list page prints dozens."""
    return value.format(locale)


MOMENT_PRECISIONS = ("minute", "second", "day")


def moment(value: datetime | None, precision: str = "minute") -> Markup:
    """A stored moment as a reader sees it (the ``moment`` filter): the day in the page's
    language and the time in UTC, said so ("3 dic 2026 13:05 UTC"), in a ``<time>`` whose
    ``datetime`` is the moment as JSON writes it; ``static/js/moments.js`` rewrites the text in
    the reader's own time zone (the UTC text stays as its title). ``precision``: ``minute``,
    ``second`` (the audit log) or ``day``. Empty for no moment."""
    if value is None:
        return Markup("")
    if precision not in MOMENT_PRECISIONS:
        raise ValueError(f"moment precision: {precision!r}")
    utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return Markup('<time datetime="%s" data-moment="%s">%s</time>') % (
        html_moment(utc),
        precision,
        _moment_words(utc, precision, lang()),
    )


def html_moment(utc: datetime) -> str:
    """``moment_text`` cut to what HTML's ``datetime`` attribute takes: a second's fraction of
    at most three digits (a "valid global date and time string"; the stored microseconds made
    every page with a moment invalid HTML, found by the Nu Html Checker)."""
    if not utc.microsecond:
        return moment_text(utc)
    return moment_text(utc.replace(microsecond=0))[:-1] + f".{utc.microsecond // 1000:03d}Z"


@functools.lru_cache(maxsize=8_192)
def _moment_words(value: datetime, precision: str, locale: str) -> str:
    day = format_date(value, "medium", locale=locale)
    if precision == "day":
        return day
    clock = format_skeleton(
        "Hms" if precision == "second" else "Hm", value, tzinfo=UTC, locale=locale
    )
    return f"{day} {clock} UTC"


@functools.lru_cache(maxsize=16_384)
def _built_url(app: Flask, script_root: str, endpoint: str, items: tuple[Any, ...]) -> str:
    return url_for(endpoint, **dict(items))


def fast_url_for(endpoint: str, **values: Any) -> str:
    """``url_for`` that remembers what it built.

    A list or dashboard page builds one to two hundred links, and Werkzeug's builder takes tens
    of microseconds each: a tenth of such a page. A relative URL depends only on the app, the
    script root (where the app is mounted), the endpoint and the values (this app registers no
    URL defaults or subdomains), so it is kept under exactly those. External or special links
    (``_external``, ``_anchor``…) and unhashable values are built each time."""
    if not has_request_context() or any(key.startswith("_") for key in values):
        return url_for(endpoint, **values)
    try:
        items = tuple(sorted(values.items()))
        return _built_url(current_app._get_current_object(), request.script_root, endpoint, items)  # type: ignore[attr-defined]
    except TypeError:  # an unhashable value (a list of query values)
        return url_for(endpoint, **values)


def url_if(endpoint: str, **values: Any) -> str | None:
    """The URL of ``endpoint`` if that page exists (areas link to each other through this)."""
    if endpoint not in current_app.view_functions:
        return None
    return fast_url_for(endpoint, **values)


@access(PUBLIC)
def favicon() -> Any:
    """``/favicon.ico``: browsers ask for it whatever the page links (it was a 404). Sent as
    bytes (177 of them), not a file stream, and kept by browsers for a day."""
    icon = Path(current_app.static_folder or "static") / "favicon.ico"
    response = Response(icon.read_bytes(), mimetype="image/vnd.microsoft.icon")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def init_app(app: Flask) -> None:
    from sscmatch.workflow.users import DEMO_ACCOUNTS

    app.add_url_rule("/favicon.ico", "favicon", favicon)
    app.jinja_env.filters["period"] = period
    app.jinja_env.filters["period_range"] = period_range
    app.jinja_env.filters["moment"] = moment
    app.jinja_env.filters["by_country_name"] = by_country_name
    app.jinja_env.filters["by_region_name"] = by_region_name
    app.jinja_env.filters["field_label"] = field_label
    from sscmatch.web.auditfields import audit_field_label  # it reads the export columns

    app.jinja_env.filters["audit_field_label"] = audit_field_label
    app.jinja_env.filters["num"] = number
    app.jinja_env.filters["percent"] = percent
    app.jinja_env.filters["overdue"] = overdue
    app.jinja_env.globals.update(
        url_for=fast_url_for,
        nav_links=nav_links,
        main_nav=main_nav,
        get_locale=lang,
        role_label=lambda role: ROLE_LABELS.get(role, role),
        names_role=names_role,
        names_country=names_country,
        status_label=lambda status: STATUS_LABELS.get(status, status),
        tour_status_label=tour_status_label,
        tour_badge=tour_badge,
        maturity_label=lambda maturity: MATURITY_LABELS.get(maturity, maturity),
        country_name=country_name,
        country_link=country_link,
        holder_of=holder,
        status_badge=badge,
        score_meter=score_bar,
        region_name=region_name,
        evidence=evidence,
        entity_label=lambda entity: ENTITY_LABELS.get(entity, entity),
        action_label=action_label,
        audit_note=audit_note,
        language_name=language_name,
        constituency_label=lambda value: CONSTITUENCY_LABELS.get(value, value),
        institution_name=institution_name,
        url_if=url_if,
        theme_label=theme_label,
        link_args=link_args,
        demo_accounts=lambda: DEMO_ACCOUNTS if app.config.get("DEMO") else (),
    )
    from sscmatch.web import tourtext
    from sscmatch.web.confirm import undo_offered

    app.jinja_env.globals.update(
        undo_offered=undo_offered,
        tour_text=tourtext.tour_text,
        cost_item=tourtext.cost_item,
        cost_basis=tourtext.cost_basis,
    )
