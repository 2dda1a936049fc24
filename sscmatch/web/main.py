"""Landing page and health check."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, render_template
from flask_login import current_user
from sqlalchemy import func, text
from sqlmodel import select

from sscmatch.models import Capacity, Exchange, Need
from sscmatch.web.access import PUBLIC, access
from sscmatch.workflow import visibility

bp = Blueprint("main", __name__)


@bp.get("/")
@access(PUBLIC)
def index() -> str:
    from sscmatch.web import get_session

    session = get_session()
    viewer = current_user if current_user.is_authenticated else None
    counts = {
        name: session.exec(
            select(func.count()).select_from(model).where(visibility.visible(model, viewer))
        ).one()
        for name, model in (("capacities", Capacity), ("needs", Need), ("exchanges", Exchange))
    }
    return render_template("main/index.html", counts=counts)


@bp.get("/healthz")
@access(PUBLIC)
def health() -> Any:
    from sscmatch.web import get_session

    get_session().exec(text("SELECT 1"))  # type: ignore[call-overload]
    return jsonify(status="ok")
