"""What gunicorn serves in the load and soak benchmarks: the real app, and a bare ES256 baseline.

`gunicorn --pythonpath bench '_wsgi:real()'` serves webapp exactly as production builds it from the
environment, limits included: verification traffic comes from many clinic tokens, each under the
production limit of 600 a minute (bench/_server.py, CLINIC_SYSTEMS).

`'_wsgi:bare()'` is a separate tiny Flask app, not a route of the product: GET /healthz and
POST /verify that only checks the code's ES256 signature (Base45, COSE_Sign1, one signature check)
with the registry's keys, read once at start. It is the "bare ES256 check in a Flask view" that
verification is compared with.
"""

from __future__ import annotations

import tempfile
from typing import Any

from flask import Flask, jsonify, request

from policy_codes import PREFIX
from policy_codes.base45 import b45decode
from signing.cose import verify1
from signing.errors import SigningError
from webapp import config, create_app
from webapp.registry.keys import keystore


def settings() -> dict[str, Any]:
    """The production configuration from the environment (the bench sets every secret: nothing is written)."""
    return config.from_environment(tempfile.gettempdir())


def real() -> Flask:
    return create_app(settings())


def bare() -> Flask:
    product = create_app(settings())
    with product.app_context():
        trust = keystore.trust_list()
    app = Flask("bare_es256")

    @app.get("/healthz")
    def healthz() -> Any:
        return jsonify(status="ok")

    @app.post("/verify")
    def verify() -> Any:
        document = request.get_json(silent=True)
        code = document.get("code") if isinstance(document, dict) else None
        if not isinstance(code, str) or not code.startswith(PREFIX):
            return jsonify(error=400), 400
        try:
            verify1(b45decode(code[len(PREFIX) :]), trust.get)
        except (SigningError, ValueError):
            return jsonify(signature="bad")
        return jsonify(signature="good")

    return app
