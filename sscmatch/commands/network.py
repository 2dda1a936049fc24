"""``sscmatch export-network PATH --format graphml|gexf|json|csv [filters]``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from sscmatch.analytics.payload import LAYOUTS
from sscmatch.bundle.csvfile import replace_file

CLI_FORMATS = ("graphml", "gexf", "json", "csv")


@click.command("export-network")
@with_appcontext
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(CLI_FORMATS),
    default=None,
    help="graphml, gexf, json (node-link) or csv (a folder with nodes.csv and edges.csv); "
    "default from PATH's suffix.",
)
@click.option("--theme", default=None, help="Theme id (its sub-themes are included).")
@click.option("--year-from", type=int, default=None, help="First year of the exchanges' start.")
@click.option("--year-to", type=int, default=None, help="Last year of the exchanges' start.")
@click.option("--region", default=None, help="M49 region, e.g. Africa, Americas.")
@click.option("--modality", default=None, help="e.g. study_tour, technical_assistance.")
@click.option("--constituency", default=None, help="Constituency of a partner institution.")
@click.option("--layout", type=click.Choice(LAYOUTS), default="geo", help="Node positions.")
def export_network_command(
    path: Path,
    fmt: str | None,
    theme: str | None,
    year_from: int | None,
    year_to: int | None,
    region: str | None,
    modality: str | None,
    constituency: str | None,
    layout: str,
) -> None:
    """Write the (filtered) cooperation network for Gephi, spreadsheets or Python."""
    from sqlmodel import Session

    from sscmatch import analytics
    from sscmatch.vocab import load_vocabulary

    if fmt is None:
        suffix = path.suffix.lower().lstrip(".")
        fmt = suffix if suffix in ("graphml", "gexf", "json") else "csv"
    raw = {
        "theme": theme,
        "year_from": None if year_from is None else str(year_from),
        "year_to": None if year_to is None else str(year_to),
        "region": region,
        "modality": modality,
        "constituency": constituency,
    }
    vocab = load_vocabulary()
    try:
        filters = analytics.parse_filters({k: v for k, v in raw.items() if v}, vocab)
    except analytics.FilterError as exc:
        raise click.ClickException(str(exc)) from None
    with Session(current_app.extensions["sscmatch.engine"]) as session:
        view = analytics.network_view(session, vocab, filters, layout)
        if fmt == "csv":
            if path.exists() and not path.is_dir():
                raise click.ClickException(f"{path} is a file; CSV export writes a folder")
            path.mkdir(parents=True, exist_ok=True)
            replace_file(path / "nodes.csv", analytics.export(view, vocab, "csv-nodes"))
            replace_file(path / "edges.csv", analytics.export(view, vocab, "csv-edges"))
        else:
            if path.parent and not path.parent.exists():
                raise click.ClickException(f"folder {path.parent} does not exist")
            replace_file(path, analytics.export(view, vocab, fmt))
    net = view.network
    click.echo(
        f"Wrote {path} ({fmt}): {len(net.nodes)} countries, {len(net.links)} links, "
        f"{net.exchange_count} exchanges."
    )


COMMANDS = [export_network_command]
