"""The doors of the evaluation: the redaction of country names out of evaluation texts (every
country, every name and demonym), the UNDP-format table reader (every kind of odd row says what
it left out), and ``scripts/evaluate --undp`` on a table of later projects than the development
set's, as the held-back projects will be read."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sscmatch.vocab import Vocabulary, load_vocabulary
from sscmatch.workflow.evalsets import EvaluationSetError, undp_corpus
from sscmatch.workflow.redaction import (
    AMBIGUOUS_DEMONYMS,
    Redactor,
    blanked_for_replay,
    english_demonyms,
    fold,
)

ROOT = Path(__file__).resolve().parents[2]
COLUMNS = (
    "Number",
    "Project Name",
    "Description",
    "Host/Recipient Country/ies",
    "Provider Country/ies",
    "Start year",
    "Thematic Areas",
    "Sub-thematic areas",
)


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return load_vocabulary()


@pytest.fixture(scope="module")
def redactor(vocab: Vocabulary) -> Redactor:
    return Redactor.of(vocab)


def _left(redactor: Redactor, word: str) -> bool:
    """Whether ``word`` survives, in a sentence, the redaction."""
    out = redactor.redact(f"Experts from {word}, trained in labour inspection.")
    return fold(word) in out or word in out


def _names(vocab: Vocabulary) -> list[tuple[str, str]]:
    out = []
    for country in vocab.countries.values():
        for name in (*country.names.values(), *country.aliases):
            if len(name) >= 3 or name.isupper():
                out.append((country.code, name))
    return out


def test_every_name_and_alias_of_every_country_is_blanked(
    vocab: Vocabulary, redactor: Redactor
) -> None:
    left = [(code, name) for code, name in _names(vocab) if _left(redactor, name)]
    assert len(_names(vocab)) > 1000
    assert left == []


def test_every_english_demonym_is_blanked_singular_and_plural(redactor: Redactor) -> None:
    demonyms = [d for ds in english_demonyms().values() for d in ds]
    assert len(demonyms) > 200  # the table ships inside countryinfo's wheel
    left = [
        form
        for d in demonyms
        if d not in AMBIGUOUS_DEMONYMS
        for form in (d, d + "s")
        if _left(redactor, form)
    ]
    assert left == []


@pytest.mark.parametrize(
    "word",
    [
        # other-language demonyms of the knowledge base's countries, and the irregular ones
        "brasileño", "costarricense", "guatemalteca", "moçambicano", "cabo-verdiano",
        "sénégalais", "peruano", "cubano", "malien", "togolais", "Korean", "Khmer", "Laotian",
        "Chilean", "argentino", "mexicana",
        # initials, in capitals
        "UAE", "DRC", "US", "USA", "U.S.", "UK", "PRC",
    ],
)  # fmt: skip
def test_other_forms_are_blanked(redactor: Redactor, word: str) -> None:
    assert not _left(redactor, word)


@pytest.mark.parametrize(
    "text",
    [
        "male and female workers", "pero también", "a cube", "us and them", "US$ 2 million",
        "Latin American countries", "South American", "African Union", "Asian", "a toga",
        "the Arab states", "European Union",
    ],
)  # fmt: skip
def test_ordinary_words_are_kept(redactor: Redactor, text: str) -> None:
    """Short stems and initials would blank common words ("Mal-e", "Per-o", "us")."""
    assert redactor.redact(text) == text


def _write(path: Path, rows: list[dict[str, str]], columns: tuple[str, ...] = COLUMNS) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})
    return path


def _row(number: str, recipients: str, providers: str, year: str, **more: str) -> dict[str, str]:
    return {
        "Number": number,
        "Host/Recipient Country/ies": recipients,
        "Provider Country/ies": providers,
        "Start year": year,
        "Thematic Areas": more.pop("areas", "Health"),
        **more,
    }


def test_the_table_reader_says_what_it_left_out_and_reads_the_rest(
    tmp_path: Path, vocab: Vocabulary
) -> None:
    rows = [
        _row("1", "GHA", "CHN", "2016", **{"Project Name": "Chinese doctors in Ghana"}),
        _row("2", "ZAM", "BRA, XYZ", "2017"),  # a non-ISO code it knows, one it does not
        _row("3", "", "", "2018"),  # a regional project: no country named
        _row("4", "KEN", "IND", "not known"),  # no start year
        _row("5", "MOZ, BRA", "BRA, JPN", "2019"),  # joint host; a DAC funder
        _row("6", "PER", "KOR", "2009"),  # Korea before it joined the DAC (2010)
        _row("7", "PER", "KOR", "2016", areas="Poverty and Inequa"),  # a truncated label
        _row("8", "PER", "CHL", "2016", areas="Poverty and Inequality, Health"),
    ]
    table = undp_corpus(_write(tmp_path / "later.csv", rows), vocab)
    by_id = {e.id: e for e in table.corpus.exchanges}
    assert sorted(by_id) == ["undp-1", "undp-2", "undp-5", "undp-6", "undp-7", "undp-8"]
    assert table.notes == [
        "later.csv:3: unknown country code 'XYZ' left out",
        "later.csv:4: no country named; left out",
        "later.csv:5: no start year ('not known'); left out",
    ]
    assert by_id["undp-1"].title == "… doctors in …"
    assert by_id["undp-2"].recipients == ("ZMB",) and by_id["undp-2"].providers == ("BRA",)
    joint = by_id["undp-5"]
    assert (joint.participants, joint.recipients, joint.providers, joint.partners) == (
        ("BRA",),
        ("MOZ",),
        (),
        ("JPN",),
    )
    assert by_id["undp-6"].providers == ("KOR",)
    assert by_id["undp-7"].providers == () and by_id["undp-7"].partners == ("KOR",)
    assert by_id["undp-7"].themes == ("undp-poverty-and-inequality",)
    assert by_id["undp-8"].themes == ("undp-poverty-and-inequality", "undp-health")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("Number,Start year\n1,2016\n", "missing columns"),
        (b"\xff\xfe\x00bad".decode("latin-1"), "cannot read the table"),
    ],
)
def test_a_table_that_cannot_be_read_is_a_clear_error(
    tmp_path: Path, vocab: Vocabulary, content: str, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content.encode("latin-1"))
    with pytest.raises(EvaluationSetError, match=message):
        undp_corpus(path, vocab)


def test_tables_given_together_are_read_as_one(tmp_path: Path, vocab: Vocabulary) -> None:
    """Later projects held apart from the earlier ones (2015 on, say) are judged with the earlier
    ones as their history: the two tables read together are the joined table; a project found in
    both is counted once, and another project under a number already read keeps both (its id
    names its file), each said in a note."""
    early = [_row("1", "GHA", "CHN", "2012"), _row("2", "PER", "BRA", "2013", areas="Agriculture")]
    late = [_row("3", "KEN", "CHN", "2016"), _row("4", "BOL", "BRA", "2017")]
    joined = undp_corpus(_write(tmp_path / "all.csv", early + late), vocab)
    apart = undp_corpus(
        [_write(tmp_path / "a.csv", early), _write(tmp_path / "b.csv", late)], vocab
    )
    assert apart.corpus.exchanges == joined.corpus.exchanges and apart.notes == []
    assert apart.corpus.themes == joined.corpus.themes

    again = [late[0], _row("1", "ECU", "ARG", "2018")]  # project 3 again; another "1"
    both = undp_corpus([tmp_path / "all.csv", _write(tmp_path / "c.csv", again)], vocab)
    assert [e.id for e in both.corpus.exchanges] == ["undp-1", "undp-2", "undp-3", "undp-4",
                                                     "undp-c-1"]  # fmt: skip
    assert both.notes == [
        "c.csv:2: the same project as all.csv:4; once",
        "c.csv:3: number 1 is also all.csv:2, another project: read as undp-c-1",
    ]


@pytest.mark.parametrize("kind", ["folder", "pipe"])
def test_a_table_that_is_no_file_is_a_clear_error(
    tmp_path: Path, vocab: Vocabulary, kind: str
) -> None:
    """``scripts/evaluate --undp`` of a named pipe waited for ever for a writer; a folder said
    Python's "Is a directory". Both are refused at once, saying what was given. (The pipe is
    opened from the other side after a few seconds, so a reader that waits is seen to.)"""
    path = tmp_path / "table.csv"
    if kind == "folder":
        path.mkdir()
    else:
        os.mkfifo(path)
    done, waited = threading.Event(), threading.Event()

    def release() -> None:
        if not done.wait(5):
            waited.set()
            os.close(os.open(path, os.O_RDWR | os.O_NONBLOCK))

    threading.Thread(target=release, daemon=True).start()
    try:
        with pytest.raises(EvaluationSetError, match="not a file"):
            undp_corpus(path, vocab)
    finally:
        done.set()
    assert not waited.is_set(), "the reader waited on the pipe"


def test_scripts_evaluate_reads_a_table_of_later_projects(tmp_path: Path) -> None:
    """The held-back projects (2015 on) will be read this way: a table with more years than the
    development set, judged at a cut-off of its own; what was left out is said on stderr."""
    rows = [
        _row(str(i), recipient, provider, str(year), areas=area)
        for i, (recipient, provider, year, area) in enumerate(
            [
                ("GHA", "CHN", 2012, "Health"),
                ("KEN", "CHN", 2013, "Health"),
                ("PER", "BRA", 2013, "Agriculture"),
                ("BOL", "BRA", 2014, "Agriculture"),
                ("HTI", "ARG", 2014, "Agriculture"),
                ("ETH", "CHN", 2016, "Health"),
                ("PRY", "BRA", 2016, "Agriculture"),
                ("GTM", "ARG", 2017, "Agriculture"),
                ("UGA", "CHN", 2017, "Health"),
                ("ECU", "BRA", 2017, "Agriculture"),
                ("", "", 2017, "Health"),
            ],
            start=1,
        )
    ]
    table = _write(tmp_path / "projects-2015-on.csv", rows)
    command = [sys.executable, str(ROOT / "scripts" / "evaluate"), "--undp", str(table)]
    done = subprocess.run(
        # 2012: the table's first year, no history before it (nothing in the pool)
        [*command, "--cutoffs", "2012,2016", "--window", "2", "--text", "none", "--min-cases", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "projects-2015-on.csv:12: no country named; left out" in done.stderr
    assert "MRR 2016 need / project" in done.stdout
    assert "Traceback" not in done.stderr and "nan" not in done.stdout
    cutoffs = "Cut-offs (each tests the exchanges of the next 2 years): 2012: 3 cases"
    assert cutoffs in done.stdout and "2016: 5 cases" in done.stdout
    assert "no project started before 2012, so at that cut-off every method ranks nothing" in (
        done.stderr
    )
    assert "before 2016" not in done.stderr

    # The later projects alone know no history; given with the earlier ones, they have it.
    earlier = _write(tmp_path / "before-2015.csv", rows[:5])
    later = _write(tmp_path / "from-2015.csv", rows[5:])
    options = ["--cutoffs", "2016", "--window", "2", "--text", "none", "--min-cases", "1"]
    alone, together = (
        subprocess.run(
            [*command[:2], *tables, *options, "--only", "full matcher"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        for tables in (["--undp", str(later)], ["--undp", str(earlier), "--undp", str(later)])
    )
    assert "no project started before 2016" in alone.stderr
    assert together.returncode == 0 and "no project started" not in together.stderr
    assert "(before-2015.csv + from-2015.csv: 10 projects read)" in together.stderr
    assert "2016: 5 cases" in together.stdout


class CountingModel:
    """A text model that records what it was asked to encode."""

    name, dims, scale = "counting", 4, 1.0

    def __init__(self) -> None:
        self.asked: list[str] = []

    def encode(self, texts: list[str]) -> Any:
        import numpy as np

        self.asked.extend(texts)
        return np.ones((len(texts), self.dims), dtype=np.float32)


def test_replaying_the_stored_history_blanks_names_and_encodes_only_what_changed(
    vocab: Vocabulary,
) -> None:
    """What ``sscmatch calibrate`` replays: a case's pseudo-need is its exchange's text and
    vector, so both must be blanked; the others keep their stored vectors (no encoding)."""
    from sscmatch.matching import ExchangeItem
    from sscmatch.workflow.evalsets import bundle_corpus

    corpus = bundle_corpus(ROOT / "data", vocab)
    named = [e for e in corpus.exchanges if not _left_alone(e)]
    assert len(named) > 20  # the knowledge base's exchanges name their countries
    stored = {e.id: np.full(4, 7, dtype=np.int8) for e in corpus.exchanges}
    counting = CountingModel()
    ready = blanked_for_replay(replace(corpus, vectors=stored), vocab, counting)
    assert len(counting.asked) == len(named)
    assert not any("Brazil" in text for text in counting.asked)
    by_id: dict[str, ExchangeItem] = {e.id: e for e in ready.exchanges}
    assert "Brazil" not in by_id["s000-e02"].title
    for e in corpus.exchanges:
        changed = e in named
        assert (ready.vectors[e.id] != stored[e.id]).any() == changed, e.id


def _left_alone(exchange: Any) -> bool:
    texts = (exchange.title, exchange.description)
    return texts == (_REDACT(exchange.title), _REDACT(exchange.description))


_REDACT = Redactor.of(load_vocabulary()).redact


def test_scripts_evaluate_on_a_table_without_cases(tmp_path: Path) -> None:
    rows = [_row("1", "GHA", "CHN", "2016"), _row("2", "PER", "BRA", "2017", areas="Education")]
    table = _write(tmp_path / "later-only.csv", rows)
    command = [sys.executable, str(ROOT / "scripts" / "evaluate"), "--undp", str(table)]
    done = subprocess.run(
        [*command, "--cutoffs", "2030", "--text", "none", "--min-cases", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "nan" not in done.stdout
    assert "No cut-off has enough cases to judge" in done.stdout
