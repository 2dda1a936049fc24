"""What a study tour costs.

``travel = people × 2 × distance(capitals) × per_km`` (at least ``air_minimum`` a ticket),
``per diem = people × (days + 1 travel day) × per_diem``, ``local transport = days ×
local_transport``, ``interpretation = days × interpretation`` when needed. Virtual exchanges cost
only interpretation. Defaults are :data:`DEFAULT_RATES` (``config.TOUR_RATE_DEFAULTS``, where the
setting that overrides them is checked by the same rule); the app setting ``SSCMATCH_TOUR_RATES``
(a JSON object) or the ``rates`` argument overrides any of them.

Each cost line keeps its English ``basis`` (exports, the API) and the ``values`` it was computed
from, so a page can say the basis in its reader's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sscmatch.config import TOUR_RATE_DEFAULTS, cost_rate_wrong
from sscmatch.models import StudyTour
from sscmatch.vocab import Vocabulary
from sscmatch.workflow.base import N_
from sscmatch.workflow.tours.base import TourError, _shown

COST_ITEMS = ("travel", "per_diem", "local_transport", "interpretation")

DEFAULT_RATES: Mapping[str, Any] = TOUR_RATE_DEFAULTS
"""The rates and their documented values live with the setting that overrides them (config)."""


def rates(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The cost rates: :data:`DEFAULT_RATES` with ``overrides`` applied, each by the rule of
    ``config.cost_rate_wrong`` (unknown keys, a rate that is not a finite number ≥ 0, a currency
    that is not text refused)."""
    merged = dict(DEFAULT_RATES)
    for key, value in (overrides or {}).items():
        wrong = cost_rate_wrong(key, value)
        if wrong == "unknown":
            raise TourError(
                N_("unknown cost rate %(key)s (known: %(known)s)"),
                key=repr(key),
                known=", ".join(DEFAULT_RATES),
            )
        if wrong == "currency":
            raise TourError(
                N_("cost rate %(key)s must be a currency such as USD, got %(value)s"),
                key=repr(key),
                value=_shown(value),
            )
        if wrong is not None:
            raise TourError(
                N_("cost rate %(key)s must be a number ≥ 0, got %(value)s"),
                key=repr(key),
                value=_shown(value),
            )
        merged[key] = value
    return merged


def estimate_cost(
    vocab: Vocabulary,
    host: str,
    visiting: str,
    *,
    people: int,
    days: int,
    interpretation: bool,
    modality: str = "study_tour",
    rate_overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A cost estimate with its items, the rates used and the total (rounded to whole units).

    >>> from sscmatch.vocab import load_vocabulary
    >>> c = estimate_cost(load_vocabulary(), "ARG", "ARG", people=2, days=3, interpretation=False)
    >>> [i["item"] for i in c["items"]], c["total"]
    (['travel', 'per_diem', 'local_transport'], 2810)
    """
    r = rates(rate_overrides)
    try:
        km = vocab.distance_km(host, visiting)
    except KeyError:
        km = None
    people = max(people, 0) or int(r["delegation_size"])
    items: list[dict[str, Any]] = []
    virtual = modality == "virtual_exchange"
    if not virtual:
        ticket = max(float(r["air_minimum"]), 2 * (km or 0.0) * float(r["air_per_km"]))
        items.append(
            {
                "item": "travel",
                "amount": round(people * ticket),
                "basis": f"{people} × return ticket {round(ticket)}"
                + (f" ({round(km)} km between capitals)" if km is not None else ""),
                "values": {"people": people, "ticket": round(ticket), "km": _km(km)},
            }
        )
        nights = days + 1
        items.append(
            {
                "item": "per_diem",
                "amount": round(people * nights * float(r["per_diem"])),
                "basis": f"{people} × {nights} nights × {r['per_diem']}",
                "values": {"people": people, "nights": nights, "rate": r["per_diem"]},
            }
        )
        items.append(
            {
                "item": "local_transport",
                "amount": round(days * float(r["local_transport"])),
                "basis": f"{days} days × {r['local_transport']}",
                "values": {"days": days, "rate": r["local_transport"]},
            }
        )
    if interpretation:
        items.append(
            {
                "item": "interpretation",
                "amount": round(days * float(r["interpretation"])),
                "basis": f"{days} days × {r['interpretation']}",
                "values": {"days": days, "rate": r["interpretation"]},
            }
        )
    return {
        "currency": r["currency"],
        "distance_km": round(km) if km is not None else None,
        "people": people,
        "days": days,
        "items": items,
        "total": sum(int(i["amount"]) for i in items),
        "rates": r,
    }


def _km(km: float | None) -> int | None:
    return round(km) if km is not None else None


def tour_days(tour: StudyTour) -> int:
    if tour.start and tour.end:
        return (tour.end.first - tour.start.first).days + 1
    return max([int(d.get("day", 1)) for d in tour.agenda] or [1])


def cost_for(
    tour: StudyTour, vocab: Vocabulary, rate_overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The tour's cost estimate recomputed from its delegation, days and interpretation."""
    visitors = sum(1 for m in tour.delegation if m.get("side", "visiting") == "visiting")
    return estimate_cost(
        vocab,
        tour.host_country,
        tour.visiting_country,
        people=visitors,
        days=tour_days(tour),
        interpretation=tour.interpretation,
        modality=tour.modality,
        rate_overrides=rate_overrides,
    )
