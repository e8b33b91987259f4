"""Credentials an organization holds (a naloxone standing order, a syringe service program
authorization): the document it rests on, its expiry, and the coordinator who verified it.

A category may require its receivers to hold one (`Category.requires_credential`); matching
proposes it only to organizations holding that credential, verified and unexpired.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coalition.extensions import Model
from coalition.models.base import TimestampMixin, UTCDateTime
from coalition.models.organizations import Organization


class Credential(TimestampMixin, Model):
    """One credential of one organization."""

    __tablename__ = "org_credentials"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(60))
    document_ref: Mapped[str] = mapped_column(String(200))
    expires_on: Mapped[date] = mapped_column(Date)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # the 30-day reminder to the organization, and the notice once it has expired (each once)
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expired_notice_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    organization: Mapped[Organization] = relationship()

    def is_valid(self, today: date) -> bool:
        """Verified by a coordinator and not yet expired."""
        return self.verified_at is not None and self.expires_on >= today
