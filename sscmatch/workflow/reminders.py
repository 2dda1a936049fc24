"""Reminder digests: each owner hears of the commitments due soon or overdue, once a day.

The owner of a commitment is its country; its recipients are the active focal points of that
country, or the secretariat's address when the country has none (or when an international or
regional body, which has no country, undertook it). One digest per recipient per
day: a :class:`~sscmatch.models.Reminder` row with the unique pair (recipient, sent_on) is
written before the digest goes out, so running ``sscmatch remind`` twice the same day sends
nothing the second time (and two runs at once cannot both claim a recipient).

Delivery is by SMTP (:func:`send_email`, ``smtplib`` and ``email.message``) when a host is
configured, otherwise one text file per recipient in a folder (:func:`write_digest`).
"""

from __future__ import annotations

import re
import smtplib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from pathlib import Path

from sqlmodel import Session, col, select

from sscmatch.models import Commitment, Reminder, StudyTour, User
from sscmatch.vocab import load_vocabulary
from sscmatch.workflow.commitments import OPEN, days_left, is_overdue


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
    """Undecided commitments overdue or due within ``days`` days, overdue first."""
    if days < 0:
        raise ValueError("days must be 0 or more")
    titles = {t.id: t.title for t in session.exec(select(StudyTour))}
    items = []
    for k in session.exec(
        select(Commitment).where(col(Commitment.status).in_(OPEN)).order_by(col(Commitment.id))
    ):
        left = days_left(k, today)
        if left is None or left > days or k.due is None:
            continue
        items.append(
            Item(
                commitment=k.id,
                owner_country=k.owner_country,
                description=k.description,
                due=k.due,
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
    for u in session.exec(
        select(User).where(User.role == "focal_point", col(User.active)).order_by(col(User.email))
    ):
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
            d = found.setdefault(r, Digest(recipient=r))
            d.items.append(item)
            d.countries.add(owner)
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
    """Write the day's Reminder row for the recipient (flushes: a duplicate raises)."""
    row = Reminder(
        recipient=digest.recipient,
        sent_on=today.isoformat(),
        channel=channel,
        items=[i.commitment for i in digest.items],
    )
    session.add(row)
    session.flush()
    return row


def render(digest: Digest, today: date) -> tuple[str, str]:
    """Subject and plain-text body of a digest (English; the commitments keep their wording)."""
    vocab = load_vocabulary()

    def name(code: str) -> str:
        country = vocab.countries.get(code)
        return country.name() if country else code

    late, soon = digest.overdue, digest.due_soon
    subject = f"sscmatch: {len(late)} overdue, {len(soon)} due soon ({today.isoformat()})"
    lines = [
        f"Commitments of {', '.join(sorted(name(c) for c in digest.countries))} "
        f"as of {today.isoformat()}.",
        "",
    ]
    for title, group in (("OVERDUE", late), ("DUE SOON", soon)):
        if not group:
            continue
        lines.append(f"{title} ({len(group)})")
        for i in group:
            when = f"{-i.days_left} days overdue" if i.overdue else f"due in {i.days_left} days"
            lines.append(f"- [{i.commitment}] {i.description}")
            owner = name(i.owner_country) if i.owner_country else i.owner_institution or ""
            lines.append(f"  owner: {owner}; due {i.due} ({when})")
            if i.tour:
                lines.append(f"  study tour {i.tour}: {i.tour_title or ''}".rstrip())
        lines.append("")
    lines.append("Update each commitment (status and evidence) on the follow-up pages of sscmatch.")
    return subject, "\n".join(lines) + "\n"


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
