"""People: accounts, invitations and API tokens."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coalition.extensions import Model
from coalition.models.base import TimestampMixin, UTCDateTime, enum_column
from coalition.models.organizations import Organization, OrgStatus


class OrgRole(enum.StrEnum):
    """A person's role inside their organization."""

    MEMBER = "member"
    ORG_ADMIN = "org_admin"


class CoalitionRole(enum.StrEnum):
    """A person's role in the coalition as a whole."""

    COORDINATOR = "coordinator"
    ADMIN = "admin"


class User(UserMixin, TimestampMixin, Model):
    """A person who signs in: member staff, org admins, coordinators."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    org_role: Mapped[OrgRole] = mapped_column(
        enum_column(OrgRole, "org_role"), default=OrgRole.MEMBER
    )
    coalition_role: Mapped[CoalitionRole | None] = mapped_column(
        enum_column(CoalitionRole, "coalition_role")
    )
    disabled: Mapped[bool] = mapped_column(default=False)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # part of the session id: bumping it ends every session signed in before
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # "en" or "es"; None follows the browser's Accept-Language
    locale: Mapped[str | None] = mapped_column(String(8))

    organization: Mapped[Organization | None] = relationship(back_populates="users")

    def get_id(self) -> str:
        """The session id: the user id and the session version it was signed in under."""
        return f"{self.id}:{self.session_version}"

    def end_sessions(self) -> None:
        """Sign this person out everywhere: sessions of older versions no longer load."""
        self.session_version = (self.session_version or 0) + 1

    @property
    def is_coordinator(self) -> bool:
        """Coordinators and coalition admins oversee the whole coalition."""
        return self.coalition_role is not None

    @property
    def is_org_admin(self) -> bool:
        """Whether this person administers their organization."""
        return self.org_role == OrgRole.ORG_ADMIN and self.organization_id is not None

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        """Disabled people and staff of organizations that are not active cannot act."""
        if self.disabled:
            return False
        if self.is_coordinator:
            return True
        return self.organization is not None and self.organization.status == OrgStatus.ACTIVE

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class Invitation(TimestampMixin, Model):
    """An emailed, signed, single-use invitation to join an organization."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    org_role: Mapped[OrgRole] = mapped_column(enum_column(OrgRole, "org_role"))
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    organization: Mapped[Organization] = relationship()
    invited_by: Mapped[User | None] = relationship()

    @property
    def is_open(self) -> bool:
        """Not yet used and not revoked."""
        return self.accepted_at is None and self.revoked_at is None


class ApiToken(TimestampMixin, Model):
    """A bearer token for an organization's tools or a coordinator; only its hash is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    label: Mapped[str] = mapped_column(String(120), default="")
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    organization: Mapped[Organization | None] = relationship()
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
