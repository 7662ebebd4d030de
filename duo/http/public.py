"""Routes of this area (being written)."""

from quart import Blueprint

bp = Blueprint("public", __name__)
