"""File I/O for synthetic corpora, kept out of the pure engine (``sscmatch.matching``).

``read_themes`` reads the theme tree from ``data/vocab/themes.csv`` for
``sscmatch.matching.synth.generate``; ``write_bundle`` writes a generated corpus as a CSV bundle
(see the bundle spec). Used by ``scripts/synth`` and ``scripts/bench_match``.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from sscmatch.matching.model import Corpus, ThemeInfo

THEMES_CSV = Path(__file__).resolve().parents[1] / "data" / "vocab" / "themes.csv"


def read_themes(path: str | Path = THEMES_CSV) -> list[ThemeInfo]:
    """The theme tree of ``data/vocab/themes.csv`` (columns id, parent, label_en; the English
    label is the one term), as the synthetic generator wants it."""
    with open(path, newline="", encoding="utf-8") as fh:
        return [
            ThemeInfo(
                id=row["id"],
                parent=row.get("parent") or None,
                label=row["label_en"],
                terms=(row["label_en"],),
            )
            for row in csv.DictReader(fh)
        ]


def _d(x: date | None) -> str:
    return x.isoformat() if x else ""


def write_bundle(corpus: Corpus, out: str | Path) -> dict[str, int]:
    """Write the corpus as a CSV bundle folder; returns the number of rows per file.

    Synthetic countries also go to ``extra/countries.csv`` (code, name, region, sub-region,
    intermediate region, groupings, languages): not a bundle table, so it sits in a sub-folder
    that ``sscmatch import`` does not read.
    """
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    src = "synthetic (scripts/synth)"
    tables: dict[str, tuple[list[str], list[list[str]]]] = {
        "themes": (
            ["id", "label_en", "parent", "synonyms"],
            [
                [t.id, t.label or t.id, t.parent or "", ";".join(t.terms[1:])]
                for t in corpus.themes.values()
            ],
        ),
        "countries": (
            [
                "code",
                "name",
                "region",
                "subregion",
                "intermediate_region",
                "groupings",
                "languages",
            ],
            [
                [
                    c.code,
                    c.name,
                    c.region,
                    c.subregion,
                    c.intermediate_region,
                    ";".join(sorted(c.groupings)),
                    ";".join(c.languages),
                ]
                for c in corpus.countries.values()
            ],
        ),
        "institutions": (
            ["id", "name", "country", "constituency", "source"],
            [
                [
                    f"{c.lower()}-ministry",
                    f"Ministry of Labour of {info.label}",
                    c,
                    "government",
                    src,
                ]
                for c, info in corpus.countries.items()
            ],
        ),
        "capacities": (
            [
                "id",
                "country",
                "institution",
                "title",
                "description",
                "themes",
                "languages",
                "maturity",
                "max_per_year",
                "available_from",
                "available_to",
                "status",
                "created",
                "source",
            ],
            [
                [
                    c.id,
                    c.country,
                    c.institution or "",
                    c.title,
                    c.description,
                    ";".join(c.themes),
                    ";".join(c.languages),
                    c.maturity or "",
                    "" if c.max_per_year is None else str(c.max_per_year),
                    _d(c.available_from),
                    _d(c.available_to),
                    c.status,
                    _d(c.created),
                    src,
                ]
                for c in corpus.capacities
            ],
        ),
        "needs": (
            [
                "id",
                "country",
                "institution",
                "title",
                "description",
                "themes",
                "languages",
                "desired_from",
                "desired_to",
                "status",
                "created",
                "source",
            ],
            [
                [
                    n.id,
                    n.country,
                    n.institution or "",
                    n.title,
                    n.description,
                    ";".join(n.themes),
                    ";".join(n.languages),
                    _d(n.desired_from),
                    _d(n.desired_to),
                    n.status,
                    _d(n.created),
                    src,
                ]
                for n in corpus.needs
            ],
        ),
        "exchanges": (
            [
                "id",
                "start",
                "providers",
                "recipients",
                "participants",
                "partners",
                "themes",
                "direction",
                "source",
            ],
            [
                [
                    e.id,
                    _d(e.start),
                    ";".join(e.providers),
                    ";".join(e.recipients),
                    ";".join(e.participants),
                    ";".join(e.partners),
                    ";".join(e.themes),
                    "one_way" if e.providers and e.recipients else "multilateral",
                    src,
                ]
                for e in corpus.exchanges
            ],
        ),
        "commitments": (
            ["id", "exchange", "owner_country", "description", "status", "source"],
            [
                [k.id, k.exchange or "", k.owner_country, "follow-up action", k.status, src]
                for k in corpus.commitments
            ],
        ),
    }
    counts: dict[str, int] = {}
    (folder / "extra").mkdir(exist_ok=True)
    for name, (header, rows) in tables.items():
        target = (
            folder / "extra" / "countries.csv" if name == "countries" else folder / f"{name}.csv"
        )
        with open(target, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            writer.writerows(rows)
        counts[name] = len(rows)
    return counts
