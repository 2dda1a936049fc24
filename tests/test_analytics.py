"""Analytics: tiny networks with hand-worked metrics, filters, gaps on the knowledge base, exports
that load back into networkx, country profiles."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import networkx as nx
import pytest
from sqlmodel import Session
from sqlmodel import select as sqlselect

from sscmatch import analytics
from sscmatch.analytics.filters import Filters
from sscmatch.analytics.graph import (
    DIRECTED,
    JOINT,
    ExchangeRow,
    build_network,
    directed,
    pagerank,
    select,
)
from sscmatch.analytics.insights import covers, gaps_from, nice_ticks, per_year_by_family
from sscmatch.analytics.payload import details, view_of
from sscmatch.analytics.profile import commitment_state
from sscmatch.bundle import import_bundle
from sscmatch.caches import clear_all
from sscmatch.models import Capacity, Commitment, Exchange, Institution, Need
from sscmatch.vocab import load_vocabulary
from sscmatch.workflow.visibility import SYSTEM

ROOT = Path(__file__).resolve().parents[1]
VOCAB = load_vocabulary()


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    clear_all()
    yield
    clear_all()


def row(
    eid: str,
    year: int,
    providers: tuple[str, ...] = (),
    recipients: tuple[str, ...] = (),
    participants: tuple[str, ...] = (),
    themes: tuple[str, ...] = ("labour-inspection",),
    modality: str | None = "study_tour",
    direction: str | None = None,
    constituencies: frozenset[str] = frozenset(),
) -> ExchangeRow:
    return ExchangeRow(
        eid,
        f"exchange {eid}",
        year,
        str(year),
        providers,
        recipients,
        participants,
        (),
        themes,
        modality,
        direction,
        constituencies,
    )


# A path A → B → C plus a joint event of C and D:
#   BRA → MOZ (2 exchanges), MOZ → AGO (1), AGO and CPV together (1, multilateral)
PATH = [
    row("e1", 2010, ("BRA",), ("MOZ",)),
    row("e2", 2012, ("BRA",), ("MOZ",), themes=("education",)),
    row("e3", 2015, ("MOZ",), ("AGO",)),
    row("e4", 2018, participants=("AGO", "CPV"), direction="multilateral"),
]


def test_links_are_aggregated_by_kind_and_counted() -> None:
    net = build_network(PATH)
    assert net.links == {
        ("BRA", "MOZ", DIRECTED): 2,
        ("MOZ", "AGO", DIRECTED): 1,
        ("AGO", "CPV", JOINT): 1,
    }
    assert net.exchange_count == 4
    bra, moz, ago, cpv = (net.nodes[c] for c in ("BRA", "MOZ", "AGO", "CPV"))
    assert (bra.provided, bra.received, bra.joint) == (2, 0, 0)
    assert (moz.provided, moz.received) == (1, 2)
    assert (ago.received, ago.joint) == (1, 1)
    assert bra.partners == {"MOZ"} and moz.partners == {"BRA", "AGO"}
    assert ago.partners == {"MOZ", "CPV"} and cpv.partner_count == 1


def test_betweenness_on_a_path_is_worked_by_hand() -> None:
    # Undirected projection: BRA - MOZ - AGO - CPV. With n=4, normalised betweenness divides
    # by (n-1)(n-2)/2 = 3. MOZ lies on BRA-AGO and BRA-CPV: 2/3; AGO on BRA-CPV, MOZ-CPV: 2/3.
    net = build_network(PATH)
    assert net.nodes["MOZ"].betweenness == pytest.approx(2 / 3)
    assert net.nodes["AGO"].betweenness == pytest.approx(2 / 3)
    assert net.nodes["BRA"].betweenness == 0.0 and net.nodes["CPV"].betweenness == 0.0


def test_reciprocity_means_giving_and_receiving() -> None:
    net = build_network(PATH)
    assert net.nodes["MOZ"].reciprocal  # received from BRA, gave to AGO
    assert not net.nodes["BRA"].reciprocal and not net.nodes["AGO"].reciprocal
    mutual = build_network([row("m", 2020, participants=("IND", "BRA"), direction="reciprocal")])
    assert mutual.nodes["IND"].reciprocal and mutual.nodes["BRA"].reciprocal
    assert mutual.links == {("BRA", "IND", JOINT): 1}  # no direction invented


def test_pagerank_favours_the_country_everyone_gives_to() -> None:
    star = [row(f"s{i}", 2010, (c,), ("HTI",)) for i, c in enumerate(("BRA", "ARG", "CHL"))]
    net = build_network(star)
    ranks = {c: s.pagerank for c, s in net.nodes.items()}
    assert max(ranks, key=lambda c: ranks[c]) == "HTI"
    assert sum(ranks.values()) == pytest.approx(1.0)
    assert ranks["BRA"] == pytest.approx(ranks["ARG"]) == pytest.approx(ranks["CHL"])


def test_dense_pagerank_agrees_with_networkx() -> None:
    rows = [
        *PATH,
        row("r1", 2011, ("HTI",), ("BRA",)),
        row("r2", 2011, participants=("BRA", "AGO", "HTI")),
    ]
    net = build_network(rows, metrics=False)
    ours = pagerank(net)
    theirs = nx.pagerank(directed(net), weight="weight", tol=1e-12)
    assert ours == pytest.approx(theirs, abs=1e-9)


def test_communities_split_two_separate_groups() -> None:
    rows = [
        row("a1", 2010, participants=("BRA", "ARG", "URY")),
        row("a2", 2011, participants=("BRA", "ARG", "URY")),
        row("b1", 2010, participants=("KEN", "UGA", "TZA")),
        row("b2", 2011, participants=("KEN", "UGA", "TZA")),
    ]
    net = build_network(rows)
    assert sorted(net.communities) == [["ARG", "BRA", "URY"], ["KEN", "TZA", "UGA"]]
    assert net.nodes["BRA"].community == net.nodes["URY"].community
    assert net.nodes["BRA"].community != net.nodes["KEN"].community
    # each member of a triangle took part in 2 joint exchanges with 2 partners
    assert net.nodes["KEN"].joint == 2 and net.nodes["KEN"].partner_count == 2


def test_mixed_exchange_links_participants_without_a_direction() -> None:
    mixed = row("x", 2019, ("BRA",), ("HTI",), participants=("ARG",))
    net = build_network([mixed])
    assert net.links == {
        ("BRA", "HTI", DIRECTED): 1,
        ("ARG", "BRA", JOINT): 1,
        ("ARG", "HTI", JOINT): 1,
    }


def test_filters_theme_with_children_years_modality_region_constituency() -> None:
    rows = [
        *PATH,
        row(
            "e5",
            2016,
            ("IND",),
            ("NPL",),
            modality="training",
            constituencies=frozenset({"workers"}),
        ),
    ]
    enforcement = analytics.parse_filters({"theme": "enforcement"}, VOCAB)
    assert "labour-inspection" in enforcement.themes  # the parent includes its children
    assert {r.id for r in select(rows, enforcement, VOCAB)} == {"e1", "e3", "e4", "e5"}
    years = analytics.parse_filters({"year_from": "2012", "year_to": "2016"}, VOCAB)
    assert {r.id for r in select(rows, years, VOCAB)} == {"e2", "e3", "e5"}
    training = analytics.parse_filters({"modality": "training"}, VOCAB)
    assert [r.id for r in select(rows, training, VOCAB)] == ["e5"]
    asia = analytics.parse_filters({"region": "Asia"}, VOCAB)
    net = build_network(rows, asia, VOCAB)
    assert set(net.nodes) == {"IND", "NPL"}
    workers = analytics.parse_filters({"constituency": "workers"}, VOCAB)
    assert [r.id for r in select(rows, workers, VOCAB)] == ["e5"]
    education = build_network(rows, analytics.parse_filters({"theme": "education"}, VOCAB), VOCAB)
    assert education.links == {("BRA", "MOZ", DIRECTED): 1}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"theme": "no-such-theme-at-all"}, "unknown theme"),
        ({"year_from": "twenty"}, "year_from must be a year"),
        ({"year_from": "2015", "year_to": "2010"}, "must not be after"),
        ({"region": "Atlantis"}, "unknown region"),
        ({"modality": "teleport"}, "unknown modality"),
        ({"constituency": "pirates"}, "unknown constituency"),
    ],
)
def test_bad_filters_are_refused_with_a_message(args: dict[str, str], message: str) -> None:
    with pytest.raises(analytics.FilterError, match=message):
        analytics.parse_filters(args, VOCAB)


def test_details_of_a_node_and_of_a_link() -> None:
    found = details(PATH, VOCAB, Filters(), node="moz")
    assert found["node"] == "MOZ" and found["total"] == 3
    assert [e["id"] for e in found["exchanges"]] == ["e3", "e2", "e1"]  # newest first
    assert [e["role"] for e in found["exchanges"]] == ["provider", "recipient", "recipient"]
    link = details(PATH, VOCAB, Filters(), source="BRA", target="MOZ", kind="directed")
    assert [e["id"] for e in link["exchanges"]] == ["e2", "e1"]
    assert details(PATH, VOCAB, Filters(), source="MOZ", target="BRA")["total"] == 0
    joint = details(PATH, VOCAB, Filters(), source="CPV", target="AGO", kind="joint")
    assert [e["id"] for e in joint["exchanges"]] == ["e4"]
    with pytest.raises(analytics.DetailError):
        details(PATH, VOCAB, Filters(), node="XXQ")


def test_gaps_count_same_parent_or_child_as_covered() -> None:
    assert covers("enforcement", "labour-inspection", VOCAB)  # parent covers child
    assert covers("labour-inspection", "enforcement", VOCAB)  # child covers parent
    assert not covers("legislation", "labour-inspection", VOCAB)
    found = gaps_from(
        [
            ("n1", "GTM", "inspection", ["labour-inspection"], "high"),
            ("n2", "HND", "laws", ["legislation"], None),
            ("n3", "SLV", "laws too", ["legislation", "labour-inspection"], None),
        ],
        [["enforcement"]],
        VOCAB,
    )
    assert [(g.theme, [n.id for n in g.needs]) for g in found] == [("legislation", ["n2", "n3"])]
    assert found[0].countries == ["HND", "SLV"]


def test_charts_count_each_family_once_per_exchange() -> None:
    chart = per_year_by_family(PATH, VOCAB)
    totals = {year: total for year, total, _x, _segs in chart.bars}
    assert totals[2010] == 1 and totals[2012] == 1 and totals[2011] == 0
    assert list(totals) == list(range(2010, 2019))
    assert nice_ticks(37) == [0, 10, 20, 30, 40] and nice_ticks(3)[-1] >= 3


def test_commitment_overdue_is_derived_from_the_due_date() -> None:
    assert commitment_state("in_progress", "2020-06", date(2020, 7, 1)) == "overdue"
    assert commitment_state("pending", "2020-06", date(2020, 6, 30)) == "pending"
    assert commitment_state("pending", None, date(2030, 1, 1)) == "pending"
    assert commitment_state("dropped", "2001", date(2030, 1, 1)) == "dropped"


def _round_trip(view: analytics.NetworkView, fmt: str) -> nx.MultiDiGraph:
    data = analytics.export(view, VOCAB, fmt)
    reader = {"graphml": nx.read_graphml, "gexf": nx.read_gexf}[fmt]
    graph: nx.MultiDiGraph = reader(io.BytesIO(data))
    return graph


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_graphml_and_gexf_load_back_with_the_same_nodes_and_edges(fmt: str) -> None:
    view = view_of(PATH, VOCAB, Filters())
    g = _round_trip(view, fmt)
    assert set(g.nodes) == {"BRA", "MOZ", "AGO", "CPV"}
    edges = {(u, v, d["kind"], int(d["exchanges"])) for u, v, d in g.edges(data=True)}
    assert edges == {
        ("BRA", "MOZ", "directed", 2),
        ("MOZ", "AGO", "directed", 1),
        ("AGO", "CPV", "joint", 1),
    }
    assert g.nodes["BRA"]["label"] == "Brazil" and int(g.nodes["BRA"]["provided"]) == 2


def test_node_link_json_loads_into_networkx_and_csv_has_every_row() -> None:
    view = view_of(PATH, VOCAB, Filters())
    payload = json.loads(analytics.export(view, VOCAB, "json"))
    g = nx.node_link_graph(payload, edges="links")
    assert set(g.nodes) == {"BRA", "MOZ", "AGO", "CPV"} and g.number_of_edges() == 3
    nodes_csv = analytics.export(view, VOCAB, "csv-nodes").decode().splitlines()
    edges_csv = analytics.export(view, VOCAB, "csv-edges").decode().splitlines()
    assert nodes_csv[0].startswith("id,label,region") and len(nodes_csv) == 5
    assert edges_csv[0] == "source,target,kind,exchanges,exchange_ids,years,themes"
    # each link names its exchanges, their years and themes
    assert "BRA,MOZ,directed,2,e1;e2,2010;2012,education;labour-inspection" in edges_csv
    link = next(x for x in payload["links"] if x["source"] == "MOZ")
    assert (link["exchange_ids"], link["years"], link["themes"]) == (
        ["e3"],
        [2015],
        ["labour-inspection"],
    )


def test_layouts_are_deterministic_and_inside_the_plane() -> None:
    geo = view_of(PATH, VOCAB, Filters(), "geo").positions
    assert geo["BRA"][0] < geo["MOZ"][0]  # Brasilia lies west of Maputo
    spring1 = view_of(PATH, VOCAB, Filters(), "spring").positions
    spring2 = view_of(PATH, VOCAB, Filters(), "spring").positions
    assert spring1 == spring2
    for x, y in [*geo.values(), *spring1.values()]:
        assert 0 <= x <= 1000 and 0 <= y <= 500


# --------------------------------------------------------------------------- database


def test_knowledge_base_network_gaps_and_brazil(session: Session) -> None:
    import_bundle(session, ROOT / "data", VOCAB)
    session.commit()
    view = analytics.network_view(session, VOCAB, Filters())
    exchanges = session.exec(sqlselect(Exchange)).all()
    assert view.network.exchange_count == len(exchanges) > 50
    assert "BRA" in view.network.nodes and view.network.nodes["BRA"].provided > 0
    brazil = analytics.exchanges_for(session, VOCAB, Filters(), node="BRA")
    expected = {e.id for e in exchanges if "BRA" in (*e.providers, *e.recipients, *e.participants)}
    assert {e["id"] for e in brazil["exchanges"]} == expected and brazil["total"] == len(expected)

    found = analytics.gaps(session, VOCAB)
    assert found, "the knowledge base has themes with unmet needs"
    international = {i.id for i in session.exec(sqlselect(Institution)).all() if i.international}
    offered = [
        c.themes
        for c in session.exec(sqlselect(Capacity)).all()
        if c.status == "published" and c.institution not in international
    ]
    for gap in found:
        assert not any(covers(t, gap.theme, VOCAB) for themes in offered for t in themes)
        for ref in gap.needs:
            need = session.get(Need, ref.id)
            assert need is not None and need.status == "open" and gap.theme in need.themes

    theme = analytics.parse_filters({"theme": "education-skills"}, VOCAB)
    filtered = analytics.network_view(session, VOCAB, theme)
    assert 0 < filtered.network.exchange_count < view.network.exchange_count


def test_cache_follows_the_data_version(session: Session) -> None:
    assert analytics.network_view(session, VOCAB, Filters()).network.exchange_count == 0
    session.add(Exchange(id="x1", start="2020", providers=["BRA"], recipients=["HTI"]))
    session.commit()
    view = analytics.network_view(session, VOCAB, Filters())
    assert view.network.links == {("BRA", "HTI", DIRECTED): 1}


def test_warm_cache_builds_the_unfiltered_view(session: Session) -> None:
    from sscmatch.analytics.data import _VIEWS, warm_cache

    session.add(Exchange(id="x1", start="2020", providers=["BRA"], recipients=["HTI"]))
    session.commit()
    warm_cache(session.get_bind())
    assert any(key[2][0] == "view" for key in _VIEWS)


def test_country_profile_and_activity(session: Session) -> None:
    session.add(Exchange(id="x1", start="2019", providers=["BRA"], recipients=["HTI"]))
    session.add(Exchange(id="x2", start="2020", participants=["BRA", "ARG"]))
    session.commit()  # exchanges first: commitments refer to them
    session.add(
        Capacity(
            id="c1",
            country="BRA",
            title="Inspection",
            status="published",
            themes=["labour-inspection"],
        )
    )
    session.add(
        Need(
            id="n1", country="HTI", title="Inspection", status="open", themes=["labour-inspection"]
        )
    )
    session.add(
        Commitment(
            id="k1",
            exchange="x1",
            owner_country="BRA",
            description="Report",
            due="2020",
            status="pending",
        )
    )
    session.add(
        Commitment(
            id="k2", exchange="x1", owner_country="BRA", description="Visit", status="fulfilled"
        )
    )
    session.commit()
    p = analytics.country_profile(session, VOCAB, "bra", today=date(2024, 1, 1), viewer=SYSTEM)
    assert [e.id for e in p.given] == ["x1"] and [e.id for e in p.joint] == ["x2"]
    assert p.received == [] and dict(p.partners) == {"HTI": 1, "ARG": 1}
    assert [c.id for c in p.capacities] == ["c1"]
    assert [(c.id, state) for c, state in p.commitments] == [("k1", "overdue"), ("k2", "fulfilled")]
    assert p.stats is not None and p.stats.provided == 1 and p.stats.joint == 1
    activity = {a.code: a for a in analytics.countries_activity(session, VOCAB, viewer=SYSTEM)}
    assert set(activity) == {"BRA", "HTI", "ARG"}
    assert activity["HTI"].open_needs == 1 and activity["HTI"].received == 1
    assert activity["BRA"].commitments == 2 and activity["BRA"].capacities == 1
    africa = analytics.countries_activity(session, VOCAB, "Africa", viewer=SYSTEM)
    assert africa == []
    # The counts are kept per data version: every committed change shows at once.
    activity["HTI"].needs = 99  # a caller changing what it got changes nothing kept
    session.add(Need(id="n2", country="HTI", title="Data", status="draft", themes=["education"]))
    session.add(Capacity(id="c2", country="GTM", title="Schools", themes=["education"]))
    session.commit()
    again = {a.code: a for a in analytics.countries_activity(session, VOCAB, viewer=SYSTEM)}
    assert (again["HTI"].needs, again["HTI"].open_needs) == (2, 1)
    assert again["GTM"].capacities == 1 and again["GTM"].exchanges == 0
    need = session.get(Need, "n2")
    assert need is not None
    need.status = "open"
    session.commit()
    assert {a.code: a for a in analytics.countries_activity(session, VOCAB, viewer=SYSTEM)}[
        "HTI"
    ].open_needs == 2


def test_country_profile_lists_are_capped_with_totals(session: Session) -> None:
    for n in range(3):
        session.add(
            Exchange(id=f"cap-x{n}", start=f"201{n}", providers=["BRA"], recipients=["HTI"])
        )
        session.add(Capacity(id=f"cap-c{n}", country="BRA", title=f"Capacity {n}"))
    session.commit()
    session.add(
        Commitment(id="cap-k1", owner_country="BRA", description="Done", status="fulfilled")
    )
    session.add(Commitment(id="cap-k2", owner_country="BRA", description="Open", status="pending"))
    session.commit()
    p = analytics.country_profile(
        session, VOCAB, "BRA", today=date(2024, 1, 1), limit=1, viewer=SYSTEM
    )
    assert [e.id for e in p.given] == ["cap-x2"]  # the newest
    assert [c.id for c in p.capacities] == ["cap-c0"]
    assert [c.id for c, _ in p.commitments] == ["cap-k2"]  # open ones first
    assert p.totals == {
        "capacities": 3,
        "needs": 0,
        "given": 3,
        "received": 0,
        "joint": 0,
        "commitments": 2,
    }
    assert p.commitment_counts == {"pending": 1, "fulfilled": 1}
    assert dict(p.partners) == {"HTI": 3}  # partners count every exchange, not only those shown


# --------------------------------------------------------------------------- database counts


def _synthetic_exchanges(session: Session, n: int = 400, seed: int = 7) -> None:
    """A small corpus of every shape the counts meet: bilateral, two providers, events with
    participants (some also giving or receiving), reciprocal ones, a country named twice in a
    list or in two roles, partners that are institutions (with constituencies) or names,
    several themes (parents, children, unknown), starts of one to three parts."""
    import random

    from sscmatch.enums import CONSTITUENCIES, DIRECTIONS, MODALITIES

    rng = random.Random(seed)
    codes = ["BRA", "MOZ", "AGO", "CPV", "IND", "NPL", "ZAF", "ARG", "HTI", "FRA", "CHN", "KEN"]
    for i, constituency in enumerate(CONSTITUENCIES):
        session.add(
            Institution(id=f"inst-{i}", name=f"Body {i}", country="BRA", constituency=constituency)
        )
    bodies = [f"inst-{i}" for i in range(len(CONSTITUENCIES))] + ["A named partner"]
    themes = [*list(VOCAB.themes)[:30], "not-a-known-theme"]
    session.flush()
    for i in range(n):
        shape = rng.random()
        prov: list[str] = []
        rec: list[str] = []
        parts: list[str] = []
        if shape < 0.6:
            prov, rec = rng.sample(codes, 1), rng.sample(codes, 1)  # sometimes the same country
        elif shape < 0.75:
            prov, rec = rng.sample(codes, 2), rng.sample(codes, 2)
            if rng.random() < 0.3:
                prov.append(prov[0])  # named twice
        else:
            parts = rng.sample(codes, rng.randint(2, 5))
            if rng.random() < 0.5:
                prov, rec = [parts[0]], rng.sample(codes, 1)
        year = rng.randint(1998, 2024)
        start = rng.choice([f"{year}", f"{year}-{rng.randint(1, 12):02d}", f"{year}-06-15"])
        session.add(
            Exchange(
                id=f"S-{i:04d}",
                title=rng.choice([f"Exchange {i}", None]),
                start=start,
                providers=prov,
                recipients=rec,
                participants=parts,
                partners=rng.sample(bodies, rng.randint(0, 2)),
                themes=rng.sample(themes, rng.randint(0 if i % 50 == 0 else 1, 3)),
                modality=rng.choice([*MODALITIES, None]),
                direction=rng.choice([*DIRECTIONS, None]),
            )
        )
    session.commit()


FILTER_CASES: list[dict[str, str]] = [
    {},
    {"theme": "enforcement"},
    {"theme": "labour-inspection"},
    {"year_from": "2005"},
    {"year_to": "2012"},
    {"year_from": "2005", "year_to": "2010"},
    {"region": "Africa"},
    {"region": "Oceania"},
    {"modality": "training"},
    {"constituency": "government"},
    {"constituency": "workers", "year_from": "2003"},
    {"theme": "social-protection", "region": "Americas", "year_to": "2020"},
]


def _assert_database_counts_as_python(session: Session, cases: list[dict[str, str]]) -> None:
    """The database's counts (the pages' path) give what the Python path over every exchange
    read into memory gives: the network with its metrics, the drawing and the export payloads,
    a link's and a country's exchanges, the charts' counts."""
    from sscmatch.analytics import aggregate, insights
    from sscmatch.analytics.data import load_rows
    from sscmatch.analytics.payload import DRAWN_LINKS, node_link

    rows = load_rows(session)
    assert rows
    drawn = 0  # cases whose network has links: equal empty networks would prove nothing
    for args in cases:
        f = analytics.parse_filters(args, VOCAB)
        python = view_of(rows, VOCAB, f)
        drawn += bool(python.network.links)
        database = analytics.network_view(session, VOCAB, f)
        assert database.network.exchange_count == python.network.exchange_count, args
        assert database.network.links == python.network.links, args
        assert database.network.nodes == python.network.nodes, args
        assert database.years == python.years
        for drawing, most in ((False, None), (True, DRAWN_LINKS)):
            assert node_link(database, VOCAB, drawing=drawing, max_links=most) == node_link(
                python, VOCAB, drawing=drawing, max_links=most
            ), args
        assert analytics.export(database, VOCAB, "csv-edges") == analytics.export(
            python, VOCAB, "csv-edges"
        )
        assert aggregate.year_family_counts(session, f, VOCAB) == insights.year_family_counts(
            select(rows, f, VOCAB), VOCAB
        ), args
        database_tops = aggregate.family_country_counts(session, f, VOCAB)
        python_tops = insights.family_country_counts(select(rows, f, VOCAB), VOCAB)
        for ours, theirs in zip(database_tops, python_tops, strict=True):
            assert ours == {family: c for family, c in theirs.items() if c}, args
        links = sorted(python.network.links, key=lambda k: -python.network.links[k])
        for a, b, kind in [*links[:3], *links[-2:]]:
            for source, target in ((a, b), (b, a)):
                ask = {"source": source, "target": target, "kind": kind, "limit": 5}
                assert analytics.exchanges_for(session, VOCAB, f, **ask) == details(  # type: ignore[arg-type]
                    rows,
                    VOCAB,
                    f,
                    **ask,  # type: ignore[arg-type]
                ), (args, ask)
        for code in sorted(python.network.nodes)[:4]:
            assert analytics.exchanges_for(session, VOCAB, f, node=code, limit=7) == details(
                rows, VOCAB, f, node=code, limit=7
            ), (args, code)
    assert drawn >= len(cases) // 2, drawn


def test_database_counts_match_python_on_the_knowledge_base(session: Session) -> None:
    import_bundle(session, ROOT / "data", VOCAB)
    session.commit()
    _assert_database_counts_as_python(
        session, [*FILTER_CASES[:4], {"region": "Americas"}, {"theme": "education-skills"}]
    )


def test_database_counts_match_python_on_a_synthetic_corpus(session: Session) -> None:
    _synthetic_exchanges(session)
    _assert_database_counts_as_python(session, FILTER_CASES)


@pytest.mark.parametrize("region", [None, "Americas", "Africa"])
def test_gaps_and_supply_counted_by_the_database_as_in_python(
    session: Session, region: str | None
) -> None:
    """Gaps and supply and demand from the association tables are what the records' own
    lists give (countries' own records; international bodies' aside)."""
    from collections import Counter

    from sscmatch.analytics.insights import supply_demand

    import_bundle(session, ROOT / "data", VOCAB)
    session.add(
        Institution(id="intl-body", name="A regional body", country="BRA", international=True)
    )
    session.add(
        Need(
            id="n-intl",
            institution="intl-body",
            title="Theirs",
            status="open",
            themes=["labour-inspection", "a-theme-nobody-offers"],
        )
    )
    session.add(
        Need(
            id="n-gap",
            country="HTI",
            title="Ours",
            status="open",
            themes=["a-theme-nobody-offers", "legislation"],
        )
    )
    session.commit()
    international = {i.id for i in session.exec(sqlselect(Institution)) if i.international}
    codes = (
        None if region is None else {c.code for c in VOCAB.countries.values() if c.region == region}
    )

    def own(record: Need | Capacity, status: str, anywhere: bool = False) -> bool:
        return (
            record.status == status
            and record.country is not None
            and record.institution not in international
            and (anywhere or codes is None or record.country in codes)
        )

    needs = [n for n in session.exec(sqlselect(Need).order_by(Need.id)) if own(n, "open")]
    capacities = list(session.exec(sqlselect(Capacity)))
    expected = gaps_from(
        [(n.id, n.country, n.title, list(n.themes), n.priority) for n in needs],
        [c.themes for c in capacities if own(c, "published", anywhere=True)],
        VOCAB,
    )
    assert analytics.gaps(session, VOCAB, region) == expected
    assert any(g.theme == "a-theme-nobody-offers" for g in expected) == (region != "Africa")
    asked: Counter[str] = Counter(t for n in needs for t in set(n.themes))
    offered: Counter[str] = Counter(
        t for c in capacities if own(c, "published") for t in set(c.themes)
    )
    rows = supply_demand(session, VOCAB, region=region)
    assert {r.theme: (r.needs, r.capacities) for r in rows} == {
        t: (asked[t], offered[t]) for t in set(asked) | set(offered)
    }
    assert {r.theme for r in rows if r.gap} == {g.theme for g in expected}


def test_an_entry_asked_for_while_it_is_made_is_made_once(session: Session) -> None:
    """The warm-up thread and a worker's first visitors ask for the same network at once: the
    later ones wait for it instead of counting it again."""
    import threading

    from sscmatch.analytics.data import cached

    started, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def make() -> int:
        calls.append(1)
        started.set()
        release.wait(5)
        return len(calls)

    version = analytics.data.data_version(session)
    got: list[int] = []
    first = threading.Thread(target=lambda: got.append(cached(session, version, "k", make)))
    first.start()
    assert started.wait(5)
    second = threading.Thread(target=lambda: got.append(cached(session, version, "k", make)))
    second.start()
    second.join(0.2)
    assert second.is_alive()  # waiting for the first to finish, not making it again
    release.set()
    first.join(5)
    second.join(5)
    assert got == [1, 1] and calls == [1]
