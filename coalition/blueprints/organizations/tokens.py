"""API tokens for an organization's own tools; the token is shown once, only its hash is kept."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from coalition.auth import managed_org
from coalition.blueprints.organizations.forms import TokenForm
from coalition.blueprints.organizations.views import of_org
from coalition.extensions import db
from coalition.models.organizations import Organization
from coalition.models.users import ApiToken
from coalition.services import accounts

bp = Blueprint("tokens", __name__, url_prefix="/org", template_folder="templates")


def _render(org: Organization, form: TokenForm, new_token: str | None = None) -> Any:
    """The tokens page."""
    tokens = db.session.scalars(
        sa.select(ApiToken)
        .where(ApiToken.organization_id == org.id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ).all()
    return render_template(
        "tokens/index.html", org=org, tokens=tokens, form=form, new_token=new_token
    )


@bp.get("/<int:org_id>/tokens")
@login_required
def index(org_id: int) -> Any:
    """The organization's tokens (prefix, label, last use)."""
    return _render(managed_org(org_id), TokenForm())


@bp.post("/<int:org_id>/tokens")
@login_required
def create(org_id: int) -> Any:
    """Create a token and show it once."""
    org = managed_org(org_id)
    form = TokenForm()
    if not form.validate_on_submit():
        return _render(org, form), 422
    _, token = accounts.issue_api_token(
        db.session, current_user, org=org, label=form.label.data or ""
    )
    db.session.commit()
    return _render(org, TokenForm(formdata=None), new_token=token)


@bp.post("/<int:org_id>/tokens/<int:token_id>/revoke")
@login_required
def revoke(org_id: int, token_id: int) -> Any:
    """Revoke a token: tools using it stop working at once."""
    org = managed_org(org_id)
    token = of_org(ApiToken, token_id, org)
    accounts.revoke_api_token(db.session, current_user, token)
    db.session.commit()
    flash(gettext("Token %(prefix)s… is revoked.", prefix=token.prefix), "info")
    return redirect(url_for("tokens.index", org_id=org.id))
