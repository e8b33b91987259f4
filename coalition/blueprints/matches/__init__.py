"""Matches on the web: the coordinators' queue, an organization's matches and ledger,
notifications (bell, list, email preferences) and webhook settings."""

from flask import Blueprint

bp = Blueprint("matches", __name__, template_folder="templates")

from coalition.blueprints.matches import settings_views, views  # noqa: E402,F401
