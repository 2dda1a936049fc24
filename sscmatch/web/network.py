"""The network pages (blueprint `network`), registered by `web.init_app`."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("network", __name__)
