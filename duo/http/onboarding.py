"""Routes of this area (being written)."""

from quart import Blueprint

bp = Blueprint("onboarding", __name__)
