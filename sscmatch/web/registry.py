"""The registry pages (blueprint `registry`), registered by `web.init_app`."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("registry", __name__)
