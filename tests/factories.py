"""factory_boy factories for the models; rows are flushed into the test's session."""

from __future__ import annotations

import factory
from factory.alchemy import SQLAlchemyModelFactory

from coalition.extensions import db
from coalition.models.listings import Direction, Listing, ListingStatus, Urgency
from coalition.models.organizations import Organization, OrgStatus, OrgType
from coalition.models.users import CoalitionRole, OrgRole, User
from coalition.security import hash_password

PASSWORD = "correct horse battery staple"


class BaseFactory(SQLAlchemyModelFactory):
    """Flush into the scoped session of the app under test."""

    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"


class OrganizationFactory(BaseFactory):
    """An active organization in Brooklyn."""

    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Test Organization {n}")
    slug = factory.Sequence(lambda n: f"test-org-{n}")
    type = OrgType.SYRINGE_SERVICE_PROGRAM
    borough = "Brooklyn"
    address = "Myrtle Ave & Broadway, Brooklyn, NY"
    lat = 40.6971
    lon = -73.9353
    service_radius_km = 30
    contact_email = factory.LazyAttribute(lambda o: f"info@{o.slug}.example.org")
    contact_phone = "+1 718 555 0100"
    status = OrgStatus.ACTIVE


class UserFactory(BaseFactory):
    """A member of a new organization, with a known password."""

    class Meta:
        model = User

    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"person{n}@example.org")
    organization = factory.SubFactory(OrganizationFactory)
    org_role = OrgRole.MEMBER
    password_hash = factory.LazyFunction(lambda: hash_password(PASSWORD))


class OrgAdminFactory(UserFactory):
    """An organization admin."""

    org_role = OrgRole.ORG_ADMIN


class CoordinatorFactory(UserFactory):
    """A coalition coordinator, belonging to no organization."""

    organization = None
    coalition_role = CoalitionRole.COORDINATOR


def category(slug: str):
    """A category of the seeded catalog."""
    import sqlalchemy as sa

    from coalition.models.catalog import Category

    return db.session.scalar(sa.select(Category).where(Category.slug == slug))


class ListingFactory(BaseFactory):
    """An open naloxone offer of a new organization (pass direction/category/… to vary)."""

    class Meta:
        model = Listing

    organization = factory.SubFactory(OrganizationFactory)
    direction = Direction.OFFER
    kind = factory.LazyAttribute(lambda o: o.category.kind)
    category = factory.LazyFunction(lambda: category("naloxone-nasal-4mg"))
    quantity = 100
    lat = factory.LazyAttribute(lambda o: o.organization.lat)
    lon = factory.LazyAttribute(lambda o: o.organization.lon)
    max_distance_km = 30.0
    status = ListingStatus.OPEN


class RequestFactory(ListingFactory):
    """An open naloxone request of high urgency."""

    direction = Direction.REQUEST
    urgency = Urgency.HIGH
