"""The home page each person lands on, and their choice of language."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask_login import current_user

from coalition.blueprints.main import home
from coalition.blueprints.stock.present import suggestions_for, supply_lines
from coalition.extensions import db
from coalition.i18n import LANGUAGES
from coalition.models.organizations import Organization, OrgStatus
from coalition.security import local_path
from coalition.templating import today

bp = Blueprint("main", __name__, template_folder="templates")


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
    context: dict[str, Any] = {
        "active_orgs": counts.get(OrgStatus.ACTIVE, 0),
        "pending_orgs": counts.get(OrgStatus.PENDING, 0),
    }
    org = current_user.organization
    if org is not None:
        context.update(_member_home(org))
    if current_user.is_coordinator:
        context.update(_coordinator_home())
    return render_template("main/dashboard.html", **context)


def _member_home(org: Organization) -> dict[str, Any]:
    """What waits for the organization, its listings, its expiring stock, what is near."""
    return {
        "waiting": home.waiting_matches(),
        "listings": home.open_listings(org),
        "expiring": home.expiring_offers(today(), 60, org),
        "near": home.suggestions(org),
        "supply": supply_lines(org.id),
        "suggested": suggestions_for(org.id),
    }


def _coordinator_home() -> dict[str, Any]:
    """The queue, unmet needs, stock about to expire, the worker's health, recent changes."""
    return {
        "queue": home.queue_summary(),
        "unmet": home.unmet_by_urgency(),
        "coalition_expiring": home.expiring_offers(today(), 30),
        "ops": home.operations(),
        "activity": home.recent_activity(),
    }


@bp.get("/api/v1/docs/assets/<path:filename>")
def swagger_ui_asset(filename: str) -> Any:
    """Swagger UI's scripts and styles, from the installed swagger-ui-bundle package."""
    import swagger_ui_bundle

    return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename, max_age=86400)


@bp.post("/language")
def set_language() -> Any:
    """Remember the chosen language: on the person's account, else in the session."""
    locale = request.form.get("locale", "")
    if locale not in LANGUAGES:
        abort(400)
    session["locale"] = locale
    if current_user.is_authenticated:
        current_user.locale = locale
        db.session.commit()
    return redirect(local_path(request.form.get("next")) or url_for("main.dashboard"))
