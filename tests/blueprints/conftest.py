"""Fixtures of the blueprint tests: the people of every authorization table, by role."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from coalition.extensions import db
from coalition.models import Category
from coalition.services import catalog
from tests.listings_support import make_world


@pytest.fixture
def world(app):
    return make_world()


@pytest.fixture
def as_role(app, login, world):
    def _client(role):
        user = world.user(role)
        return app.test_client() if user is None else login(user)

    return _client


@pytest.fixture
def restore_catalog(app):
    """Tests that edit the reference catalog put it back afterwards."""
    yield
    db.session.rollback()
    for category in db.session.scalars(sa.select(Category)):
        if category.slug.startswith("test-"):
            db.session.delete(category)
    db.session.commit()
    from coalition.catalog_data import CATEGORIES

    for row in CATEGORIES:
        category = catalog.category_by_slug(db.session, row["slug"])
        for key in catalog.EDITABLE_FIELDS:
            setattr(category, key, row.get(key, 0))  # unit costs are not reference data
    db.session.commit()
