"""Coordinators edit the category catalog."""

from flask import Blueprint

bp = Blueprint("catalog", __name__, url_prefix="/catalog", template_folder="templates")

from coalition.blueprints.catalog import views  # noqa: E402,F401
