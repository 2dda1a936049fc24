"""Calibrating the matcher on the history the database holds, and the weights runs use.

:func:`calibrate` replays the stored history with time splits that never look ahead
(``matching.calibration``), fits the factor weights and stores them as a :class:`Calibration`
with the date and how the suggestions fared on the last held-out window. The latest successful
calibration is what match runs use (:func:`current_weights`); without one, the documented
defaults.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from sscmatch.matching import DEFAULT_WEIGHTS, Weights
from sscmatch.matching import calibration as engine_calibration
from sscmatch.models import Calibration
from sscmatch.vocab import Vocabulary
from sscmatch.workflow.encode import build_corpus

WINDOWS = range(1, 6)
"""Years a held-out window may span."""


class CalibrationError(ValueError):
    """Bad input for a calibration (nothing was stored)."""


def latest(session: Session) -> Calibration | None:
    """The newest successful calibration."""
    query = (
        select(Calibration)
        .where(Calibration.status == "done")
        .order_by(col(Calibration.created_at).desc(), col(Calibration.id).desc())
        .limit(1)
    )
    return session.exec(query).first()


def current_weights(session: Session) -> Weights:
    """What match runs use: the latest calibration's weights, else the defaults."""
    found = latest(session)
    if found is None:
        return DEFAULT_WEIGHTS
    try:
        return Weights.from_dict(found.weights)
    except (TypeError, ValueError):  # a stored calibration this version cannot read
        return DEFAULT_WEIGHTS


def calibrate(
    session: Session,
    vocab: Vocabulary,
    *,
    today: date,
    window: int = engine_calibration.DEFAULT_WINDOW,
    user_id: int | None = None,
) -> Calibration:
    """Fit the weights on the history before ``today`` and store them (the caller commits)."""
    if window not in WINDOWS:
        raise CalibrationError(f"window must be between 1 and {WINDOWS[-1]} years, got {window}")
    corpus = build_corpus(session, vocab)
    result = engine_calibration.calibrate(corpus, today, window)
    row = Calibration(
        created_by=user_id,
        as_of=today.isoformat(),
        window=window,
        weights=result.weights.as_dict(),
        figures=asdict(result.figures) if result.figures else None,
        cases=result.cases,
        projects=result.projects,
    )
    session.add(row)
    session.flush()
    return row


def summary(row: Calibration | None) -> dict[str, Any] | None:
    """What the matching page and the API say about a calibration."""
    if row is None:
        return None
    return {
        "id": row.id,
        "created_at": row.created_at.isoformat(),
        "as_of": row.as_of,
        "window": row.window,
        "weights": dict(row.weights),
        "figures": dict(row.figures) if row.figures else None,
        "cases": row.cases,
        "projects": row.projects,
        "defaults": DEFAULT_WEIGHTS.as_dict(),
    }
