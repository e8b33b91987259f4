"""Notifications on the web: the bell, the list, email preferences and webhook settings."""

from flask import Blueprint

bp = Blueprint("notifications", __name__, template_folder="templates")

from coalition.blueprints.notifications import views  # noqa: E402,F401
