"""The category catalog: coordinators edit it on the web; `/api/v1/categories` reads it."""

from coalition.blueprints.catalog.api import categories_blp
from coalition.blueprints.catalog.views import bp

__all__ = ["bp", "categories_blp"]
