"""Routes of this area (being written)."""

from quart import Blueprint

bp = Blueprint("prospects", __name__)
