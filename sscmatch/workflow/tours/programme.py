"""A study tour's programme: who travels (the delegation) and what happens each day (the agenda).

**Tripartite rule.** A tour calls for a tripartite visiting delegation (government, employers and
workers) when one of its themes, or that theme's parent, is in :data:`TRIPARTITE_THEMES`: the
social-dialogue family, labour inspection and enforcement, hazardous-work lists, national action
plans, legislation and the ratification of ILO conventions. These are the subjects that ILO
standards (C144, C138 art. 3, C182 art. 4, C81) have the three constituents decide together.

**Generated text.** A drafted agenda and delegation are written from the messages below (English,
stored as such: the API, exports and the calendar read them); pages show an unedited one in their
reader's language (``sscmatch.web.tourtext``), and what people write instead is shown as written.

Validation collects every :class:`~sscmatch.workflow.tours.base.Problem` of an agenda or a
delegation (a field path each: ``agenda.0.sessions.1.start``, ``delegation.2.constituency``)
rather than stopping at the first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any

from icalendar import Calendar, Event
from sqlmodel import Session, select

from sscmatch.models import Capacity, Institution, Need, StudyTour
from sscmatch.schemas import CONSTITUENCIES, MAX_REF, MAX_TITLE, whole_number
from sscmatch.vocab import Vocabulary
from sscmatch.workflow.base import N_
from sscmatch.workflow.tours.base import (
    MAX_DAYS,
    MAX_MEMBERS,
    MAX_SESSIONS,
    Problem,
    TourConflict,
    _shown,
)

SESSION_KINDS = (
    "opening",
    "presentation",
    "discussion",
    "field_visit",
    "beneficiaries",
    "closing",
    "travel",
    "other",
)
SIDES = ("visiting", "host")
TRIPARTITE = ("government", "employers", "workers")
TRIPARTITE_THEMES = frozenset(
    {
        "social-dialogue",
        "tripartite-dialogue",
        "trade-union-engagement",
        "employer-engagement",
        "enforcement",
        "labour-inspection",
        "hazardous-work-lists",
        "national-action-plans",
        "legislation",
        "ratification-ilo-conventions",
    }
)

# The generated texts (see the module's note). %(subject)s is the capacity's title, %(need)s the
# need's; %(visiting_country)s and %(host_country)s are country names, shown in the reader's.
HOST_EXPERIENCE = N_("the host's experience")
VISITING_NEED = N_("the visiting country's need")
THE_PRACTICE = N_("the practice")
VIRTUAL_OPENING = N_("Opening: objectives and expectations")
PRESENTATION = N_("Presentation: %(subject)s")
APPLYING = N_("Discussion: applying it to %(need)s")
QUESTIONS = N_("Questions from the visiting team")
VIRTUAL_CLOSING = N_("Closing session: agree commitments")
OPENING = N_("Opening and introductions: objectives of the tour")
WORKING_DISCUSSION = N_("Working discussion: %(need)s")
FIELD_VISIT = N_("Field visit: %(subject)s in practice")
BENEFICIARIES = N_("Meeting with beneficiaries, local authorities and social partners")
DAILY_REVIEW = N_("Daily review: lessons for the visitors")
ADAPTING = N_("Adapting the practice: peer discussion")
CLOSING = N_("Closing session: agree commitments, owners and due dates")
HEAD = N_("Head of delegation")
DELEGATE = N_("Delegate")
HOST_INSTITUTION = N_("Host institution")
EXPECTED_CHANGE = N_(
    "%(visiting_country)s adapts %(subject)s to its context and agrees at the closing session "
    "who does what, by when."
)
TRIPARTITE_MISSING = N_(
    "this topic calls for a tripartite visiting delegation; missing: %(missing)s"
)
OLD_TITLE = N_("%(visiting_country)s learns from %(host_country)s: %(subject)s")
GENERATED = (
    VIRTUAL_OPENING, PRESENTATION, APPLYING, QUESTIONS, VIRTUAL_CLOSING, OPENING,
    WORKING_DISCUSSION, FIELD_VISIT, BENEFICIARIES, DAILY_REVIEW, ADAPTING, CLOSING, HEAD,
    DELEGATE, HOST_INSTITUTION, EXPECTED_CHANGE, OLD_TITLE,
)  # fmt: skip
FILLERS = (HOST_EXPERIENCE, VISITING_NEED, THE_PRACTICE)


def needs_tripartite(themes: Sequence[str], vocab: Vocabulary) -> bool:
    """Whether a topic calls for a tripartite delegation (see the module's rule)."""
    for theme in themes:
        parent = vocab.themes[theme].parent if theme in vocab.themes else None
        if theme in TRIPARTITE_THEMES or parent in TRIPARTITE_THEMES:
            return True
    return False


def missing_constituencies(
    delegation: Sequence[Mapping[str, Any]], themes: Sequence[str], vocab: Vocabulary
) -> list[str]:
    """The constituencies a tripartite topic needs and the visiting delegation lacks."""
    if not needs_tripartite(themes, vocab):
        return []
    present = {m.get("constituency") for m in delegation if m.get("side", "visiting") == "visiting"}
    return [c for c in TRIPARTITE if c not in present]


def delegation_problems(
    delegation: Sequence[Mapping[str, Any]], themes: Sequence[str], vocab: Vocabulary
) -> list[str]:
    """What is missing from the visiting delegation (empty when it is fine), in English."""
    missing = missing_constituencies(delegation, themes, vocab)
    if not missing:
        return []
    return [TRIPARTITE_MISSING % {"missing": ", ".join(missing)}]


def build_agenda(
    capacity: Capacity | None,
    need: Need | None,
    host_institution: str | None,
    days: int,
    modality: str,
) -> list[dict[str, Any]]:
    """Days of sessions drawn from the capacity; the last day ends with the closing session."""
    subject = capacity.title if capacity else HOST_EXPERIENCE
    place = host_institution or ""
    need_title = need.title if need else VISITING_NEED

    def s(start: str, end: str, kind: str, text: str, where: str = place) -> dict[str, Any]:
        # a session's title holds a need's or capacity's title: kept within the limit the
        # editor checks, or a tour drafted from a long title could not be saved unchanged
        if len(text) > MAX_TITLE:
            text = text[: MAX_TITLE - 1] + "…"
        return {"start": start, "end": end, "kind": kind, "title": text, "place": where[:MAX_TITLE]}

    if modality == "virtual_exchange":
        return [
            {
                "day": 1,
                "sessions": [
                    s("14:00", "14:30", "opening", VIRTUAL_OPENING, ""),
                    s("14:30", "16:00", "presentation", PRESENTATION % {"subject": subject}, ""),
                    s("16:00", "17:00", "discussion", APPLYING % {"need": need_title}),
                ],
            },
            {
                "day": 2,
                "sessions": [
                    s("14:00", "15:30", "discussion", QUESTIONS, ""),
                    s("15:30", "17:00", "closing", VIRTUAL_CLOSING, ""),
                ],
            },
        ]
    agenda: list[dict[str, Any]] = [
        {
            "day": 1,
            "sessions": [
                s("09:00", "09:45", "opening", OPENING),
                s("09:45", "12:30", "presentation", PRESENTATION % {"subject": subject}),
                s("14:00", "16:30", "discussion", WORKING_DISCUSSION % {"need": need_title}),
            ],
        }
    ]
    for day in range(2, max(days, 2)):
        agenda.append(
            {
                "day": day,
                "sessions": [
                    s("08:30", "12:30", "field_visit", FIELD_VISIT % {"subject": subject}, ""),
                    s("14:00", "16:00", "beneficiaries", BENEFICIARIES, ""),
                    s("16:30", "17:30", "discussion", DAILY_REVIEW),
                ],
            }
        )
    agenda.append(
        {
            "day": max(days, 2),
            "sessions": [
                s("09:00", "11:00", "discussion", ADAPTING),
                s("11:30", "13:00", "closing", CLOSING),
            ],
        }
    )
    return agenda


def default_delegation(
    session: Session, need: Need | None, country: str, tripartite: bool
) -> list[dict[str, Any]]:
    """The visiting side: the need's institution heads it; a tripartite topic adds a delegate of
    each missing constituency (the country's first institution of it, if any)."""
    members: list[dict[str, Any]] = []
    lead = session.get(Institution, need.institution) if need and need.institution else None
    if lead is not None:
        members.append(
            {
                "side": "visiting",
                "name": "",
                "role": HEAD,
                "institution": lead.name,
                "constituency": lead.constituency,
            }
        )
    wanted = list(TRIPARTITE) if tripartite else (["government"] if lead is None else [])
    for constituency in wanted:
        if any(m["constituency"] == constituency for m in members):
            continue
        inst = session.exec(
            select(Institution)
            .where(Institution.country == country, Institution.constituency == constituency)
            .order_by(Institution.id)
        ).first()
        members.append(
            {
                "side": "visiting",
                "name": "",
                "role": HEAD if not members else DELEGATE,
                "institution": inst.name if inst else "",
                "constituency": constituency,
            }
        )
    return members


def validate_agenda(
    agenda: Sequence[Mapping[str, Any]], days: int | None = None
) -> tuple[list[dict[str, Any]], list[Problem]]:
    """A clean copy of the agenda and every problem found (field paths in the input's order).
    ``days`` is the tour's length when its dates are known: a day past it is refused."""
    problems: list[Problem] = []
    out: list[dict[str, Any]] = []
    if len(agenda) > MAX_DAYS:
        problems.append(Problem("agenda", N_("An agenda has at most %(n)s days."), {"n": MAX_DAYS}))
        return [], problems
    seen: dict[int, str] = {}
    for d_index, d in enumerate(agenda):
        here = f"agenda.{d_index}"
        day = whole_number(d.get("day", 0), 1, MAX_DAYS)
        if day is None:
            problems.append(
                Problem(
                    f"{here}.day",
                    N_("A day is a number from 1 to %(n)s, not %(value)s."),
                    {"n": MAX_DAYS, "value": _shown(d.get("day"))},
                )
            )
        elif days is not None and day > days:
            problems.append(
                Problem(
                    f"{here}.day",
                    N_("Day %(day)s is after the tour's last day (it lasts %(n)s days)."),
                    {"day": day, "n": days},
                )
            )
        elif day in seen:
            problems.append(Problem(f"{here}.day", N_("Day %(day)s appears twice."), {"day": day}))
        sessions_in = list(d.get("sessions") or [])
        if len(sessions_in) > MAX_SESSIONS:
            problems.append(
                Problem(f"{here}.day", N_("At most %(n)s sessions a day."), {"n": MAX_SESSIONS})
            )
            sessions_in = []
        sessions = []
        for s_index, s in enumerate(sessions_in):
            at = f"{here}.sessions.{s_index}"
            start, end = str(s.get("start", "")).strip(), str(s.get("end", "")).strip()
            times_ok = True
            for name, value in (("start", start), ("end", end)):
                if not _is_time(value):
                    times_ok = False
                    problems.append(
                        Problem(
                            f"{at}.{name}",
                            N_("A time reads HH:MM (24 hours), not %(value)s."),
                            {"value": _shown(value)},
                        )
                    )
            if times_ok and end <= start:
                problems.append(Problem(f"{at}.end", N_("The session ends before it starts.")))
            kind = str(s.get("kind") or "other")
            if kind not in SESSION_KINDS:
                problems.append(
                    Problem(
                        f"{at}.kind",
                        N_("unknown session kind %(value)s"),
                        {"value": _shown(kind)},
                    )
                )
            title = _text(s.get("title"), MAX_TITLE, f"{at}.title", problems)
            if not title:
                problems.append(Problem(f"{at}.title", N_("A session needs a title.")))
            place = _text(s.get("place"), MAX_TITLE, f"{at}.place", problems)
            sessions.append(
                {"start": start, "end": end, "kind": kind, "title": title, "place": place}
            )
        if day is not None:
            seen.setdefault(day, here)
            sessions.sort(key=lambda x: x["start"])
            out.append({"day": day, "sessions": sessions})
    return sorted(out, key=lambda x: x["day"]), problems


def _text(value: Any, limit: int, where: str, problems: list[Problem]) -> str:
    text = "" if value is None else str(value).strip()
    if len(text) > limit:
        problems.append(
            Problem(
                where,
                N_("Too long (%(n)s characters; at most %(limit)s)."),
                {"n": len(text), "limit": limit},
            )
        )
        return text[:limit]
    return text


def _is_time(text: str) -> bool:
    if len(text) != 5 or text[2] != ":":
        return False
    hh, mm = whole_number(text[:2], 0, 23), whole_number(text[3:], 0, 59)  # ASCII digits only
    return hh is not None and mm is not None and " " not in text


def validate_delegation(
    delegation: Sequence[Mapping[str, Any]],
) -> tuple[list[dict[str, Any]], list[Problem]]:
    """A clean copy of the delegation and every problem found: a side is visiting or host, a
    constituency one of :data:`sscmatch.schemas.CONSTITUENCIES`, and a member has a name, a role
    or an institution."""
    problems: list[Problem] = []
    out = []
    if len(delegation) > MAX_MEMBERS:
        problems.append(
            Problem("delegation", N_("A delegation has at most %(n)s members."), {"n": MAX_MEMBERS})
        )
        return [], problems
    for i, m in enumerate(delegation):
        at = f"delegation.{i}"
        side = str(m.get("side") or "visiting")
        if side not in SIDES:
            problems.append(
                Problem(f"{at}.side", N_("A member is on the visiting or the host side.")),
            )
        constituency = _text(
            m.get("constituency") or "other", MAX_REF, f"{at}.constituency", problems
        )
        if constituency not in CONSTITUENCIES:
            problems.append(
                Problem(
                    f"{at}.constituency",
                    N_("Unknown constituency: %(value)s."),
                    {"value": _shown(constituency)},
                )
            )
        name = _text(m.get("name"), MAX_TITLE, f"{at}.name", problems)
        role = _text(m.get("role"), MAX_TITLE, f"{at}.role", problems)
        institution = _text(m.get("institution"), MAX_TITLE, f"{at}.institution", problems)
        if not (name or role or institution):
            problems.append(
                Problem(f"{at}.name", N_("Give the member's name, role or institution."))
            )
        out.append(
            {
                "side": side,
                "name": name,
                "role": role,
                "institution": institution,
                "constituency": constituency,
            }
        )
    return out, problems


def agenda_ics(
    tour: StudyTour,
    stamp: datetime | None = None,
    domain: str = "sscmatch",
    *,
    words: Callable[[str], str] | None = None,
    kind_label: Callable[[str], str] | None = None,
) -> str:
    """The agenda as an iCalendar (RFC 5545) text: one VEVENT per session, in floating local
    time of the host (times are as the agenda states them, where the tour takes place).

    A calendar is read by a person, so it speaks their language as the tour's page does: the
    edge passes ``words`` (a stored text in the reader's language: generated titles translated,
    what people wrote as written) and ``kind_label`` (a session kind's name); without them the
    stored English and the kinds' codes are written (the command line, tests).

    Written by the ``icalendar`` package, which escapes and folds every value (a title holding
    a lone carriage return or a semicolon cannot break a line or add a property)."""
    if not tour.start:
        raise TourConflict(N_("set the tour's start date before exporting its agenda"))
    say = words or (lambda text: text)
    kind_of = kind_label or (lambda kind: kind.upper())
    first = tour.start.first
    stamp = (stamp or datetime.now(UTC)).astimezone(UTC)
    title = say(tour.title)
    calendar = Calendar()
    calendar.add("version", "2.0")
    calendar.add("prodid", f"-//{domain}//study tours//EN")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", title)
    for d in tour.agenda:
        day = first + timedelta(days=int(d.get("day", 1)) - 1)
        for i, s in enumerate(d.get("sessions") or [], 1):
            event = Event()
            event.add("uid", f"{tour.id}-d{d.get('day')}-s{i}@{domain}")
            event.add("dtstamp", stamp)
            event.add("dtstart", datetime.combine(day, _clock(str(s["start"]))))
            event.add("dtend", datetime.combine(day, _clock(str(s["end"]))))
            event.add("summary", say(str(s.get("title", ""))))
            event.add("categories", [kind_of(str(s.get("kind") or "other"))])
            if s.get("place"):
                event.add("location", str(s["place"]))
            event.add("description", title)
            calendar.add_component(event)
    return bytes(calendar.to_ical()).decode("utf-8")


def _clock(text: str) -> time:
    """A stored agenda time ``HH:MM`` (validated when the agenda was saved)."""
    return time(int(text[:2]), int(text[3:5]))
