"""Routes of this area (being written)."""

from quart import Blueprint

bp = Blueprint("feed", __name__)
