"""Explicit registries of the web and API blueprints."""

from coalition.blueprints.auth import bp as auth_bp
from coalition.blueprints.coordinator import bp as coordinator_bp
from coalition.blueprints.health import bp as health_bp
from coalition.blueprints.main import bp as main_bp
from coalition.blueprints.organizations_api import blp as organizations_api
from coalition.blueprints.orgs import bp as orgs_bp

BLUEPRINTS = (main_bp, auth_bp, orgs_bp, coordinator_bp, health_bp)
API_BLUEPRINTS = (organizations_api,)
