"""What a reviewer reads beside a proposal: the score's breakdown, the past exchanges behind its
reasons, the other candidates for the same need, and the decisions made on it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from sscmatch import relations
from sscmatch.dates import PartialDate
from sscmatch.models import Exchange, Need, Review, Theme
from sscmatch.models import Proposal as StoredProposal
from sscmatch.vocab import Vocabulary
from sscmatch.workflow import visibility
from sscmatch.workflow.visibility import Viewer


def _families(session: Session, vocab: Vocabulary) -> dict[str, str]:
    """Theme id → its top-level theme (two-level tree; bundle themes included)."""
    parents = {t.id: t.parent for t in vocab.themes.values()}
    for extra in session.exec(select(Theme)):
        parents.setdefault(extra.id, extra.parent)

    def root(theme: str) -> str:
        seen = set()
        while parents.get(theme) and theme not in seen:
            seen.add(theme)
            theme = parents[theme] or theme
        return theme

    return {t: root(t) for t in parents}


@dataclass(frozen=True)
class Evidence:
    """The past exchanges behind a proposal's reasons."""

    between: list[Exchange]
    on_themes: list[Exchange]


def _newest(session: Session, *conditions: Any, limit: int) -> list[Exchange]:
    """The ``limit`` newest exchanges meeting ``conditions`` (start, then id, descending, as
    :class:`~sscmatch.dates.PartialDate` orders starts): chosen from their ids and starts, then
    only those read whole (a hub provider has tens of thousands of exchanges)."""
    rows = list(
        session.exec(
            select(col(Exchange.id), col(Exchange.start_date), col(Exchange.start_precision)).where(
                *conditions
            )
        ).all()
    )
    rows.sort(key=lambda r: (PartialDate.of(r[1], r[2]), r[0]), reverse=True)
    ids = [r[0] for r in rows[:limit]]
    found = {e.id: e for e in session.exec(select(Exchange).where(col(Exchange.id).in_(ids)))}
    return [found[i] for i in ids]


def evidence(
    session: Session, proposal: StoredProposal, vocab: Vocabulary, limit: int = 20
) -> Evidence:
    """Exchanges between provider and recipient, and the provider's exchanges on the need's
    themes (the same theme or the same theme family), newest first."""
    need = session.get(Need, proposal.need)
    involving = relations.with_country(Exchange, [proposal.provider], ("provider", "participant"))
    between = _newest(
        session, involving, relations.with_country(Exchange, [proposal.recipient]), limit=limit
    )
    families = _families(session, vocab)
    need_themes = set(need.themes if need else ())
    need_families = {families.get(t, t) for t in need_themes}
    # a theme of the need, a family of its themes, or a theme of one of those families
    on_need = need_themes | need_families | {t for t, f in families.items() if f in need_families}
    on_themes = _newest(
        session,
        relations.with_country(Exchange, [proposal.provider], ("provider",)),
        relations.having(Exchange, "themes", sorted(on_need)),
        limit=limit,
    )
    return Evidence(between=between, on_themes=on_themes)


def history(session: Session, proposal_id: int) -> list[Review]:
    return list(
        session.exec(
            select(Review)
            .where(Review.proposal_id == proposal_id)
            .order_by(col(Review.created_at), col(Review.id))
        ).all()
    )


def breakdown(proposal: StoredProposal) -> list[tuple[str, float, float]]:
    """(factor, component in [0, 1], weighted contribution to the score), largest first."""
    stored = proposal.components or {}
    components: dict[str, float] = stored.get("components", {})
    contributions: dict[str, float] = stored.get("contributions", {})
    factors = sorted(components, key=lambda f: -float(contributions.get(f, 0.0)))
    return [(f, float(components[f]), float(contributions.get(f, 0.0))) for f in factors]


def is_fallback(proposal: StoredProposal) -> bool:
    """A proposal for the provider's record of exchanges: no registered capacity of it fits the
    need, so it has no capacity (``components["basis"] == "experience"``)."""
    return on_experience(proposal.components, proposal.capacity)


def on_experience(components: dict[str, Any] | None, capacity: str | None) -> bool:
    """:func:`is_fallback` of a proposal's stored components and capacity (read as columns)."""
    return (components or {}).get("basis") == "experience" or capacity is None


def alternates(
    session: Session, proposal: StoredProposal, *, viewer: Viewer
) -> list[StoredProposal]:
    """The other proposals of the same need in the same run that ``viewer`` may see, best first
    (a provider's focal point does not see the other providers' proposals): in rank order, or
    by score for a reader who may not learn the ranks (:func:`~sscmatch.workflow.visibility.
    sees_rank`: the order of its own country's proposals would tell their ranks apart)."""
    order = (
        [col(StoredProposal.rank)]
        if visibility.sees_rank(viewer, proposal)
        else [col(StoredProposal.score).desc()]
    )
    return list(
        session.exec(
            select(StoredProposal)
            .where(
                StoredProposal.run_id == proposal.run_id,
                StoredProposal.need == proposal.need,
                StoredProposal.id != proposal.id,
                visibility.visible(StoredProposal, viewer),
            )
            .order_by(*order, col(StoredProposal.id))
        ).all()
    )


NEAR_TIE = "near_tie."
"""The reasons of a proposal placed above a nearly level, higher score: they name the provider
below it, and say the ranking's order."""


def rank_for(proposal: StoredProposal, viewer: Viewer | None) -> int | None:
    """``proposal``'s rank as ``viewer`` may read it: None for a provider's focal point (it
    would say how many competitors stand above; :func:`~sscmatch.workflow.visibility.
    sees_rank`)."""
    return proposal.rank if visibility.sees_rank(viewer, proposal) else None


def reasons_for(proposal: StoredProposal, viewer: Viewer | None) -> list[Any]:
    """``proposal``'s reasons as ``viewer`` may read them: without the near-tie ones for a
    reader who may not learn its rank (they name the competitor it was ranked above)."""
    reasons = list(proposal.reasons or [])
    if visibility.sees_rank(viewer, proposal):
        return reasons
    return [r for r in reasons if not _near_tie(r)]


def _near_tie(reason: Any) -> bool:
    return isinstance(reason, dict) and str(reason.get("code", "")).startswith(NEAR_TIE)


def sees_every_alternate(proposal: StoredProposal, viewer: Viewer) -> bool:
    """Does :func:`alternates` give ``viewer`` every other proposal of the need in the run? Not
    to a provider's focal point, from whom the other providers' are hidden: what it is shown is
    then no answer to "was anyone else proposed?" (whether anyone was is not said either)."""
    return visibility.sees_every_proposal_for(viewer, proposal.recipient)


def placed_above_higher(proposals: Sequence[StoredProposal]) -> dict[int, list[Any]]:
    """The proposals of a list in rank order that stand above a higher score of the same list
    (the matcher's near-tie rule), each with its reasons that say why (``near_tie.*``; empty
    for a run stored before those reasons). A list shown in this order says so beside them."""
    placed: dict[int, list[Any]] = {}
    for i, proposal in enumerate(proposals):
        if any(other.score > proposal.score for other in proposals[i + 1 :]):
            placed[proposal.id or 0] = [r for r in proposal.reasons or [] if _near_tie(r)]
    return placed
