"""Countries are listed in the order of their names in the reader's language, not of their ISO
codes (the audit found the follow-up's owner filter reading "Angola, Albanie, Argentine…" in
French) nor of a plain sort of the names ("Équateur" after "Zimbabwe"): every country and
region <select> of every page, walked as each role (the admin's too) in es/fr/pt, the country
list, a community's countries and the follow-up dashboard's tables by country."""

from __future__ import annotations

import re

import pytest

from sscmatch.web.templating import name_order
from tests.web.test_every_word_translated import _pages
from tests.web.world import Walk, world_fixture

shared_world = world_fixture()  # the walk only reads
ROLES = ("secretariat", "analyst", "focal_gtm", "admin")
SELECT = re.compile(r"<select[^>]*\bname=\"([^\"]+)\"[^>]*>(.*?)</select>", re.S)
OPTION = re.compile(r'<option value="([A-Z]{3})"[^>]*>([^<]*)</option>')


ANY_OPTION = re.compile(r'<option value="([^"]+)"[^>]*>([^<]*)</option>')


def _out_of_order(html: str) -> list[str]:
    wrong = []
    for name, body in SELECT.findall(html):
        # a country's select (ISO codes), or a region's (whatever its codes)
        found = ANY_OPTION.findall(body) if name == "region" else OPTION.findall(body)
        options = [(code, label) for code, label in found]
        keys = [name_order(label) for _, label in options]
        if len(options) > 2 and keys != sorted(keys):
            wrong.append(f"select {name}: {[label for _, label in options][:6]}")
    return wrong


@pytest.mark.same_on_every_database
@pytest.mark.parametrize("lang", ["fr", "es", "pt"])
def test_every_country_select_is_in_name_order(shared_world: Walk, lang: str) -> None:
    paths = _pages(shared_world.app, shared_world.values)
    found: dict[str, list[str]] = {}
    selects = 0
    for role in ROLES:
        client = shared_world.client(role)
        client.post("/language", data={"lang": lang, "next": "/"})
        for path in paths:
            response = client.get(path)
            response.close()
            if response.mimetype != "text/html" or response.status_code != 200:
                continue
            html = response.get_data(as_text=True)
            selects += sum(1 for _, body in SELECT.findall(html) if OPTION.search(body))
            if wrong := _out_of_order(html):
                found[f"{role} {path}"] = wrong
    assert selects > 10  # the walk met country selects
    assert found == {}, "\n".join(f"{p}: {w}" for p, w in sorted(found.items()))


def test_the_check_finds_codes_in_code_order() -> None:
    by_code = (
        '<select name="country"><option value="AGO">Angola</option>'
        '<option value="ALB">Albanie</option><option value="ARG">Argentine</option></select>'
    )
    assert _out_of_order(by_code)
    accents = (
        '<select name="c"><option value="ARE">Émirats arabes unis</option>'
        '<option value="ERI">Érythrée</option><option value="ESP">Espagne</option></select>'
    )
    assert _out_of_order(accents) == []  # É among the E's: Émirats, Érythrée, Espagne


COMMUNITIES = re.compile(r'<h2 id="comm-h">.*?<ol>(.*?)</ol>', re.S)


@pytest.mark.same_on_every_database
@pytest.mark.parametrize("lang", ["fr", "es"])
def test_a_communitys_countries_are_in_name_order(shared_world: Walk, lang: str) -> None:
    """The network page's communities ("…Kenia, Marruecos, Mali…": ISO order in Spanish)."""
    client = shared_world.client("analyst")
    client.post("/language", data={"lang": lang, "next": "/"})
    html = client.get("/network").get_data(as_text=True)
    found = COMMUNITIES.search(html)
    assert found, "the network page lists its communities"
    groups = [re.findall(r"<a [^>]*>([^<]+)</a>", item) for item in found.group(1).split("<li")]
    groups = [names for names in groups if len(names) > 2]
    assert groups, "a community of more than two countries"
    for names in groups:
        keys = [name_order(n) for n in names]
        assert keys == sorted(keys), names


@pytest.mark.same_on_every_database
def test_gives_and_receives_says_when_it_is_a_reciprocal_exchange(shared_world: Walk) -> None:
    """A country that neither provided nor received but took part in a reciprocal exchange
    read "Provided 0 … Gives and receives: yes" (the audit: Morocco). Its answer says how."""
    client = shared_world.client("analyst")
    client.post("/language", data={"lang": "es", "next": "/"})
    html = client.get("/network").get_data(as_text=True)
    rows = re.findall(r"<tr>\s*<th scope=\"row\">(.*?)</tr>", html, re.S)
    checked, through_reciprocal = 0, 0
    for row in rows:
        cells = re.findall(r'<td class="n">([^<]*)</td>', row)
        said = re.findall(r"<td class=\"whole\">([^<]*)</td>", row)
        if len(cells) < 2 or not said:
            continue
        provided, received = (int(c.replace(".", "") or 0) for c in cells[:2])
        answer = said[-1].strip()
        if answer == "sí":
            assert provided > 0 and received > 0, row
            checked += 1
        elif answer == "sí, en un intercambio recíproco":
            through_reciprocal += 1
    assert checked and through_reciprocal  # the knowledge base has both kinds


@pytest.mark.same_on_every_database
@pytest.mark.parametrize("lang", ["fr", "pt"])
def test_the_country_list_is_in_name_order(shared_world: Walk, lang: str) -> None:
    """/countries put "Équateur" after "Zimbabwe" in French and "Índia" after "Zâmbia" in
    Portuguese (a plain sort of the names)."""
    client = shared_world.client("analyst")
    client.post("/language", data={"lang": lang, "next": "/"})
    names: list[str] = []
    for number in range(1, 20):  # every page of the list, in order
        html = client.get(f"/countries?page={number}").get_data(as_text=True)
        opened = re.search(r"<tbody\b[^>]*>", html)  # attributes or none (table.stack's role)
        if opened is None:
            break
        body = html[opened.end() :].split("</tbody>", 1)[0]
        found = re.findall(r'<a class="name" href="/countries/[A-Z]{3}">([^<]+)</a>', body)
        if not found:
            break
        names += found
    assert len(names) > 30
    keys = [name_order(n) for n in names]
    assert keys == sorted(keys), names
