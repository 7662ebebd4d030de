"""Routes of this area (being written)."""

from quart import Blueprint

bp = Blueprint("search", __name__)
