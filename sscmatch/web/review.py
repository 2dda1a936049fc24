"""The review pages (blueprint `review`), registered by `web.init_app`."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("review", __name__)
