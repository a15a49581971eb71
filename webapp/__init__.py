"""The Flask application: the app factory lives here (flaskr's shape)."""

from __future__ import annotations

import os
import secrets
from typing import Any

from flask import Flask, jsonify, render_template


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app. Templates and static files sit at the project's top level."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="../static",
    )
    app.config.from_mapping(SECRET_KEY=os.environ.get("SECRET_KEY") or secrets.token_hex(32))
    if test_config is not None:
        app.config.from_mapping(test_config)

    @app.get("/healthz")
    def healthz() -> Any:
        """Liveness for load balancers, and the baseline in benchmarks."""
        return jsonify(status="ok")

    @app.get("/")
    def index() -> str:
        return render_template("index.html")

    return app
