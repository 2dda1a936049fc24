"""The reasons of a proposal: one ``Reason`` (a code and its parameters) per factor, the factors
by decreasing contribution, then the notices (fallback offer, hub damping).

Reasons carry codes and ids (countries, themes, languages, M49 regions), never sentences: each
interface renders them in its reader's language (``reasons.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from functools import cached_property
from typing import Any

import numpy as np

from sscmatch.matching import factors as F
from sscmatch.matching.graph import projection_from_membership, small_exchanges
from sscmatch.matching.indexes import Indexes
from sscmatch.matching.model import FACTORS, Reason, Weights
from sscmatch.matching.scoring import F64, I64, Bool
from sscmatch.matching.tables import Tables
from sscmatch.matching.texts import Text

RELATIONS = {
    F.SAME_THEME: "same",
    F.PARENT_CHILD: "broader_narrower",
    F.SIBLING: "sibling",
    F.COUSIN: "family",
}


class Facts:
    """Counts the reasons quote, worked out once per prepared corpus (not per ranking)."""

    def __init__(self, ix: Indexes) -> None:
        self.ix = ix

    @cached_property
    def directed(self) -> I64:
        """provider × recipient: exchanges the provider provided to the recipient"""
        out: I64 = (self.ix.provided @ self.ix.received.T).toarray().astype(np.int64)
        return out

    @cached_property
    def together(self) -> I64:
        """country × country: exchanges both took part in"""
        out: I64 = (self.ix.members @ self.ix.members.T).toarray().astype(np.int64)
        return out

    @cached_property
    def adjacency(self) -> np.ndarray:
        out: np.ndarray = projection_from_membership(small_exchanges(self.ix.members)).toarray()
        return out > 0

    @cached_property
    def by_signature(self) -> tuple[I64, I64]:
        """country × exchange signature: exchanges provided, and the latest year of one."""
        ix = self.ix
        coo = ix.provided.tocoo()
        shape = (len(ix.codes), ix.sig_topic.shape[0])
        count = np.zeros(shape, dtype=np.int64)
        latest = np.zeros(shape, dtype=np.int64)
        sig = ix.ex_sig[coo.col]
        np.add.at(count, (coo.row, sig), 1)
        np.maximum.at(latest, (coo.row, sig), ix.ex_year[coo.col])
        return count, latest

    @cached_property
    def ids(self) -> _Ids:
        """Numbers of what the reasons depend on (see :meth:`Explainer.explain`)."""
        return _Ids(self.ix)

    @cached_property
    def sig_themes(self) -> list[tuple[int, ...]]:
        """The subject themes of each exchange signature."""
        out: dict[int, tuple[int, ...]] = {}
        for e, s in enumerate(self.ix.ex_sig.tolist()):
            if s not in out:
                out[s] = self.ix.subject(self.ix.exchanges[e].themes)
        return [out.get(s, ()) for s in range(self.ix.sig_topic.shape[0])]


def _numbered(values: Iterable[Hashable], seen: dict[Any, int]) -> I64:
    """Each value's number in ``seen`` (equal values, one number; new ones appended)."""
    return np.fromiter((seen.setdefault(v, len(seen)) for v in values), dtype=np.int64)


def _first_of_each(columns: list[I64]) -> tuple[I64, I64]:
    """Rows of non-negative integer columns grouped by equal rows: the first row of each
    group, and each row's group. The columns are read as the digits of one number (a column
    too wide for that is first replaced by its values' ranks): one sort of 64-bit integers,
    not of rows."""
    key = np.zeros(columns[0].size, dtype=np.int64)
    for col in columns:
        width = int(col.max()) + 1 if col.size else 1
        if width * (int(key.max()) + 1 if key.size else 1) >= 2**62:
            values, col = np.unique(col, return_inverse=True)
            width = values.size
            key = np.unique(key, return_inverse=True)[1].reshape(-1)
        key = key * width + col.reshape(-1)
    _values, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return first, inverse.reshape(-1)


class _Ids:
    """Per need, capacity and country, numbers standing for the values a reason's key holds
    (equal values, equal numbers), so that the keys of many proposals are rows of integers."""

    def __init__(self, ix: Indexes) -> None:
        self.need_subject = _numbered(ix.need_subject, {})
        langs: dict[Any, int] = {}
        self.need_langs = _numbered(ix.need_lang_codes, langs)
        self.country_langs = _numbered(ix.country_langs, langs)
        # per capacity, and one more at the end: what a fallback (no capacity) reads
        self.cap_themes = _numbered((*(c.themes for c in ix.caps), None), {})
        self.cap_langs = _numbered((*ix.cap_langs, None), langs)
        self.cap_maturity = _numbered((*(c.maturity for c in ix.caps), _FALLBACK), {})


_FALLBACK = object()
"""The maturity key of a fallback offer (no capacity: none of a capacity's values)."""


class Explainer:
    """Reasons for the top proposals of one ranking (pieces are worked out once and kept)."""

    def __init__(
        self,
        ix: Indexes,
        tables: Tables,
        weights: Weights,
        text: Text | None = None,
        facts: Facts | None = None,
    ) -> None:
        self.ix = ix
        self.tables = tables
        self.weights = weights
        self.text = text
        self.facts = facts or Facts(ix)
        self._memo: dict[Any, Any] = {}
        self._shown = [k for k in FACTORS if weights.factor(k) > 0]
        self._shown_at = [FACTORS.index(k) for k in self._shown]
        self._makers: dict[str, Callable[[int, int, int, float], Reason]] = {
            k: getattr(self, f"_{k}") for k in FACTORS
        }

    def _count_on(self, p: int, t: int, level: float) -> tuple[int, int]:
        """Exchanges the country provided whose subject is at least ``level`` close to theme
        ``t``, and the latest year of one."""
        key = ("count", p, t, level)
        got: tuple[int, int] | None = self._memo.get(key)
        if got is None:
            count, latest = self.facts.by_signature
            close = self.ix.sig_topic[:, t] >= level
            n = int(count[p, close].sum())
            year = int(latest[p, close].max()) if n else 0
            got = self._memo[key] = (n, year)
        return got

    def _offered_by(self, p: int) -> list[int]:
        """The subject themes of the exchanges the country provided."""
        key = ("offered", p)
        got = self._memo.get(key)
        if got is None:
            count, _latest = self.facts.by_signature
            sigs = np.flatnonzero(count[p])
            themes = sorted({u for s in sigs.tolist() for u in self.facts.sig_themes[s]})
            got = self._memo[key] = themes
        return list(got)

    def explain(
        self,
        nn: I64,
        pp: I64,
        oo: I64,
        components: dict[str, F64],
        contributions: F64,
        damping: F64,
    ) -> list[tuple[Reason, ...]]:
        """The reasons of proposals (need, country, offer: a capacity position or -1 for the
        fallback; their factors and contributions, one column per factor in ``FACTORS``
        order): the notice of a fallback offer, one reason per shown factor, largest
        contribution first (equal ones in the factors' order), then the notice of hub damping.

        A factor's reason depends only on its *key* (``_key_columns``): equal keys, equal
        reasons, made once from the first proposal with the key. The keys are rows of integers
        and grouped by one ``np.unique`` a factor, so the Python work is one reason per
        distinct key and one tuple per proposal (a full re-match asks 700,000 reasons of
        about 10,000 keys)."""
        m = nn.size
        if not m:
            return []
        ids = self.facts.ids
        is_cap = oo >= 0
        cap = np.where(is_cap, oo, len(self.ix.caps))
        rs = self.ix.need_country[nn]
        made: list[Reason] = []
        columns = []
        for k in self._shown:
            got = self._key_columns(k, nn, pp, oo, is_cap, cap, rs, ids, components[k])
            first, inverse = _first_of_each(got)
            values = components[k][first].tolist()
            maker = self._makers[k]
            base = len(made)
            picked = (nn[first].tolist(), pp[first].tolist(), oo[first].tolist(), values)
            made.extend(maker(n, p, o, v) for n, p, o, v in zip(*picked, strict=True))
            columns.append(base + inverse.reshape(-1))
        rows: list[list[int]] = [[] for _ in range(m)]
        if columns:
            perm = np.argsort(-contributions[:, self._shown_at], axis=1, kind="stable")
            rows = np.take_along_axis(np.column_stack(columns), perm, axis=1).tolist()
        pick = made.__getitem__
        out = [tuple(map(pick, row)) for row in rows]
        codes = self.ix.codes
        for j in np.flatnonzero(~is_cap).tolist():
            country = codes[int(pp[j])]
            out[j] = (Reason("fallback.no_capacity", {"country": country}), *out[j])
        for j in np.flatnonzero(damping < 1.0).tolist():
            d = float(damping[j])
            notice = {"country": codes[int(pp[j])], "percent": round(100 * (1 - d))}
            out[j] = (*out[j], Reason("damped", notice))
        return out

    def _key_columns(
        self,
        k: str,
        nn: I64,
        pp: I64,
        oo: I64,
        is_cap: Bool,
        cap: I64,
        rs: I64,
        ids: _Ids,
        value: F64,
    ) -> list[I64]:
        """What factor ``k``'s reason of each proposal depends on, as integer columns (equal
        rows, equal reasons): topic, the need's subject and the offer's themes (or its country,
        for a fallback); text, its value (when above 0, with the kind of offer), else the pair
        itself; experience, the country and the need's subject; relationship and region, the
        two countries; language, the need's languages and the offer's; maturity, the
        capacity's level; follow-through, the country."""
        if k == "topic":
            held = np.where(is_cap, ids.cap_themes[cap], pp)
            return [ids.need_subject[nn], is_cap.astype(np.int64), held]
        if k == "text":
            # value <= 0: (need, offer, country); else (is a capacity, value)
            low = value <= 0
            bits = np.where(low, 0.0, value).view(np.int64)
            return [
                low.astype(np.int64),
                np.where(low, nn, is_cap),
                np.where(low, oo, bits),
                np.where(low, pp, 0),
            ]
        if k == "experience":
            return [pp, ids.need_subject[nn]]
        if k in ("relationship", "region"):
            return [pp, rs]
        if k == "language":
            offered = np.where(is_cap, ids.cap_langs[cap], ids.country_langs[pp])
            return [ids.need_langs[nn], offered]
        if k == "maturity":
            return [ids.cap_maturity[cap]]
        if k == "follow_through":
            return [pp]
        raise ValueError(f"no key for factor {k!r}")

    # ------------------------------------------------------------------ one per factor
    def _best_theme(self, n: int, offer_themes: list[int]) -> tuple[float, int, int]:
        """(similarity, need theme, offer theme) of the closest pair, first of equals."""
        best = (0.0, -1, -1)
        for t in self.ix.need_subject[n]:
            for u in offer_themes:
                sim = float(self.ix.sim[t, u])
                if sim > best[0]:
                    best = (sim, t, u)
        return best

    def _topic(self, n: int, p: int, offer: int, value: float) -> Reason:
        ix = self.ix
        offered = list(ix.subject(ix.caps[offer].themes)) if offer >= 0 else self._offered_by(p)
        sim, t, u = self._best_theme(n, offered)
        if t < 0:
            code = "topic.unrelated" if offer >= 0 else "topic.fallback_unrelated"
            return Reason(code, {"country": ix.codes[p]})
        relation = RELATIONS.get(sim, "family")
        params: dict[str, Any] = {"need_theme": ix.theme_ids[t], "offer_theme": ix.theme_ids[u]}
        if offer >= 0:
            return Reason(f"topic.{relation}", params)
        count, latest = self._count_on(p, t, sim)
        params.update(country=ix.codes[p], count=count, latest=latest)
        return Reason(f"topic.fallback_{relation}", params)

    def _text(self, n: int, p: int, offer: int, value: float) -> Reason:
        text = self.text
        if text is not None and not (
            text.has_need[n] and (text.has_cap[offer] if offer >= 0 else text.has_country[p])
        ):
            return Reason("text.missing", {})
        if value <= 0:
            return Reason("text.unrelated" if offer >= 0 else "text.fallback_unrelated", {})
        share = 1.0 if offer >= 0 else F.FALLBACK_SHARE
        percent = round(100 * value / share)
        return Reason("text.alike" if offer >= 0 else "text.fallback_alike", {"percent": percent})

    def _experience(self, n: int, p: int, offer: int, value: float) -> Reason:
        ix = self.ix
        country = ix.codes[p]
        count = int(ix.provided_count[p])
        if count:
            themes = ix.need_subject[n]
            on_theme = max((self._count_on(p, t, F.ADDRESSES)[0] for t in themes), default=0)
            return Reason(
                "experience.provided",
                {
                    "country": country,
                    "count": count,
                    "since": int(ix.first_year[p]),
                    "on_theme": on_theme,
                },
            )
        took_part = int(ix.participated.indptr[p + 1] - ix.participated.indptr[p])
        if took_part:
            return Reason("experience.took_part", {"country": country, "count": took_part})
        return Reason("experience.none", {"country": country})

    def _relationship(self, n: int, p: int, offer: int, value: float) -> Reason:
        r = int(self.ix.need_country[n])
        codes = self.ix.codes
        common = np.flatnonzero(self.facts.adjacency[p] & self.facts.adjacency[r])
        params: dict[str, Any] = {
            "provider": codes[p],
            "recipient": codes[r],
            "partners": [codes[int(i)] for i in common[:3]],
            "partner_count": int(common.size),
        }
        helped = int(self.facts.directed[p, r])
        if helped:
            return Reason("relationship.helped", {**params, "count": helped})
        together = int(self.facts.together[p, r])
        if together:
            return Reason("relationship.together", {**params, "count": together})
        return Reason("relationship.none", params)

    def _region(self, n: int, p: int, offer: int, value: float) -> Reason:
        countries = self.ix.corpus.countries
        r = int(self.ix.need_country[n])
        _score, code, params = F.region_relation(
            countries.get(self.ix.codes[r]), countries.get(self.ix.codes[p])
        )
        return Reason(code, params)

    def _language(self, n: int, p: int, offer: int, value: float) -> Reason:
        ix = self.ix
        offered = ix.cap_langs[offer] if offer >= 0 else ix.country_langs[p]
        code, params = F.language_relation(
            ix.need_lang_codes[n],
            offered,
            ix.corpus.intelligibility,
            self.weights.interpretation,
        )
        return Reason(code, params)

    def _maturity(self, n: int, p: int, offer: int, value: float) -> Reason:
        if offer < 0:
            return Reason("maturity.fallback", {})
        level = self.ix.caps[offer].maturity
        if level in F.MATURITY:
            return Reason("maturity.level", {"level": level})
        return Reason("maturity.unknown", {})

    def _follow_through(self, n: int, p: int, offer: int, value: float) -> Reason:
        country = self.ix.codes[p]
        decided = int(self.ix.decided[p])
        if decided:
            fulfilled = int(self.ix.fulfilled[p])
            return Reason(
                "follow_through.record",
                {"country": country, "fulfilled": fulfilled, "count": decided},
            )
        return Reason("follow_through.none", {"country": country})
