"""Evaluation sets for ``scripts/evaluate`` and ``sscmatch calibrate``: a corpus from any bundle,
or from a table of real projects in the UNDP South-South format.

The engine's evaluation (``matching.evaluation``) is pure; this module is the door that reads
files. Two sources:

- :func:`bundle_corpus`: any bundle (a CSV folder or a ``.json`` file; see the bundle spec),
  imported into a throw-away in-memory database and encoded as the engine sees stored records.
- :func:`undp_corpus`: a CSV of projects with the columns of UNDP's South-South cooperation
  dataset (``Host/Recipient Country/ies``, ``Provider Country/ies``, ``Start year``,
  ``Thematic Areas``, ...). Each project becomes an exchange. A country named both as host and
  as provider is a participant (a member of a joint project, role not stated). OECD DAC members
  among its providers (members in the project's start year, ``data/vocab/oecd_dac.csv``) are
  recorded as partners: they fund triangular projects, they are not the southern provider a
  recipient looks for. The thematic and sub-thematic areas become themes declared with the
  corpus (roots of their own: the dataset's areas are not a tree). Such a corpus has no
  capacities and no needs.

Texts of evaluation exchanges have country names and demonyms blanked (``workflow.redaction``):
a pseudo-need made from a project must not name its provider.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from sqlmodel import Session

from sscmatch.bundle import BundleError, import_bundle
from sscmatch.db import init_db, make_engine
from sscmatch.matching import CapacityItem, Corpus, ExchangeItem, NeedItem, ThemeInfo
from sscmatch.text import TextModel, record_text, store
from sscmatch.vocab import Vocabulary
from sscmatch.workflow.base import DomainError
from sscmatch.workflow.countries import sync_countries
from sscmatch.workflow.encode import build_corpus, countries, intelligibility
from sscmatch.workflow.redaction import Redactor, fold

UNDP_RECIPIENTS = "Host/Recipient Country/ies"
UNDP_PROVIDERS = "Provider Country/ies"
UNDP_START = "Start year"
UNDP_AREAS = ("Thematic Areas", "Sub-thematic areas")
UNDP_REQUIRED = (UNDP_RECIPIENTS, UNDP_PROVIDERS, UNDP_START, UNDP_AREAS[0])
NON_ISO_CODES = {"ZAM": "ZMB", "ROM": "ROU", "ZAR": "COD", "TMP": "TLS", "UK": "GBR"}
"""Codes some tables use that are not ISO 3166-1 alpha-3, with the ISO code they mean."""


class EvaluationSetError(DomainError):
    """A file that cannot be read as an evaluation set (``file:line: what is wrong``)."""


def bundle_corpus(path: Path, vocab: Vocabulary) -> Corpus:
    """The corpus of any bundle, as the engine would see it once imported (nothing is kept)."""
    engine = make_engine("sqlite://")
    init_db(engine)
    try:
        with Session(engine) as session:
            sync_countries(session, vocab)
            try:
                import_bundle(session, path, vocab)
            except BundleError as exc:  # every problem, at its file and line, as import says
                said = "\n".join(str(p) for p in exc.problems)
                raise EvaluationSetError(
                    f"{said}\n{path}: {len(exc.problems)} problem(s)"
                ) from None
            session.flush()
            corpus = build_corpus(session, vocab, text=False)
            session.rollback()
    finally:
        engine.dispose()
    return corpus


def _slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(label).lower()).strip("-")


@dataclass
class UndpTable:
    """What :func:`undp_corpus` read: the corpus and notes on what it left out or changed."""

    corpus: Corpus
    notes: list[str]


def _codes(cell: str, where: str, vocab: Vocabulary, notes: list[str]) -> list[str]:
    out: list[str] = []
    for raw in cell.split(","):
        code = raw.strip().upper()
        if not code:
            continue
        code = NON_ISO_CODES.get(code, code)
        if code not in vocab.countries:
            notes.append(f"{where}: unknown country code {raw.strip()!r} left out")
            continue
        if code not in out:
            out.append(code)
    return out


def _themes(labels: Iterable[str], known: dict[str, ThemeInfo]) -> tuple[str, ...]:
    """Theme ids of area labels; a truncated label ("Poverty and Inequa") resolves to the one
    known area it begins, else it becomes an area of its own."""
    out: list[str] = []
    for raw in labels:
        label = " ".join(raw.split())
        if not label:
            continue
        slug = _slug(label)
        if f"undp-{slug}" not in known:
            longer = [t for t in known if t.startswith(f"undp-{slug}")]
            if len(longer) == 1:
                slug = longer[0].removeprefix("undp-")
            else:
                known[f"undp-{slug}"] = ThemeInfo(id=f"undp-{slug}", label=label, terms=(label,))
        if f"undp-{slug}" not in out:
            out.append(f"undp-{slug}")
    return tuple(out)


def _table_rows(path: Path) -> list[dict[str, str]]:
    """The rows of one table, each with the file and line it came from (``_where``)."""
    if path.exists() and not path.is_file():  # a pipe would be waited on for ever
        raise EvaluationSetError(
            f"{path}: not a file (a folder, a pipe or a device); give a CSV file"
        )
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            rows = list(reader)
            header = reader.fieldnames
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise EvaluationSetError(f"{path}: cannot read the table: {exc}") from exc
    if header is None:
        raise EvaluationSetError(f"{path}:1: empty file (expected a header: {UNDP_REQUIRED})")
    if rows:
        missing = [c for c in UNDP_REQUIRED if c not in rows[0]]
        if missing:
            raise EvaluationSetError(f"{path}:1: missing columns {missing}")
    for line, row in enumerate(rows, start=2):
        row["_where"] = f"{path.name}:{line}"
        row["_file"] = path.stem
    return rows


def _same_project(a: dict[str, str], b: dict[str, str]) -> bool:
    return all(
        " ".join((a.get(k) or "").split()) == " ".join((b.get(k) or "").split())
        for k in ("Project Name", UNDP_START, UNDP_RECIPIENTS, UNDP_PROVIDERS)
    )


def undp_corpus(paths: Path | Sequence[Path], vocab: Vocabulary) -> UndpTable:
    """A corpus of exchanges from one or more UNDP South-South projects tables (see the module
    docstring), read as one: later projects held apart from the earlier ones (2015 on, say) are
    judged with the earlier ones as their history.

    Rows without a start year or without any country are left out, with a note each. A project
    number found again in a later table is the same project when its name, start year and
    countries agree (counted once, with a note), else another one (its id then names its file)."""
    rows: list[dict[str, str]] = []
    seen: dict[str, dict[str, str]] = {}
    notes: list[str] = []
    for path in [paths] if isinstance(paths, Path) else paths:
        for row in _table_rows(path):
            number = (row.get("Number") or "").strip() or row["_where"]
            earlier = seen.get(number)
            if earlier is None:
                row["_id"] = f"undp-{number}"
            elif _same_project(earlier, row):
                notes.append(f"{row['_where']}: the same project as {earlier['_where']}; once")
                continue
            else:
                row["_id"] = f"undp-{row['_file']}-{number}"
                notes.append(
                    f"{row['_where']}: number {number} is also {earlier['_where']}, another "
                    f"project: read as {row['_id']}"
                )
            seen.setdefault(number, row)
            rows.append(row)
    redactor = Redactor.of(vocab)
    known: dict[str, ThemeInfo] = {}
    # Declare the full (untruncated) labels first, so truncated ones resolve to them.
    by_length = sorted(
        {
            " ".join(x.split())
            for row in rows
            for column in UNDP_AREAS
            for x in (row.get(column) or "").split(",")
            if x.strip()
        },
        key=len,
        reverse=True,
    )
    _themes(by_length, known)
    exchanges: list[ExchangeItem] = []
    for row in rows:
        where = row["_where"]
        year_text = (row.get(UNDP_START) or "").strip()
        if not re.fullmatch(r"[0-9]{4}", year_text):
            notes.append(f"{where}: no start year ({year_text!r}); left out")
            continue
        start = date(int(year_text), 1, 1)
        recipients = _codes(row.get(UNDP_RECIPIENTS) or "", where, vocab, notes)
        named = _codes(row.get(UNDP_PROVIDERS) or "", where, vocab, notes)
        if not recipients and not named:
            notes.append(f"{where}: no country named; left out")
            continue
        southern = [c for c in named if _southern(vocab, c, start)]
        # A country both host and provider of a project is a member of a joint (often
        # regional) project, not a provider to the others: its role is not stated.
        participants = [c for c in southern if c in recipients]
        providers = [c for c in southern if c not in participants]
        recipients = [c for c in recipients if c not in participants]
        partners = [c for c in named if c not in southern]
        areas = [x for column in UNDP_AREAS for x in (row.get(column) or "").split(",")]
        exchanges.append(
            ExchangeItem(
                id=row["_id"],
                start=start,
                providers=tuple(providers),
                recipients=tuple(recipients),
                participants=tuple(participants),
                partners=tuple(partners),
                themes=_themes(areas, known),
                title=redactor.redact(row.get("Project Name") or ""),
                description=redactor.redact(row.get("Description") or ""),
            )
        )
    corpus = Corpus(
        countries=countries(vocab),
        themes=known,
        exchanges=exchanges,
        intelligibility=intelligibility(vocab),
        language_names={code: lang.name for code, lang in vocab.languages.items()},
    )
    return UndpTable(corpus=corpus, notes=notes)


def _southern(vocab: Vocabulary, code: str, on: date) -> bool:
    since = vocab.countries[code].dac_since
    return since is None or on.year < since


def with_vectors(corpus: Corpus, text_model: TextModel | None) -> Corpus:
    """The corpus with a text vector for every exchange, capacity and need (none: no text)."""
    if text_model is None:
        return replace(corpus, vectors={})
    records: list[ExchangeItem | CapacityItem | NeedItem] = [
        *corpus.exchanges,
        *corpus.capacities,
        *corpus.needs,
    ]
    texts = [record_text(r.title, r.description) for r in records]
    matrix = store(text_model.encode(texts))
    vectors = {r.id: matrix[i] for i, r in enumerate(records) if texts[i]}
    return replace(corpus, vectors=vectors, text_scale=text_model.scale)
