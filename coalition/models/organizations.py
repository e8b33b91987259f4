"""Member organizations of the coalition."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coalition.extensions import Model
from coalition.models.base import TimestampMixin, enum_column

if TYPE_CHECKING:
    from coalition.models.users import User


class OrgType(enum.StrEnum):
    """What kind of organization a member is."""

    SYRINGE_SERVICE_PROGRAM = "syringe_service_program"
    OVERDOSE_PREVENTION_CENTER = "overdose_prevention_center"
    DROP_IN_CENTER = "drop_in_center"
    OUTREACH_TEAM = "outreach_team"
    CLINIC = "clinic"
    OTHER = "other"

    @property
    def label(self) -> str:
        """Human label."""
        return self.value.replace("_", " ").capitalize()


class OrgStatus(enum.StrEnum):
    """Membership status, set by coordinators."""

    PENDING = "pending"
    ACTIVE = "active"
    SUSPENDED = "suspended"


class Organization(TimestampMixin, Model):
    """A member organization: where it is, how to reach it, and its standing."""

    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(80), unique=True, index=True)
    type: Mapped[OrgType] = mapped_column(enum_column(OrgType, "org_type"))
    address: Mapped[str] = mapped_column(String(300), default="")
    borough: Mapped[str] = mapped_column(String(80), default="")
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    service_radius_km: Mapped[int] = mapped_column(Integer, default=25)
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="America/New_York")
    status: Mapped[OrgStatus] = mapped_column(
        enum_column(OrgStatus, "org_status"), default=OrgStatus.PENDING
    )
    discreet_wording: Mapped[bool] = mapped_column(default=False)
    # "Show our name on listings": off, other organizations see "a member organization" on
    # its listings, in the directory and in proposed matches until a match is approved
    show_name: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    users: Mapped[list[User]] = relationship(back_populates="organization")

    @property
    def is_active(self) -> bool:
        """Whether the organization may act on the platform."""
        return self.status == OrgStatus.ACTIVE

    @property
    def area(self) -> str:
        """Borough or city, the only place shown before a match is approved."""
        return self.borough or "New York City"

    def __repr__(self) -> str:
        return f"<Organization {self.slug}>"
