"""Explicit registries of the web and API blueprints, one package per feature."""

from coalition.blueprints.auth import bp as auth_bp
from coalition.blueprints.catalog import bp as catalog_bp
from coalition.blueprints.catalog import categories_blp as categories_api
from coalition.blueprints.coordinator import bp as coordinator_bp
from coalition.blueprints.digests import bp as digests_bp
from coalition.blueprints.health import bp as health_bp
from coalition.blueprints.impact import blp as impact_api
from coalition.blueprints.impact import bp as impact_bp
from coalition.blueprints.listings import bp as listings_bp
from coalition.blueprints.listings import offers_blp as offers_api
from coalition.blueprints.listings import requests_blp as requests_api
from coalition.blueprints.main import bp as main_bp
from coalition.blueprints.matches import blp as matches_api
from coalition.blueprints.matches import bp as matches_bp
from coalition.blueprints.notifications import bp as notifications_bp
from coalition.blueprints.ops import bp as ops_bp
from coalition.blueprints.organizations import blp as organizations_api
from coalition.blueprints.organizations import bp as orgs_bp
from coalition.blueprints.organizations import tokens_bp
from coalition.blueprints.stock import blp as stock_api
from coalition.blueprints.stock import bp as stock_bp

BLUEPRINTS = (
    main_bp,
    auth_bp,
    orgs_bp,
    coordinator_bp,
    health_bp,
    ops_bp,
    listings_bp,
    tokens_bp,
    catalog_bp,
    matches_bp,
    notifications_bp,
    digests_bp,
    impact_bp,
    stock_bp,
)
API_BLUEPRINTS = (
    organizations_api,
    offers_api,
    requests_api,
    categories_api,
    matches_api,
    impact_api,
    stock_api,
)
