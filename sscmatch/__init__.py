"""sscmatch: South-South Cooperation supply–demand matching.

``create_app`` builds the Flask application: configuration (defaults, ``instance/config.py``, the
environment, then ``test_config``), the database engine, the blueprints and the CLI commands.
Nothing is created at import time.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

from sscmatch.config import DEFAULTS, TEXT_SETTINGS
from sscmatch.config import check as check_settings

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def create_app(
    test_config: dict[str, Any] | None = None, instance_path: str | None = None
) -> Flask:
    """Build the app; ``instance_path`` (default ``instance/`` of the checkout, or the
    ``SSCMATCH_INSTANCE_PATH`` environment variable) holds the SQLite file and the secret key."""
    app = Flask(
        __name__,
        instance_path=instance_path
        or os.environ.get("SSCMATCH_INSTANCE_PATH")
        or str(PROJECT_ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    for name in ("DATABASE_URL", "SECRET_KEY"):
        if os.environ.get(name):
            app.config[name] = os.environ[name]
    app.config.from_prefixed_env(prefix="SSCMATCH")
    for name in TEXT_SETTINGS:  # as typed: a password 12345678 is text, not the JSON number
        if f"SSCMATCH_{name}" in os.environ:
            app.config[name] = os.environ[f"SSCMATCH_{name}"]
    if test_config:
        app.config.from_mapping(test_config)
    check_settings(app.config)  # a setting the service cannot use stops it here

    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config["DATABASE_URL"]:
        app.config["DATABASE_URL"] = f"sqlite:///{Path(app.instance_path) / 'sscmatch.db'}"
    _ensure_secret_key(app)

    from sscmatch import db, web

    app.extensions["sscmatch.engine"] = db.make_engine(app.config["DATABASE_URL"])
    web.init_app(app)
    return app


def _ensure_secret_key(app: Flask) -> None:
    """Use SECRET_KEY if given; otherwise a random key kept in the instance folder (mode 0600).

    A generated key is as strong as a configured one; keeping it in a file means sessions survive a
    restart. Deployments with several servers must set the same SECRET_KEY on each.
    """
    if app.config.get("SECRET_KEY"):
        return
    key_file = Path(app.instance_path) / "secret_key"
    if not key_file.exists():
        key_file.touch(mode=0o600)
        key_file.write_text(secrets.token_hex(32))
    app.config["SECRET_KEY"] = key_file.read_text().strip()
