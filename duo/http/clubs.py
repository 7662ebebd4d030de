"""Routes of this area (being written)."""

from quart import Blueprint

bp = Blueprint("clubs", __name__)
