"""The tables. One class per concept; the same word names the table, the URL and the tests.

Ids: records that travel in bundles (institutions, capacities, needs, exchanges, commitments,
study tours, themes) have stable text ids chosen by whoever made them (``s000-e18``,
``N-2026-0004``); records the service makes for itself (users, match runs, proposals, reviews,
audit events) have integer ids. Timestamps are timezone-aware UTC. Rows people edit (the
:class:`Tracked` records, and users) carry a ``version`` mapped as SQLAlchemy's ``version_id_col``:
every UPDATE of one checks the version it read, so two concurrent edits cannot silently overwrite
each other (:mod:`sscmatch.db` explains the mechanism).
Validated input and public output shapes live in :mod:`sscmatch.schemas` (table models skip
validation). The lists that queries select by (themes, languages, the countries of an exchange by
role) are also rows of association tables, :mod:`sscmatch.relations`, kept in step with them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ColumnElement,
    Index,
    UniqueConstraint,
    case,
    false,
)
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, SQLModel

from sscmatch import (
    relations,  # noqa: F401  (its association tables are tables of this schema)
    schema,
)
from sscmatch.columns import JSONDict, JSONList
from sscmatch.dates import PRECISION_RANK, PartialDate


def utcnow() -> datetime:
    return datetime.now(UTC)


def _list() -> Any:
    return Field(default_factory=list, sa_type=JSONList, nullable=False)


class Versioned(SQLModel):
    """A row people edit: ``version`` is its SQLAlchemy ``version_id_col``, so every UPDATE says
    ``WHERE version = <the one read>`` and a concurrent change makes it match no row. The next
    version is set by :mod:`sscmatch.db` (``version_id_generator=False``) at each flush that
    changes a column, except when only ``__unversioned_fields__`` changed: bookkeeping that no
    editor changes, which an edit form started before it cannot overwrite (the UPDATE of an edit
    writes only the columns it changed)."""

    version: int = Field(default=1, nullable=False)
    __unversioned_fields__: ClassVar[frozenset[str]] = frozenset()

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        table = cls.__table__  # type: ignore[attr-defined]  # set on each table class
        return {"version_id_col": table.c.version, "version_id_generator": False}


class Tracked(Versioned):
    """Who made and last changed a record, and when; ``version`` guards concurrent edits."""

    created_at: datetime = Field(default_factory=utcnow, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, nullable=False)
    created_by: int | None = Field(default=None, foreign_key="user.id", index=True)
    updated_by: int | None = Field(default=None, foreign_key="user.id", index=True)


def _period(name: str) -> Any:
    """The record's ``<name>_date`` and ``<name>_precision`` columns as one
    :class:`~sscmatch.dates.PartialDate` (``None`` when unset); set it with one, or its text."""
    day, precision = f"{name}_date", f"{name}_precision"

    def read(record: Any) -> PartialDate | None:
        return PartialDate.of(getattr(record, day), getattr(record, precision))

    def write(record: Any, value: PartialDate | str | None) -> None:
        period = PartialDate.coerce(value)
        setattr(record, day, None if period is None else period.first)
        setattr(record, precision, None if period is None else period.precision)

    return property(read, write, doc=f"``{day}`` and ``{precision}`` as one partial date.")


def _precision(nullable: bool = True) -> Any:
    return Field(default=None, max_length=5, nullable=nullable)


def period_order(day: Any, precision: Any) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """What orders a partial date's two columns in SQL as :class:`PartialDate` orders values
    (and as the text did: ``2014`` < ``2014-01`` < ``2014-01-01`` < ``2014-02``): the first day,
    then the precision, year before month before day."""
    return day, case(PRECISION_RANK, value=precision, else_=len(PRECISION_RANK))


class Dated(Tracked):
    """A tracked record with partial dates (``2014``, ``2014-03``, ``2014-03-12``): each, named in
    ``__periods__``, is a real ``date`` column ``<name>_date`` (the first day of the period: what
    queries filter and sort by) and ``<name>_precision`` (:data:`sscmatch.enums.DATE_PRECISIONS`),
    read and written as one :class:`~sscmatch.dates.PartialDate` through the property ``<name>``,
    which the constructor also takes (``Exchange(start="2014")``)."""

    __periods__: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **data: Any) -> None:
        periods = {name: data.pop(name) for name in self.__periods__ if name in data}
        super().__init__(**data)
        for name, value in periods.items():
            setattr(self, name, value)


class Country(SQLModel, table=True):
    """A country of the vocabulary, mirrored here so records can reference it by key."""

    code: str = Field(primary_key=True, max_length=3)
    name: str
    region: str = ""
    subregion: str = ""
    intermediate_region: str = ""


class Theme(SQLModel, table=True):
    """A theme a bundle declared beyond the built-in vocabulary (``data/vocab/themes.csv``)."""

    id: str = Field(primary_key=True, max_length=80)
    label_en: str
    label_es: str | None = None
    label_pt: str | None = None
    label_fr: str | None = None
    label_ru: str | None = None
    parent: str | None = None
    synonyms: list[str] = _list()
    sdg_targets: list[str] = _list()
    description: str | None = None


class User(Versioned, table=True):
    # Signing in, a new password or API token must not turn an admin's open edit form stale.
    __unversioned_fields__ = frozenset(
        {"password_hash", "api_token_hash", "last_login_at", "auth_version"}
    )
    id: int | None = Field(default=None, primary_key=True)
    # The server defaults below are those of the migrations that added the columns to rows
    # already there (0008-0010): a row written by plain SQL gets them too.
    version: int = Field(default=1, nullable=False, sa_column_kwargs={"server_default": "1"})
    email: str = Field(unique=True, index=True, max_length=254)
    name: str = ""
    password_hash: str
    role: str = Field(max_length=20)
    country: str | None = Field(default=None, foreign_key="country.code", index=True)
    constituency: str | None = None
    language: str = ""  # "": not chosen, each browser's (sscmatch.workflow.users.BROWSER_LANGUAGE)
    active: bool = True
    # A demo account (published password): usable only while the app runs in demo mode, whatever
    # ``active`` says (sscmatch.workflow.accounts.may_sign_in).
    demo: bool = Field(default=False, nullable=False, sa_column_kwargs={"server_default": false()})
    api_token_hash: str | None = Field(default=None, unique=True, index=True)
    # Moves whenever the account's sessions must end (sign-out, new password, role change…): a
    # session remembers the value it signed in with and is refused once it differs.
    auth_version: int = Field(default=0, nullable=False, sa_column_kwargs={"server_default": "0"})
    last_login_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow, nullable=False)


class SignInThrottle(SQLModel, table=True):
    """Failed sign-ins counted in one window, for one e-mail, client or device (see
    :mod:`sscmatch.workflow.throttle`). Times are Unix seconds so that the counter moves inside
    one SQL statement on SQLite and PostgreSQL alike. Bookkeeping, not data: backups leave it out.
    """

    __tablename__ = "sign_in_throttle"
    key: str = Field(primary_key=True, max_length=100)
    failures: int = Field(default=0, nullable=False)
    window_start: int = Field(default=0, sa_type=BigInteger, nullable=False, index=True)


class Institution(Tracked, table=True):
    """A ministry, union, employers' organisation, agency… of a country, or an international or
    regional body (``international``): an actor of its own, whose ``country`` is only its seat and
    whose ``members`` are the countries that belong to it (data/README.md)."""

    id: str = Field(primary_key=True, max_length=80)
    name: str
    country: str = Field(foreign_key="country.code", index=True)
    constituency: str = "other"
    international: bool = False
    members: list[str] = Field(
        default_factory=list,
        sa_type=JSONList,
        nullable=False,
        sa_column_kwargs={"server_default": "[]"},
    )
    languages: list[str] = _list()
    website: str | None = None
    source: str | None = None


class Capacity(Dated, table=True):
    """Something a country or institution can offer others."""

    __periods__ = ("available_from", "available_to")

    # The lists' default order, most recent first (a page of 25 without sorting all of them)
    __table_args__ = (Index("ix_capacity_created_updated", "created", "updated_at"),)

    id: str = Field(primary_key=True, max_length=80)
    # None only for a record held by an international or regional body (``institution``): a body
    # is not a country, and its seat must not stand in for it.
    country: str | None = Field(default=None, foreign_key="country.code", index=True)
    institution: str | None = Field(default=None, foreign_key="institution.id", index=True)
    title: str
    description: str | None = None
    themes: list[str] = _list()
    languages: list[str] = _list()
    maturity: str | None = None
    modalities: list[str] = _list()
    max_per_year: int | None = None
    available_from_date: date | None = None
    available_from_precision: str | None = _precision()
    available_to_date: date | None = None
    available_to_precision: str | None = _precision()
    if TYPE_CHECKING:  # what the properties give and take (no pydantic field)
        available_from: PartialDate | None = None
        available_to: PartialDate | None = None
    else:
        available_from = _period("available_from")
        available_to = _period("available_to")
    status: str = Field(default="draft", index=True)
    created: str | None = None
    source: str | None = None


class Need(Dated, table=True):
    """A gap or request a country (or an international or regional body) has named."""

    __periods__ = ("desired_from", "desired_to")

    __table_args__ = (Index("ix_need_created_updated", "created", "updated_at"),)  # as above

    id: str = Field(primary_key=True, max_length=80)
    # None only for a need of an international or regional body (``institution``), as above.
    country: str | None = Field(default=None, foreign_key="country.code", index=True)
    institution: str | None = Field(default=None, foreign_key="institution.id", index=True)
    title: str
    description: str | None = None
    themes: list[str] = _list()
    languages: list[str] = _list()
    priority: str | None = None
    modalities: list[str] = _list()
    desired_from_date: date | None = None
    desired_from_precision: str | None = _precision()
    desired_to_date: date | None = None
    desired_to_precision: str | None = _precision()
    if TYPE_CHECKING:  # what the properties give and take (no pydantic field)
        desired_from: PartialDate | None = None
        desired_to: PartialDate | None = None
    else:
        desired_from = _period("desired_from")
        desired_to = _period("desired_to")
    status: str = Field(default="draft", index=True)
    created: str | None = None
    source: str | None = None
    # Endorsement: a focal point submits a draft; the secretariat endorses it (status → open) or
    # returns it (back to draft) with a note saying what to change.
    submitted_at: datetime | None = None
    review_note: str | None = None


class Exchange(Dated, table=True):
    """A cooperation that happened: countries by role, partners (funders, facilitators), themes."""

    __periods__ = ("start", "end")

    id: str = Field(primary_key=True, max_length=80)
    title: str | None = None
    description: str | None = None
    start_date: date = Field(default=None, index=True, nullable=False)  # set through start
    start_precision: str = _precision(nullable=False)
    end_date: date | None = None
    end_precision: str | None = _precision()
    if TYPE_CHECKING:  # what the properties give and take (no pydantic field)
        start: PartialDate | None = None
        end: PartialDate | None = None
    else:
        start = _period("start")
        end = _period("end")
    # How the dates were read from the sources (an undated exchange's reporting year, a date
    # from a photo caption): provenance, kept out of the description the matcher compares.
    date_note: str | None = None
    providers: list[str] = _list()
    recipients: list[str] = _list()
    participants: list[str] = _list()
    partners: list[str] = _list()
    themes: list[str] = _list()
    modality: str | None = None
    languages: list[str] = _list()
    direction: str | None = None
    outcomes: str | None = None
    source: str | None = None
    study_tour: str | None = Field(default=None, foreign_key="study_tour.id", index=True)


class MatchRun(SQLModel, table=True):
    """One run of the matcher: its parameters, progress and outcome."""

    __tablename__ = "match_run"
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, nullable=False)
    created_by: int | None = Field(default=None, foreign_key="user.id", index=True)
    finished_at: datetime | None = None
    as_of: str | None = None
    top_k: int = 5
    params: dict[str, Any] | None = Field(default=None, sa_type=JSONDict)
    status: str = "running"
    needs_total: int = 0
    needs_done: int = 0
    proposal_count: int = 0
    error: str | None = None
    # Who computes it (host:pid) and its last sign of life: a run whose process is gone is
    # marked failed rather than shown running forever (sscmatch.workflow.matchruns).
    worker: str | None = Field(default=None, max_length=200)
    heartbeat_at: datetime | None = None


class Proposal(Tracked, table=True):
    """A provider suggested for a need by a match run, with its explanation and review state."""

    # The review queue lists proposals of some statuses best score first.
    __table_args__ = (Index("ix_proposal_status_score", "status", "score"),)
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="match_run.id", index=True)
    need: str = Field(foreign_key="need.id", index=True)
    # None for a fallback proposal: the provider is proposed for its record of exchanges,
    # no registered capacity of it fits the need (``components["basis"] == "experience"``)
    capacity: str | None = Field(default=None, foreign_key="capacity.id", index=True)
    provider: str = Field(foreign_key="country.code", index=True)
    recipient: str = Field(foreign_key="country.code", index=True)
    rank: int
    score: float
    components: dict[str, Any] | None = Field(default=None, sa_type=JSONDict)
    # each a reason code with its parameters ({"code", "params"}); rendered in the reader's
    # language (sscmatch.matching.reasons). Runs from before reason codes stored sentences.
    reasons: list[Any] = _list()
    status: str = Field(default="proposed", index=True)
    recipient_fit: str | None = None
    note: str | None = None


class Review(SQLModel, table=True):
    """A secretariat decision on a proposal (accept, reject with reason, alternate, veto)."""

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", index=True)
    decision: str
    reason: str | None = None
    alternate_id: int | None = Field(default=None, foreign_key="proposal.id", index=True)
    reviewer_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, nullable=False)
    # What the decision changed (statuses before, the proposals it superseded, the need it
    # matched, the tour it drafted, the veto it made), so that it can be reverted exactly;
    # None for decisions recorded before reverts existed, and for reverts themselves.
    effects: dict[str, Any] | None = Field(default=None, sa_type=JSONDict)
    # Set when the decision was reverted (a later review with decision "revert" says why).
    reverted_at: datetime | None = None


class ProposalComment(SQLModel, table=True):
    """A remark on a proposal, by the secretariat or a focal point of one of its two countries;
    read by whoever may see the proposal."""

    __tablename__ = "proposal_comment"
    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", index=True)
    author_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    body: str = Field(max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, nullable=False)


class Notice(SQLModel, table=True):
    """Something that arrived for a user (a proposal to answer, a need returned, a decision),
    shown in the app until read and sent once in the daily digest (``sscmatch remind``).

    ``kind`` and ``params`` are rendered in the reader's language when shown
    (:mod:`sscmatch.workflow.notices`); ``entity``/``entity_id`` name the record it is about."""

    __table_args__ = (Index("ix_notice_user_read", "user_id", "read_at"),)
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id")
    kind: str = Field(max_length=40)
    params: dict[str, Any] = Field(default_factory=dict, sa_type=JSONDict, nullable=False)
    entity: str = Field(max_length=40)
    entity_id: str = Field(max_length=120)
    created_at: datetime = Field(default_factory=utcnow, nullable=False, index=True)
    read_at: datetime | None = None
    # The day (YYYY-MM-DD) a digest carried it; None: not e-mailed yet.
    emailed_on: str | None = Field(default=None, max_length=10)


class Veto(SQLModel, table=True):
    """A provider → recipient pair the secretariat excluded from future matching."""

    # One veto per pair (migration 0026): lifting it (deleting the row) frees the pair.
    __table_args__ = (Index("ix_veto_pair", "provider", "recipient", unique=True),)
    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(foreign_key="country.code")
    recipient: str = Field(foreign_key="country.code", index=True)
    reason: str
    created_by: int | None = Field(default=None, foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, nullable=False)


class StudyTour(Dated, table=True):
    """A planned exchange (study tour or another modality) drawn from an accepted proposal."""

    __tablename__ = "study_tour"
    __periods__ = ("start", "end")
    id: str = Field(primary_key=True, max_length=80)
    proposal_id: int | None = Field(default=None, foreign_key="proposal.id", index=True)
    need: str | None = Field(default=None, foreign_key="need.id", index=True)
    capacity: str | None = Field(default=None, foreign_key="capacity.id", index=True)
    modality: str = "study_tour"
    title: str
    objective: str | None = None
    expected_change: str | None = None
    host_country: str = Field(foreign_key="country.code", index=True)
    visiting_country: str = Field(foreign_key="country.code", index=True)
    start_date: date | None = None
    start_precision: str | None = _precision()
    end_date: date | None = None
    end_precision: str | None = _precision()
    if TYPE_CHECKING:  # what the properties give and take (no pydantic field)
        start: PartialDate | None = None
        end: PartialDate | None = None
    else:
        start = _period("start")
        end = _period("end")
    languages: list[str] = _list()
    interpretation: bool = False
    agenda: list[Any] = _list()
    delegation: list[Any] = _list()
    cost: dict[str, Any] | None = Field(default=None, sa_type=JSONDict)
    funders: list[str] = _list()
    status: str = Field(default="draft", index=True)


class Commitment(Dated, table=True):
    """Something a country or institution undertook to do after an exchange."""

    __periods__ = ("due",)

    # Completing its tour links the commitment to the exchange it became; nobody edits the link.
    __unversioned_fields__ = frozenset({"exchange"})
    id: str = Field(primary_key=True, max_length=80)
    exchange: str | None = Field(default=None, foreign_key="exchange.id", index=True)
    study_tour: str | None = Field(default=None, foreign_key="study_tour.id", index=True)
    # None only when an international or regional body (``owner_institution``) undertook it.
    owner_country: str | None = Field(default=None, foreign_key="country.code", index=True)
    owner_institution: str | None = Field(default=None, foreign_key="institution.id", index=True)
    description: str
    due_date: date | None = None
    due_precision: str | None = _precision()
    if TYPE_CHECKING:  # what the properties give and take (no pydantic field)
        due: PartialDate | None = None
    else:
        due = _period("due")
    status: str = Field(default="pending", index=True)
    evidence: str | None = None
    source: str | None = None


class CommitmentUpdate(SQLModel, table=True):
    """One step in a commitment's history: a status change, new evidence or a note."""

    __tablename__ = "commitment_update"
    id: int | None = Field(default=None, primary_key=True)
    commitment: str = Field(foreign_key="commitment.id", index=True)
    at: datetime = Field(default_factory=utcnow, nullable=False)
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    status: str
    evidence: str | None = None
    note: str | None = None


class Reminder(SQLModel, table=True):
    """A reminder digest sent (or written) to an owner on a day; makes ``remind`` safe to repeat."""

    __table_args__ = (UniqueConstraint("recipient", "sent_on"),)
    id: int | None = Field(default=None, primary_key=True)
    recipient: str = Field(index=True, max_length=254)
    sent_on: str = Field(index=True, max_length=10)
    channel: str
    items: list[str] = _list()
    at: datetime = Field(default_factory=utcnow, nullable=False)


class AuditEvent(SQLModel, table=True):
    """Who changed what, when, with the record before and after."""

    __tablename__ = "audit_event"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, nullable=False, index=True)
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    action: str
    entity: str = Field(index=True)
    entity_id: str = Field(index=True)
    before: dict[str, Any] | None = Field(default=None, sa_type=JSONDict)
    after: dict[str, Any] | None = Field(default=None, sa_type=JSONDict)
    # A person's own words (a reason, an answer's note), or a note the service wrote before
    # ``note_code`` existed (in English: read back by its known shapes).
    note: str | None = None
    # What the service says of the change, as a message code with its parameters
    # (``{"code": "alternate_chosen", "params": {}}``), said in the reader's language when shown.
    note_code: dict[str, Any] | None = Field(default=None, sa_type=JSONDict)


class TextVector(SQLModel, table=True):
    """The text vector of a need, capacity or exchange under one text model (``sscmatch.text``):
    int8 bytes (the unit vector × 127) and a hash of the text it was made from, so an edited
    record gets a new one (:mod:`sscmatch.workflow.vectors`). Derived data: backups leave it out
    and it is rebuilt when missing."""

    __tablename__ = "text_vector"
    kind: str = Field(primary_key=True, max_length=20)
    record_id: str = Field(primary_key=True, max_length=120)
    model: str = Field(primary_key=True, max_length=40)
    text_hash: str = Field(max_length=40)
    vector: bytes
    updated_at: datetime = Field(default_factory=utcnow, nullable=False)


class Calibration(SQLModel, table=True):
    """Factor weights fitted on the stored history (``matching.calibration``): the latest is what
    match runs use. ``figures`` says how the suggestions fared on the held-out last window."""

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, nullable=False)
    created_by: int | None = Field(default=None, foreign_key="user.id", index=True)
    as_of: str = Field(max_length=10)
    window: int = 2
    weights: dict[str, Any] = Field(default_factory=dict, sa_type=JSONDict, nullable=False)
    figures: dict[str, Any] | None = Field(default=None, sa_type=JSONDict)
    cases: int = 0
    projects: int = 0
    status: str = Field(default="done", max_length=20)
    error: str | None = Field(default=None, max_length=2000)
    # One made from the pages is computed in the background (status "running"): who computes it
    # (host:pid), so that one whose process is gone is marked failed (workflow/calibrations.py).
    worker: str | None = Field(default=None, max_length=200)
    finished_at: datetime | None = None


class Job(SQLModel, table=True):
    """Long work done by a worker process (``sscmatch worker``), not by a web request: a match
    run, a bundle import, a calibration, the day's reminders (:mod:`sscmatch.workflow.jobs`).
    The row is the queue entry, the progress every server reads and the outcome; it is written
    in the same transaction as the record it works on (``subject``), so neither exists without
    the other. Bookkeeping, not data: backups leave it out."""

    __table_args__ = (Index("ix_job_claim", "status", "run_after", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)
    # What the job works on, e.g. "match_run:12": pages find a record's job by it.
    subject: str | None = Field(default=None, max_length=120, index=True)
    # At most one job per key, e.g. "reminders:2026-12-02": the day's reminders are queued once
    # however many workers schedule them.
    unique_key: str | None = Field(default=None, max_length=120, unique=True)
    params: dict[str, Any] = Field(default_factory=dict, sa_type=JSONDict, nullable=False)
    status: str = Field(default="queued", max_length=20)  # queued, running, done, failed
    created_at: datetime = Field(default_factory=utcnow, nullable=False)
    created_by: int | None = Field(default=None, foreign_key="user.id", index=True)
    run_after: datetime = Field(default_factory=utcnow, nullable=False)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    attempts: int = 0
    max_attempts: int = 2
    worker: str | None = Field(default=None, max_length=200)  # host:pid of the worker on it
    step: str | None = Field(default=None, max_length=40)
    done: int = 0
    total: int = 0
    progress_at: datetime | None = None
    error: str | None = Field(default=None, max_length=2000)
    result: dict[str, Any] | None = Field(default=None, sa_type=JSONDict)


class JobPayload(SQLModel, table=True):
    """The file a job works on (an uploaded bundle), kept in the database so that a worker on
    any host can read it and a retried job still has it; deleted when the job ends."""

    __tablename__ = "job_payload"
    job_id: int = Field(primary_key=True, foreign_key="job.id")
    name: str = Field(max_length=300)
    data: bytes


class JobWorker(SQLModel, table=True):
    """A running worker process and its last sign of life: a job whose worker stopped signing
    is given to another worker (or failed after its last attempt)."""

    __tablename__ = "job_worker"
    name: str = Field(primary_key=True, max_length=200)  # host:pid
    started_at: datetime = Field(default_factory=utcnow, nullable=False)
    seen_at: datetime = Field(default_factory=utcnow, nullable=False)
    job_id: int | None = None


class IdCounter(SQLModel, table=True):
    """The last number handed out for an id stem (``N-2026-``, ``T-2026-0012-k``): moved by one
    atomic UPDATE per new record, so records created at the same moment never get the same id
    (:mod:`sscmatch.workflow.ids`). Bookkeeping, not data: backups leave it out."""

    __tablename__ = "id_counter"
    stem: str = Field(primary_key=True, max_length=120)
    last: int = Field(default=0, sa_type=BigInteger, nullable=False)


class SentForm(SQLModel, table=True):
    """A request that made a change, sent once (:mod:`sscmatch.workflow.sent_forms`): the
    one-time key the page drew into the form, or the API client's ``Idempotency-Key``, stored
    as ``<user id>:<digest of the key and what was sent>`` in the transaction of the change,
    so that the same request sent again (a double click, a back-and-resend, a retry) or twice
    at the same moment makes its change once; ``location`` is where the first sending led,
    where the second is sent. Bookkeeping, not data: backups leave it out."""

    __tablename__ = "sent_form"
    key: str = Field(primary_key=True, max_length=80)
    at: datetime = Field(default_factory=utcnow, nullable=False, index=True)
    location: str | None = Field(default=None, max_length=2000)


class DataChange(SQLModel, table=True):
    """One row counting committed changes to the records that pages and caches are built from.

    Database triggers (migration 0003) bump ``changes`` whenever a row of
    :data:`sscmatch.db.CHANGE_TRACKED_TABLES` is inserted, updated or deleted, whatever wrote it
    (the app, an import, a restore, SQL by hand). ``epoch`` is new each time the row is created,
    so a recreated or emptied database never repeats an earlier (changes, epoch). On PostgreSQL
    the bump happens at commit and once per transaction (``last_txid``), so concurrent writers do
    not queue on this row while they work. Bookkeeping, not data: backups leave it out.

    ``records`` counts only the changes to :data:`sscmatch.db.RECORD_TABLES` (countries' own
    records: institutions, capacities, needs, exchanges, themes; migration 0020), for what is
    computed from them alone (the network, charts and gaps): a proposal decided or a tour
    edited leaves it. Once per transaction on PostgreSQL too (``records_txid``). It lives in the
    same row because the row is the last lock a writing transaction takes: a second row would
    let two transactions take the two in opposite orders.
    """

    __tablename__ = "data_change"
    id: int = Field(default=1, primary_key=True)
    changes: int = Field(default=0, sa_type=BigInteger, nullable=False)
    epoch: str = Field(default="", max_length=40)
    last_txid: int | None = Field(default=None, sa_type=BigInteger)
    records: int = Field(
        default=0, sa_type=BigInteger, nullable=False, sa_column_kwargs={"server_default": "0"}
    )
    records_txid: int | None = Field(default=None, sa_type=BigInteger)


# The values the database refuses as well (migration 0025): :func:`sscmatch.schema.restrictions`.
for _table in SQLModel.metadata.sorted_tables:
    for _name, _rule in schema.restrictions(_table).items():
        _table.append_constraint(CheckConstraint(_rule, name=_name))
