"""A provider's focal point never learns its proposal's rank: "rank 2" says that one competitor
stands above it (it sees no other provider's proposal for the need). The recipient's focal
point, the secretariat, the analyst and admins do (``visibility.sees_rank``).

The walk: every GET route of the URL map (pages, exports in CSV, JSON and xlsx, the API), its
path arguments at a planted proposal of Brazil ranked 2nd behind Mexico for a Guatemalan need
(placed above Argentina's nearly level, higher score: a near-tie reason naming Argentina), read
by the provider's focal point (Brazil's), the recipient's (Guatemala's) and the secretariat. A
route "shows the proposals" when an answer holds the planted need's id; those are read by the
analyst and the admin too. Where a reader meets a planted proposal, its rank is what the reader
may learn: a rank column's cell, a JSON ``rank``, a CSV or xlsx rank cell, the page's "rank 2"
sentence (in every interface language for the pages), and for the provider no near-tie reason.
A new route that shows proposals is walked without being named here.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Iterator
from typing import Any

import openpyxl
from flask import Flask, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlmodel import Session

from sscmatch.models import MatchRun, Need, Proposal, User
from sscmatch.web import reasons
from sscmatch.web.spreadsheet import COLUMNS
from sscmatch.workflow.accounts import issue_api_token
from tests.web.world import Walk, World, world_fixture

NEED = "N-GTM-RANKWALK"
LANGS = ("en", "es", "pt", "fr")
NEAR = {"code": "near_tie.language", "params": {"country": "ARG"}}
SENTENCE = "Proposal %(id)s · rank %(rank)s in run %(run)s"
# provider, rank, score, capacity-less (a fallback on the provider's experience)
# Brazil's 2nd is placed above nearly level, higher scores (Argentina's, its own 4th): a list of
# Brazil's proposals in rank order is not in score order
PLANTED = (("MEX", 1, 0.90), ("BRA", 2, 0.70), ("ARG", 3, 0.71), ("BRA", 4, 0.705))
# every route is read by the provider's focal point and the secretariat; those that show a
# planted proposal to either are read by the others too
READERS = {"focal_bra": "provider", "secretariat": "staff"}
ALSO = {"focal_gtm": "recipient", "analyst": "staff", "admin": "staff"}
ROLE = {**READERS, **ALSO}


def _plant(app: Flask, world: World) -> None:
    with Session(app.extensions["sscmatch.engine"]) as s:
        run = MatchRun(status="done", top_k=5, needs_total=1, needs_done=1, proposal_count=4)
        s.add(run)
        s.add(Need(id=NEED, country="GTM", title=f"Rank walk {NEED}", themes=["labour-inspection"],
                   languages=["es"], status="open"))  # fmt: skip
        s.flush()
        ids = []
        for provider, rank, score in PLANTED:
            p = Proposal(
                run_id=run.id or 0,
                need=NEED,
                provider=provider,
                recipient="GTM",
                rank=rank,
                score=score,
                components={"basis": "experience"},
                reasons=[NEAR] if rank == 2 else [],
                status="proposed",
            )
            s.add(p)
            s.flush()
            ids.append(p.id)
        s.commit()
        world.built["rank_walk"] = {"run_id": run.id, "ids": ids}


ranked_world = world_fixture(_plant)


def _ranks(world: World) -> dict[int, int]:
    ids = world.built["rank_walk"]["ids"]
    return {ids[i]: rank for i, (_p, rank, _s) in enumerate(PLANTED)}


def _routes(app: Flask, world: World) -> dict[str, list[str]]:
    """Every GET route's address, path arguments at the planted records, each with the other
    addresses of the same answer (an export's JSON and xlsx beside its CSV, read only where
    the CSV shows the planted need); a route with an argument of no sample fails the walk."""
    planted = world.built["rank_walk"]
    values = {
        **world.values,
        "need_id": NEED,
        "proposal_id": planted["ids"][1],
        "run_id": planted["run_id"],
    }
    found: dict[str, list[str]] = {}
    missing = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint in ("static", "favicon"):
            continue
        if set(rule.arguments) - set(values) - {"fmt"}:
            missing.append(rule.rule)
            continue
        args = {a: values[a] for a in rule.arguments if a != "fmt"}
        fmts = ("csv", "json", "xlsx") if "fmt" in rule.arguments else ()
        with app.test_request_context():
            if not fmts:
                found[url_for(rule.endpoint, **args)] = []
                continue
            first, *others = (url_for(rule.endpoint, **args, fmt=f) for f in fmts)
            found[first] = others
    assert not missing, f"no sample for the arguments of {missing}"
    return found


def _get(walk: Walk, who: str, path: str, lang: str = "en") -> Any:
    if path.startswith("/api/"):
        headers = {"Authorization": f"Bearer {walk.tokens[who]}"}
        return walk.app.test_client().get(path, headers=headers)
    client = walk.client(who)
    with client.session_transaction() as session:
        session["lang"] = lang
    return client.get(path)


# ----------------------------------------------------------------------------- what is met


def _json_ranks(data: Any, ids: set[int]) -> Iterator[tuple[int, Any]]:
    """(id, rank) of every object of a JSON answer that is a planted proposal with a rank."""
    if isinstance(data, dict):
        if data.get("id") in ids and "rank" in data:
            yield data["id"], data["rank"]
        for value in data.values():
            yield from _json_ranks(value, ids)
    elif isinstance(data, list):
        for value in data:
            yield from _json_ranks(value, ids)


def _table_ranks(
    rows: list[list[Any]], ids: set[int], rank_header: str, id_header: str
) -> Iterator[tuple[int, Any]]:
    """(id, rank cell) of each row of a file that is a planted proposal."""
    if not rows:
        return
    header = [str(h) if h is not None else "" for h in rows[0]]
    if rank_header not in header or id_header not in header:
        return
    r, i = header.index(rank_header), header.index(id_header)
    for row in rows[1:]:
        if row[i] not in (None, "") and int(row[i]) in ids:
            yield int(row[i]), row[r]


_TABLE = re.compile(r"<table\b.*?</table>", re.S)
_TH = re.compile(r"<th\b[^>]*>(.*?)</th>", re.S)
_TR = re.compile(r"<tbody>.*?</tbody>", re.S)
_ROW = re.compile(r"<tr\b[^>]*>(.*?)</tr>", re.S)
_TD = re.compile(r"<td\b[^>]*>(.*?)</td>", re.S)
_TAG = re.compile(r"<[^>]+>")


def _html_ranks(page: str, ids: set[int], rank_header: str) -> Iterator[tuple[int, Any]]:
    """(id, cell) of each row of a table with a rank column that links to a planted proposal."""
    for table in _TABLE.findall(page):
        heads = [
            html.unescape(_TAG.sub("", h)).strip() for h in _TH.findall(table.split("<tbody>")[0])
        ]
        if rank_header not in heads:
            continue
        at = heads.index(rank_header)
        body = _TR.search(table)
        for row in _ROW.findall(body[0] if body else ""):
            linked = {int(i) for i in re.findall(r"/review/proposals/(\d+)\"", row)} & ids
            cells = [html.unescape(_TAG.sub("", c)).strip() for c in _TD.findall(row)]
            for pid in linked:
                yield pid, cells[at] if at < len(cells) else None


def _sheet(response: Any) -> list[list[Any]]:
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()), read_only=True)
    return [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]


def _text(response: Any) -> str:
    """What an answer says, as text (a spreadsheet's cells)."""
    if "spreadsheet" in response.mimetype:
        return "\n".join(" ".join(str(c) for c in row if c is not None) for row in _sheet(response))
    return html.unescape(response.get_data().decode("utf-8", "replace"))


def _objects(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, dict):
        yield data
        for value in data.values():
            yield from _objects(value)
    elif isinstance(data, list):
        for value in data:
            yield from _objects(value)


def _shows(response: Any, ids: set[int]) -> bool:
    """Does an answer show a planted proposal (a link to its page, a JSON object of it, a row
    of a file with its id and the planted need)?"""
    kind = response.mimetype
    if kind == "application/json":
        data = json.loads(response.get_data())
        return any(o.get("id") in ids and o.get("need") == NEED for o in _objects(data))
    if kind == "text/csv" or "spreadsheet" in kind:
        text = response.get_data().decode("utf-8-sig") if kind == "text/csv" else ""
        rows = list(csv.reader(io.StringIO(text))) if text else _sheet(response)
        return any(NEED in row and any(str(i) in map(str, row) for i in ids) for row in rows)
    links = re.findall(r"/review/proposals/(\d+)\"", response.get_data().decode())
    return bool({int(i) for i in links} & ids)


def _order(response: Any, ids: list[int]) -> list[int]:
    """The planted proposals ``ids`` in the order an answer lists them."""
    kind = response.mimetype
    if kind == "application/json":
        found = [
            o["id"] for o in _objects(json.loads(response.get_data())) if o.get("need") == NEED
        ]
    elif kind == "text/csv":
        rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
        at = rows[0].index("id") if rows and "id" in rows[0] else 0
        found = [int(r[at]) for r in rows[1:] if NEED in r and r[at].isdigit()]
    else:
        found = [
            int(i) for i in re.findall(r"/review/proposals/(\d+)\"", response.get_data().decode())
        ]
    return [i for i in dict.fromkeys(found) if i in ids]


def _met(
    walk: Walk, response: Any, lang: str, labels: dict[str, Any]
) -> tuple[dict[int, Any], list[str]]:
    """The ranks of planted proposals an answer gives (id → rank as shown, None/"" for none),
    and the rank sentences and near-tie words it holds."""
    ids = set(_ranks(walk.world))
    kind = response.mimetype
    body = response.get_data()
    said: list[str] = []
    if kind == "application/json":
        data = json.loads(body)
        met = dict(_json_ranks(data, ids))
        if '"near_tie.' in body.decode():
            said.append("a near_tie reason code")
    elif kind == "text/csv":
        rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
        met = dict(_table_ranks(rows, ids, "rank", "id"))
    elif "spreadsheet" in kind:
        rows = _sheet(response)
        met = dict(_table_ranks(rows, ids, labels["rank"], labels["id"]))
    else:
        page = html.unescape(body.decode())
        met = dict(_html_ranks(page, ids, labels["rank"]))
        pid = walk.world.built["rank_walk"]["ids"][1]
        if labels["sentence"] in page:
            met[pid] = 2
    if labels["near"] in _text(response):
        said.append(f"the near-tie reason {labels['near']!r}")
    return met, said


def _labels(app: Flask, walk: Walk, lang: str) -> dict[str, Any]:
    built = walk.world.built["rank_walk"]
    with app.test_request_context(), force_locale(lang):
        return {
            "rank": _("Rank"),
            "id": str(COLUMNS["id"].header),
            "sentence": _(SENTENCE, id=built["ids"][1], rank=2, run=built["run_id"]),
            "near": reasons.text_of(NEAR),
        }


def test_no_route_tells_a_provider_its_rank(ranked_world: Walk) -> None:
    walk = ranked_world
    app = walk.app
    ranks = _ranks(walk.world)
    labels = {lang: _labels(app, walk, lang) for lang in LANGS}
    assert labels["es"]["sentence"] != labels["en"]["sentence"], "the sentence is not translated"
    wrong: list[str] = []
    showing: dict[str, set[str]] = {}  # path → the roles it showed a planted proposal to

    ids = set(ranks)

    def read(who: str, role: str, path: str, lang: str = "en") -> bool:
        """Read ``path`` as ``who``: does it show a planted proposal? (What it says of the
        proposals' ranks is checked wherever the planted need is named.)"""
        response = _get(walk, who, path, lang)
        if response.status_code >= 500:
            wrong.append(f"{path} as {who}: {response.status_code}")
        if response.status_code != 200 or NEED not in _text(response):
            return False
        met, said = _met(walk, response, lang, labels[lang])
        where = f"{path} as {who} ({role}, {lang})"
        for pid, shown in met.items():
            if role == "provider" and shown not in (None, ""):
                wrong.append(f"{where}: tells proposal {pid} its rank {shown!r}")
            if role != "provider" and str(shown) != str(ranks[pid]):
                wrong.append(f"{where}: proposal {pid}'s rank {shown!r}, not {ranks[pid]}")
        if role == "provider" and said:
            wrong.append(f"{where}: says {', '.join(said)}")
        return bool(met) or _shows(response, ids)

    routes = _routes(app, walk.world)
    for path in routes:
        for who, role in READERS.items():
            if read(who, role, path):
                showing.setdefault(path, set()).add(who)
    for path in list(showing):
        for who, role in ALSO.items():
            if read(who, role, path):
                showing[path].add(who)
        for other in routes[path]:  # the same export in the other formats
            for who, role in ROLE.items():
                if read(who, role, other):
                    showing.setdefault(other, set()).add(who)
        if not path.startswith("/api/") and "/export." not in path:
            for who in showing[path] & {"focal_bra", "focal_gtm"}:
                for lang in LANGS[1:]:
                    read(who, ROLE[who], path, lang)

    # A list by need is in rank order only for who may learn the ranks (by score otherwise). A
    # list takes the order asked when another reader's list by need differs from its list by
    # score (Brazil's 2nd and 4th are in rank order in one, in score order in the other).
    ids_ = walk.world.built["rank_walk"]["ids"]
    own = [ids_[1], ids_[3]]

    def listed(who: str, path: str, sort: str) -> list[int]:
        response = _get(walk, who, path + ("&" if "?" in path else "?") + f"sort={sort}")
        return _order(response, own) if response.status_code == 200 else []

    sortable = 0
    for path, readers in showing.items():
        if "/export." in path and not path.endswith(".csv"):
            continue
        others = sorted(readers - {"focal_bra"})
        if "focal_bra" not in readers or not others:
            continue
        if listed(others[0], path, "need") == listed(others[0], path, "score"):
            continue  # the list keeps its own order
        sortable += 1
        if listed("focal_bra", path, "need") == own:
            wrong.append(f"{path}?sort=need as focal_bra: lists its proposals in rank order")
    assert sortable >= 3, "no list by need was read"

    proposal_page = f"/review/proposals/{walk.world.built['rank_walk']['ids'][1]}"
    # the walk reached what it is about: the provider's and the recipient's proposal page, lists,
    # exports and the API, and the staff's queue
    for path, who in (
        (proposal_page, "focal_bra"),
        (proposal_page, "focal_gtm"),
        ("/review/mine", "focal_bra"),
        ("/review/queue", "secretariat"),
        ("/review/mine/export.csv", "focal_bra"),
        ("/review/export.xlsx", "secretariat"),
        ("/api/v1/proposals", "focal_bra"),
        (f"/api/v1/proposals/{walk.world.built['rank_walk']['ids'][1]}", "focal_bra"),
    ):
        assert who in showing.get(path, set()), f"{path} did not show the planted need to {who}"
    assert wrong == [], "\n".join(wrong)


def test_an_answer_to_a_change_tells_a_provider_no_rank(app: Flask, users: dict[str, int]) -> None:
    """The answers of the API's changes that return a proposal (the walk reads only): the
    provider's own answer to it comes back without its rank, the secretariat's decision with."""
    world = World("", users, {}, {}, {})
    _plant(app, world)
    pid = world.built["rank_walk"]["ids"][1]
    with Session(app.extensions["sscmatch.engine"]) as s:
        tokens = {
            who: issue_api_token(s, s.get(User, users[who])) for who in ("focal_bra", "secretariat")
        }  # type: ignore[arg-type]
        s.commit()
    client = app.test_client()

    def post(who: str, path: str, body: dict[str, Any]) -> Any:
        headers = {"Authorization": f"Bearer {tokens[who]}"}
        response = client.post(path, json=body, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    answered = post(
        "focal_bra", f"/api/v1/proposals/{pid}/response", {"response": "confirm", "version": 1}
    )
    assert answered["rank"] is None
    assert not any(str(r["code"]).startswith("near_tie.") for r in answered["reasons"])
    decided = post("secretariat", f"/api/v1/proposals/{pid}/decision",
                   {"decision": "accept", "version": answered["version"], "dry_run": True})  # fmt: skip
    assert decided["proposal"]["rank"] == 2
