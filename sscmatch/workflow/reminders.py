"""Daily digests: each person hears, once a day, of the commitments due soon or overdue and of
what arrived for them in the app (their notices, :mod:`sscmatch.workflow.notices`).

The owner of a commitment is its country; its recipients are the active focal points of that
country, or the secretariat's address when the country has none (or when an international or
regional body, which has no country, undertook it). Every active user with notices that no
digest carried yet and that they have not read in the app gets them too (a notice is e-mailed at
most once: ``Notice.emailed_on`` is set in the same transaction as the digest's row). One digest
per recipient per day: a :class:`~sscmatch.models.Reminder` row with the unique pair
(recipient, sent_on) is written before the digest goes out, so running ``sscmatch remind`` twice
the same day sends nothing the second time (and two runs at once cannot both claim a recipient);
notices that arrive after the day's digest wait for the next day's.

A digest is written in its recipient's language (their account's; English for the
secretariat's address), with the interface's catalogues. Delivery is by SMTP
(:func:`send_email`, ``smtplib`` and ``email.message``) when a host is configured, otherwise one
text file per recipient in a folder (:func:`write_digest`).
"""

from __future__ import annotations

import functools
import re
import smtplib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from pathlib import Path

from babel.dates import format_date
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations
from sqlmodel import Session, col, select

from sscmatch.dates import PartialDate, PartialDateError, moment_words
from sscmatch.models import Commitment, Notice, Reminder, StudyTour, User
from sscmatch.plurals import NP_, count_slots, lateness
from sscmatch.vocab import INTERFACE_LANGUAGES, load_vocabulary
from sscmatch.workflow import notices as notice_wf
from sscmatch.workflow.commitments import OPEN, days_left, is_overdue
from sscmatch.workflow.users import written_language

CATALOGUES = Path(__file__).resolve().parents[1] / "translations"


@dataclass(frozen=True)
class Item:
    commitment: str
    owner_country: str | None  # None for a commitment of an international or regional body
    description: str
    due: str
    days_left: int
    overdue: bool
    tour: str | None
    tour_title: str | None
    owner_institution: str | None = None


@dataclass
class Digest:
    recipient: str
    countries: set[str] = field(default_factory=set)  # owners: country codes, or body ids
    items: list[Item] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)  # what arrived, oldest first
    language: str = "en"  # the recipient's interface language

    @property
    def overdue(self) -> list[Item]:
        return [i for i in self.items if i.overdue]

    @property
    def due_soon(self) -> list[Item]:
        return [i for i in self.items if not i.overdue]


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 25
    user: str | None = None
    password: str | None = None
    sender: str = "sscmatch@localhost"
    starttls: bool = False


def due_items(session: Session, today: date, days: int) -> list[Item]:
    """Undecided commitments of study tours planned in sscmatch overdue or due within ``days``
    days, overdue first. Those recorded from the documents (no study tour: years past due,
    nobody reports on them here) are not reminded, as the follow-up dashboard does not count
    them overdue (:mod:`sscmatch.workflow.outcomes`)."""
    if days < 0:
        raise ValueError("days must be 0 or more")
    titles = {t.id: t.title for t in session.exec(select(StudyTour))}
    items = []
    for k in session.exec(
        select(Commitment)
        .where(col(Commitment.status).in_(OPEN), col(Commitment.study_tour).is_not(None))
        .order_by(col(Commitment.id))
    ):
        left = days_left(k, today)
        if left is None or left > days or k.due is None:
            continue
        items.append(
            Item(
                commitment=k.id,
                owner_country=k.owner_country,
                description=k.description,
                due=str(k.due),
                days_left=left,
                overdue=is_overdue(k, today),
                tour=k.study_tour,
                tour_title=titles.get(k.study_tour) if k.study_tour else None,
                owner_institution=k.owner_institution,
            )
        )
    return sorted(items, key=lambda i: (not i.overdue, i.days_left, i.commitment))


def digests(
    session: Session, today: date, days: int, fallback: str | None
) -> tuple[list[Digest], list[str]]:
    """Digests per recipient, and the countries nobody could be told about (no focal point
    and no fallback address)."""
    focal: dict[str, list[str]] = defaultdict(list)
    languages: dict[str, str] = {}
    for u in session.exec(
        select(User).where(User.role == "focal_point", col(User.active)).order_by(col(User.email))
    ):
        languages[u.email] = written_language(u.language, u.country)
        if u.country:
            focal[u.country].append(u.email)
    found: dict[str, Digest] = {}
    unreached: list[str] = []
    for item in due_items(session, today, days):
        owner = item.owner_country or item.owner_institution or ""
        recipients = focal.get(owner) or ([fallback] if fallback else [])
        if not recipients and owner not in unreached:
            unreached.append(owner)
        for r in recipients:
            d = found.setdefault(r, Digest(recipient=r, language=languages.get(r, "en")))
            d.items.append(item)
            d.countries.add(owner)
    pending = notice_wf.not_emailed(session)
    if pending:
        people = session.exec(
            select(User).where(col(User.id).in_(list(pending)), col(User.active))
        ).all()
        for user in people:
            d = found.setdefault(user.email, Digest(recipient=user.email))
            d.language = written_language(user.language, user.country)
            d.notices.extend(pending[user.id or 0])
    return [found[r] for r in sorted(found)], unreached


def already_sent(session: Session, recipient: str, today: date) -> bool:
    return (
        session.exec(
            select(Reminder.id).where(
                Reminder.recipient == recipient, Reminder.sent_on == today.isoformat()
            )
        ).first()
        is not None
    )


def claim(session: Session, digest: Digest, today: date, channel: str) -> Reminder:
    """Write the day's Reminder row for the recipient and mark its notices e-mailed (flushes: a
    duplicate raises). The caller commits once the digest is delivered, or rolls back."""
    row = Reminder(
        recipient=digest.recipient,
        sent_on=today.isoformat(),
        channel=channel,
        items=[i.commitment for i in digest.items],
    )
    session.add(row)
    notice_wf.mark_emailed(session, digest.notices, today)
    session.flush()
    return row


@functools.cache
def catalogue(language: str) -> NullTranslations:
    """The interface's catalogue for ``language`` (English: the messages as written).

    Read once a process: the compiled catalogues ship with the package and do not change while
    it runs, and the daily digest used to read one again for every recipient."""
    if language not in INTERFACE_LANGUAGES or language == "en":
        return NullTranslations()
    return Translations.load(str(CATALOGUES), [language])


class _DigestNames:
    """Country and status names in the digest's language, for the notices."""

    def __init__(self, language: str, translations: NullTranslations) -> None:
        self.language, self.translations = language, translations

    def country(self, code: str) -> str:
        found = load_vocabulary().countries.get(code)
        return found.name(self.language) if found else code

    def status(self, code: str) -> str:
        # The interface labels a status by its code with spaces ("provider confirmed").
        return self.translations.ugettext(code.replace("_", " "))

    def tour_status(self, code: str) -> str:
        # A study tour's status in its own forms (sscmatch.web.templating.TOUR_STATUS_LABELS).
        return self.translations.upgettext("study tour", code)

    def number(self, value: int) -> str:
        return str(format_decimal(value, locale=self.language))


def _period(text: str, language: str) -> str:
    """A due date as the recipient writes it (``20 de julio de 2026``, ``July 2026``): the
    digest is read by people, its ISO text stays in the data (``Item.due``)."""
    try:
        return PartialDate.parse(text).format(language)
    except PartialDateError:  # stored before a rule it now breaks: shown as it is
        return text


def render(digest: Digest, today: date) -> tuple[str, str]:
    """Subject and plain-text body of a digest, in its recipient's language (commitments and
    notices keep the wording they were recorded with)."""
    vocab = load_vocabulary()
    t = catalogue(digest.language)
    _ = t.ugettext
    ngettext = t.ungettext
    names = _DigestNames(digest.language, t)  # the notices' names, and its numbers
    number = names.number

    def filled(message: str, num: int) -> str:
        """``message`` with its count written the recipient's way."""
        text, values = count_slots(message, num, {"num": num}, number)
        return str(text % values)

    def counted(singular: str, plural: str, num: int) -> str:
        """The plural form for ``num``, filled. (Its messages are marked ``NP_`` where they are
        written, for the catalogues: a call through this helper is not extracted.)"""
        return filled(ngettext(singular, plural, num), num)

    def name(code: str) -> str:
        country = vocab.countries.get(code)
        return country.name(digest.language) if country else code

    late, soon = digest.overdue, digest.due_soon
    parts = []
    if digest.items:
        parts.append(counted(*NP_("%(num)d overdue", "%(num)d overdue"), len(late)))
        parts.append(counted(*NP_("%(num)d due soon", "%(num)d due soon"), len(soon)))
    if digest.notices:
        count = len(digest.notices)
        parts.append(counted(*NP_("%(num)d notice", "%(num)d notices"), count))
    subject = f"sscmatch: {', '.join(parts)} ({today.isoformat()})"
    lines: list[str] = []
    if digest.items:
        lines += [
            _("Commitments of %(owners)s as of %(date)s.")
            % {
                "owners": ", ".join(sorted(name(c) for c in digest.countries)),
                "date": format_date(today, format="long", locale=digest.language),
            },
            "",
        ]
    for title, group in ((_("OVERDUE (%(num)d)"), late), (_("DUE SOON (%(num)d)"), soon)):
        if not group:
            continue
        lines.append(filled(title, len(group)))
        for i in group:
            if i.overdue:
                when = counted(*lateness(-i.days_left))
            else:
                when = counted(*NP_("due in %(num)d day", "due in %(num)d days"), i.days_left)
            lines.append(f"- [{i.commitment}] {i.description}")
            owner = name(i.owner_country) if i.owner_country else i.owner_institution or ""
            lines.append(
                "  "
                + _("owner: %(owner)s; due %(due)s (%(when)s)")
                % {"owner": owner, "due": _period(i.due, digest.language), "when": when}
            )
            if i.tour:
                lines.append(
                    "  "
                    + (
                        _("study tour %(id)s: %(title)s")
                        % {"id": i.tour, "title": i.tour_title or ""}
                    ).rstrip(": ")
                )
        lines.append("")
    if digest.items:
        lines += [
            _("Update each commitment (status and evidence) on the follow-up pages of sscmatch."),
            "",
        ]
    if digest.notices:
        lines.append(filled(_("WHAT ARRIVED FOR YOU (%(num)d)"), len(digest.notices)))
        for notice in digest.notices:
            when = moment_words(notice.created_at, digest.language)
            lines.append(f"- {when} {notice_wf.render(notice, _, ngettext, names)}")
        lines += ["", _("Answer, decide or read more in sscmatch: its Notices page lists them.")]
    return subject, "\n".join(lines).rstrip("\n") + "\n"


def message(digest: Digest, today: date, sender: str) -> EmailMessage:
    subject, body = render(digest, today)
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = digest.recipient
    msg.set_content(body)
    return msg


def send_email(settings: SmtpSettings, msg: EmailMessage, timeout: float = 30.0) -> None:
    with smtplib.SMTP(settings.host, settings.port, timeout=timeout) as smtp:
        if settings.starttls:
            smtp.starttls()
        if settings.user:
            smtp.login(settings.user, settings.password or "")
        smtp.send_message(msg)


_UNSAFE = re.compile(r"[^A-Za-z0-9._@-]+")


def write_digest(folder: Path, digest: Digest, today: date) -> Path:
    """Write the digest as ``<date>_<recipient>.txt`` in ``folder``; returns the path."""
    folder.mkdir(parents=True, exist_ok=True)
    subject, body = render(digest, today)
    path = folder / f"{today.isoformat()}_{_UNSAFE.sub('_', digest.recipient)}.txt"
    path.write_text(f"To: {digest.recipient}\nSubject: {subject}\n\n{body}", encoding="utf-8")
    return path
