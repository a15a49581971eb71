"""What gunicorn serves in the load and soak benchmarks: the real app, and a bare ES256 baseline.

`gunicorn --pythonpath bench '_wsgi:real()'` serves webapp exactly as production builds it from the
environment, limits included: verification traffic comes from many clinic tokens, each under the
production limit of 600 a minute (bench/_server.py, CLINIC_SYSTEMS).

`'_wsgi:bare()'` is a separate tiny Flask app, not a route of the product: GET /healthz and
POST /verify that only checks the code's ES256 signature (Base45, COSE_Sign1, one signature check)
with the registry's keys, read once at start. It is the "bare ES256 check in a Flask view" that
verification is compared with.

`'_wsgi:with_floor()'` is the product app with one more view, added here and nowhere in webapp/:
POST /api/bench/verify-and-read does the least a verification must do, one ES256 check and then one
prepared point read on the same database (the signing key's row, through webapp/db/prepared_reads.py), in
the same app, so behind the same request hooks as the API, its limiter left out the same way
(issue 19's "bare view doing one ES256 verify and one prepared point read"). The API's verify is served
by the same app in the same run, so the two are compared on one server.
"""

from __future__ import annotations

import tempfile
from typing import Any

from flask import Blueprint, Flask, jsonify, request
from sqlalchemy import bindparam, select

from policy_codes import PREFIX
from policy_codes.base45 import b45decode
from signing.cose import verify1
from signing.errors import SigningError
from webapp import config, create_app
from webapp.db import prepared_reads
from webapp.extensions import csrf
from webapp.models import SigningKeyRecord
from webapp.registry.keys import keystore
from webapp.web.api import limits

#: The point read of the floor view: one row by a unique key, as the API's registry row is read.
KEY_STATUS = select(SigningKeyRecord.status).where(SigningKeyRecord.kid == bindparam("kid"))


def settings() -> dict[str, Any]:
    """The production configuration from the environment (the bench sets every secret: nothing is written)."""
    return config.from_environment(tempfile.gettempdir())


def real() -> Flask:
    return create_app(settings())


def _verified(code: object, trust: Any) -> Any:
    """The COSE message the code carries, its ES256 signature checked; None if it is no good."""
    if not isinstance(code, str) or not code.startswith(PREFIX):
        return None
    try:
        return verify1(b45decode(code[len(PREFIX) :]), trust.get)
    except (SigningError, ValueError):
        return None


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
        return jsonify(signature="good" if _verified(code, trust) else "bad")

    return app


def with_floor() -> Flask:
    return add_floor(create_app(settings()))


def add_floor(app: Flask) -> Flask:
    """`app` with the floor view (this module's docstring): bench/profile_verify.py profiles it too."""
    with app.app_context():
        trust = keystore.trust_list()
    floor = Blueprint("bench_floor", __name__, url_prefix="/api/bench")

    @floor.post("/verify-and-read")
    def verify_and_read() -> Any:
        document = request.get_json(silent=True)
        verified = _verified(document.get("code") if isinstance(document, dict) else None, trust)
        if verified is None:
            return jsonify(signature="bad")
        row = prepared_reads.first_row(KEY_STATUS, {"kid": verified.key.kid.hex()})
        return jsonify(signature="good", key_status=row and row.status)

    app.register_blueprint(floor)
    csrf.exempt(floor)
    limits.exempt_from_the_limiter(floor)
    return app
