"""A study tour is agreed when both countries have agreed (or the secretariat records it): a
focal point's "agreed" records their country's agreement, the page says who has agreed and who is
awaited, and the API answers 202 until the other side agrees. Both sides, the secretariat, a
side that agrees twice and stale versions, on the pages and in the API."""

from __future__ import annotations

import dataclasses
import html
import re
from typing import Any

from flask import Flask
from flask_babel import force_locale
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, delete, select

from sscmatch.models import AuditEvent, Notice, StudyTour, User
from sscmatch.web.templating import TOUR_STATUS_LABELS, tour_status_label
from sscmatch.workflow import notices, reminders
from sscmatch.workflow import tours as wf
from tests.test_concurrent_edits import FlushGate, run_together
from tests.web import test_tour_files_language as tour_files
from tests.web import test_tour_steps
from tests.web.test_api_registry import Api, issue_tokens

tour_id = tour_files.tour_id  # the fixture: a drafted tour, Guatemala visits Brazil (host)
FLASH = re.compile(r'<p class="flash flash-(\w+)"[^>]*>([^<]*)</p>')


def _tour(app: Flask, tid: str) -> StudyTour:
    with Session(app.extensions["sscmatch.engine"], expire_on_commit=False) as s:
        tour = s.get(StudyTour, tid)
        assert tour is not None
        return tour


def _proposed(app: Flask, tid: str) -> int:
    app.config["TODAY"] = test_tour_steps.TODAY
    test_tour_steps._set(app, tid, "draft", "dates to come")
    sec = tour_files.reader(app, "secretariat", "en")
    moved = sec.post(
        f"/tours/{tid}/status", data={"version": _tour(app, tid).version, "to": "proposed"}
    )
    assert moved.status_code == 302
    return _tour(app, tid).version


def _agreed_line(page: str) -> str:
    found = re.search(r'<p class="agreement"[^>]*>(.*?)</p>', page, re.S)
    assert found is not None, page[page.find("<main") :][:2000]
    return " ".join(re.sub(r"<[^>]+>", "", html.unescape(found.group(1))).split())


def _flashes(page: str, kind: str) -> list[str]:
    return [html.unescape(t) for k, t in FLASH.findall(page) if k == kind]


def test_each_side_agrees_and_the_tour_is_agreed_when_both_have(app: Flask, tour_id: str) -> None:
    version = _proposed(app, tour_id)
    gtm = tour_files.reader(app, "focal_gtm", "en")
    bra = tour_files.reader(app, "focal_bra", "es")
    assert _agreed_line(gtm.get(f"/tours/{tour_id}").get_data(as_text=True)) == (
        "Both countries agree before the tour is agreed: Brazil: awaited · Guatemala: awaited"
    )
    # Guatemala (visiting) agrees: recorded, the tour stays proposed, Brazil awaited.
    said = gtm.post(
        f"/tours/{tour_id}/status", data={"version": version, "to": "agreed"}, follow_redirects=True
    ).get_data(as_text=True)
    # recording it is a change of the tour: its version moves (two sides at once: one is stale)
    assert _tour(app, tour_id).status == "proposed" and _tour(app, tour_id).version == version + 1
    version += 1
    assert _flashes(said, "info") == [
        "The agreement of Guatemala is recorded. The study tour becomes agreed when Brazil "
        "agrees too, or when the secretariat records it."
    ]
    assert _agreed_line(said).endswith("Brazil: awaited · Guatemala: has agreed")
    # Guatemala's "agreed" is now disabled, the reason beside it; posted anyway: refused.
    steps = test_tour_steps._steps(said)
    assert steps["agreed"] is not None and "Guatemala has already agreed" in steps["agreed"]
    again = gtm.post(
        f"/tours/{tour_id}/status", data={"version": version, "to": "agreed"}, follow_redirects=True
    ).get_data(as_text=True)
    assert _flashes(again, "error") == [steps["agreed"]]
    # Brazil (host, reading Spanish) sees Guatemala's agreement; a stale version is refused.
    page = bra.get(f"/tours/{tour_id}").get_data(as_text=True)
    assert "Guatemala: ha aceptado" in _agreed_line(page), _agreed_line(page)
    stale = bra.post(f"/tours/{tour_id}/status", data={"version": version - 1, "to": "agreed"})
    assert stale.status_code == 303 and _tour(app, tour_id).status == "proposed"
    stale_page = bra.get(f"/tours/{tour_id}").get_data(as_text=True)
    assert any("otra persona" in m for m in _flashes(stale_page, "error")), stale_page[:500]
    assert "Brasil: pendiente" in _agreed_line(stale_page)
    done = bra.post(
        f"/tours/{tour_id}/status", data={"version": version, "to": "agreed"}, follow_redirects=True
    ).get_data(as_text=True)
    assert _tour(app, tour_id).status == "agreed"
    assert _flashes(done, "info") == ["Nuevo estado de la visita de estudio: acordada."], _flashes(
        done, "info"
    )
    assert 'class="agreement"' not in done  # agreed: nobody awaited


def test_the_secretariat_records_it_for_both_and_its_undo_waits_for_both_again(
    app: Flask, tour_id: str
) -> None:
    version = _proposed(app, tour_id)
    gtm = tour_files.reader(app, "focal_gtm", "en")
    gtm.post(f"/tours/{tour_id}/status", data={"version": version, "to": "agreed"})
    sec = tour_files.reader(app, "secretariat", "fr")
    page = sec.post(
        f"/tours/{tour_id}/status",
        data={"version": _tour(app, tour_id).version, "to": "agreed"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert _tour(app, tour_id).status == "agreed"
    assert (
        "Revenir au statut «\u00a0proposé\u00a0»" in page
    )  # a "voyage d’étude": masculine, page[page.find("<main") :][:1500]
    undone = sec.post(
        f"/tours/{tour_id}/status",
        data={"version": _tour(app, tour_id).version, "to": "proposed"},
    )
    assert undone.status_code == 302 and _tour(app, tour_id).status == "proposed"
    line = _agreed_line(gtm.get(f"/tours/{tour_id}").get_data(as_text=True))
    assert line.endswith("Brazil: awaited · Guatemala: awaited"), line


def test_the_api_follows_the_same_rule(app: Flask, users: dict[str, int], tour_id: str) -> None:
    version = _proposed(app, tour_id)
    tokens = issue_tokens(app, users)

    def api(who: str) -> Any:
        return Api(app.test_client(), tokens[who])

    url = f"/tours/{tour_id}/transition"
    first = api("focal_gtm").post(url, json={"to": "agreed", "version": version})
    assert first.status_code == 202, first.get_json()
    assert first.get_json()["status"] == "proposed" and first.get_json()["agreed_by"] == ["GTM"]
    assert first.get_json()["version"] == version + 1
    version += 1
    twice = api("focal_gtm").post(url, json={"to": "agreed", "version": version})
    assert twice.status_code == 409 and twice.get_json()["error"] == "already_agreed"
    assert "Brazil" in twice.get_json()["message"]
    stale = api("focal_bra").post(url, json={"to": "agreed", "version": version - 1})
    assert stale.status_code == 409 and stale.get_json()["error"] == "conflict"
    both = api("focal_bra").post(url, json={"to": "agreed", "version": version})
    assert both.status_code == 200, both.get_json()
    assert both.get_json()["status"] == "agreed"
    assert sorted(both.get_json()["agreed_by"]) == ["BRA", "GTM"]
    back = api("secretariat").post(
        url, json={"to": "proposed", "version": _tour(app, tour_id).version}
    )
    assert back.status_code == 200 and back.get_json()["agreed_by"] == []
    at_once = api("secretariat").post(
        url, json={"to": "agreed", "version": _tour(app, tour_id).version}
    )
    assert at_once.status_code == 200 and at_once.get_json()["status"] == "agreed"


class AgreementGate(FlushGate):
    """Holds each armed thread at its flush that writes an agreement (an ``agree`` audit event)
    until every racer reached its own: both sides have read the tour and found the other side
    absent before either writes, the interleaving that left a tour stuck, on every run."""

    def __init__(self) -> None:
        super().__init__(AuditEvent)

    def __call__(self, session: OrmSession, _flush: Any, _objects: Any) -> None:
        if getattr(self.local, "waiting", False) and any(
            isinstance(r, AuditEvent) and r.action == "agree" for r in session.new
        ):
            self.local.waiting = False
            self.barrier.wait()


def test_both_sides_agreeing_at_once_one_is_stale_and_its_retry_agrees_the_tour(
    app: Flask, users: dict[str, int], tour_id: str
) -> None:
    """Two focal points (each their own request, session and connection) agree from the same
    version at the same moment: one is recorded (202), the other told the tour changed (409
    conflict, nothing recorded); reading again it sees the first agreement, and its retry moves
    the tour to agreed. Never both recorded with the tour left proposed."""
    version = _proposed(app, tour_id)
    tokens = issue_tokens(app, users)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash must show as a 500, not kill a thread
    url = f"/tours/{tour_id}/transition"
    gate = AgreementGate()

    def agree(who: str) -> tuple[int, Any]:
        api = Api(app.test_client(), tokens[who])
        gate.arm()
        answer = api.post(url, json={"to": "agreed", "version": version})
        return answer.status_code, answer.get_json()

    sides = ("focal_gtm", "focal_bra")
    with gate.installed():
        outcomes = run_together(*(lambda who=who: agree(who) for who in sides))
    assert sorted(code for code, _body in outcomes) == [202, 409], outcomes
    loser = sides[[code for code, _body in outcomes].index(409)]
    assert outcomes[sides.index(loser)][1]["error"] == "conflict", outcomes
    winner_country = "GTM" if loser == "focal_bra" else "BRA"
    api = Api(app.test_client(), tokens[loser])
    seen = api.get(f"/tours/{tour_id}").get_json()
    assert seen["status"] == "proposed" and seen["agreed_by"] == [winner_country], seen
    assert seen["version"] == version + 1
    retry = api.post(url, json={"to": "agreed", "version": seen["version"]})
    assert retry.status_code == 200 and retry.get_json()["status"] == "agreed", retry.get_json()
    assert sorted(retry.get_json()["agreed_by"]) == ["BRA", "GTM"]


def test_a_tour_found_agreed_by_both_sides_moves_on_either_sides_agreed(
    app: Flask, tour_id: str
) -> None:
    """A trail where both sides agreed and the tour stayed proposed (written before the rule
    above): neither side's "agreed" is refused as already given; it moves the tour."""
    _proposed(app, tour_id)
    with Session(app.extensions["sscmatch.engine"]) as s:
        for side, country in (("host", "BRA"), ("visiting", "GTM")):
            s.add(
                AuditEvent(
                    action="agree",
                    entity="study_tour",
                    entity_id=tour_id,
                    after={"side": side, "country": country},
                )
            )
        s.commit()
    gtm = tour_files.reader(app, "focal_gtm", "en")
    page = gtm.get(f"/tours/{tour_id}").get_data(as_text=True)
    assert test_tour_steps._steps(page)["agreed"] is None  # offered, not disabled
    moved = gtm.post(
        f"/tours/{tour_id}/status", data={"version": _tour(app, tour_id).version, "to": "agreed"}
    )
    assert moved.status_code == 302 and _tour(app, tour_id).status == "agreed"


def _other(day: Any, wanted: str) -> str:
    """``wanted``, or the day after it when the tour already has it (an edit changes it)."""
    return wanted if str(day) != wanted else wanted[:-1] + str(int(wanted[-1]) + 1)


def _edits(tour: StudyTour) -> dict[str, tuple[wf.TourChanges, set[str]]]:
    """An edit of each of the tour editor's fields (:class:`TourChanges`), from ``tour`` as it
    is, and the fields of the tour it changes."""
    last_day = tour.agenda[-1]
    fewer_sessions = [*tour.agenda[:-1], {**last_day, "sessions": last_day["sessions"][:-1]}]
    return {
        "title": (wf.TourChanges(title=tour.title + " (2)"), {"title"}),
        "modality": (
            wf.TourChanges(
                modality="expert_exchange" if tour.modality != "expert_exchange" else "study_tour"
            ),
            {"modality"},
        ),
        "objective": (wf.TourChanges(objective=f"{tour.objective} More."), {"objective"}),
        "expected_change": (
            wf.TourChanges(expected_change=f"{tour.expected_change} More."),
            {"expected_change"},
        ),
        "start": (
            wf.TourChanges(start=_other(tour.start, "2026-06-01"), end="2026-06-05"),
            {"start"},
        ),
        "end": (wf.TourChanges(start="2026-06-01", end=_other(tour.end, "2026-06-06")), {"end"}),
        "languages": (wf.TourChanges(languages=[*tour.languages, "fr"]), {"languages"}),
        "interpretation": (
            wf.TourChanges(interpretation=not tour.interpretation),
            {"interpretation"},
        ),
        "agenda": (wf.TourChanges(agenda=fewer_sessions), {"agenda"}),
        "delegation": (wf.TourChanges(delegation=tour.delegation[:-1]), {"delegation"}),
        "funders": (wf.TourChanges(funders=[*tour.funders, "bra-mte"]), {"funders"}),
        "recalculate_cost": (
            wf.TourChanges(recalculate_cost=True, delegation=tour.delegation[:1]),
            {"cost"},
        ),
        "clear_dates": (wf.TourChanges(clear_dates=True), {"start", "end"}),
    }


def test_every_edit_of_the_tour_clears_the_agreements_given_before_it(
    app: Flask, users: dict[str, int], tour_id: str
) -> None:
    """Guatemala agrees, then Brazil edits one field of the tour (each field of the editor in
    turn): Guatemala's agreement no longer counts, the agreement says which fields changed after
    it, and Guatemala may agree again (to what it now sees). A save that changes nothing keeps
    it. The page (in Spanish) and the API say it too."""
    _proposed(app, tour_id)
    editable = {f.name for f in dataclasses.fields(wf.TourChanges)} - {"extra"}
    with Session(app.extensions["sscmatch.engine"], expire_on_commit=False) as s:
        gtm, bra = s.get(User, users["focal_gtm"]), s.get(User, users["focal_bra"])
        assert gtm is not None and bra is not None
        tour = s.get(StudyTour, tour_id)
        assert tour is not None
        assert set(_edits(tour)) == editable  # a new field of the editor is walked too
        inside = wf.TourChanges(start="2026-06-02", end="2026-06-04")  # the need's window
        tour = wf.update_tour(s, tour_id, inside, version=tour.version, user=bra)
        for name in sorted(editable):
            tour = wf.transition(s, tour_id, "agreed", version=tour.version, user=gtm)
            assert wf.agreement(s, tour).agreed == ["visiting"]
            wf.update_tour(s, tour_id, wf.TourChanges(), version=tour.version, user=bra)
            assert wf.agreement(s, tour).agreed == ["visiting"], "a save changing nothing"
            assert len(tour.languages) > 1 and len(tour.funders) > 1  # so that they can move
            moved = wf.TourChanges(languages=tour.languages[::-1], funders=tour.funders[::-1])
            wf.update_tour(s, tour_id, moved, version=tour.version, user=bra)  # as the API may
            assert wf.agreement(s, tour).agreed == ["visiting"], "sets only reordered"
            changes, fields = _edits(tour)[name]
            tour = wf.update_tour(s, tour_id, changes, version=tour.version, user=bra)
            found = wf.agreement(s, tour)
            assert found.agreed == [] and tour.status == "proposed", name
            assert [side for side, _f in found.cleared] == ["visiting"], name
            assert fields <= set(found.cleared[0][1]), (name, found.cleared)
            s.commit()
        # the last edit left: the page and the API say whose agreement is asked again
        tour = wf.transition(s, tour_id, "agreed", version=tour.version, user=gtm)
        tour = wf.update_tour(s, tour_id, _edits(tour)["agenda"][0], version=tour.version, user=bra)
        s.commit()
    page = tour_files.reader(app, "focal_bra", "es").get(f"/tours/{tour_id}")
    said = re.findall(r'<p class="agreement-asked-again"[^>]*>([^<]*)</p>', page.get_data(True))
    assert [html.unescape(t) for t in said] == [
        "Cambió después de que Guatemala aceptara: la agenda. Se vuelve a pedir el acuerdo de "
        "Guatemala."
    ], said
    token = issue_tokens(app, {"focal_bra": users["focal_bra"]})["focal_bra"]
    answer = Api(app.test_client(), token).get(f"/tours/{tour_id}").get_json()
    assert answer["agreed_by"] == []
    assert answer["agreement_asked_again"] == [{"country": "GTM", "changed": ["agenda"]}]


def test_the_awaited_side_is_told_and_both_when_the_tour_is_agreed(
    app: Flask, users: dict[str, int], tour_id: str
) -> None:
    """Guatemala agrees: Brazil's focal point (reading Portuguese) is told, in Portuguese, that
    its agreement is awaited; Guatemala is not told of its own step. Brazil agrees: Guatemala's
    focal point (reading French) is told the tour is agreed (the status change's notice), and
    nobody is told Brazil's agreement is awaited any more."""
    _proposed(app, tour_id)
    with Session(app.extensions["sscmatch.engine"], expire_on_commit=False) as s:
        gtm, bra = s.get(User, users["focal_gtm"]), s.get(User, users["focal_bra"])
        assert gtm is not None and bra is not None
        gtm.language, bra.language = "fr", "pt"
        s.add_all([gtm, bra])
        s.exec(delete(Notice))
        tour = s.get(StudyTour, tour_id)
        assert tour is not None
        tour = wf.transition(s, tour_id, "agreed", version=tour.version, user=gtm)

        def told(user: User) -> list[str]:
            lang = user.language
            translations = reminders.catalogue(lang)
            rows = s.exec(select(Notice).where(Notice.user_id == user.id)).all()
            names = reminders._DigestNames(lang, translations)
            return [
                notices.render(n, translations.ugettext, translations.ungettext, names)
                for n in rows
            ]

        assert told(gtm) == []
        assert told(bra) == [
            f"Guatemala concordou com a visita de estudo {tour_id}; ela fica acordada quando "
            f"Brasil também concordar: {tour.title}"
        ]
        s.exec(delete(Notice))
        tour = wf.transition(s, tour_id, "agreed", version=tour.version, user=bra)
        assert tour.status == "agreed"
        assert told(bra) == []
        assert [t.split("\xa0:")[0] for t in told(gtm)] == [
            f"Le voyage d’étude {tour_id} est maintenant convenu"
        ], told(gtm)


# The noun each language uses for a study tour, and the form of each of its statuses that agrees
# with it (fr "voyage d'étude": masculine; es "visita de estudio", pt "visita de estudo":
# feminine; "draft" is a noun in all three).
TOUR_NOUN = {"fr": "voyage d'étude", "es": "visita de estudio", "pt": "visita de estudo"}
TOUR_STATUS_FORMS = {
    "fr": {
        "draft": "brouillon",
        "proposed": "proposé",
        "agreed": "convenu",
        "scheduled": "programmé",
        "completed": "terminé",
        "closed": "clos",
        "cancelled": "annulé",
    },
    "es": {
        "draft": "borrador",
        "proposed": "propuesta",
        "agreed": "acordada",
        "scheduled": "programada",
        "completed": "realizada",
        "closed": "cerrada",
        "cancelled": "cancelada",
    },
    "pt": {
        "draft": "rascunho",
        "proposed": "proposta",
        "agreed": "acordada",
        "scheduled": "agendada",
        "completed": "realizada",
        "closed": "encerrada",
        "cancelled": "cancelada",
    },
}


def test_every_status_of_a_study_tour_agrees_with_its_noun(app: Flask, tour_id: str) -> None:
    """For every status a tour takes (wf.STATUSES), in fr/es/pt: the label the pages and the
    notices use agrees with the language's noun for a study tour (the shared labels say
    "proposée" of a proposal); the tour's page shows it in its badge and its step buttons."""
    assert set(TOUR_STATUS_LABELS) == set(wf.STATUSES)
    for lang, forms in TOUR_STATUS_FORMS.items():
        assert set(forms) == set(wf.STATUSES)
        translations = reminders.catalogue(lang)
        assert translations.ugettext("study tour") == TOUR_NOUN[lang]
        digest = reminders._DigestNames(lang, translations)
        with app.test_request_context(), force_locale(lang):
            shown = {s: tour_status_label(s) for s in wf.STATUSES}
        told = {s: digest.tour_status(s) for s in wf.STATUSES}
        assert shown == forms and told == forms, (lang, shown, told)
    _proposed(app, tour_id)
    page = tour_files.reader(app, "secretariat", "fr").get(f"/tours/{tour_id}")
    text = html.unescape(page.get_data(as_text=True))
    assert '<span class="badge badge-proposed">proposé</span>' in text
    assert re.search(r"statut «\s*convenu\s*»</button>", text), text[text.find("<main") :][:1500]


def _withdraws(page: str) -> str | None:
    found = re.search(r'<p class="[^"]*agreement-withdrawn"[^>]*>([^<]*)</p>', page)
    return html.unescape(found.group(1)) if found else None


def test_the_editor_says_that_saving_withdraws_the_agreements_given(
    app: Flask, users: dict[str, int], tour_id: str
) -> None:
    """Guatemala (visiting) agrees; Brazil's focal point, reading in Spanish, opens the editor:
    above *Save* it says that saving changes withdraws Guatemala's agreement (the side named,
    the country in parentheses); the save clears it and the page after says so. Without an
    agreement (or once it is withdrawn) the editor says nothing of the kind, and a save that
    changes nothing says nothing either."""
    from tests.web.test_stale_edits import form_of

    version = _proposed(app, tour_id)
    with Session(app.extensions["sscmatch.engine"]) as s:
        inside = wf.TourChanges(start="2026-06-02", end="2026-06-04")  # the need's window
        user = s.get(User, users["focal_bra"])
        assert user is not None
        version = wf.update_tour(s, tour_id, inside, version=version, user=user).version
        s.commit()
    bra = tour_files.reader(app, "focal_bra", "es")
    edit = f"/tours/{tour_id}/edit"
    assert _withdraws(bra.get(edit).get_data(as_text=True)) is None  # nobody has agreed
    gtm = tour_files.reader(app, "focal_gtm", "en")
    moved = gtm.post(f"/tours/{tour_id}/status", data={"version": version, "to": "agreed"})
    assert moved.status_code == 302
    page = bra.get(edit).get_data(as_text=True)
    warning = (
        "El país visitante (Guatemala) ha aceptado esta visita. Si guarda cambios, se retira su "
        "acuerdo y ambos países deberán aceptarla de nuevo."
    )
    assert _withdraws(page) == warning
    assert page.index('id="agreement-withdrawn"') < page.index('class="primary"')  # above Save
    # a save that changes nothing keeps the agreement, and says nothing of withdrawing it (the
    # funders' checkboxes, in the choices' order, once reordered them: an edit)
    same = bra.post(edit, data=form_of(page, edit), follow_redirects=True).get_data(as_text=True)
    assert _flashes(same, "info") == ["Visita de estudio guardada."]
    assert _withdraws(bra.get(edit).get_data(as_text=True)) == warning
    posted = form_of(bra.get(edit).get_data(as_text=True), edit)
    posted["objective"] = "Formar inspectores y compartir el protocolo"
    said = bra.post(edit, data=posted, follow_redirects=True).get_data(as_text=True)
    with Session(app.extensions["sscmatch.engine"]) as s:
        tour = s.get(StudyTour, tour_id)
        assert tour is not None and tour.objective == posted["objective"]
        assert wf.agreement(s, tour).agreed == []
    assert _flashes(said, "info") == [
        "Visita de estudio guardada. Se retiró el acuerdo del país visitante (Guatemala): ambos "
        "países deben aceptar la visita de nuevo."
    ]
    assert _withdraws(bra.get(edit).get_data(as_text=True)) is None
