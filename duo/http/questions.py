"""Routes of this area (being written)."""

from quart import Blueprint

bp = Blueprint("questions", __name__)
