"""The API's blueprint, on its own so that its routes and the app factory both import it, and not each other."""

from flask import Blueprint

api = Blueprint("api", __name__, url_prefix="/api/v1")
