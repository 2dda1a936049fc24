"""A proposal's history in the reader's language: what the service says of each step is a code
said in Spanish, Portuguese or French, the reviewer's own words are shown as typed, and notes
stored in English before the codes (older rows) are read back in the reader's language too."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
from babel.support import Translations
from sqlmodel import Session, col, select

from sscmatch.models import AuditEvent
from sscmatch.models import Proposal as StoredProposal
from sscmatch.web.templating import NOTE_PATTERNS
from sscmatch.workflow.proposals import notes
from tests.conftest import ACCOUNTS
from tests.web.english_text import Detector, visible_texts
from tests.web.test_every_word_translated import _known_english
from tests.web.test_review import NEED, OTHER_NEED, ranked, run  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ("es", "pt", "fr")
TYPED = {
    "override": "Urgente, lo pide el ministerio",
    "revert": "Error mío, lo deshago",
    "alternate": "Argentina habla español",
    "alternate_override": "El oferente confirmará por teléfono",
    "veto": "Sanciones vigentes",
}


def _history(html: str) -> list[str]:
    """The visible texts of the page's history (its ``<ol class="timeline">``)."""
    block = html.split('<ol class="timeline">', 1)[1].split("</ol>", 1)[0]
    return visible_texts(block)


def _entries(html: str) -> list[str]:
    block = html.split('<ol class="timeline">', 1)[1].split("</ol>", 1)[0]
    return [" ".join(re.sub(r"<[^>]+>", "", li).split()) for li in block.split("<li>")[1:]]


def _translated(lang: str, message: str, **params: Any) -> str:
    catalogue = Translations.load(str(ROOT / "sscmatch" / "translations"), [lang])
    said = catalogue.ugettext(message)
    assert said != message, f"{message!r} is not translated in {lang}"
    return said % params if params else said


def _said(lang: str, message: str, typed: str) -> str:
    """A note as the reader reads it: the service's message, then the person's words."""
    catalogue = Translations.load(str(ROOT / "sscmatch" / "translations"), [lang])
    joined = catalogue.ugettext("%(what)s: %(words)s")
    said = joined % {"what": _translated(lang, message), "words": typed}
    return " ".join(said.split())  # as _entries reads the page (a no-break space is a space)


def _decide(client: Any, proposal: StoredProposal, **data: Any) -> None:
    response = client.post(
        f"/review/proposals/{proposal.id}/decision",
        data={"version": proposal.version, "confirmed": "y", **data},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:800]


def _walk_the_review(client: Any, session: Session) -> list[StoredProposal]:
    """Accept with the exception, revert, choose an alternate, veto: every step whose history
    entry the service writes words for. Returns the proposals it touched."""
    first, second = ranked(session)[:2]
    _decide(client, first, decision="accept", override="y", reason=TYPED["override"])
    first = ranked(session)[0]
    response = client.post(
        f"/review/proposals/{first.id}/revert",
        data={"version": first.version, "confirmed": "y", "reason": TYPED["revert"]},
    )
    assert response.status_code == 302
    first, second = ranked(session)[:2]
    _decide(
        client,
        first,
        decision="alternate",
        alternate=second.id,
        override="y",
        reason=TYPED["alternate"],
        override_reason=TYPED["alternate_override"],
    )
    other = ranked(session, OTHER_NEED)[0]
    _decide(client, other, decision="veto", reason=TYPED["veto"])
    return [*ranked(session), other]


def _detector(lang: str) -> Detector:
    names = {name for name in ACCOUNTS} | {email for email, *_ in ACCOUNTS.values()}
    return Detector(lang, _known_english(), {*TYPED.values(), NEED, OTHER_NEED, *names})


def test_every_step_of_the_history_is_said_in_the_readers_language(
    as_user: Any,
    run: Session,  # noqa: F811
) -> None:
    client = as_user("secretariat")
    touched = _walk_the_review(client, run)
    events = run.exec(
        select(AuditEvent).where(
            AuditEvent.entity == "proposal",
            col(AuditEvent.entity_id).in_([str(p.id) for p in touched]),
        )
    ).all()
    coded = {(e.note_code or {}).get("code") for e in events}
    # every kind the review writes for a proposal's history was walked
    assert {
        notes.ACCEPTED_WITHOUT_CONFIRMATION,
        notes.DECISION_REVERTED,
        notes.ALTERNATE_CHOSEN,
        notes.PAIR_VETOED,
        notes.SUPERSEDED_BY,
    } <= coded
    # the reviewer's words are kept as typed, nothing in front of them
    assert {e.note for e in events if e.note} <= set(TYPED.values())
    for lang in LANGUAGES:
        client.post("/language", data={"lang": lang, "next": "/"})
        detector = _detector(lang)
        for proposal in touched:
            html = client.get(f"/review/proposals/{proposal.id}").get_data(as_text=True)
            found = list(detector.findings(_history(html)))
            assert not found, f"{lang} proposal {proposal.id}: {found}"
        first = touched[0]
        page = " ".join(
            _entries(client.get(f"/review/proposals/{first.id}").get_data(as_text=True))
        )
        for message, typed in (
            (notes.NOTES[notes.ACCEPTED_WITHOUT_CONFIRMATION], TYPED["override"]),
            (notes.NOTES[notes.DECISION_REVERTED], TYPED["revert"]),
            (notes.NOTES[notes.ALTERNATE_CHOSEN], TYPED["alternate"]),
        ):
            assert _said(lang, message, typed) in page, (lang, message)


OLD_NOTES = (
    ("accept", "accepted without the provider's confirmation: Urgente, lo pide el ministerio"),
    ("revert", "decision reverted: Error mío, lo deshago"),
    ("reject", "alternate chosen: Argentina habla español"),
    ("reject", "pair vetoed: Sanciones vigentes"),
    ("supersede", "proposal 12 was accepted for need s002-n37"),
)


def test_notes_stored_in_english_before_the_codes_are_read_in_the_readers_language(
    as_user: Any,
    run: Session,  # noqa: F811
) -> None:
    proposal = ranked(run)[0]
    for action, note in OLD_NOTES:
        run.add(AuditEvent(action=action, entity="proposal", entity_id=str(proposal.id), note=note))
    # a person's words that look like the service's, on a step that never wrote them
    run.add(
        AuditEvent(
            action="respond",
            entity="proposal",
            entity_id=str(proposal.id),
            note="pair vetoed: ¿por qué?",
        )
    )
    run.commit()
    client = as_user("secretariat")
    for lang in LANGUAGES:
        client.post("/language", data={"lang": lang, "next": "/"})
        html = client.get(f"/review/proposals/{proposal.id}").get_data(as_text=True)
        found = list(_detector(lang).findings(_history(html)))
        assert not found, f"{lang}: {found}"
        page = " ".join(_entries(html))
        for message, typed in (
            (notes.NOTES[notes.ACCEPTED_WITHOUT_CONFIRMATION], TYPED["override"]),
            (notes.NOTES[notes.DECISION_REVERTED], TYPED["revert"]),
            (notes.NOTES[notes.ALTERNATE_CHOSEN], TYPED["alternate"]),
            (notes.NOTES[notes.PAIR_VETOED], TYPED["veto"]),
        ):
            assert _said(lang, message, typed) in page, (lang, message)
        superseded = _translated(
            lang, notes.NOTES[notes.SUPERSEDED_BY], proposal=12, need="s002-n37"
        )
        assert " ".join(superseded.split()) in page
        assert "pair vetoed: ¿por qué?" in page  # a person's note stays as typed


# ----------------------------------------------------------------------------- the class


def _notes_written(path: Path) -> list[tuple[int, ast.expr]]:
    """The ``note=`` values of calls in ``path`` that hold words of the code (a literal or an
    f-string with text), not only a person's words passed on."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        for keyword in node.keywords:
            if keyword.arg != "note":
                continue
            for value in ast.walk(keyword.value):
                if isinstance(value, ast.JoinedStr) or (
                    isinstance(value, ast.Constant) and isinstance(value.value, str)
                ):
                    found.append((node.lineno, value))
                    break
    return found


def _sample(value: ast.expr) -> str:
    """The note an f-string writes, each value standing as ``1``."""
    if isinstance(value, ast.Constant):
        return str(value.value)
    assert isinstance(value, ast.JoinedStr)
    return "".join(str(v.value) if isinstance(v, ast.Constant) else "1" for v in value.values)


# Notes of other areas that pages do not read back in the reader's language yet.
NOT_YET_READ: set[str] = set()


def test_the_review_writes_no_words_of_its_own_into_notes() -> None:
    """The review's use cases put only a person's words in a note; what they say themselves is a
    code (``note_code``). Elsewhere in the workflow a note the code writes must be one the pages
    read back in the reader's language (``templating.NOTE_PATTERNS``)."""
    workflow = ROOT / "sscmatch" / "workflow"
    review = sorted((workflow / "proposals").glob("*.py"))
    assert review
    written = [f"{p.name}:{line}" for p in review for line, _v in _notes_written(p)]
    assert not written, f"words written into a note by the review: {written}"
    unread = []
    for path in sorted(workflow.rglob("*.py")):
        for line, value in _notes_written(path):
            sample = _sample(value)
            if any(p.match(sample) for p, _m in NOTE_PATTERNS) or sample in NOT_YET_READ:
                continue
            if sample == "" or re.fullmatch(r"[\d ]*", sample):
                continue
            unread.append(f"{path.relative_to(ROOT)}:{line} {sample!r}")
    assert not unread, "notes the pages show in English:\n" + "\n".join(unread)


@pytest.mark.parametrize("name", sorted(notes.NOTES))
def test_every_note_code_is_translated(name: str) -> None:
    message = notes.NOTES[name]
    samples = {"proposal": 1, "need": "n", "tour": "T-2026-0001", "email": "a@b.org"}
    params = {key: samples.get(key, "x") for key in re.findall(r"%\((\w+)\)s", message)}
    for lang in LANGUAGES:  # every value the note names filled in (a missing one: KeyError)
        _translated(lang, message, **params)


def test_the_audit_export_carries_what_the_service_noted(app: Any, users: Any) -> None:
    """The CSV and JSON keep the code and its values (machine formats); the spreadsheet says it
    in the reader's language, like the pages."""
    from sscmatch.web.exports import _flat
    from sscmatch.web.spreadsheet import SHOWS

    code = notes.code(notes.TOUR_CANCELLED, tour="T-2026-0001")
    flat = _flat({"note_code": code, "note": None})
    assert flat == {
        "note_code": '{"code": "tour_cancelled", "params": {"tour": "T-2026-0001"}}',
        "note": "",
    }
    with app.test_request_context("/", headers={"Accept-Language": "es"}):
        assert SHOWS["note_code"](code) == "la visita de estudio T-2026-0001 fue cancelada"
        assert SHOWS["note_code"](None) is None
