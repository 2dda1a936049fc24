"""Every audit action a page names is in the reader's language: the class is every action the
code writes (a scan of the source for ``action="…"`` plus the actions chosen at run time: the
proposal answers, the endorsement steps and the tours' ``status:…``), each with a label in
es/pt/fr, and the pages that list a record's history (a proposal's, a need's) name them through
that label."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from sqlmodel import Session

from sscmatch.models import AuditEvent, Capacity, MatchRun, Need, Proposal
from sscmatch.web.templating import ACTION_LABELS, action_label
from sscmatch.workflow import tours as tours_wf
from sscmatch.workflow.proposals.lifecycle import PROVIDER_RESPONSES, RECIPIENT_RESPONSES
from tests.conftest import sign_in
from tests.web.english_text import visible_texts

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ("es", "pt", "fr")
# endorsement._need_step's callers
ENDORSEMENT = ("submit", "endorse", "return", "withdraw_endorsement")


def written_actions() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "sscmatch").rglob("*.py"):
        found |= set(re.findall(r'\baction="([a-z_:]+)"', path.read_text(encoding="utf-8")))
    found |= set(PROVIDER_RESPONSES) | set(RECIPIENT_RESPONSES) | set(ENDORSEMENT)
    found |= {f"status:{s}" for s in tours_wf.STATUSES}
    return found


ACTIONS = sorted(written_actions())


def test_the_scan_finds_the_actions() -> None:
    assert {"accept", "reject", "confirm", "fits", "endorse", "status:cancelled"} <= set(ACTIONS)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_action_the_code_writes_has_a_label_in_the_language(app: Flask, lang: str) -> None:
    missing = []
    english, labels = _labels(app, "en"), _labels(app, lang)
    for action in ACTIONS:
        label = labels[action]
        if action.split(":")[0] not in ACTION_LABELS and not action.startswith("status:"):
            missing.append(f"{action}: no label")
        elif label == english[action]:
            missing.append(f"{action}: {label!r} in {lang} as in English")
    assert missing == []


def _labels(app: Flask, lang: str) -> dict[str, str]:
    """Every action's label as a reader of ``lang`` sees it (a request in that language)."""
    with app.app_context(), app.test_request_context(headers={"Accept-Language": lang}):
        return {action: str(action_label(action)) for action in ACTIONS}


def _history_world(app: Flask, sec: int) -> tuple[str, int]:
    with Session(app.extensions["sscmatch.engine"]) as s:
        # (a need is open, a capacity published: the database refuses another's status)
        for model, key, country, status in (
            (Need, "N-HIST", "GTM", "open"),
            (Capacity, "C-HIST", "BRA", "published"),
        ):
            s.add(model(id=key, country=country, title="Registro", status=status))
        run = MatchRun(status="done")
        s.add(run)
        s.flush()
        proposal = Proposal(
            run_id=run.id, need="N-HIST", capacity="C-HIST", provider="BRA", recipient="GTM",
            rank=1, score=0.5,
        )  # fmt: skip
        s.add(proposal)
        s.flush()
        assert proposal.id is not None
        for action in ACTIONS:
            for entity, key in (("proposal", str(proposal.id)), ("need", "N-HIST")):
                s.add(AuditEvent(user_id=sec, action=action, entity=entity, entity_id=key))
        s.commit()
        return "N-HIST", proposal.id


@pytest.mark.parametrize("lang", LANGUAGES)
def test_history_lists_name_every_action_in_the_readers_language(
    app: Flask, users: dict[str, int], lang: str
) -> None:
    need_id, proposal_id = _history_world(app, users["secretariat"])
    client = sign_in(app.test_client(), "secretariat")
    client.post("/language", data={"lang": lang, "next": "/"})
    raw = {a for a in ACTIONS if not a.startswith("status:")}
    for path in (f"/review/proposals/{proposal_id}", f"/needs/{need_id}"):
        response = client.get(path)
        assert response.status_code == 200, path
        texts = visible_texts(response.get_data(as_text=True))
        shown_raw = sorted({t for t in texts if t in raw or t.startswith("status:")})
        assert shown_raw == [], f"{path} in {lang}: {shown_raw}"
        labels = {_labels(app, lang)[a] for a in ("confirm", "fits", "accept")}
        page = " ".join(texts)
        if path.startswith("/review"):  # the need's history shows only the record's own steps
            assert all(label in page for label in labels), (path, lang)


def test_a_needs_history_names_its_steps_in_the_readers_language(
    app: Flask, users: dict[str, int]
) -> None:
    need_id, _ = _history_world(app, users["secretariat"])
    client = sign_in(app.test_client(), "secretariat")
    client.post("/language", data={"lang": "es", "next": "/"})
    texts = " ".join(visible_texts(client.get(f"/needs/{need_id}").get_data(as_text=True)))
    labels = _labels(app, "es")
    for step in ("confirm", "fits", "status:cancelled"):  # not a registry step: the audit's label
        assert labels[step] in texts, step
