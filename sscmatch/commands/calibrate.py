"""``sscmatch calibrate``: fit the matcher's weights on the stored history and store them.

The next match runs use the stored weights (``workflow/calibrations.py``). With ``--as-of`` a
date before today, the calibration is made as the service would have made it then and, like
``match --as-of``, only printed: storing it would make today's runs ignore the history since.
"""

from __future__ import annotations

import json
from datetime import date

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlmodel import Session

from sscmatch import config
from sscmatch.cli_dates import day
from sscmatch.matching import FACTORS
from sscmatch.matching.calibration import MIN_CASES
from sscmatch.models import Calibration
from sscmatch.workflow import calibrations as wf


def _today() -> date:
    return config.today(current_app.config)  # demos and tests may pin the day


def _print(row: Calibration, who: str, stored: bool) -> None:
    summary = wf.summary(row)
    assert summary is not None
    where = f"Calibration {row.id}" if stored else "Calibration (not stored)"
    click.echo(
        f"{where}: the history before {row.as_of}, windows of {row.window} year(s)"
        + (f", made by {who}" if who else "")
        + "."
    )
    click.echo(f"Learnt from {row.cases} cases of {row.projects} projects.")
    if summary["kept_defaults"]:
        click.echo(
            "Too few cases to learn from (at least "
            f"{MIN_CASES} are needed): the default weights are kept."
        )
    click.echo(f"\n  {'factor':<16}{'fitted':>8}{'default':>9}")
    for factor in FACTORS:
        fitted = float(row.weights.get(factor, 0.0))
        default = float(summary["defaults"][factor])
        click.echo(f"  {factor:<16}{fitted:>8.2f}{default:>9.2f}")
    click.echo("")
    if summary["sentence"]:
        figures = summary["figures"]
        click.echo(summary["sentence"])
        if summary["not_adopted"]:
            click.echo(summary["not_adopted"])
        click.echo(
            f"({figures['cases']} held-out cases of {figures['projects']} projects; mean "
            f"reciprocal rank {figures['mrr']:.2f} against {figures['best_rule_mrr']:.2f}; "
            "the weights that ranked them were fitted on the years before.)"
        )
    else:
        click.echo(
            "No held-out figures: no exchange with named providers and recipients to test on."
        )
    if stored:
        # too few cases: the stored weights are the defaults, whatever "adopted" says
        if summary["adopted"] and not summary["kept_defaults"]:
            click.echo("\nStored: the next match runs use these weights.")
        else:
            click.echo("\nStored: the next match runs keep the default weights.")


@click.command("calibrate")
@with_appcontext
@click.option(
    "--as-of",
    "as_of",
    callback=day,
    metavar="YYYY-MM-DD",
    help="Learn from the history before this date (default today); a past date is not stored.",
)
@click.option(
    "--window",
    default=wf.DEFAULT_WINDOW,
    show_default=True,
    type=click.IntRange(wf.WINDOWS[0], wf.WINDOWS[-1]),
    help="Years of each time split (the held-out window spans as many).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def calibrate_command(as_of: date | None, window: int, as_json: bool) -> None:
    """Fit the matcher's weights on the stored history; the next runs use them."""
    from sscmatch.vocab import load_vocabulary
    from sscmatch.workflow import vectors

    today = _today()
    try:
        when = wf.check_as_of(as_of or today, today)
    except wf.CalibrationError as exc:
        raise click.ClickException(str(exc)) from None
    store = when == today
    engine = current_app.extensions["sscmatch.engine"]
    with Session(engine) as session:  # text vectors first, committed on their own
        vectors.refresh(session)
        session.commit()
    with Session(engine, expire_on_commit=False) as session:
        try:
            row = wf.calibrate(session, load_vocabulary(), today=when, window=window)
        except wf.CalibrationError as exc:
            session.rollback()
            raise click.ClickException(str(exc)) from None
        who = wf.creator(session, row)
        if store:
            session.commit()
        else:
            session.rollback()
            row.id = None
    if as_json:
        document = wf.summary(row) or {}
        document["stored"] = store
        click.echo(json.dumps(document, ensure_ascii=False, indent=1))
        return
    _print(row, who, store)


COMMANDS = [calibrate_command]
