"""Operations: `/metrics` for Prometheus and the coordinators' event backbone page."""

from flask import Blueprint

bp = Blueprint("ops", __name__, template_folder="templates")

from coalition.blueprints.ops import views  # noqa: E402,F401
