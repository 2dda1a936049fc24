"""Only a proposal of an open need is accepted, whichever way the acceptance comes.

Before: a focal point's change to an endorsed need sends it back to endorsement, its proposals
still open (they are its history); the secretariat could then accept one of them, which
matched a need nobody had endorsed as it now reads and drafted a study tour for it.

The class walked: every way to accept (a decision, the same through ``decide``, an alternate
chosen instead, a batch) × every state of a need that is not open and can hold open
proposals (sent back to endorsement by its country's change, returned to a draft, closed).
Each is refused with ``need_not_open`` naming the need and its status, and nothing changes;
once the need is endorsed again, the same acceptance goes through.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import Session

from sscmatch.models import Need
from sscmatch.vocab import load_vocabulary
from sscmatch.workflow import proposals as wf
from sscmatch.workflow import registry as reg
from sscmatch.workflow.proposals.decisions import NeedNotOpenError
from tests.workflow.test_proposals import NEED, load, of_need, user


def _changed_by_its_country(session: Session, gtm: int) -> None:
    need = session.get(Need, NEED)
    assert need is not None
    actor = SimpleNamespace(id=gtm, role="focal_point", country="GTM")
    reg.update_need(session, load_vocabulary(), actor, NEED, {"title": "Changed"}, need.version)


def _set(status: str) -> Callable[[Session, int], None]:
    def put(session: Session, _gtm: int) -> None:
        session.execute(
            text("UPDATE need SET status = :s WHERE id = :id"), {"s": status, "id": NEED}
        )

    return put


NOT_OPEN = {
    "sent back to endorsement by its country's change": _changed_by_its_country,
    "a draft": _set("draft"),
    "closed": _set("closed"),
}


def _accept(session: Session, sec: int, first: Any, second: Any) -> None:
    wf.accept(session, second.id, user_id=sec, version=second.version)


def _decide(session: Session, sec: int, first: Any, second: Any) -> None:
    wf.decide(session, second.id, "accept", user_id=sec, version=second.version)


def _alternate(session: Session, sec: int, first: Any, second: Any) -> None:
    wf.choose_alternate(
        session, first.id, second.id, user_id=sec, version=first.version, reason="closer"
    )


def _batch(session: Session, sec: int, first: Any, second: Any) -> None:
    result = wf.decide_many(session, "accept", [(second.id, second.version)], user_id=sec)
    assert not result.done
    raise result.refused[0][1]


WAYS = {"accept": _accept, "decide": _decide, "alternate": _alternate, "batch": _batch}


@pytest.mark.parametrize("state", sorted(NOT_OPEN))
@pytest.mark.parametrize("way", sorted(WAYS))
def test_a_proposal_of_a_need_that_is_not_open_is_not_accepted(
    session: Session, way: str, state: str
) -> None:
    load(session, needs=(NEED,))
    sec = user(session)
    gtm = user(session, "focal_point", "GTM")
    first, second = of_need(session)[:2]
    NOT_OPEN[state](session, gtm)
    session.commit()
    need = session.get(Need, NEED)
    assert need is not None
    status_before = need.status
    proposals_before = {p.id: (p.status, p.version) for p in of_need(session)}

    with pytest.raises(NeedNotOpenError) as refused:
        WAYS[way](session, sec, first, second)
    session.rollback()
    session.expire_all()

    assert refused.value.code == "need_not_open" and refused.value.params["need"] == NEED
    assert refused.value.params["status"] in ("submitted", "draft", "closed")
    assert session.get(Need, NEED).status == status_before  # type: ignore[union-attr]
    assert {p.id: (p.status, p.version) for p in of_need(session)} == proposals_before


def test_endorsed_again_the_same_acceptance_goes_through(session: Session) -> None:
    load(session, needs=(NEED,))
    sec = user(session)
    gtm = user(session, "focal_point", "GTM")
    second = of_need(session)[1]
    _changed_by_its_country(session, gtm)
    session.commit()

    def accept() -> wf.Outcome:
        return wf.accept(
            session,
            second.id or 0,
            user_id=sec,
            version=second.version,
            override=True,
            reason="endorsed by phone",
        )

    with pytest.raises(NeedNotOpenError):
        accept()
    session.rollback()
    reg.endorse_need(session, SimpleNamespace(id=sec, role="secretariat", country=None), NEED)
    session.commit()
    outcome = accept()
    session.commit()
    assert outcome.accepted is not None and outcome.accepted.status == "accepted"
    assert session.get(Need, NEED).status == "matched"  # type: ignore[union-attr]
