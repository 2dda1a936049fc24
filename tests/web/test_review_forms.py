"""The review's forms: a veto is about the pair, so a decided proposal still offers it (with its
confirmation, undone by lifting it); a refused step keeps what was typed; a confirmation says
what will happen for the choices made, asks each reason in its own field and says what is
missing beside the field, in the reader's language (no browser check)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select

from sscmatch.models import AuditEvent, Need, Review, Veto
from sscmatch.models import Proposal as StoredProposal
from sscmatch.workflow import proposals as wf
from tests.web.test_review import NEED, OTHER_NEED, prop, ranked, run  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[2]


def _decision(client: Any, p: StoredProposal, **data: Any) -> Any:
    return client.post(f"/review/proposals/{p.id}/decision", data={"version": p.version, **data})


def _textarea(html: str, element_id: str) -> str | None:
    """The text of the page's textarea ``element_id`` (None: no such field)."""
    found = re.search(rf'<textarea id="{element_id}"[^>]*>(.*?)</textarea>', html, re.S)
    return found.group(1) if found else None


def _veto_form(html: str) -> bool:
    return 'name="decision" value="veto"' in html


# ----------------------------------------------------------------------------- vetoes


def test_a_refused_veto_keeps_its_text_and_the_rejected_proposal_still_offers_it(
    as_user: Any,
    run: Session,  # noqa: F811
) -> None:
    one, other = as_user("secretariat"), as_user("admin")
    p = ranked(run)[0]
    typed = "Sanciones vigentes desde enero"
    # the veto's confirmation is open in one tab; a colleague rejects the proposal meanwhile
    assert (
        _decision(other, p, decision="reject", reason="sin presupuesto", confirmed="y").status_code
        == 302
    )
    late = _decision(one, p, decision="veto", reason=typed, confirmed="y")
    html = late.get_data(as_text=True)
    assert late.status_code == 409 and "meanwhile" in html
    assert _textarea(html, "veto-reason") == typed  # the form is there, with the words typed
    assert run.exec(select(Veto)).all() == []
    # the veto, on the rejected proposal: confirmed first, the proposal stays rejected
    p = prop(run, p.provider)
    asked = _decision(one, p, decision="veto", reason=typed).get_data(as_text=True)
    assert "What will happen" in asked and "stays rejected" in asked
    assert "lift the veto" in asked
    assert run.exec(select(Veto)).all() == [] and prop(run, p.provider).status == "rejected"
    done = _decision(one, p, decision="veto", reason=typed, confirmed="y")
    assert done.status_code == 302
    pair = run.exec(select(Veto)).one()
    assert (pair.provider, pair.recipient, pair.reason) == (p.provider, p.recipient, typed)
    assert prop(run, p.provider).status == "rejected"
    # it is in the proposal's history, with the reviewer's words; and the veto can be lifted
    page = one.get(f"/review/proposals/{p.id}").get_data(as_text=True)
    assert typed in page.split('<ol class="timeline">', 1)[1]
    assert "Lift the veto" in page and not _veto_form(page)
    # the rejection itself is still the decision to revert (the veto is lifted on its own)
    latest = wf.latest_decision(run, p.id or 0)
    assert latest is not None and latest.decision == "reject"
    lifted = one.post(f"/review/vetoes/{pair.id}/lift", data={"confirmed": "y", "reason": "ok"})
    assert lifted.status_code == 302 and run.exec(select(Veto)).all() == []
    assert _veto_form(one.get(f"/review/proposals/{p.id}").get_data(as_text=True))


def test_a_superseded_proposal_offers_the_veto_and_an_accepted_one_does_not(
    as_user: Any,
    run: Session,  # noqa: F811
) -> None:
    client = as_user("secretariat")
    first, second = ranked(run)[:2]
    accepted = _decision(
        client, first, decision="accept", override="y", reason="urgente", confirmed="y"
    )
    assert accepted.status_code == 302
    second = prop(run, second.provider)
    assert second.status == "superseded"
    assert _veto_form(client.get(f"/review/proposals/{second.id}").get_data(as_text=True))
    assert not _veto_form(client.get(f"/review/proposals/{first.id}").get_data(as_text=True))
    asked = _decision(client, second, decision="veto", reason="no").get_data(as_text=True)
    assert "stays superseded" in asked
    assert _decision(client, second, decision="veto", reason="no", confirmed="y").status_code == 302
    assert prop(run, second.provider).status == "superseded"
    assert run.exec(select(Veto)).one().provider == second.provider
    # an accepted proposal: refused, nothing written
    refused = _decision(
        client, prop(run, first.provider), decision="veto", reason="x", confirmed="y"
    )
    assert refused.status_code == 409
    assert len(run.exec(select(Veto)).all()) == 1


def test_a_pair_vetoed_meanwhile_is_refused_and_the_text_kept(
    as_user: Any,
    session: Session,
    run: Session,  # noqa: F811
) -> None:
    client = as_user("secretariat")
    p = ranked(run, OTHER_NEED)[0]
    assert _decision(client, p, decision="reject", reason="r", confirmed="y").status_code == 302
    p = prop(run, p.provider, OTHER_NEED)
    session.add(Veto(provider=p.provider, recipient=p.recipient, reason="before"))
    session.commit()
    late = _decision(client, p, decision="veto", reason="el texto escrito", confirmed="y")
    html = late.get_data(as_text=True)
    assert late.status_code == 409 and "vetoed already" in html
    assert _textarea(html, "kept-reason") == "el texto escrito"
    assert len(run.exec(select(Veto)).all()) == 1
    with pytest.raises(wf.AlreadyVetoedError):
        wf.veto(run, p.id or 0, user_id=None, version=p.version, reason="again")
    run.rollback()


def test_every_review_form_refused_for_a_stale_version_keeps_what_was_typed(
    as_user: Any,
    run: Session,  # noqa: F811
) -> None:
    """The class: each review step that carries a version, sent on a version someone changed
    meanwhile, answers with the words typed on the page it shows."""
    one, two = as_user("secretariat"), as_user("admin")
    first, second, third = ranked(run)[:3]
    # someone else moves the first proposal on (an answer makes a new version)
    as_user("focal_gtm").post(
        f"/review/proposals/{first.id}/response",
        data={"response": "fits", "version": first.version},
    )
    stale = first.version
    cases = {
        "reject": dict(decision="reject", reason="motivo del rechazo 1"),
        "veto": dict(decision="veto", reason="motivo del veto 2"),
        "accept": dict(decision="accept", override="y", reason="motivo de la excepción 3"),
        "alternate": dict(
            decision="alternate",
            alternate=second.id,
            override="y",
            reason="motivo de la alternativa 4",
            override_reason="excepción de la alternativa 5",
        ),
    }
    for name, data in cases.items():
        answer = one.post(
            f"/review/proposals/{first.id}/decision",
            data={"version": stale, "confirmed": "y", **data},
        )
        html = answer.get_data(as_text=True)
        assert answer.status_code == 409, name
        assert data["reason"] in html, name
    # a revert sent after someone else reverted and decided again
    assert _decision(two, third, decision="reject", reason="r", confirmed="y").status_code == 302
    third = prop(run, third.provider)
    old = third.version
    two.post(
        f"/review/proposals/{third.id}/revert",
        data={"version": old, "confirmed": "y", "reason": "x"},
    )
    answer = one.post(
        f"/review/proposals/{third.id}/revert",
        data={"version": old, "confirmed": "y", "reason": "motivo de revertir 6"},
    )
    assert answer.status_code == 409
    assert _textarea(answer.get_data(as_text=True), "kept-reason") == "motivo de revertir 6"
    # reopening a need changed meanwhile
    need = run.get(Need, NEED)
    assert need is not None
    need.status = "matched"
    run.add(need)
    run.commit()
    version = need.version
    need.title = need.title + " (2)"
    run.add(need)
    run.commit()
    answer = one.post(
        f"/review/needs/{NEED}/reopen",
        data={"version": version, "confirmed": "y", "reason": "motivo de reabrir 7"},
    )
    assert answer.status_code == 409
    html = answer.get_data(as_text=True)
    assert _textarea(html, "confirm-reason") == "motivo de reabrir 7"
    assert f'name="version" value="{need.version}"' in html  # confirmed again: the current one
    # a focal point's answer on a stale version keeps its note
    note = as_user("focal_gtm").post(
        f"/review/proposals/{second.id}/response",
        data={"response": "fits", "version": second.version - 1 or 99, "note": "nota 8"},
    )
    assert note.status_code == 409 and "nota 8" in note.get_data(as_text=True)


# ----------------------------------------------------------------------------- confirmations


def _hidden(html: str, text: str) -> bool:
    """Whether the element holding ``text`` is hidden."""
    tag = re.search(rf"<(?:li|p)([^>]*)>{re.escape(text)}", html)
    assert tag is not None, text
    return " hidden" in tag.group(1)


def test_what_will_happen_follows_the_override_box(
    as_user: Any,
    run: Session,  # noqa: F811
) -> None:
    client = as_user("secretariat")
    p = ranked(run)[0]
    exception = "It is accepted without the provider&#39;s confirmation (override)."
    unticked = _decision(client, p, decision="accept").get_data(as_text=True)
    assert _hidden(unticked, exception)
    assert not _hidden(unticked, "Without the override nothing changes. With it:")
    assert (
        'data-choice="override"' in unticked
        and "checked" not in unticked.split('data-choice="override"', 1)[1].split(">", 1)[0]
    )
    assert "js/confirm-choices.js" in unticked
    ticked = _decision(client, p, decision="accept", override="y", reason="r").get_data(
        as_text=True
    )
    assert not _hidden(ticked, exception)
    assert _hidden(ticked, "Without the override nothing changes. With it:")
    # a proposal its provider confirmed: nothing conditional, no box
    confirmed = as_user("focal_bra")
    answered = prop(run, "BRA")
    confirmed.post(
        f"/review/proposals/{answered.id}/response",
        data={"response": "confirm", "version": answered.version},
    )
    plain = _decision(client, prop(run, "BRA"), decision="accept").get_data(as_text=True)
    assert "data-when" not in plain and 'data-choice="override"' not in plain


def test_an_alternate_asks_each_reason_in_its_own_field(
    as_user: Any,
    run: Session,  # noqa: F811
) -> None:
    client = as_user("secretariat")
    first, second = ranked(run)[:2]
    asked = _decision(client, first, decision="alternate", alternate=second.id).get_data(
        as_text=True
    )
    labels = re.findall(r'<label for="(confirm-[\w-]+)">([^<]+)</label>', asked)
    assert [i for i, _l in labels] == ["confirm-reason", "confirm-override-reason"]
    assert "in favour of the alternate" in labels[0][1]
    assert "without its provider" in labels[1][1]
    # the override ticked without it: said beside the box, the reasons typed kept
    unticked = _decision(
        client,
        first,
        decision="alternate",
        alternate=second.id,
        reason="habla español",
        override_reason="el ministerio lo pide",
        confirmed="y",
    )
    html = unticked.get_data(as_text=True)
    assert unticked.status_code == 409 and 'id="confirm-override-err"' in html
    assert _textarea(html, "confirm-reason") == "habla español"
    assert _textarea(html, "confirm-override-reason") == "el ministerio lo pide"
    assert prop(run, first.provider).status == "proposed"
    done = _decision(
        client,
        first,
        decision="alternate",
        alternate=second.id,
        override="y",
        reason="habla español",
        override_reason="el ministerio lo pide",
        confirmed="y",
    )
    assert done.status_code == 302
    rejected = run.exec(select(Review).where(Review.proposal_id == first.id)).one()
    accepted = run.exec(select(Review).where(Review.proposal_id == second.id)).one()
    assert (rejected.decision, rejected.reason) == ("alternate", "habla español")
    assert (accepted.decision, accepted.reason) == ("accept", "el ministerio lo pide")
    notes = {
        e.entity_id: e.note
        for e in run.exec(
            select(AuditEvent).where(
                AuditEvent.entity == "proposal",
                col(AuditEvent.action).in_(["accept", "reject"]),
            )
        )
    }
    assert notes == {str(first.id): "habla español", str(second.id): "el ministerio lo pide"}


@pytest.mark.parametrize("lang", ["es", "fr"])
def test_a_missing_reason_is_said_beside_its_field_in_the_readers_language(
    as_user: Any,
    lang: str,
    run: Session,  # noqa: F811
) -> None:
    client = as_user("secretariat")
    client.post("/language", data={"lang": lang, "next": "/"})
    p = ranked(run)[0]
    answer = _decision(client, p, decision="reject", confirmed="y")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    beside = re.search(r'<p class="error" id="confirm-reason-err">([^<]+)</p>', html)
    assert beside is not None and "reason" not in beside.group(1).lower()
    form = re.search(r'<form [^>]*class="card confirm-form"[^>]*>', html)
    assert form is not None and "novalidate" in form.group(0)
    assert not re.search(r"<(?:textarea|input)\b[^>]*\srequired\b", html)
    # the other confirmations alike: revert, lift a veto, reopen a need, bulk
    assert _decision(client, p, decision="veto", reason="v", confirmed="y").status_code == 302
    pair = run.exec(select(Veto)).one()
    for path, data in (
        (f"/review/proposals/{p.id}/revert", {"version": prop(run, p.provider).version}),
        (f"/review/vetoes/{pair.id}/lift", {}),
        ("/review/bulk", {"decision": "reject", "item": f"{ranked(run)[1].id}:1"}),
    ):
        answer = client.post(path, data={"confirmed": "y", **data})
        html = answer.get_data(as_text=True)
        assert answer.status_code == 400, path
        assert re.search(r'<p class="error" id="[\w-]+-reason-err">[^<]+</p>', html), path


def test_the_review_templates_leave_their_checks_to_the_server() -> None:
    for path in sorted((ROOT / "templates" / "review").glob("*.html")):
        text = path.read_text()
        for tag in re.findall(r"<form\b[^>]*>", text):
            assert "novalidate" in tag, f"{path.name}: {tag}"
        assert not re.search(r"<(?:textarea|input|select)\b[^>]*\srequired\b", text), path.name
