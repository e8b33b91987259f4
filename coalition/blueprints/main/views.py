"""The dashboard each person lands on."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import redirect, render_template, url_for
from flask_login import current_user

from coalition.blueprints.main import bp
from coalition.extensions import db
from coalition.models.organizations import Organization, OrgStatus


@bp.get("/")
def dashboard() -> Any:
    """Home: what needs attention for this person."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    counts = dict(
        db.session.execute(
            sa.select(Organization.status, sa.func.count()).group_by(Organization.status)
        ).all()
    )
    return render_template(
        "main/dashboard.html",
        active_orgs=counts.get(OrgStatus.ACTIVE, 0),
        pending_orgs=counts.get(OrgStatus.PENDING, 0),
    )
