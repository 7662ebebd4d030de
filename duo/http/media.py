"""Routes of this area (being written)."""

from quart import Blueprint

bp = Blueprint("media", __name__)
