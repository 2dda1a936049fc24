"""Validate a read bundle against the vocabularies, the schemas and the records already stored.

Names of countries, themes and languages resolve through the vocabulary (exact, then fuzzy); every
resolution that was not a plain code is reported so the importer can check it. References to other
records (institution, exchange, study tour, theme parent) must exist in the bundle or the database.

The work is linear in the bundle: the sets of known ids are built once, before the loop (a union
per record made 200,000 exchanges and 40,000 commitments take minutes), and each distinct name is
resolved once however many rows repeat it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from sscmatch.bundle.format import (
    BODY_HELD,
    LIST_FIELDS,
    RECORD,
    REQUIRED,
    TABLES,
    Problem,
    RawBundle,
    Row,
    place,
    plain,
)
from sscmatch.dates import PartialDateError, shown
from sscmatch.schemas import (
    CapacityCreate,
    CommitmentCreate,
    ExchangeCreate,
    InstitutionCreate,
    MissingHolder,
    NeedCreate,
    ThemeCreate,
)
from sscmatch.vocab import Resolution, Vocabulary
from sscmatch.workflow.base import N_

SCHEMAS: dict[str, type[BaseModel]] = {
    "themes": ThemeCreate,
    "institutions": InstitutionCreate,
    "capacities": CapacityCreate,
    "needs": NeedCreate,
    "exchanges": ExchangeCreate,
    "commitments": CommitmentCreate,
}

DEFAULTED: dict[str, frozenset[str]] = {
    table: frozenset(
        name
        for name, info in schema.model_fields.items()
        if not info.is_required() and info.default is not None and name not in LIST_FIELDS
    )
    for table, schema in SCHEMAS.items()
}
"""Fields with a default other than none (a commitment's ``status``, an institution's
``constituency``…): a blank cell or a JSON null leaves the field out, which gives it its default,
as leaving out the column does (it was refused as "got None")."""

COUNTRY_FIELDS = {"country", "owner_country", "providers", "recipients", "participants", "members"}
THEME_FIELDS = {"themes"}
LANGUAGE_FIELDS = {"languages"}


@dataclass(frozen=True)
class Resolved:
    """A name the importer turned into a code: worth a look when it was fuzzy."""

    file: str
    line: int
    field: str
    given: str
    value: str
    status: str
    score: float
    record: str = ""  # in a JSON file, which record (format.record_name)

    def __str__(self) -> str:
        how = "exactly" if self.status == "exact" else f"fuzzily (score {self.score:.0f})"
        where = place(self.file, self.line, self.record)
        return f"{where} {self.field}: {self.given!r} → {self.value} ({how})"


@dataclass
class ValidBundle:
    records: dict[str, list[BaseModel]] = field(default_factory=lambda: {t: [] for t in TABLES})
    resolved: list[Resolved] = field(default_factory=list)


@dataclass(frozen=True)
class StoredIds:
    """Ids already in the database that bundle records may reference."""

    themes: frozenset[str] = frozenset()
    institutions: frozenset[str] = frozenset()
    bodies: frozenset[str] = frozenset()  # institutions that are international or regional bodies
    exchanges: frozenset[str] = frozenset()
    study_tours: frozenset[str] = frozenset()


@dataclass(frozen=True)
class _Known:
    """Ids a reference may name: declared in the bundle or already stored."""

    institutions: frozenset[str]
    exchanges: frozenset[str]
    study_tours: frozenset[str]


PROGRESS_EVERY = 5_000
"""Rows between two progress calls: often enough for a bar, rarely enough to cost nothing."""


def validate(
    raw: RawBundle,
    vocab: Vocabulary,
    stored: StoredIds,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[ValidBundle, list[Problem]]:
    """Check every row; ``progress(done, total)`` hears how many rows are checked."""
    problems = list(raw.problems)
    valid = ValidBundle()
    declared = {t: {str(r.values.get("id", "")).strip() for r in raw.rows[t]} for t in TABLES}
    themes_known = set(vocab.themes) | declared["themes"] | stored.themes
    checker = _Checker(vocab, themes_known, valid.resolved, problems)
    known = _Known(
        institutions=frozenset(declared["institutions"] | stored.institutions),
        exchanges=frozenset(declared["exchanges"] | stored.exchanges),
        study_tours=stored.study_tours,
    )
    total = sum(len(raw.rows[t]) for t in TABLES)
    done = 0

    bodies = set(stored.bodies)
    for table in TABLES:
        if table == "capacities":  # the bundle's institutions are validated by now
            for inst in valid.records["institutions"]:
                if isinstance(inst, InstitutionCreate):
                    (bodies.add if inst.international else bodies.discard)(inst.id)
        seen: dict[str, Row] = {}
        schema = SCHEMAS[table]
        for row in raw.rows[table]:
            done += 1
            if progress is not None and done % PROGRESS_EVERY == 0:
                progress(done, total)
            before = len(problems)
            values = checker.normalise(row)
            record_id = str(values.get("id") or "")
            if record_id in seen:
                problems.append(_duplicate(row, seen[record_id], record_id))
                continue
            if record_id:
                seen[record_id] = row
            flagged = {p.field for p in problems[before:]}
            record = _build(schema, values, row, problems, flagged)
            if record is None or len(problems) > before:
                continue
            _check_references(table, record, row, known, problems, bodies)
            if len(problems) == before:
                valid.records[table].append(record)
    if progress is not None:
        progress(total, total)
    return valid, problems


class _Checker:
    def __init__(
        self,
        vocab: Vocabulary,
        themes_known: set[str],
        resolved: list[Resolved],
        problems: list[Problem],
    ) -> None:
        self.vocab = vocab
        self.themes_known = themes_known
        self.resolved = resolved
        self.problems = problems
        # Each distinct text is resolved once: a bundle repeats the same few hundred names.
        self._resolutions: dict[tuple[str, str], Resolution] = {}
        # Texts that are plain codes (any case), with their code: most cells are, and they need
        # no report, so they skip the resolution path.
        self._plain: dict[Callable[..., Any], dict[str, str]] = {
            self._country: {},
            self._theme: {},
            self._language: {},
        }

    def _lookup(self, kind: str, text: str, resolve: Callable[[str], Resolution]) -> Resolution:
        found = self._resolutions.get((kind, text))
        if found is None:
            found = self._resolutions[(kind, text)] = resolve(text)
        return found

    def normalise(self, row: Row) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, value in row.values.items():
            if isinstance(value, str):
                value = value.strip()
            if name in LIST_FIELDS:
                value = _as_list(value)
            elif value == "" or value is None:
                if name in DEFAULTED[row.table]:
                    continue  # a blank cell is the field left out: its default, as the form's
                value = None
            values[name] = value
        body_held = BODY_HELD.get(row.table, ("", ""))[0]
        for name in REQUIRED[row.table]:
            if values.get(name) in (None, [], "") and name != body_held:
                self.problems.append(row.problem(name, REQUIRED_EMPTY))
        if row.table != "themes":
            for name in COUNTRY_FIELDS & values.keys():
                values[name] = self._map(row, name, values[name], self._country)
            for name in THEME_FIELDS & values.keys():
                values[name] = self._map(row, name, values[name], self._theme)
        elif values.get("parent") and values["parent"] not in self.themes_known:
            self.problems.append(
                row.problem(
                    "parent",
                    N_(
                        "unknown theme %(value)s (expected a theme id of the vocabulary or of "
                        "this bundle)"
                    ),
                    {"value": repr(values["parent"])},
                )
            )
        for name in LANGUAGE_FIELDS & values.keys():
            values[name] = self._map(row, name, values[name], self._language)
        return values

    def _map(
        self, row: Row, name: str, value: Any, one: Callable[[Row, str, str], str | None]
    ) -> Any:
        if isinstance(value, list):
            plain = self._plain[one]
            codes = []
            for item in value:
                code = plain.get(item) if isinstance(item, str) else None
                if code is None:
                    code = one(row, name, str(item))
                if code is not None:
                    codes.append(code)
            return codes
        if isinstance(value, str):
            # An unresolved value stays as given: the schema then rejects that field (already
            # reported) rather than seeing an empty one.
            found = one(row, name, value)
            return value if found is None else found
        return value

    def _country(self, row: Row, name: str, text: str) -> str | None:
        if text.upper() in self.vocab.countries:
            code = self._plain[self._country][text] = text.upper()
            return code
        return self._resolve(
            row,
            name,
            text,
            self._lookup("country", text, self.vocab.resolve_country),
            N_(
                "unknown value %(value)s (expected a country code or name, e.g. BRA or Brasil; "
                "nearest: %(near)s)"
            ),
            N_("unknown value %(value)s (expected a country code or name, e.g. BRA or Brasil)"),
        )

    def _theme(self, row: Row, name: str, text: str) -> str | None:
        if text in self.themes_known:
            self._plain[self._theme][text] = text
            return text
        return self._resolve(
            row,
            name,
            text,
            self._lookup("theme", text, self.vocab.resolve_theme),
            N_(
                "unknown value %(value)s (expected a theme id or label, e.g. labour-inspection; "
                "nearest: %(near)s)"
            ),
            N_("unknown value %(value)s (expected a theme id or label, e.g. labour-inspection)"),
        )

    def _language(self, row: Row, name: str, text: str) -> str | None:
        if text.lower() in self.vocab.languages:
            code = self._plain[self._language][text] = text.lower()
            return code
        return self._resolve(
            row,
            name,
            text,
            self._lookup("language", text, self.vocab.resolve_language),
            N_(
                "unknown value %(value)s (expected an ISO 639-1 code or language name, e.g. es; "
                "nearest: %(near)s)"
            ),
            N_("unknown value %(value)s (expected an ISO 639-1 code or language name, e.g. es)"),
        )

    def _resolve(
        self,
        row: Row,
        name: str,
        text: str,
        result: Resolution,
        unknown_near: str,
        unknown: str,
    ) -> str | None:
        """The code ``text`` resolves to, else None and a problem: ambiguous, or unknown
        (``unknown_near`` naming the nearest codes, or ``unknown``: the kind's own messages, what
        is expected being words of the message rather than a value)."""
        if result.ok and result.value is not None:
            self.resolved.append(
                Resolved(
                    row.file,
                    row.at(name),
                    name,
                    text,
                    result.value,
                    result.status,
                    result.score,
                    row.record,
                )
            )
            return result.value
        near = ", ".join(c for c, _ in result.candidates[:3])
        if result.status == "ambiguous":
            message = N_(
                "%(value)s is ambiguous (could be %(near)s; give the code or a fuller name)"
            )
        else:
            message = unknown_near if near else unknown
        params = {"value": repr(text), "near": near} if near else {"value": repr(text)}
        self.problems.append(row.problem(name, message, params))
        return None


def _as_list(value: Any) -> Any:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(";") if part.strip()]
    if isinstance(value, list):
        return [v.strip() if isinstance(v, str) else v for v in value if v not in (None, "")]
    return value


def _build(
    schema: type[BaseModel],
    values: dict[str, Any],
    row: Row,
    problems: list[Problem],
    flagged: set[str],
) -> BaseModel | None:
    """Validate with the schema; fields already reported (``flagged``) are not reported twice."""
    try:
        return schema.model_validate(values)
    except ValidationError as exc:
        for error in exc.errors():
            loc = [str(p) for p in error["loc"] if not isinstance(p, int)]
            cause = (error.get("ctx") or {}).get("error")
            # a check of the whole record that is about one column names that column
            name = loc[0] if loc else cause.field if isinstance(cause, MissingHolder) else RECORD
            if name not in flagged:
                message, params = _message(error)
                problems.append(row.problem(name, message, params))
                flagged.add(name)
        return None


REQUIRED_EMPTY = N_("required field is empty")

PYDANTIC: dict[str, str] = {
    "string_type": N_("Input should be a valid string"),
    "too_long": N_(
        "List should have at most %(max_length)s items after validation, not %(actual_length)s"
    ),
    "list_type": N_("Input should be a valid list"),
    "bool_type": N_("Input should be a valid boolean"),
    "bool_parsing": N_("Input should be a valid boolean, unable to interpret input"),
    "int_from_float": N_("Input should be a valid integer, got a number with a fractional part"),
}
"""Pydantic's own sentences for the errors a bundle's values can meet in the record schemas
(:mod:`sscmatch.schemas`), each a message of the catalogue with the English pydantic says and
its values from the error's ``ctx``."""


def _message(error: Any) -> tuple[str, dict[str, Any]]:
    """A schema's refusal of a field as a message of the catalogue and its values.

    Our own wording for the common kinds; pydantic's own sentence for the others
    (:data:`PYDANTIC`); a validator's ``ValueError``: a partial date's message and values
    (:class:`sscmatch.dates.PartialDateError`), or the schema's sentence as it is, which the edge
    recognises by its shape (:mod:`sscmatch.web.messages`)."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    given = error.get("input")
    got = {"value": shown(given) if isinstance(given, str) else repr(given)}  # cut short
    if kind == "missing":
        return N_("required field is missing"), {}
    if kind == "literal_error":
        choices = str(ctx.get("expected", "")).replace("'", "")
        return N_("got %(value)s (expected one of: %(choices)s)"), {**got, "choices": choices}
    if kind in {"int_parsing", "int_type"}:
        return N_("got %(value)s (expected a whole number)"), got
    if kind == "greater_than_equal":
        return N_("got %(value)s (expected a number ≥ %(ge)s)"), {**got, "ge": ctx.get("ge")}
    if kind in {"too_short", "string_too_short"}:
        return N_("must not be empty"), {}
    if kind == "string_too_long":
        return N_("String should have at most %(n)s characters"), {"n": ctx.get("max_length")}
    if kind == "less_than_equal":
        return N_("Input should be less than or equal to %(n)s"), {"n": ctx.get("le")}
    if kind in PYDANTIC:
        return PYDANTIC[kind], plain(ctx)
    cause = ctx.get("error")
    if kind == "value_error" and isinstance(cause, PartialDateError):
        return cause.message, plain(cause.params)
    return str(error["msg"]).removeprefix("Value error, "), {}


def _duplicate(row: Row, first: Row, record_id: str) -> Problem:
    """A second record of one id, pointing at the first: by its line in a CSV file, by its array
    and place (and line) in a JSON file, where one line may hold every record."""
    if first.index < 0:
        return row.problem(
            "id",
            N_("duplicate id %(id)s (first at line %(first)s; ids must be unique)"),
            {"id": repr(record_id), "first": first.line},
        )
    return row.problem(
        "id",
        N_("duplicate id %(id)s (first at %(record)s, line %(first)s; ids must be unique)"),
        {"id": repr(record_id), "record": f"{first.table}[{first.index}]", "first": first.line},
    )


def _check_references(
    table: str,
    record: Any,
    row: Row,
    known: _Known,
    problems: list[Problem],
    bodies: set[str],
) -> None:
    institutions = known.institutions
    if table in BODY_HELD:
        country_field, institution_field = BODY_HELD[table]
        holder = getattr(record, institution_field)
        if not getattr(record, country_field) and holder in institutions and holder not in bodies:
            problems.append(
                row.problem(
                    country_field,
                    N_(
                        "required field is empty (only a record held by an international or "
                        "regional body may leave it empty, and %(value)s is not one: "
                        "international=false)"
                    ),
                    {"value": repr(holder)},
                )
            )

    def need(field_name: str, value: str | None, known: Iterable[str], message: str) -> None:
        """A reference to a record of the bundle or the database; ``message``: the kind's own
        (the kind is words of the message, never a value)."""
        if value and value not in known:
            problems.append(row.problem(field_name, message, {"value": repr(value)}))

    unknown_institution = N_(
        "unknown institution %(value)s (expected the id of an institution in this bundle or "
        "already stored)"
    )
    if table in {"capacities", "needs"}:
        need("institution", record.institution, institutions, unknown_institution)
    if table == "commitments":
        need("owner_institution", record.owner_institution, institutions, unknown_institution)
        need(
            "exchange",
            record.exchange,
            known.exchanges,
            N_(
                "unknown exchange %(value)s (expected the id of an exchange in this bundle "
                "or already stored)"
            ),
        )
        need(
            "study_tour",
            record.study_tour,
            known.study_tours,
            N_(
                "unknown study tour %(value)s (expected the id of a study tour in this bundle "
                "or already stored)"
            ),
        )
