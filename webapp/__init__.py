"""The Flask application: the app factory lives here (flaskr's shape)."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template

from webapp import config
from webapp.database import configure_sqlite
from webapp.extensions import db, limiter, migrate


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app. Templates and static files sit at the project's top level."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="../static",
    )
    if test_config is None:
        app.config.from_mapping(config.from_environment(app.instance_path))
    else:
        app.config.from_mapping(test_config)

    app.config.setdefault("MAX_CONTENT_LENGTH", 1024 * 1024)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(config.MIGRATIONS))
    limiter.init_app(app)
    with app.app_context():
        configure_sqlite(db.engine)

    from webapp import cli

    cli.init_app(app)

    from webapp.api import api

    app.register_blueprint(api)

    @app.get("/healthz")
    def healthz() -> Any:
        """Liveness for load balancers, and the baseline in benchmarks."""
        return jsonify(status="ok")

    @app.get("/")
    def index() -> str:
        return render_template("index.html")

    return app
