"""A provider's focal point is told, in their language, when a proposal of their country leaves
play without their doing, and why, by every way it does: its need withdrawn, another proposal of
the need accepted; and told it is back when either is undone. The notice they read then says it
no longer holds once the proposal is back (:mod:`sscmatch.workflow.notices_current`). The other
provider chosen is never named to them."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session

from sscmatch.web.templating import country_name
from sscmatch.workflow import proposals as wf
from sscmatch.workflow import registry as reg
from tests.web import test_review
from tests.web.test_api_registry import Api, issue_tokens
from tests.web.test_review import NEED, ranked

run = test_review.run  # the fixture: the knowledge base and a run for two needs

SAID = {
    "es": {
        "withdrawn": "ya no está en juego: su necesidad fue retirada",
        "chosen": "ya no está en juego: se eligió otra propuesta para la necesidad",
        "back": "vuelve a estar en juego",
        "no_longer": "(Ya no es así; estado actual:",
    },
    "pt": {
        "withdrawn": "já não está em jogo: a sua necessidade foi retirada",
        "chosen": "já não está em jogo: outra proposta foi escolhida para a necessidade",
        "back": "voltou a estar em jogo",
        "no_longer": "(Já não é assim; estado atual:",
    },
    "fr": {
        "withdrawn": "n’est plus en lice\u00a0: son besoin a été retiré",
        "chosen": "n’est plus en lice\u00a0: une autre proposition a été choisie pour le besoin",
        "back": "est de nouveau en lice",
        "no_longer": "(Ce n’est plus le cas\u00a0; statut actuel\u00a0:",
    },
}


class _Staff:
    id = None
    role = "secretariat"
    country = None


def _notices(client: Any) -> list[str]:
    page = unescape(client.get("/notices?size=100").get_data(as_text=True))
    return [
        re.sub(r"[ \t\r\n]+", " ", text).strip()
        for text in re.findall(r'<button type="submit" class="link">(.*?)</button>', page, re.S)
    ]


def _about(lines: list[str], proposal: int) -> list[str]:
    return [line for line in lines if re.search(rf"\b{proposal}\b", line)]


@pytest.mark.parametrize("lang", sorted(SAID))
def test_the_provider_is_told_each_way_out_of_play_and_back(
    as_user: Any, app: Flask, run: Session, users: dict[str, int], lang: str
) -> None:
    said = SAID[lang]
    bra = as_user("focal_bra")
    bra.post("/language", data={"lang": lang, "next": "/"})
    proposals = ranked(run)
    ours = next(p for p in proposals if p.provider == "BRA")
    chosen = next(p for p in proposals if p.provider != "BRA")
    staff = _Staff()
    staff.id = users["secretariat"]  # type: ignore[misc]

    # its need withdrawn by its country, then the withdrawal undone
    gtm = reg.search.get_need(run, NEED)
    reg.withdraw_need(run, _Focal(users["focal_gtm"]), NEED, "Done.", gtm.version)
    run.commit()
    lines = _about(_notices(bra), ours.id or 0)
    assert any(said["withdrawn"] in line for line in lines), lines
    reg.reinstate_need(run, _Focal(users["focal_gtm"]), NEED)
    run.commit()
    lines = _about(_notices(bra), ours.id or 0)
    assert any(said["back"] in line for line in lines), (lines, _notices(bra))
    withdrawn = [line for line in lines if said["withdrawn"] in line]
    assert withdrawn and all(said["no_longer"] in line for line in withdrawn), lines
    # the API says it for programs: the status now, null while the notice holds
    api = Api(bra, issue_tokens(app, {"bra": users["focal_bra"]})["bra"])
    listed = api.get("/notices?size=100").get_json()["items"]
    ours_now = {n["kind"]: n["no_longer"] for n in listed if n["entity_id"] == str(ours.id)}
    assert ours_now["proposal.need_withdrawn"] not in (None, "superseded"), ours_now
    assert ours_now["proposal.back_in_play"] is None, ours_now

    # another proposal of the need accepted, then the decision reverted
    run.expire_all()
    wf.accept(run, chosen.id or 0, user_id=staff.id, version=None, override=True, reason="r")
    run.commit()
    lines = _about(_notices(bra), ours.id or 0)
    told = [line for line in lines if said["chosen"] in line]
    assert told, lines
    other = country_name(chosen.provider)
    assert not any(other in line or str(chosen.id) in line.split("(")[0] for line in told)
    wf.revert(run, chosen.id or 0, user_id=staff.id, version=None, reason="r")
    run.commit()
    lines = _about(_notices(bra), ours.id or 0)
    assert sum(said["back"] in line for line in lines) == 2, lines
    told = [line for line in lines if said["chosen"] in line]
    assert told and all(said["no_longer"] in line for line in told), lines


class _Focal:
    role = "focal_point"
    country = "GTM"

    def __init__(self, user_id: int) -> None:
        self.id = user_id
