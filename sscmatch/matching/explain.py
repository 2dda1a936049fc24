"""The reasons of a proposal: one ``Reason`` (a code and its parameters) per factor, the factors
by decreasing contribution, then the notices (fallback offer, hub damping).

Reasons carry codes and ids (countries, themes, languages, M49 regions), never sentences: each
interface renders them in its reader's language (``reasons.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any

import numpy as np

from sscmatch.matching import factors as F
from sscmatch.matching.graph import projection_from_membership, small_exchanges
from sscmatch.matching.indexes import Indexes
from sscmatch.matching.model import FACTORS, Reason, Weights
from sscmatch.matching.scoring import F64, I64
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
    def sig_themes(self) -> list[tuple[int, ...]]:
        """The subject themes of each exchange signature."""
        out: dict[int, tuple[int, ...]] = {}
        for e, s in enumerate(self.ix.ex_sig.tolist()):
            if s not in out:
                out[s] = self.ix.subject(self.ix.exchanges[e].themes)
        return [out.get(s, ()) for s in range(self.ix.sig_topic.shape[0])]


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
        self._makers: dict[str, Callable[[int, int, int, float], Reason]] = {
            k: getattr(self, f"_{k}") for k in FACTORS
        }
        self._keys: list[Callable[[int, int, int, float], tuple[Any, ...]]] = [
            getattr(self, f"_{k}_key") for k in FACTORS
        ]
        self._need_country: list[int] = ix.need_country.tolist()

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

    def orders(self, contributions: F64) -> list[list[int]]:
        """For each proposal (a row of contributions, one column per factor in ``FACTORS``
        order), the factors its reasons show, largest contribution first, equal ones in the
        factors' order (a stable sort of the columns, which are in that order)."""
        shown = [FACTORS.index(k) for k in self._shown]
        perm = np.argsort(-contributions[:, shown], axis=1, kind="stable")
        return np.asarray(shown, dtype=np.int64)[perm].tolist()  # type: ignore[no-any-return]

    def reasons(
        self,
        n: int,
        p: int,
        offer: int,
        components: dict[str, float],
        order: list[int],
        damping: float,
    ) -> tuple[Reason, ...]:
        """The reasons of one proposal, in ``order`` (indexes into ``FACTORS``, see
        :meth:`orders`)."""
        out: list[Reason] = []
        if offer < 0:
            out.append(Reason("fallback.no_capacity", {"country": self.ix.codes[p]}))
        for i in order:
            k = FACTORS[i]
            value = components[k]
            key = self._keys[i](n, p, offer, value)
            got = self._memo.get(key)
            if got is None:
                got = self._memo[key] = self._makers[k](n, p, offer, value)
            out.append(got)
        if damping < 1.0:
            out.append(
                Reason(
                    "damped",
                    {"country": self.ix.codes[p], "percent": round(100 * (1 - damping))},
                )
            )
        return tuple(out)

    # What a factor's reason depends on: equal keys, equal reasons (worked out once). One small
    # function a factor, looked up once per reason (a full re-match asks 700,000 of them).
    def _topic_key(self, n: int, p: int, offer: int, value: float) -> tuple[Any, ...]:
        held = self.ix.caps[offer].themes if offer >= 0 else p
        return ("topic", self.ix.need_subject[n], offer >= 0, held)

    def _text_key(self, n: int, p: int, offer: int, value: float) -> tuple[Any, ...]:
        return ("text", n, offer, p) if value <= 0 else ("text", offer >= 0, value)

    def _experience_key(self, n: int, p: int, offer: int, value: float) -> tuple[Any, ...]:
        return ("experience", p, self.ix.need_subject[n])

    def _relationship_key(self, n: int, p: int, offer: int, value: float) -> tuple[Any, ...]:
        return ("relationship", p, self._need_country[n])

    def _region_key(self, n: int, p: int, offer: int, value: float) -> tuple[Any, ...]:
        return ("region", p, self._need_country[n])

    def _language_key(self, n: int, p: int, offer: int, value: float) -> tuple[Any, ...]:
        ix = self.ix
        offered = ix.cap_langs[offer] if offer >= 0 else ix.country_langs[p]
        return ("language", ix.need_lang_codes[n], offered)

    def _maturity_key(self, n: int, p: int, offer: int, value: float) -> tuple[Any, ...]:
        return ("maturity", self.ix.caps[offer].maturity if offer >= 0 else -1)

    def _follow_through_key(self, n: int, p: int, offer: int, value: float) -> tuple[Any, ...]:
        return ("follow_through", p)

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
