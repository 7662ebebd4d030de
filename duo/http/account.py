"""Routes of this area (being written)."""

from quart import Blueprint

bp = Blueprint("account", __name__)
