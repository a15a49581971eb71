"""The Flask application: the app factory lives here (flaskr's shape)."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, jsonify, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from webapp import config, console, extensions
from webapp.db import poolers, replicas, worker_state
from webapp.db.engines import add_reads_binds, bound_answers, configure_sqlite, create_sqlite_file, replica_binds
from webapp.db.shared_counts import storage_options
from webapp.registry.errors import RegistryError
from webapp.web import errors, json_provider, security
from webapp.web.routing import DatabaseId


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app. Templates and static files sit at the project's top level."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="../static",
    )
    app.url_map.converters["int"] = DatabaseId  # before any route is added
    app.json = json_provider.OrjsonProvider(app)
    app.config.from_mapping(config.DEFAULTS)
    if test_config is None:
        try:
            app.config.from_mapping(config.from_environment(app.instance_path))
        except config.SettingError as error:  # a server or a command refuses to start, with one line saying why
            raise SystemExit(console.refused(error.message, error.params)) from None
    else:
        app.config.from_mapping(test_config)

    if hops := app.config.get("PROXY_HOPS", 0):
        # The client's address (per-address login limits) and scheme come from the proxies' headers,
        # trusted from exactly this many of them: with none, a client could forge those headers.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    # If Redis stops answering, each worker limits logins by its own counts instead of failing them.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    # … and waits for it a quarter of a second at most: one that froze held every request.
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", storage_options(app.config.get("RATELIMIT_STORAGE_URI", "")))
    create_sqlite_file(app.config["SQLALCHEMY_DATABASE_URI"], app.instance_path)
    add_reads_binds(app.config)
    security.cap_streamed_bodies(app)  # before the limiter's and the CSRF check's reading of the form
    security.refuse_nul_bytes(app)  # … and before anything reads a field at all
    # `extensions.db`, not a bare `db`: webapp.db is the package of engines and reads.
    extensions.db.init_app(app)
    extensions.migrate.init_app(app, extensions.db, directory=str(config.MIGRATIONS))
    extensions.limiter.init_app(app)
    with app.app_context():
        decisions = worker_state.of(app).pooler_decisions
        standbys = replica_binds(app.config)
        for bind, engine in extensions.db.engines.items():
            configure_sqlite(engine)
            poolers.configure(engine, app.config.get("DATABASE_POOLER", ""), decisions)
            if bind in standbys:
                bound_answers(engine)

    from webapp import cli, startup
    from webapp.web import api, auth, form_errors, i18n, labels, messages
    from webapp.web.views.admin import admin
    from webapp.web.views.citizen import citizen
    from webapp.web.views.clinic import clinic, htmx
    from webapp.web.views.insurer import insurer
    from webapp.web.views.pwa import pwa

    cli.init_app(app)
    security.init_app(app)
    i18n.init_app(app)
    labels.init_app(app)
    form_errors.init_app(app)
    messages.init_app(app)
    auth.init_app(app)
    extensions.csrf.init_app(app)
    htmx.init_app(app)
    api.init_app(app)
    for blueprint in (admin, citizen, clinic, insurer, pwa):
        app.register_blueprint(blueprint)
    errors.init_app(app)
    if test_config is None and os.environ.get("FLASK_RUN_FROM_CLI") != "true":  # a server, not a command
        try:
            startup.check(app)
        except RegistryError as error:
            raise SystemExit(console.refused(error.message, error.params)) from None

    @app.get("/healthz")
    def healthz() -> Any:
        """Liveness for load balancers, and the baseline in benchmarks. With read replicas, also where this
        worker's verification reads go and each replica's state and lag (by name, never by address); the
        app stays "ok" while they lag: its reads go to the primary meanwhile."""
        state = replicas.report()
        return jsonify(status="ok") if state is None else jsonify(status="ok", **state)

    @app.get("/")
    def index() -> Any:
        if current_user.is_authenticated and current_user.role in auth.HOME_BY_ROLE:
            home = auth.HOME_BY_ROLE[current_user.role]
            if home != "index":
                return redirect(url_for(home))
        return render_template("index.html")

    return app
