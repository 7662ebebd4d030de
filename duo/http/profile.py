"""Routes of this area (being written)."""

from quart import Blueprint

bp = Blueprint("profile", __name__)
