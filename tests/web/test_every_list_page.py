"""Every list page pages, filters and exports, as a class.

The list pages come from the app's URL map: every GET page that is not an export, the API, or
declared in :data:`NOT_LISTS` with its reason (a new page fails here until it is a list that
pages, filters and exports, or is declared). A page with path arguments (a run's page lists its
needs) is walked at a sample value of each from :func:`_samples`; one whose argument has no sample
fails until it has one or is declared. Each is read by the first role that may (secretariat,
admin, analyst, a focal point) with a page of :data:`PAGE` rows and more rows than that, and:

- shows a pager (``<nav class="pager">``);
- links its export (``export_links``: CSV and JSON with the page's filters), whose CSV is
  ``text/csv`` and whose JSON lists every row the list has;
- has a filter that narrows: some value of its filter form's choices (a select's options, a
  checkbox) gives fewer rows, and the export linked from the filtered page holds exactly those;
- answers an odd page number and an odd filter value with a 4xx in the reader's language (or a
  clamp: a 200), never a 5xx, the export too.

What a list still lacks is declared in :data:`LACKS` with its reason; a declared lack that is
gone fails too, so the declaration follows the pages. A focal point's exports are walked for
visibility: no other country's draft need or capacity, no proposal that does not involve their
country (their own drafts are there), no one else's notice.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from typing import Any

from flask import Flask, url_for
from sqlmodel import Session, select

from sscmatch.models import (
    AuditEvent,
    Calibration,
    Capacity,
    Commitment,
    Job,
    MatchRun,
    Need,
    Notice,
    Proposal,
    StudyTour,
    Veto,
    utcnow,
)
from tests.conftest import sign_in
from tests.web.english_text import Detector
from tests.web.test_bad_filters import _unclear
from tests.web.test_every_word_translated import _known_english
from tests.web.test_fuzz_api import build_world
from tests.web.world import Walk, World, world_fixture

PAGE = 3  # rows per page here: every list below has more
ROLES = ("secretariat", "admin", "analyst", "focal_gtm")

NOT_LISTS = {
    "main.index": "the home page: counts and links to the lists",
    "auth.login": "a form",
    "auth.account": "a form (one's own account)",
    "admin.new_user": "a form",
    "registry.need_new": "a form",
    "registry.capacity_new": "a form",
    "matching.calibrate_confirm": "a form (confirm a calibration)",
    "network.index": "the network drawing: a picture of the exchanges, downloaded as network "
    "files (network.download); the list of exchanges is registry.exchanges",
    "network.charts": "charts of the exchanges (the list of exchanges is registry.exchanges)",
    "network.exchanges": "one country's or link's exchanges, the drawing's side panel without "
    "script (a 400 without its subject); the list of exchanges is registry.exchanges",
    # not pages: files and JSON for scripts
    "favicon": "an icon",
    "main.health": "JSON for the load balancer",
    "network.data": "JSON for the network drawing",
    "network.download": "the network as a file",
    "registry.suggest_themes": "JSON for the theme picker",
    # pages with path arguments: one record, its form, its files or its script's JSON
    "registry.need": "one need",
    "registry.need_edit": "a form (one need)",
    "registry.capacity": "one capacity",
    "registry.capacity_edit": "a form (one capacity)",
    "registry.exchange": "one exchange",
    "network.country": "a country's profile: a summary of each kind of record, each linking "
    "the list of them filtered by the country (walked here)",
    "review.proposal": "one proposal with its evidence, comments and history",
    "review.need": "one need's candidates side by side to decide (a run's few best providers)",
    "matching.status": "JSON for the run page's script",
    "matching.calibration": "one calibration with its figures and weights",
    "matching.calibration_status": "JSON for the calibration page's script",
    "tours.show": "one study tour",
    "tours.edit": "a form (one study tour)",
    "tours.brief": "one study tour's printable brief",
    "tours.ics": "one study tour's calendar file",
    "followup.commitment": "one commitment with its updates",
    "admin.edit_user": "a form (one user)",
    "admin.audit_event": "one audit event: its values before and after",
    "admin.import_job": "one import: its progress, then its counts or its problems",
    "admin.import_status": "JSON for the import page's script",
}
LACKS: dict[str, tuple[set[str], str]] = {}
FEATURES = ("pager", "filter", "export")
ODD_PAGES = ("abc", "0", "-1", "1.5", "٢", "9" * 30, "99999")
ODD_FILTERS = {
    "status": "bogus",
    "country": "ZZZ",
    "region": "Atlantis",
    "theme": "no-such-theme",
    "role": "bogus",
    "entity": "<b>",
    "date_from": "yesterday",
    "sort": "sideways",
    "year": "abc",
}


def _seed(app: Flask, users: dict[str, int]) -> dict[str, Any]:
    """:func:`build_world` and :func:`_more_rows` in ``app``'s database (for a test that
    writes; this module's tests read the shared ``seeded_world``)."""
    world = build_world(app, users)
    _more_rows(app, users, world)
    return world


def _more_rows(app: Flask, users: dict[str, int], world: dict[str, Any]) -> None:
    """More rows where :func:`build_world` leaves a list with a page or less: match
    runs and calibrations (done and failed), tours with a commitment each, audit events, needs with proposals to
    review (in the world's run: its page lists them), drafts of both focal points' countries,
    vetoes, notices (every role's) and imports (done and failed, by two people)."""
    pairs = [("BRA", "GTM"), ("GTM", "HND"), ("ARG", "CHL"), ("MEX", "COL"), ("PER", "ECU")]
    commitments: list[Commitment] = []
    with Session(app.extensions["sscmatch.engine"]) as s:
        for n in range(PAGE + 1):
            status = "failed" if n % 2 else "done"
            s.add(MatchRun(created_by=users["secretariat"], status=status, top_k=3))
            s.add(
                Calibration(
                    created_by=users["secretariat"], as_of=f"201{n}", status=status, cases=n
                )
            )
            provider, recipient = pairs[n]
            s.add(
                Veto(
                    provider=provider,
                    recipient=recipient,
                    reason=f"Pair {n}",
                    created_by=users["secretariat"],
                )
            )
            for who in ("secretariat", "focal_gtm", "focal_bra"):
                s.add(
                    Notice(
                        user_id=users[who],
                        kind="need.submit",
                        params={"id": f"N-LIST-{n}", "title": f"Need {n} for {who}"},
                        entity="proposal" if n % 2 else "need",
                        entity_id=f"N-LIST-{n}",
                        read_at=utcnow() if n % 2 else None,
                    )
                )
            s.add(
                Job(
                    kind="import",
                    status="failed" if n % 2 else "done",
                    params={"name": f"bundle-{n}.json"},
                    created_by=users["admin" if n % 2 else "secretariat"],
                )
            )
            host, visiting = ("GTM", "BRA") if n % 2 else ("BRA", "ARG")
            s.add(
                StudyTour(
                    id=f"T-LIST-{n}",
                    title=f"Tour {n}",
                    host_country=host,
                    visiting_country=visiting,
                    status="proposed" if n % 2 else "draft",
                )
            )
            # a commitment each (added once the tours are written): a row more in the
            # follow-up's table by study tour
            commitments.append(
                Commitment(
                    id=f"K-LIST-{n}",
                    study_tour=f"T-LIST-{n}",
                    owner_country=visiting,
                    description=f"Commitment {n}",
                )
            )
            s.add(
                AuditEvent(
                    user_id=users["admin"],
                    action="update" if n % 2 else "create",
                    entity="need",
                    entity_id=f"N-LIST-{n}",
                )
            )
        s.flush()
        s.add_all(commitments)
        for country in ("GTM", "BRA"):
            s.add(Need(id=f"N-{country}-DRAFT", country=country, title="Draft", status="draft"))
            s.add(Capacity(id=f"C-{country}-DRAFT", country=country, title="Draft", status="draft"))
        # needs with proposals to review: the run's need, and more with a proposal each
        proposal = s.get(Proposal, world["proposal_id"])
        assert proposal is not None
        needs = s.exec(
            select(Need.id, Need.country)
            .where(Need.status == "open", Need.id != "N-GTM-1", Need.country != None)  # noqa: E711
            .order_by(Need.id)
            .limit(PAGE + 1)
        ).all()
        for need, country in needs:
            s.add(
                Proposal(
                    run_id=world["run_id"],
                    need=need,
                    capacity=proposal.capacity,
                    provider=proposal.provider,
                    recipient=country,
                    rank=1,
                    score=0.5,
                    status="proposed",
                )
            )
        s.commit()


def _seeded(app: Flask, shared: World) -> None:
    _more_rows(app, shared.users, shared.built)


# The world of the walks with more rows in every list, shared by this module's tests (they read).
seeded_world = world_fixture(_seeded)


def _samples(world: dict[str, Any]) -> dict[str, Any]:
    """A value of each path argument of a walked list page: the world's match run (its page
    lists the needs of :func:`_seed`'s proposals)."""
    return {"run_id": world["run_id"]}


def _lists(app: Flask, world: dict[str, Any]) -> list[tuple[str, str]]:
    """The list pages of the URL map, (endpoint, address): GET pages, not exports or API, a
    page with path arguments at their sample values."""
    samples = _samples(world)
    found = []
    missing = []
    for rule in app.url_map.iter_rules():
        endpoint = rule.endpoint
        if "GET" not in (rule.methods or ()):
            continue
        if endpoint.startswith("api.") or endpoint == "static" or endpoint in NOT_LISTS:
            continue
        if "fmt" in rule.arguments:
            continue  # an export, walked from its page
        if set(rule.arguments) - set(samples):
            missing.append(
                f"{rule.rule} (no sample of {sorted(set(rule.arguments) - set(samples))})"
            )
            continue
        with app.test_request_context():
            values = {name: samples[name] for name in rule.arguments}
            found.append((endpoint, url_for(endpoint, **values)))
    assert not missing, f"add a sample to _samples or declare in NOT_LISTS: {missing}"
    assert not set(LACKS) - {e for e, _ in found}, "LACKS names a page that is gone"
    return sorted(found)


def _reader(
    app: Flask, rule: str, signed_in: Callable[[str], Any] | None = None
) -> tuple[str, Any]:
    """The first role of ``ROLES`` that reads ``rule``, and its client (signed in on ``app``,
    or by ``signed_in``: a shared world's clients)."""
    for who in ROLES:
        client = signed_in(who) if signed_in else sign_in(app.test_client(), who)
        if client.get(rule).status_code == 200:
            return who, client
    raise AssertionError(f"{rule}: no role reads it")


def _export_links(html: str) -> dict[str, str]:
    """The page's export links by format (``csv``, ``json``), from its ``exports`` paragraph."""
    found = re.search(r'<p class="exports[^"]*">(.*?)</p>', html, flags=re.S)
    if found is None:
        return {}
    links = re.findall(r'href="([^"]+)"', found.group(1))
    return {
        m.group(1): link.replace("&amp;", "&")
        for link in links
        if (m := re.search(r"export\.(\w+)", link))
    }


def _choices(html: str) -> list[tuple[str, str]]:
    """(argument, value) pairs of the page's GET filter forms: select options and checkboxes,
    the countries of both focal points first (a select of every country is long)."""
    pairs: list[tuple[str, str]] = []
    for form in re.findall(r"<form\b[^>]*>.*?</form>", html, flags=re.S | re.I):
        if 'method="post"' in form[: form.index(">")].lower():
            continue
        for name, body in re.findall(
            r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, flags=re.S
        ):
            values = [v for v in re.findall(r'<option[^>]*value="([^"]*)"', body) if v]
            values.sort(key=lambda v: (v not in ("GTM", "BRA", "proposed", "focal_point"), 0))
            pairs += [(name, v) for v in values[:6]]
        for tag in re.findall(r"<input\b[^>]*>", form):
            name = re.search(r'name="([^"]+)"', tag)
            kind = re.search(r'type="([^"]+)"', tag)
            if name is None or (kind and kind.group(1) not in ("text", "checkbox", "search")):
                continue
            if kind and kind.group(1) == "checkbox":
                value = re.search(r'value="([^"]*)"', tag)
                pairs.append((name.group(1), value.group(1) if value else "y"))
                continue
            # a text field: the countries of both focal points, then the example it shows
            tries = ["GTM", "BRA"] if name.group(1) == "country" else []
            hint = re.search(r'placeholder="([^"]+)"', tag)
            pairs += [(name.group(1), v) for v in [*tries, *([hint.group(1)] if hint else [])]]
    return pairs


def _rows(client: Any, link: str) -> list[dict[str, Any]]:
    response = client.get(link)
    assert response.status_code == 200, f"{link}: {response.status_code}"
    body = response.get_json()
    rows = body[body["kind"]]
    assert body["count"] == len(rows) and not body["truncated"], link
    return list(rows)


def test_every_list_page_pages_filters_and_exports(seeded_world: Walk) -> None:
    app, world = seeded_world.app, seeded_world.world.built
    app.config["PAGE_SIZE"] = PAGE
    problems: list[str] = []
    walked: dict[str, set[str]] = {}
    tried: dict[str, str] = {}  # the last filter tried: the one that narrowed, if any
    for endpoint, rule in _lists(app, world):
        who, client = _reader(app, rule, seeded_world.client)
        page = client.get(rule)
        html = page.get_data(as_text=True)
        has: set[str] = set()
        if '<nav class="pager"' in html:
            has.add("pager")
        links = _export_links(html)
        everything: list[dict[str, Any]] | None = None
        if links:
            has.add("export")
            if set(links) != {"csv", "json", "xlsx"}:
                problems.append(f"{rule}: export formats {sorted(links)}")
            as_csv = client.get(links["csv"])
            if as_csv.status_code != 200 or as_csv.mimetype != "text/csv":
                problems.append(f"{rule}: CSV export {as_csv.status_code} {as_csv.mimetype}")
            everything = _rows(client, links["json"])
            table = list(csv.DictReader(io.StringIO(as_csv.get_data(as_text=True))))
            if len(table) != len(everything):
                problems.append(f"{rule}: CSV {len(table)} rows, JSON {len(everything)}")
            if "pager" in has and len(everything) <= PAGE:
                problems.append(f"{rule}: a pager over {len(everything)} rows")
        for name, value in _choices(html):
            tried[endpoint] = f"{name}={value}"
            narrowed = client.get(rule, query_string={name: value})
            if narrowed.status_code != 200:
                continue
            narrowed_html = narrowed.get_data(as_text=True)
            narrowed_links = _export_links(narrowed_html)
            if everything is None or not narrowed_links:
                if narrowed_html != html:  # no export to count by: the page changed
                    has.add("filter")
                    break
                continue
            if f"{name}=" not in narrowed_links["json"]:
                problems.append(f"{rule}?{name}={value}: the export link drops the filter")
                continue
            rows = _rows(client, narrowed_links["json"])
            if 0 < len(rows) < len(everything):
                has.add("filter")
                if any(name in r and str(r[name]) != value for r in rows):
                    problems.append(f"{rule}?{name}={value}: exports rows of another {name}")
                break
        lacks = LACKS.get(endpoint, (set(), ""))[0]
        for feature in FEATURES:
            if feature in lacks and feature in has:
                problems.append(f"{rule} ({who}) has a {feature} now: take it out of LACKS")
            elif feature not in lacks and feature not in has:
                problems.append(f"{rule} ({who}): no {feature}")
        walked[endpoint] = has
        print(f"{rule} as {who}: {sorted(has)}, filtered by {tried.get(endpoint)}")
    assert not problems, "\n".join(problems)
    assert {"registry.needs", "review.queue", "admin.audit", "tours.index"} <= set(walked)
    assert all(walked[e] == set(FEATURES) for e in walked if e not in LACKS), walked


def test_odd_pages_and_filters_are_a_4xx_in_the_readers_language_or_a_clamp(
    seeded_world: Walk,
) -> None:
    """Every list page and its export, read in Spanish, with an odd page number or an odd value
    of a filter: a 200 (the page clamps or ignores it) or a 4xx that says why in Spanish
    (the export's refusal too), never a 5xx."""
    app, world = seeded_world.app, seeded_world.world.built
    app.config["PAGE_SIZE"] = PAGE
    known = {k for k in _known_english() if "_" not in k}
    detector = Detector("es", known, {*ODD_FILTERS.values(), *ODD_PAGES})
    wrong: list[str] = []
    for _endpoint, rule in _lists(app, world):
        _who, client = _reader(app, rule, seeded_world.client)
        client.post("/language", data={"lang": "es", "next": "/"})
        export = _export_links(client.get(rule).get_data(as_text=True)).get("csv")
        targets = [rule] + ([export.split("?")[0]] if export else [])
        queries = [{"page": p} for p in ODD_PAGES] + [{k: v} for k, v in ODD_FILTERS.items()]
        for target in targets:
            for query in queries:
                response = client.get(target, query_string=query)
                status = response.status_code
                if status >= 500 or not (status == 200 or 400 <= status < 500):
                    wrong.append(f"{target}?{query}: {status}")
                elif status >= 400:
                    problem = _unclear(response, detector, english=False)
                    if problem:
                        wrong.append(f"{target}?{query}: {status} {problem}")
    assert not wrong, "\n".join(wrong)


def test_a_focal_points_exports_hold_only_what_they_may_see(seeded_world: Walk) -> None:
    """Every list page a focal point reads, exported unfiltered and with ``status=draft``: no
    other country's draft need or capacity, no proposal that does not involve their country,
    no notice of someone else; their own country's drafts and their own notices are there
    (the walk is not empty)."""
    app, world = seeded_world.app, seeded_world.world.built
    app.config["PAGE_SIZE"] = PAGE
    client = seeded_world.client("focal_gtm")
    with Session(seeded_world.engine) as s:
        own = s.exec(
            select(Notice.id).where(Notice.user_id == seeded_world.users["focal_gtm"])
        ).all()
    seen_ids: set[str] = set()
    wrong: list[str] = []
    exported = 0
    notices = 0
    for _endpoint, rule in _lists(app, world):
        page = client.get(rule)
        if page.status_code != 200:
            continue
        link = _export_links(page.get_data(as_text=True)).get("json")
        if link is None:
            continue
        exported += 1
        for query in ({}, {"status": "draft"}):
            response = client.get(link, query_string=query)
            if response.status_code != 200:
                continue
            body = response.get_json()
            for row in body[body["kind"]]:
                seen_ids.add(str(row.get("id")))
                draft = body["kind"] in ("needs", "capacities") and row.get("status") == "draft"
                if draft and row.get("country") != "GTM":
                    wrong.append(f"{link} {query}: {row['id']}, a draft of {row['country']}")
                if body["kind"] == "proposals" and "GTM" not in (
                    row.get("provider"),
                    row.get("recipient"),
                ):
                    wrong.append(f"{link} {query}: proposal {row['id']} does not involve GTM")
                if body["kind"] == "notices":
                    notices += 1
                    if row["id"] not in own:
                        wrong.append(f"{link} {query}: notice {row['id']} is someone else's")
    assert not wrong, "\n".join(wrong)
    assert exported >= 5
    assert notices >= PAGE + 1  # their own notices are there
    assert {"N-GTM-DRAFT", "C-GTM-DRAFT"} <= seen_ids
    assert not {"N-BRA-DRAFT", "C-BRA-DRAFT"} & seen_ids


def test_a_page_past_the_end_says_so_and_links_the_last(seeded_world: Walk) -> None:
    """``?page=`` beyond the last page showed an empty list under "Page 999 of 9" (the audit);
    every list page says there is no such page and links its last one (or refuses the number,
    or clamps it)."""
    app, world = seeded_world.app, seeded_world.world.built
    app.config["PAGE_SIZE"] = PAGE
    wrong = []
    for _endpoint, rule in _lists(app, world):
        _who, client = _reader(app, rule, seeded_world.client)
        answer = client.get(rule, query_string={"page": 999})
        html = answer.get_data(as_text=True)
        if answer.status_code >= 400 or ('class="pager"' in html and "Page 999 of" not in html):
            continue  # refused with its reason (the walk above checks it), or clamped
        if "There is no page 999" not in html or "page=" not in html.split("There is no page")[1]:
            wrong.append(rule)
    assert wrong == []


def test_an_empty_list_blames_filters_only_when_some_are_chosen(
    app: Flask, users: dict[str, int]
) -> None:
    """On a new deployment every list is empty: unfiltered it says so, not "try fewer filters"
    (the audit: the study tours page blamed filters nobody had set); filtered, it does."""
    wrong = []
    for _endpoint, rule in _lists(app, {"run_id": 1}):
        if "{" in rule or "/runs/" in rule:
            continue  # a run's page needs a run
        for who in ROLES:
            client = sign_in(app.test_client(), who)
            plain = client.get(rule)
            if plain.status_code != 200:
                continue
            html = plain.get_data(as_text=True)
            if "Try fewer filters" in html:
                wrong.append(f"{who} {rule}: blames filters")
            filtered = client.get(rule, query_string={"q": "zzzz-nothing-zzzz"})
            if filtered.status_code == 200 and '<p class="empty">Nothing here yet.' in (
                filtered.get_data(as_text=True)
            ):
                wrong.append(f"{who} {rule}?q=…: says nothing is there yet")
            break
    assert wrong == []
