"""The admin pages (blueprint `admin`), registered by `web.init_app`."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__)
