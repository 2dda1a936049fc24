"""The states a page reaches after use, on a phone in Spanish: every form refused (submitted empty
or with one bad value), every confirmation of a consequential step (and that confirmation
refused), and a need and a capacity whose title and description hold a 300-character word (a
pasted web address) from the countries with the longest Spanish names, on their list rows, cards,
candidates, proposal and study tour. ``test_layout`` walks every page's first state; this walks
what it does not reach. At 390 and 320 px each state is judged so:

- the page does not scroll sideways, and no control sticks out of the screen outside a box that
  scrolls (nor overlaps another control), with every disclosure of the page open;
- each error message has an id that its field names (``aria-describedby``), the field marked
  ``aria-invalid``;
- the form is walked with the Tab key from its first control: every control is reached, and
  every stop shows the focus ring (the agenda's time fields of a tour's editor lost it on their
  clock button: the input is the focused element then, but not ``:focus``);
- each form is sent from the keyboard (Enter on its button).

The forms are those :data:`sscmatch.web.confirm.TYPED` declares and the confirmations those of
:data:`~sscmatch.web.confirm.CONFIRMED` and ``CONFIRMED_BEFORE``: a new form or confirmed step
fails here until it is walked. One browser page, signed in once as the admin (who may open every
form), the session's pages in Spanish through the header's switcher (this browser only)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlmodel import Session, col, select

from sscmatch.models import Capacity, Commitment, MatchRun, Need, Proposal, StudyTour, User
from sscmatch.vocab import load_vocabulary
from sscmatch.web.confirm import CONFIRMED, CONFIRMED_BEFORE, TYPED
from sscmatch.workflow import proposals as proposals_wf
from sscmatch.workflow import tours as tours_wf
from tests.e2e.conftest import DEMO, WIDE_JS, expect

# What the browser makes of the pages: the same on any database (tests/conftest.py).
pytestmark = pytest.mark.same_on_every_database

WIDTHS = (390, 320)
# A word no line holds: a pasted address of 300 characters.
WORD = "https://example.org/" + "abcdefghij" * 28
# The countries with the longest names in Spanish: "Islas Georgia del Sur y Sandwich del Sur",
# "Territorio Británico del Océano Índico".
RECIPIENT, PROVIDER = "SGS", "IOT"

# A control sticking out of the screen (outside a box that scrolls sideways), two controls on
# top of each other, an error message no field names: with every disclosure open.
STATE_JS = """() => { const out = [], W = innerWidth;
  const shown = el => { const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden'
      && !el.closest('details:not([open]) > :not(summary)'); };
  const scrolls = el => { for (let p = el.parentElement; p && p !== document.body; p = p.parentElement)
      if (getComputedStyle(p).overflowX !== 'visible') return true;
    return false; };
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' "' +
    (el.textContent || el.value || el.name || '').trim().slice(0, 30) + '"';
  const controls = [...document.querySelectorAll(
    'a[href]:not(.skip), button, input:not([type=hidden]), select, textarea, summary')].filter(shown);
  for (const c of controls) { const r = c.getBoundingClientRect();
    if ((r.right > W + 1 || r.left < -1) && !scrolls(c))
      out.push('cut off: ' + name(c) + ' ' + Math.round(r.left) + '..' + Math.round(r.right)); }
  for (let i = 0; i < controls.length; i++) for (let j = i + 1; j < controls.length; j++) {
    const a = controls[i], b = controls[j];
    if (a.contains(b) || b.contains(a)) continue;
    let hit = false;
    for (const ra of a.getClientRects()) for (const rb of b.getClientRects()) {
      const w = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
      const h = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
      if (w > 2 && h > 2) hit = true; }
    if (hit) out.push('on top of each other: ' + name(a) + ' / ' + name(b)); }
  for (const e of document.querySelectorAll('main .error')) {
    if (!shown(e)) continue;
    const field = e.id && document.querySelector('[aria-describedby~="' + e.id + '"]');
    if (!field) out.push('an error no field names: ' + e.textContent.trim().slice(0, 60));
    else if (field.getAttribute('aria-invalid') !== 'true')
      out.push('a field with an error, not marked invalid: ' + name(field)); }
  return out; }"""
OPEN_JS = """() => { for (const d of document.querySelectorAll('details')) d.open = true;
  for (const b of document.querySelectorAll('.filters-toggle[aria-expanded=false], .menu-toggle[aria-expanded=false]'))
    if (b.offsetParent) b.click(); }"""
# The form's controls a Tab walk must reach (a radio group is one stop), numbered.
MARK_JS = """form => { const seen = new Set(), want = [];
  form.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea').forEach((el, i) => {
    el.dataset.walk = i; const r = el.getBoundingClientRect();
    if (!r.width || !r.height || el.disabled || el.tabIndex < 0) return;
    if (el.type === 'radio') { if (seen.has(el.name)) return; seen.add(el.name); }
    want.push(String(i)); });
  return want; }"""
# Where each Tab takes the focus, read when the key comes up (a keyup reaches the document from
# inside a control's own parts too): in the form (its number) or out, and whether it shows a ring.
LISTEN_JS = """form => { const stops = window.tabStops = [];
  const rgb = c => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = c => { const v = rgb(c).slice(0, 3).map(x => x / 255)
    .map(x => x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4);
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
  const contrast = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05); };
  const behind = el => { for (let a = el.parentElement; a; a = a.parentElement) {
      const c = getComputedStyle(a).backgroundColor; const v = rgb(c);
      if (v.length && (v.length < 4 || v[3] > 0)) return c; }
    return 'rgb(255, 255, 255)'; };
  window.tabListener = e => { if (e.key !== 'Tab') return;
    const el = document.activeElement;
    if (!el || !form.contains(el)) { stops.push(null); return; }
    const cs = getComputedStyle(el);
    const colours = [];
    if (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0) colours.push(cs.outlineColor);
    if (cs.boxShadow !== 'none') colours.push(...(cs.boxShadow.match(/rgba?\\([^)]*\\)/g) || []));
    const ring = colours.length ? Math.max(...colours.map(c => contrast(c, behind(el)))) : 0;
    stops.push([el.dataset.walk || '', ring, el.tagName.toLowerCase() + '#' + (el.id || el.name || '')]); };
  document.addEventListener('keyup', window.tabListener, true); }"""
STOPS_JS = "() => window.tabStops"
FOCUS_CONTRAST = 3.0
"""What WCAG 2.1 asks of what shows the focus (1.4.11): 3:1 against the adjacent colour; the
best of a ring's colours (outline, shadow) against the first background behind the control."""
UNLISTEN_JS = "() => document.removeEventListener('keyup', window.tabListener, true)"


@pytest.fixture(scope="module")
def records(live_server: Any) -> Iterator[dict[str, Any]]:
    """The long-worded need (Spanish's longest country name) and capacity, in a match run of
    their own with three candidates (one proposed, one rejected, one vetoed), the need's twin
    matched, a study tour
    drafted from them and scheduled (so it records commitments and has steps to confirm), with
    a commitment. Made like test_layout's records, under ids of their own."""
    engine = live_server.app.extensions["sscmatch.engine"]
    with Session(engine, expire_on_commit=False) as s:
        need_model = s.exec(
            select(Need).where(Need.country == "GTM", Need.status == "open").order_by(Need.id)
        ).first()
        capacities = s.exec(
            select(Capacity)
            .where(Capacity.status == "published", col(Capacity.country).in_(["BRA", "CHL"]))
            .where(col(Capacity.languages).is_not(None))
            .order_by(Capacity.country, Capacity.id)
        ).all()
        assert need_model is not None and capacities
        others = {c.country: c for c in capacities}
        skip = {"id", "version", "created_at", "updated_at", "title", "description", "country"}
        need = Need(
            **need_model.model_dump(exclude=skip),
            id="e2e-states-need",
            country=RECIPIENT,
            title="Inspección " + WORD[:280],
            description="Véase " + WORD + " y lo demás",
        )
        capacity = Capacity(
            **others["BRA"].model_dump(exclude=skip),
            id="e2e-states-capacity",
            country=PROVIDER,
            title="Capacidad " + WORD[:280],
            description="Véase " + WORD,
        )
        # a need a decision matched (reopened on its candidates' page), made so
        matched = Need(**need.model_dump(exclude={"id", "status"}), id="e2e-states-matched")
        matched.status = "matched"
        # an open need nothing is built on, that its country may withdraw (confirmed)
        spare = Need(**need.model_dump(exclude={"id"}), id="e2e-states-spare")
        run = MatchRun(status="done", needs_total=1, needs_done=1, proposal_count=3)
        s.add_all([need, matched, spare, capacity, run])
        s.flush()
        proposals = [
            Proposal(
                run_id=run.id or 0,
                need=need.id,
                capacity=cap.id,
                provider=cap.country or "",
                recipient=RECIPIENT,
                rank=rank,
                score=0.7 - rank / 10,
            )
            for rank, cap in enumerate([capacity, others["BRA"], others["CHL"]], start=1)
        ]
        s.add_all(proposals)
        s.flush()
        for proposal, decision in zip(proposals[1:], ("reject", "veto"), strict=True):
            proposals_wf.decide(
                s,
                proposal.id or 0,
                decision,
                user_id=None,
                version=proposal.version,
                reason="Prueba de las páginas en un teléfono",
            )
        tour = tours_wf.create_tour(
            s,
            user=tours_wf.User(id=None, role="secretariat"),
            need_id=need.id,
            capacity_id=capacity.id,
        )
        s.flush()
        stored = s.get(StudyTour, tour.id)
        assert stored is not None
        stored.status = "scheduled"
        s.add(stored)
        s.add(
            Commitment(
                id=f"{tour.id}-k91",
                study_tour=tour.id,
                owner_country=RECIPIENT,
                description="Publicar " + WORD,
                status="pending",
            )
        )
        analyst = s.exec(select(User.id).where(User.email == DEMO["analyst"].email)).one()
        s.commit()
        yield {
            "need": need.id,
            "matched": matched.id,
            "spare": spare.id,
            "capacity": capacity.id,
            "proposal": proposals[0].id,
            "rejected": proposals[1].id,
            "vetoed": proposals[2].id,
            "tour": tour.id,
            "commitment": f"{tour.id}-k91",
            "analyst": analyst,
        }


class Walk:
    """The page, the problems found, and what was walked."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.problems: list[str] = []
        self.walked: set[str] = set()

    def judge(self, what: str, *, errors: bool = False, form: str | None = None) -> None:
        """The state on the screen now, at each width; ``errors``: it shows an error message;
        ``form``: the form to walk with the Tab key (at 390 px)."""
        page = self.page
        if errors:
            expect(page.locator("main .error, main .flash-error").first).to_be_visible()
        if form:
            self.tab_walk(what, page.locator(form).first)
        page.evaluate(OPEN_JS)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 844})
            wide = page.evaluate("document.scrollingElement.scrollWidth")
            if wide > width:
                culprits = page.evaluate(WIDE_JS, width)
                self.problems.append(f"{what} at {width}: the page is {wide} px wide: {culprits}")
            for problem in page.evaluate(STATE_JS):
                self.problems.append(f"{what} at {width}: {problem}")
        page.set_viewport_size({"width": 390, "height": 844})

    def tab_walk(self, what: str, form: Any) -> None:
        """From the form's first control to the first stop past it, by the Tab key (pressed
        in rounds, the stops read once a round)."""
        wanted = form.evaluate(MARK_JS)
        form.evaluate(LISTEN_JS)
        form.locator(f"[data-walk='{wanted[0]}']").focus()
        stops: list[Any] = []
        while None not in stops and len(stops) < 400:
            for _ in range(len(wanted) + 2 if not stops else 20):
                self.page.keyboard.press("Tab")
            stops = self.page.evaluate(STOPS_JS)
        self.page.evaluate(UNLISTEN_JS)
        inside = stops[: stops.index(None)] if None in stops else stops
        reached = {wanted[0]} | {number for number, _, _ in inside}
        self.problems += [
            f"{what}: no focus ring on {name}"
            if not ring
            else f"{what}: the focus ring of {name} is {ring:.1f}:1 against what is behind it"
            for _, ring, name in inside
            if ring < FOCUS_CONTRAST
        ]
        missed = [n for n in wanted if n not in reached]
        if missed:
            names = form.evaluate(
                "(f, ns) => ns.map(n => f.querySelector(`[data-walk='${n}']`).outerHTML.slice(0, 80))",
                missed,
            )
            self.problems.append(f"{what}: the Tab key does not reach {names}")

    def send(self, form: Any, key: str = "Enter") -> None:
        """Send ``form`` from the keyboard: ``key`` on its submit button (not one that adds a
        row, which has a name)."""
        with self.page.expect_navigation():
            form.locator("button[type=submit]:not([name])").first.press(key)


def _switch_to_spanish(page: Any) -> None:
    """The header's switcher: this browser's pages in Spanish (the account keeps its own)."""
    page.goto("/account")
    toggle = page.locator(".menu-toggle")
    if toggle.is_visible():
        toggle.click()
    page.select_option("#lang-select", "es")
    with page.expect_navigation():
        page.click("form.lang-form button")
    expect(page.locator("html")).to_have_attribute("lang", "es")


# Each form a person fills (TYPED): its page, the form, and how it is refused there.
def _refuse(page: Any, values: dict[str, str]) -> None:
    for selector, value in values.items():
        page.fill(selector, value)


def _typed_forms(records: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, str]]]:
    tour, user = records["tour"], records["analyst"]
    return {
        "admin.import_page": ("/admin/import", "main form[enctype]", {}),
        "admin.new_user": ("/admin/users/new", "main form[method=post]", {"#email": "x"}),
        "admin.reset_password": (
            f"/admin/users/{user}",
            "main form[action$='/password']",
            {"#password": "corta", "#confirm": "otra"},
        ),
        "auth.account": ("/account", "main form[action$='/account']", {}),
        "auth.change_password": (
            "/account",
            "main form[action$='/account/password']",
            {"#current": "x"},
        ),
        "followup.commitment": (
            f"/followup/commitments/{records['commitment']}",
            "main form[method=post]",
            {"#due": "45/45/2020"},
        ),
        "registry.capacity_edit": (
            f"/capacities/{records['capacity']}/edit",
            "main form.registry-form",
            {"#title": ""},
        ),
        "registry.capacity_new": ("/capacities/new", "main form.registry-form", {}),
        "registry.need_edit": (
            f"/needs/{records['need']}/edit",
            "main form.registry-form",
            {"#title": ""},
        ),
        "registry.need_new": ("/needs/new", "main form.registry-form", {}),
        "review.comment": (
            f"/review/proposals/{records['proposal']}",
            "main form[action$='/comments']",
            {},
        ),
        "tours.add_commitment": (f"/tours/{tour}", "main form[action$='/commitments']", {}),
        "tours.edit": (f"/tours/{tour}/edit", "form#tour-form", {"#agenda-0-day": "-5"}),
    }


def _refused_forms(walk: Walk, records: dict[str, Any]) -> None:
    page = walk.page
    forms = _typed_forms(records)
    assert set(forms) | {"auth.login"} == set(TYPED), "walk the new form here"
    for endpoint, (path, form_selector, values) in forms.items():
        page.goto(path)
        form = page.locator(form_selector).first
        if endpoint == "auth.account" and form.locator("#replace").count() == 0:
            walk.send(form)  # no token yet: the first one is made, the next asks for the box
            form = page.locator(form_selector).first
        _refuse(page, values)
        walk.send(form)
        walk.judge(f"{endpoint} refused ({path})", errors=True, form=form_selector)
        walk.walked.add(endpoint)


def _confirmations(walk: Walk, records: dict[str, Any]) -> None:
    """Each confirmed step's confirmation, then that confirmation sent without its reason."""
    page = walk.page

    def confirm(endpoint: str, path: str, form_selector: str, prepare: Callable[[], None]) -> None:
        page.goto(path)
        form = page.locator(form_selector).first
        for area in form.locator("textarea").all():
            area.fill("Prueba")
        prepare()
        walk.send(form)
        expect(page.locator("form.confirm-form")).to_be_visible()
        walk.judge(f"{endpoint} confirmation ({path})", form="form.confirm-form")
        confirm_form = page.locator("form.confirm-form")
        if confirm_form.locator("textarea").count():
            for area in confirm_form.locator("textarea").all():
                area.fill("")
            walk.send(confirm_form, "Space")
            walk.judge(f"{endpoint} confirmation refused", errors=True, form="form.confirm-form")
        walk.walked.add(endpoint)

    def nothing() -> None:
        return None

    # the acceptance: the richest of the decisions' confirmations (the override, two reasons)
    confirm(
        "review.decide",
        f"/review/proposals/{records['proposal']}",
        "main form:has(input[value=accept])",
        nothing,
    )
    confirm(
        "review.revert",
        f"/review/proposals/{records['rejected']}",
        "main form.revert-form",
        nothing,
    )
    confirm(
        "review.lift_veto",
        f"/review/proposals/{records['vetoed']}",
        "main form[action*='/lift']",
        nothing,
    )
    confirm(
        "review.reopen_need",
        f"/review/needs/{records['matched']}",
        "main form[action$='/reopen']",
        nothing,
    )
    confirm(
        "review.bulk",
        f"/review/queue?country={RECIPIENT}",
        "#bulk-form",
        lambda: page.check(f"#pick-{records['proposal']}"),
    )
    confirm(
        "tours.change_status",
        f"/tours/{records['tour']}",
        "main form.step:has(input[value=cancelled])",
        nothing,
    )
    confirm(
        "registry.need_withdraw",
        f"/needs/{records['spare']}",
        "main form[action$='/withdraw']",
        nothing,
    )
    confirm(
        "admin.edit_user",
        f"/admin/users/{records['analyst']}",
        f"main form[action$='/users/{records['analyst']}']",
        lambda: page.uncheck("#active"),
    )
    for endpoint, page_endpoint in CONFIRMED_BEFORE.items():
        assert page_endpoint == "matching.calibrate_confirm", "walk the new confirmation here"
        page.goto("/matching/calibrate")
        expect(page.locator("main form[method=post]")).to_be_visible()
        walk.judge(f"{page_endpoint} (asks before {endpoint})", form="main form[method=post]")
        walk.walked.add(endpoint)
    assert set(CONFIRMED) | set(CONFIRMED_BEFORE) <= walk.walked, "walk the new step here"


def _long_records(walk: Walk, records: dict[str, Any]) -> None:
    """The long word and the long country names wrap on every page that shows the records (the
    proposal's and the tour's pages were judged above, with a form refused on them)."""
    page = walk.page
    tour = records["tour"]
    longest = load_vocabulary().countries[RECIPIENT].name("es")
    for path, shown in (
        (f"/needs?country={RECIPIENT}", WORD[:40]),
        (f"/capacities?country={PROVIDER}", WORD[:40]),
        (f"/tours?country={RECIPIENT}", WORD[:40]),
        (f"/review/queue?country={RECIPIENT}", longest),  # a title cut before the long word
        (f"/needs/{records['need']}", WORD),
        (f"/capacities/{records['capacity']}", WORD),
        (f"/review/needs/{records['need']}", WORD[:40]),
        (f"/tours/{tour}/brief", WORD[:40]),
        (f"/followup/commitments?country={RECIPIENT}", WORD[:40]),
        (f"/countries/{RECIPIENT}", WORD[:40]),
    ):
        page.goto(path)
        expect(page.locator("main").get_by_text(shown).first).to_be_attached()
        walk.judge(f"{path} with the long word")


def test_every_state_after_use_fits_a_phone_and_the_keyboard(
    new_page: Any, sign_in: Any, records: dict[str, Any]
) -> None:
    page = new_page(locale="es-ES")
    page.set_viewport_size({"width": 390, "height": 844})
    walk = Walk(page)
    page.goto("/login")
    walk.send(page.locator("main form"))  # empty: signed out, the sign-in's own refusal
    walk.judge("auth.login refused", errors=True, form="main form")
    walk.walked.add("auth.login")
    sign_in(page, "admin")
    _switch_to_spanish(page)
    _refused_forms(walk, records)
    _confirmations(walk, records)
    _long_records(walk, records)
    assert walk.problems == [], "\n".join(walk.problems)
