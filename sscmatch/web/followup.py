"""The followup pages (blueprint `followup`), registered by `web.init_app`."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("followup", __name__)
