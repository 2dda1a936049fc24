"""The tours pages (blueprint `tours`), registered by `web.init_app`."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("tours", __name__)
