"""Every consequential step is confirmed first or can be undone (:mod:`sscmatch.web.confirm`).

The registry there declares every POST route of the pages once. The walk:

- every POST route of the URL map (the API apart) is declared, once, and every declared route
  exists: a new route fails here until it is classified;
- every route of :data:`CONFIRMED` has a walk below, and each walk posts the step without
  ``confirmed``: the answer is a confirmation page and the database is unchanged, row for row;
  the confirming POST, sent as that page's form would send it, makes the change;
- a study tour's steps: every step of :data:`TRANSITIONS` that cannot be undone is walked so,
  and every other step is taken at once, its page offers the step back, and that undoes it.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from typing import Any

from flask import Flask
from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel, select

from sscmatch.models import Need, StudyTour, User, Veto
from sscmatch.web.confirm import CONFIRMED, CONFIRMED_BEFORE, NOT_YET, TYPED, UNDONE_BY
from sscmatch.workflow import tours as wf
from tests.web import test_review, test_tour_files_language, test_tour_steps
from tests.web.test_review import NEED, OTHER_NEED, prop, ranked

run = test_review.run  # the fixture: the knowledge base and a run for two needs
tour_id = test_tour_files_language.tour_id  # the fixture: a drafted tour (GTM visits BRA)
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
REGISTRY = {
    "CONFIRMED": CONFIRMED,
    "CONFIRMED_BEFORE": CONFIRMED_BEFORE,
    "UNDONE_BY": UNDONE_BY,
    "TYPED": TYPED,
    "NOT_YET": NOT_YET,
}


def test_every_post_route_of_the_pages_is_declared_once(app: Flask) -> None:
    posts = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if WRITES & set(rule.methods or ()) and not rule.endpoint.startswith("api.")
    }
    seen = Counter(endpoint for group in REGISTRY.values() for endpoint in group)
    assert [e for e, n in seen.items() if n > 1] == []
    assert sorted(posts - set(seen)) == [], "classify these in sscmatch/web/confirm.py"
    assert sorted(set(seen) - posts) == [], "declared, but no such POST route"
    gets = {r.endpoint for r in app.url_map.iter_rules() if "GET" in (r.methods or ())}
    assert set(CONFIRMED_BEFORE.values()) <= gets
    assert all(why.strip() for group in REGISTRY.values() for why in group.values())


def test_every_confirmed_route_is_walked() -> None:
    assert set(WALKS) == set(CONFIRMED)


# ----------------------------------------------------------------------------- the walk

FORM = re.compile(
    r'<form method="post" action="([^"]+)" class="card confirm-form"(.*?)</form>', re.S
)
HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')
TEXTAREA = re.compile(r'<textarea id="[\w-]+" name="(\w+)"')


def _rows(app: Flask) -> dict[str, list[str]]:
    """Every row of every table, as text: what "writes nothing" compares."""
    with Session(app.extensions["sscmatch.engine"]) as s:
        return {
            table.name: sorted(repr(tuple(row)) for row in s.execute(sa_select(table)))
            for table in SQLModel.metadata.sorted_tables
        }


def confirm(app: Flask, client: Any, url: str, data: dict[str, Any]) -> str:
    """Post the step unconfirmed (a confirmation, nothing written), then as its page's form
    sends it (a reason typed where one is asked): done. Returns the confirmation page."""
    before = _rows(app)
    asked = client.post(url, data=data)
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200, (url, data, re.findall(r"flash-error[^>]*>([^<]*)", page))
    found = FORM.search(page)
    assert found is not None, (url, page[:3000])
    assert 'name="confirmed" value="y"' in found.group(2)
    assert _rows(app) == before, f"{url}: the first POST wrote something"
    fields: dict[str, Any] = {}
    for name, value in HIDDEN.findall(found.group(2)):
        fields.setdefault(name, []).append(html.unescape(value))
    for name in TEXTAREA.findall(found.group(2)):
        fields[name] = ["typed on the confirmation"]
    done = client.post(html.unescape(found.group(1)), data=fields)
    assert done.status_code in (302, 303), (url, done.get_data(as_text=True)[:3000])
    assert _rows(app) != before, f"{url}: the confirmation changed nothing"
    return page


def _status(app: Flask, tid: str) -> tuple[str, int]:
    with Session(app.extensions["sscmatch.engine"]) as s:
        tour = s.get(StudyTour, tid)
        assert tour is not None
        return tour.status, tour.version


def walk_tour_steps(app: Flask, as_user: Any, tour_id: str) -> None:
    """Every status step: the ones no step back undoes confirmed, the others undone."""
    app.config["TODAY"] = test_tour_steps.TODAY
    sec = as_user("secretariat")
    for before, targets in wf.TRANSITIONS.items():
        for after in targets:
            test_tour_steps._set(app, tour_id, before, "past dates")
            _, version = _status(app, tour_id)
            data = {"version": version, "to": after}
            if (before, after) in wf.CONFIRMED_STEPS:
                page = confirm(app, sec, f"/tours/{tour_id}/status", data)
                assert "This step cannot be undone." in page, (before, after)
                assert _status(app, tour_id)[0] == after
                continue
            shown = sec.post(f"/tours/{tour_id}/status", data=data, follow_redirects=True)
            status, version = _status(app, tour_id)
            assert status == after, (before, after)
            text = shown.get_data(as_text=True)
            assert 'class="flash flash-info undo"' in text, (before, after)
            assert f'<input type="hidden" name="to" value="{before}">' in text.split("undo", 1)[1]
            undone = sec.post(f"/tours/{tour_id}/status", data={"version": version, "to": before})
            assert undone.status_code == 302 and _status(app, tour_id)[0] == before


def _user_form(app: Flask, uid: int, **change: Any) -> dict[str, Any]:
    """The user page's form as it shows the user (``active`` unticked), with ``change``."""
    with Session(app.extensions["sscmatch.engine"]) as s:
        user = s.get(User, uid)
        assert user is not None
        return {
            "name": user.name,
            "role": user.role,
            "country": user.country,
            "constituency": user.constituency,
            "language": user.language,
            "version": user.version,
        } | change


def walk_deactivation(app: Flask, as_user: Any, users: dict[str, int]) -> None:
    uid = users["focal_bra"]
    data = _user_form(app, uid)  # "active" left unticked
    admin = as_user("admin")
    page = confirm(app, admin, f"/admin/users/{uid}", data)
    assert "can no longer sign in" in page and "API token" in page and "reactivate" in page
    with Session(app.extensions["sscmatch.engine"]) as s:
        user = s.get(User, uid)
        assert user is not None and not user.active
        version = user.version
    shown = admin.get(f"/admin/users/{uid}").get_data(as_text=True)
    assert "is deactivated" in shown and f"/admin/users/{uid}/reactivate" in shown
    stale = admin.post(f"/admin/users/{uid}/reactivate", data={"version": version - 1})
    assert stale.status_code == 303  # changed meanwhile: said on the page, nothing done
    # by this admin (the deactivation): said as theirs, not as someone else's
    said = admin.get(f"/admin/users/{uid}").get_data(as_text=True)
    assert "yourself meanwhile" in said and "someone else" not in said
    with Session(app.extensions["sscmatch.engine"]) as s:
        assert not s.get(User, uid).active  # type: ignore[union-attr]
    back = admin.post(f"/admin/users/{uid}/reactivate", data={"version": version})
    assert back.status_code == 302
    with Session(app.extensions["sscmatch.engine"]) as s:
        assert s.get(User, uid).active  # type: ignore[union-attr]


def walk_rights_change(app: Flask, as_user: Any, users: dict[str, int]) -> None:
    """A change of role (or country, constituency) of an active account ends its sessions and
    API token: confirmed first, then made on the version the page carried."""
    uid = users["focal_gtm"]
    data = _user_form(app, uid, role="analyst", country="", constituency="", active="y")
    with Session(app.extensions["sscmatch.engine"]) as s:
        auth_version = s.get(User, uid).auth_version  # type: ignore[union-attr]
    page = confirm(app, as_user("admin"), f"/admin/users/{uid}", data)
    assert "will be signed out everywhere and their API token revoked" in page
    with Session(app.extensions["sscmatch.engine"]) as s:
        user = s.get(User, uid)
        assert user is not None and user.role == "analyst" and user.active
        assert user.auth_version == auth_version + 1


def walk_review(app: Flask, as_user: Any, run: Session) -> None:
    """Decide, revert, veto and lift, reopen a need, bulk: each confirmed."""
    sec = as_user("secretariat")
    bra = prop(run, "BRA")
    as_user("focal_bra").post(
        f"/review/proposals/{bra.id}/response", data={"response": "confirm", "version": 1}
    )
    bra = prop(run, "BRA")
    decide = f"/review/proposals/{bra.id}/decision"
    confirm(app, sec, decide, {"decision": "accept", "version": bra.version})
    assert prop(run, "BRA").status == "accepted"
    confirm(app, sec, f"/review/proposals/{bra.id}/revert", {"version": prop(run, "BRA").version})
    assert prop(run, "BRA").status != "accepted"
    first = next(p for p in ranked(run) if p.provider != "BRA")
    vetoed = sec.post(
        f"/review/proposals/{first.id}/decision",
        data={"decision": "veto", "reason": "v", "version": first.version, "confirmed": "y"},
    )
    assert vetoed.status_code == 302
    run.expire_all()
    pair = run.exec(select(Veto)).one()
    confirm(app, sec, f"/review/vetoes/{pair.id}/lift", {})
    bra = prop(run, "BRA")
    confirm(app, sec, decide, {"decision": "accept", "version": bra.version})
    run.expire_all()
    # the acceptance drafted a tour of its own (not the one its revert cancelled); a need is
    # reopened once no tour of it is under way: this one ran and closed
    drafted = run.exec(
        select(StudyTour).where(StudyTour.need == NEED, StudyTour.status == "draft")
    ).one()
    drafted.status = "closed"
    run.add(drafted)
    run.commit()
    need = run.get(Need, NEED)
    assert need is not None and need.status == "matched"
    confirm(app, sec, f"/review/needs/{NEED}/reopen", {"version": need.version})
    other = ranked(run, OTHER_NEED)[0]
    confirm(app, sec, "/review/bulk", {"decision": "reject", "item": f"{other.id}:{other.version}"})
    assert prop(run, other.provider, OTHER_NEED).status == "rejected"


def walk_need_withdrawal(app: Flask, as_user: Any, run: Session) -> None:
    """Guatemala's focal point withdraws its need: confirmed (its five proposals superseded),
    and the page after it offers the undo, which puts the need and its proposals back."""
    need = run.get(Need, NEED)
    assert need is not None and need.status == "open"
    gtm = as_user("focal_gtm")
    page = confirm(app, gtm, f"/needs/{NEED}/withdraw", {"version": need.version, "reason": ""})
    assert "5 proposals waiting for a decision are superseded" in page
    run.expire_all()
    assert run.get(Need, NEED).status == "closed"  # type: ignore[union-attr]
    assert {p.status for p in ranked(run)} == {"superseded"}
    shown = gtm.get(f"/needs/{NEED}").get_data(as_text=True)
    undo = re.search(
        r'action="(/needs/[^"]+/reinstate)".*?name="version" value="(\d+)"', shown, re.S
    )
    assert undo is not None, "no undo offered"
    assert gtm.post(undo.group(1), data={"version": undo.group(2)}).status_code == 302
    run.expire_all()
    assert run.get(Need, NEED).status == "open"  # type: ignore[union-attr]
    assert {p.status for p in ranked(run)} == {"proposed"}


WALKS = {
    "registry.need_withdraw": "test_need_withdrawal_is_confirmed_and_undone",
    "tours.change_status": "test_tour_steps_are_confirmed_or_undone",
    "admin.edit_user": "test_deactivation_is_confirmed_and_undone",
    **dict.fromkeys(
        ("review.decide", "review.revert", "review.lift_veto", "review.reopen_need", "review.bulk"),
        "test_review_steps_are_confirmed",
    ),
}


def test_tour_steps_are_confirmed_or_undone(app: Flask, as_user: Any, tour_id: str) -> None:
    walk_tour_steps(app, as_user, tour_id)


def test_deactivation_is_confirmed_and_undone(
    app: Flask, as_user: Any, users: dict[str, int]
) -> None:
    walk_deactivation(app, as_user, users)
    walk_rights_change(app, as_user, users)


def test_review_steps_are_confirmed(app: Flask, as_user: Any, run: Session) -> None:
    walk_review(app, as_user, run)


def test_need_withdrawal_is_confirmed_and_undone(app: Flask, as_user: Any, run: Session) -> None:
    walk_need_withdrawal(app, as_user, run)
