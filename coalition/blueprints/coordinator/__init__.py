"""Coordinator pages: member organizations and the audit log."""

from flask import Blueprint

bp = Blueprint("coordinator", __name__, url_prefix="/coordinator", template_folder="templates")

from coalition.blueprints.coordinator import views  # noqa: E402,F401
