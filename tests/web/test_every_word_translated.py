"""Every word in the reader's language: each role reads every page in Spanish, Portuguese and
French, and no English shows outside proper names and data.

The pages come from the app's URL map (as the authorization matrix does), filled with real ids of
the knowledge base and a match run (``build_world``, the shared world of ``tests/web/world.py``),
plus the pages a reader reaches from there with filters and the error pages. What counts as English is ``tests/web/english_text.py``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from babel import Locale
from flask import Flask, url_for
from sqlmodel import Session, SQLModel, select

from sscmatch.models import AuditEvent, Capacity, Commitment, Need, StudyTour
from sscmatch.vocab import load_vocabulary
from sscmatch.web.templating import STATUS_LABELS
from sscmatch.workflow import commitments as commitments_wf
from sscmatch.workflow import tours as tours_wf
from tests.web.english_text import Detector, visible_texts
from tests.web.world import Walk, world_fixture

ROLES = ("admin", "secretariat", "analyst", "focal_gtm")
LANGUAGES = ("es", "pt", "fr")
# The walks read, and the bad input is refused: they share one world.
shared_world = world_fixture()
# Not pages: files, JSON, redirects after a POST.
NOT_PAGES = {
    "static",
    "favicon",
    "tours.ics",
    "network.data",
    "network.download",
    "matching.status",
}
# Tables whose text is written by people or the documents (data); the tours' and the audit's are
# not: the tour holds generated text, the audit holds snapshots of everything.
DATA_SKIPPED = {"study_tour", "audit_event", "alembic_version", "sign_in_throttle", "id_counter"}


def _known_english() -> set[str]:
    """Values that reach pages in English unless something labels them (the class of leaks)."""
    codes = set(STATUS_LABELS) | set(tours_wf.STATUSES) | set(commitments_wf.STATUSES)
    codes |= set(tours_wf.MODALITIES) | set(tours_wf.SESSION_KINDS)
    codes |= {"one_way", "two_way", "per_diem", "local_transport", "in_progress"}
    known = {c for c in codes if "_" in c}  # a code with an underscore is never a word
    known |= {
        # generated tour text and cost lines
        "learns from",
        "return ticket",
        "km between capitals",
        "nights ×",
        "days ×",
        "Head of delegation",
        "Host institution",
        "Opening and introductions",
        "Working discussion",
        "Field visit:",
        "Meeting with beneficiaries, local authorities",
        "Daily review",
        "Adapting the practice",
        "Closing session: agree commitments",
        "Questions from the visiting team",
        "adapts",
        "agrees at the closing session",
        "drafted from proposal",
        "first Monday inside",
    }
    return known


def _region_names(lang: str) -> set[str]:
    """UN M49 region names in English that ``lang`` names otherwise (CLDR's names; "Asia" is
    Asia in Spanish too)."""
    locale = Locale.parse(lang)
    countries = {c.name(lang) for c in load_vocabulary().countries.values()}
    names: set[str] = set()
    for c in load_vocabulary().countries.values():
        for name, code in (
            (c.region, c.region_code),
            (c.subregion, c.subregion_code),
            (c.intermediate_region, c.intermediate_region_code),
        ):
            if name and locale.territories.get(code) != name:
                names.add(name)
    return names - countries  # "Micronesia" is also a country, named so in Spanish


def _english_words_alone(lang: str) -> set[str]:
    """English words of enumerations: English when they are a text node on their own."""
    words = {
        str(label._args[0]) if hasattr(label, "_args") else str(label)
        for label in STATUS_LABELS.values()
    }
    words |= set(STATUS_LABELS) | {
        "travel",
        "interpretation",
        "visiting",
        "host",
        "government",
        "employers",
        "workers",
    }
    return {w for w in words if w} | _region_names(lang)


def _data_texts(app: Flask) -> set[str]:
    """Every text stored by people or the documents: names, titles, descriptions, notes."""
    texts: set[str] = set()
    with Session(app.extensions["sscmatch.engine"]) as s:
        for table in SQLModel.metadata.sorted_tables:
            if table.name in DATA_SKIPPED:
                continue
            for row in s.connection().execute(select(*table.columns)):
                for value in row:
                    if not isinstance(value, str):
                        continue
                    texts.add(value)
                    if value.startswith(("[", "{")):
                        with contextlib.suppress(ValueError):
                            texts.update(_strings(json.loads(value)))
    return texts


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)


def _pages(app: Flask, values: dict[str, Any]) -> list[str]:
    paths = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint in NOT_PAGES or rule.rule.startswith("/api/"):
                continue
            if "GET" not in (rule.methods or set()):
                continue
            if any(a not in values for a in rule.arguments):
                continue  # a record this world does not hold (a calibration): no page to read
            paths.append(url_for(rule.endpoint, **{a: values[a] for a in rule.arguments}))
    paths += [
        "/no-such-page",  # 404
        "/admin/users?page=x",
        "/needs?status=open&country=GTM",
        "/network?theme=labour-inspection",
        "/followup?country=BRA",
        "/followup/commitments?country=all&status=open&origin=documents&when=overdue",
    ]
    return sorted(set(paths))


def _readers(world: Walk) -> Iterator[tuple[str, str, Any]]:
    for who in ROLES:
        for lang in LANGUAGES:
            client = world.client(who)
            client.post("/language", data={"lang": lang, "next": "/"})
            yield who, lang, client


@pytest.mark.same_on_every_database
def test_no_english_on_any_page_in_es_pt_fr(shared_world: Walk) -> None:
    app = shared_world.app
    values = shared_world.values
    with Session(app.extensions["sscmatch.engine"]) as s:
        tour = s.get(StudyTour, values["tour_id"])
        assert tour is not None and tour.agenda  # a drafted tour, with its generated text
        assert s.exec(select(AuditEvent)).first() is not None
        assert s.get(Need, values["need_id"]) and s.get(Capacity, values["capacity_id"])
        assert s.get(Commitment, values["commitment_id"])
    data = _data_texts(app)
    known = _known_english()
    pages = _pages(app, values)
    assert len(pages) > 30
    failures: dict[str, set[str]] = {}
    seen = 0
    for who, lang, client in _readers(shared_world):
        detector = Detector(lang, known, data)
        alone = _english_words_alone(lang)
        for path in pages:
            response = client.get(path)
            response.close()  # a file answer holds its file open until closed
            if response.status_code in (302, 303) or response.mimetype != "text/html":
                continue
            seen += 1
            texts = visible_texts(response.get_data(as_text=True))
            for finding in detector.findings(texts):
                failures.setdefault(f"{finding.text!r}: {finding.why}", set()).add(
                    f"{who}/{lang} {path}"
                )
            for text in texts:
                if text.strip(" .,:;·()") in alone:
                    failures.setdefault(f"{text!r}: an English enumeration word", set()).add(
                        f"{who}/{lang} {path}"
                    )
    assert seen > 300
    report = [
        f"{what}  [{len(where)} pages, e.g. {sorted(where)[0]}]"
        for what, where in sorted(failures.items())
    ]
    assert not report, f"{len(report)} English texts:\n" + "\n".join(report)


# Wrong input, the way people type it: each answer (an error beside a field, a flash, an error
# page) must be in the reader's language, also when the message comes from schema validation.
BAD_GETS = (
    "/network?year_from=abc",
    "/network?theme=nonsense",
    "/network/charts?region=Atlantis",
    "/needs?sort=nonsense",
    "/capacities?page=0",
    "/tours?status=bogus",
    "/followup?country=Brazil",
    "/review/queue?min_score=high",
    "/countries/XXX",
)


def _bad_posts(values: dict[str, Any]) -> list[tuple[str, str, dict[str, str]]]:
    tour, k = values["tour_id"], values["commitment_id"]
    return [
        ("focal_gtm", "/needs/new", {"title": "", "description": "x" * 30_000, "themes": "nope",
                                     "desired_from": "2026-13-40", "languages": "klingon"}),
        ("focal_gtm", "/capacities/new", {"title": "T", "themes": "", "max_per_year": "-3",
                                          "available_from": "soon"}),
        ("secretariat", f"/tours/{tour}/edit", {"version": "1", "title": "", "start": "2026-02-30",
                                                "delegation-0-constituency": "martians",
                                                "delegation-0-name": "A", "agenda-0-day": "99",
                                                "agenda-0-start": "9h", "agenda-0-title": "x",
                                                "funders": "nobody"}),
        ("secretariat", f"/tours/{tour}/status", {"version": "1", "to": "closed"}),
        ("secretariat", f"/tours/{tour}/commitments", {"owner_country": "GTM", "description": "",
                                                       "due": "someday", "status": "pending"}),
        ("focal_gtm", f"/followup/commitments/{k}", {"version": "1", "status": "dropped",
                                                     "due": "1990"}),
        ("admin", "/admin/users/new", {"email": "not-an-email", "role": "emperor",
                                       "password": "x", "confirm": "y"}),
    ]  # fmt: skip


def test_no_english_in_answers_to_bad_input(shared_world: Walk) -> None:
    data = _data_texts(shared_world.app)
    known = _known_english()
    failures: dict[str, set[str]] = {}
    answered = 0
    for who, lang, client in _readers(shared_world):
        detector = Detector(lang, known, data)
        requests = [("GET", path, {}) for path in BAD_GETS]
        requests += [
            ("POST", path, form) for w, path, form in _bad_posts(shared_world.values) if w == who
        ]
        for method, path, form in requests:
            response = client.open(path, method=method, data=form, follow_redirects=True)
            if response.mimetype != "text/html":
                continue
            answered += 1
            for finding in detector.findings(visible_texts(response.get_data(as_text=True))):
                failures.setdefault(f"{finding.text!r}: {finding.why}", set()).add(
                    f"{who}/{lang} {method} {path}"
                )
    assert answered > 50
    report = [f"{w}  [e.g. {sorted(p)[0]}]" for w, p in sorted(failures.items())]
    assert not report, f"{len(report)} English texts:\n" + "\n".join(report)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_detector_finds_english(lang: str) -> None:
    """The detector is not blind: it flags English of each kind and passes translated text."""
    detector = Detector(lang, _known_english(), {"Brazil's labour inspection school"})
    english = [
        "Study tours",  # a message printed as its msgid
        "in_progress",  # a code
        "Guatemala learns from Brazil",  # generated text
        "the title may not be empty and should be fixed",  # an English sentence
    ]
    found = {f.text for f in detector.findings(english)}
    assert found == set(english)
    assert not list(detector.findings(["Brazil's labour inspection school", "GTM", "2026-01-01"]))
