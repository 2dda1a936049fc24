"""Validated input (``*Create``) and public output (``*Public``) shapes of the records.

Table models skip validation, so everything that enters the database from a bundle, a form or the
API passes through a ``*Create`` schema first. Checks that need other records (does this
institution exist? is this theme declared?) belong to the use cases; checks on a value alone
(enumerations, dates, codes that exist in the vocabulary) live here.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from sqlmodel import SQLModel

from sscmatch import enums
from sscmatch.dates import PartialDate as Period
from sscmatch.dates import check_window, normalise_partial_date
from sscmatch.enums import (
    CapacityStatus,
    CommitmentStatus,
    Constituency,
    Direction,
    Maturity,
    Modality,
    NeedStatus,
    Priority,
)
from sscmatch.vocab import load_vocabulary

# The enumerations are declared once, in sscmatch.enums; re-exported here for the schemas' users.
CONSTITUENCIES = enums.CONSTITUENCIES
MATURITIES = enums.MATURITIES
MODALITIES = enums.MODALITIES
ROLES = enums.ROLES

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,79}$")


def _check_id(value: str) -> str:
    if not _ID.match(value):
        raise ValueError(
            "not a valid id (expected up to 80 letters, digits, '.', '_', ':' or '-', "
            "starting with a letter or digit)"
        )
    return value


def _check_country(value: str) -> str:
    code = value.strip().upper()
    if code not in load_vocabulary().countries:
        raise ValueError(f"unknown country code {value!r} (expected ISO 3166-1 alpha-3, e.g. BRA)")
    return code


def _check_languages(values: list[str]) -> list[str]:
    known = load_vocabulary().languages
    out = []
    for value in values:
        code = value.strip().lower()
        if code not in known:
            raise ValueError(f"unknown language code {value!r} (expected ISO 639-1, e.g. es)")
        out.append(code)
    return out


def _check_date(value: str | None) -> str | None:
    return None if value is None else normalise_partial_date(value)


def _split(value: Any) -> Any:
    """Accept ``"a;b"`` as well as ``["a", "b"]`` for list fields; drop blanks."""
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split(";")
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return value


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _date_text(value: Any) -> Any:
    """A stored record's partial date (a public schema reads the record) as its text."""
    return str(value) if isinstance(value, Period) else _blank_to_none(value)


# Every text a record holds has a limit, whoever sends it (form, API, bundle): a value of
# megabytes would be stored, then sent to everyone who opens a page that shows it.
MAX_TITLE = 300
"""A title, a name, a label, one item of a list (a theme, a partner, a funder)."""
MAX_TEXT = 2_000
"""A note, a reason, a source, a website, evidence, a commitment."""
MAX_DESCRIPTION = 20_000
"""A description, an objective, outcomes, how an exchange's dates were read: a few pages."""
MAX_REF = 80
"""An id naming another record (the longest id is 80 characters)."""
MAX_ITEMS = 200
"""Items of one list field."""
MAX_PAGE = 100_000
"""The highest page number a list accepts (its offset must fit any database's integers)."""
MAX_INT = 2**31 - 1
"""The largest integer id or version (an INTEGER column; PostgreSQL refuses to compare more)."""


RecordId = Annotated[str, Field(max_length=MAX_REF), AfterValidator(_check_id)]
Ref = Annotated[str, Field(max_length=MAX_REF)]
ShortText = Annotated[str, Field(max_length=MAX_TITLE)]
CountryCode = Annotated[str, Field(max_length=MAX_REF), AfterValidator(_check_country)]
OptionalText = Annotated[
    Annotated[str, Field(max_length=MAX_TEXT)] | None, BeforeValidator(_blank_to_none)
]
OptionalTitle = Annotated[ShortText | None, BeforeValidator(_blank_to_none)]
OptionalDescription = Annotated[
    Annotated[str, Field(max_length=MAX_DESCRIPTION)] | None, BeforeValidator(_blank_to_none)
]
OptionalRef = Annotated[Ref | None, BeforeValidator(_blank_to_none)]
PartialDate = Annotated[Ref | None, BeforeValidator(_date_text), AfterValidator(_check_date)]
TextList = Annotated[list[ShortText], BeforeValidator(_split), Field(max_length=MAX_ITEMS)]
LanguageList = Annotated[
    list[Ref],
    BeforeValidator(_split),
    Field(max_length=MAX_ITEMS),
    AfterValidator(_check_languages),
]
CountryList = Annotated[list[CountryCode], BeforeValidator(_split), Field(max_length=MAX_ITEMS)]
# Empty only for a record held by an international or regional body (see ``_holder``).
HolderCountry = Annotated[CountryCode | None, BeforeValidator(_blank_to_none)]
ModalityList = Annotated[list[Modality], BeforeValidator(_split), Field(max_length=MAX_ITEMS)]
Title = Annotated[str, Field(min_length=1, max_length=MAX_TITLE)]
NonEmptyText = Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]


MOMENT_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$"
"""A moment as every JSON answer writes it: ISO 8601 in UTC with ``Z``."""


def moment_text(moment: datetime) -> str:
    """``moment`` as JSON writes it (:data:`MOMENT_PATTERN`): in UTC, ``Z`` for the offset (a
    naive value is UTC: the tables store UTC).

    >>> moment_text(datetime(2026, 12, 3, 13, 5, tzinfo=UTC))
    '2026-12-03T13:05:00Z'
    """
    utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return utc.isoformat().replace("+00:00", "Z")


def json_value(value: Any) -> Any:
    """A stored value as JSON and the audit trail write it: a moment by :func:`moment_text`, a
    day in ISO 8601 (``2026-12-03``), anything else as it is.

    >>> json_value(datetime(2026, 12, 3, 13, 5)), json_value(date(2026, 12, 3)), json_value(3)
    ('2026-12-03T13:05:00Z', '2026-12-03', 3)
    """
    if isinstance(value, datetime):
        return moment_text(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


Moment = Annotated[
    datetime,
    PlainSerializer(moment_text, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": MOMENT_PATTERN}),
]
"""A timestamp of a public shape (every API answer's ``*_at``): written by :func:`moment_text`,
documented with :data:`MOMENT_PATTERN` so openapi.json says the format and its test checks it."""


def whole_number(text: Any, low: int = 0, high: int = MAX_INT) -> int | None:
    """``text`` as a whole number in [``low``, ``high``] written with ASCII digits only, else None.

    ``str.isdigit`` and ``int`` accept superscripts and other scripts' digits ("²", "٣"), which
    then fail further on or store what no one typed; a page of 10**17 overflows an offset.

    >>> whole_number("12"), whole_number(" 12 "), whole_number("١٢"), whole_number("10" * 9)
    (12, 12, None, None)
    """
    if isinstance(text, bool):
        return None
    if isinstance(text, int):
        return text if low <= text <= high else None
    raw = str(text).strip()
    if not raw or len(raw) > 18 or not (raw.isascii() and raw.isdigit()):
        return None
    value = int(raw)
    return value if low <= value <= high else None


class _Input(SQLModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)  # type: ignore[assignment]


class MissingHolder(ValueError):
    """A record with neither a country nor an institution: a check of the whole record (it needs
    both fields) about the country field, which ``field`` names so that a bundle's problem can
    point at that column rather than at the record."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def _holder(country: str | None, institution: str | None, what: str) -> None:
    """A record belongs to a country, or to the international or regional body named as its
    institution (whose seat must not stand in for it); whether that institution is such a body
    is checked against the stored institutions."""
    if not country and not institution:
        raise MissingHolder(
            f"{what} is required (only a record held by an international or regional body, "
            "named as its institution, has no country)",
            what,
        )


def _ends_after(start_field: str, end: str | None, info: ValidationInfo) -> str | None:
    """The end of a window against its start, as a field check of the end: the refusal sits
    beside the end field and comes with every other field's (a model check runs only once all
    fields are valid, and belongs to no field). A start that is itself refused is not compared."""
    check_window(info.data.get(start_field), end)
    return end


class ThemeCreate(_Input):
    id: RecordId
    label_en: Title
    label_es: OptionalTitle = None
    label_pt: OptionalTitle = None
    label_fr: OptionalTitle = None
    label_ru: OptionalTitle = None
    parent: OptionalRef = None
    synonyms: TextList = []
    sdg_targets: TextList = []
    description: OptionalDescription = None


class InstitutionCreate(_Input):
    id: RecordId
    name: Title
    country: CountryCode
    constituency: Constituency = "other"
    international: Annotated[bool, BeforeValidator(lambda v: False if v in (None, "") else v)] = (
        False
    )
    members: CountryList = []
    languages: LanguageList = []
    website: OptionalText = None
    source: OptionalText = None


class CapacityCreate(_Input):
    id: RecordId
    country: HolderCountry = None
    institution: OptionalRef = None
    title: Title
    description: OptionalDescription = None
    themes: Annotated[TextList, Field(min_length=1)]
    languages: LanguageList = []
    maturity: Annotated[Maturity | None, BeforeValidator(_blank_to_none)] = None
    modalities: ModalityList = []
    max_per_year: Annotated[
        Annotated[int, Field(ge=0, le=1000)] | None, BeforeValidator(_blank_to_none)
    ] = None
    available_from: PartialDate = None
    available_to: PartialDate = None
    status: CapacityStatus = "draft"
    created: PartialDate = None
    source: OptionalText = None

    @field_validator("available_to")
    @classmethod
    def _window(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _ends_after("available_from", value, info)

    @model_validator(mode="after")
    def _held(self) -> CapacityCreate:
        _holder(self.country, self.institution, "country")
        return self


class NeedCreate(_Input):
    id: RecordId
    country: HolderCountry = None
    institution: OptionalRef = None
    title: Title
    description: OptionalDescription = None
    themes: Annotated[TextList, Field(min_length=1)]
    languages: LanguageList = []
    priority: Annotated[Priority | None, BeforeValidator(_blank_to_none)] = None
    modalities: ModalityList = []
    desired_from: PartialDate = None
    desired_to: PartialDate = None
    status: NeedStatus = "draft"
    created: PartialDate = None
    source: OptionalText = None

    @field_validator("desired_to")
    @classmethod
    def _window(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _ends_after("desired_from", value, info)

    @model_validator(mode="after")
    def _held(self) -> NeedCreate:
        _holder(self.country, self.institution, "country")
        return self


class ExchangeCreate(_Input):
    id: RecordId
    title: OptionalTitle = None
    description: OptionalDescription = None
    start: Annotated[
        str,
        Field(max_length=MAX_REF),
        BeforeValidator(_date_text),
        AfterValidator(normalise_partial_date),
    ]
    end: PartialDate = None
    date_note: OptionalDescription = None
    providers: CountryList = []
    recipients: CountryList = []
    participants: CountryList = []
    partners: TextList = []
    themes: Annotated[TextList, Field(min_length=1)]
    modality: Annotated[Modality | None, BeforeValidator(_blank_to_none)] = None
    languages: LanguageList = []
    direction: Annotated[Direction | None, BeforeValidator(_blank_to_none)] = None
    outcomes: OptionalDescription = None
    source: OptionalText = None

    @model_validator(mode="after")
    def _roles(self) -> ExchangeCreate:
        if not (self.providers or self.recipients or self.participants):
            raise ValueError(
                "an exchange needs at least one country (providers, recipients or participants)"
            )
        if self.direction == "one_way" and not (self.providers and self.recipients):
            raise ValueError("a one_way exchange needs both providers and recipients")
        return self

    @field_validator("end")
    @classmethod
    def _window(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _ends_after("start", value, info)


class CommitmentCreate(_Input):
    id: RecordId
    exchange: OptionalRef = None
    study_tour: OptionalRef = None
    owner_country: HolderCountry = None
    owner_institution: OptionalRef = None
    description: NonEmptyText
    due: PartialDate = None
    status: CommitmentStatus = "pending"
    evidence: OptionalText = None
    source: OptionalText = None

    @model_validator(mode="after")
    def _owner(self) -> CommitmentCreate:
        _holder(self.owner_country, self.owner_institution, "owner_country")
        return self


class _Public(SQLModel):
    model_config = ConfigDict(from_attributes=True)  # type: ignore[assignment]
    created_at: Moment | None = None
    updated_at: Moment | None = None
    version: int = 1


class InstitutionPublic(_Public, InstitutionCreate):
    """Institution as the API shows it."""


class CapacityPublic(_Public, CapacityCreate):
    """Capacity as the API shows it."""


class NeedPublic(_Public, NeedCreate):
    """Need as the API shows it."""


class ExchangePublic(_Public, ExchangeCreate):
    """Exchange as the API shows it."""


class CommitmentPublic(_Public, CommitmentCreate):
    """Commitment as the API shows it."""
