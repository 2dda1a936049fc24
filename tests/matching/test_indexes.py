"""The country × exchange membership the graph factors read: every role, in order of precedence
(a provider, else a recipient, else a participant), each country once an exchange."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sscmatch.matching.indexes import Indexes
from sscmatch.matching.model import ExchangeItem
from tests.matching.helpers import small_corpus

CODES = ("BRA", "CRI", "GTM", "HTI", "FJI")
ROLES = ("providers", "recipients", "participants")
members = st.lists(st.sampled_from(CODES), max_size=6).map(tuple)


def expected_roles(exchange: ExchangeItem) -> dict[str, int]:
    """The role of each member, as the sources are read: the first role that names it."""
    out: dict[str, int] = {}
    for role, names in enumerate(getattr(exchange, r) for r in ROLES):
        for code in names:
            out.setdefault(code, role)
    return out


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(members, members, members), min_size=1, max_size=6))
def test_each_member_has_its_first_stated_role_once(
    lists: list[tuple[tuple[str, ...], ...]],
) -> None:
    exchanges = tuple(
        ExchangeItem(
            id=f"X{j}",
            start=date(2010, 1, 1),
            providers=p,
            recipients=r,
            participants=q,
            themes=("labour-inspection",),
        )
        for j, (p, r, q) in enumerate(lists)
    )
    ix = Indexes.build(replace(small_corpus(), exchanges=exchanges), None)
    matrices = (ix.provided, ix.received, ix.participated)
    for j, e in enumerate(ix.exchanges):
        want = expected_roles(e)
        for role, matrix in enumerate(matrices):
            column = matrix[:, j].toarray().ravel()
            assert set(np.unique(column).tolist()) <= {0.0, 1.0}
            got = {ix.codes[i] for i in np.flatnonzero(column)}
            assert got == {c for c, r in want.items() if r == role}, (e, ROLES[role])
        assert ix.member_count[j] == len(want)
