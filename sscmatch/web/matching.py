"""The matching pages (blueprint `matching`), registered by `web.init_app`."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("matching", __name__)
