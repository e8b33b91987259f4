"""Forecast suggestions on the web: dismiss one, set thresholds, the coordinators' risk page."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from coalition.auth import coordinator_required
from coalition.blueprints.stock import present
from coalition.blueprints.stock.views import bp
from coalition.extensions import db
from coalition.models.inventory import StockForecast, StockSuggestion, SuggestionState
from coalition.models.matches import OPEN_STATES, Match
from coalition.services import catalog, proactive
from coalition.services.errors import ServiceError


@bp.post("/suggestions/<int:suggestion_id>/dismiss")
@login_required
def dismiss_suggestion(suggestion_id: int) -> Any:
    """Dismiss a suggestion: its listing is withdrawn and none comes back for a while."""
    suggestion = db.session.get(StockSuggestion, suggestion_id)
    if suggestion is None:
        abort(404)
    proactive.dismiss(db.session, current_user, suggestion)
    db.session.commit()
    flash(gettext("Suggestion dismissed; its listing is withdrawn."), "success")
    return redirect(request.form.get("next") or url_for("stock.index"))


@bp.post("/settings")
@login_required
def save_settings() -> Any:
    """Our lead time for one category, and whether the forecast may suggest for it."""
    org_id = current_user.organization_id
    category = catalog.category_by_slug(db.session, request.form.get("category") or "")
    if org_id is None:
        abort(403)
    if category is None:
        flash(gettext("Choose one of the categories."), "error")
        return redirect(url_for("stock.index")), 303
    try:
        lead_days = int(request.form.get("lead_days") or "")
        proactive.save_setting(
            db.session, org_id, category.id, lead_days, request.form.get("suggest") == "on"
        )
    except (ValueError, ServiceError):
        db.session.rollback()
        flash(gettext("The lead time must be a whole number of days, 1 to 180."), "error")
        return redirect(url_for("stock.index")), 303
    db.session.commit()
    flash(gettext("Saved."), "success")
    return redirect(url_for("stock.index"))


@bp.get("/risk")
@login_required
@coordinator_required
def risk() -> Any:
    """Who runs out soonest, what expires soonest, and the suggestions that would fix both."""
    rows = db.session.scalars(sa.select(StockForecast)).all()
    soonest = sorted((r for r in rows if r.days_left is not None), key=lambda r: r.days_left or 0.0)
    expiring = sorted((r for r in rows if r.expiring_units), key=lambda r: -r.expiring_units)
    active = db.session.scalars(
        sa.select(StockSuggestion).where(StockSuggestion.state == SuggestionState.ACTIVE)
    ).all()
    by_pair = {(s.organization_id, s.category_id, s.direction): s for s in active}
    listing_ids = [s.listing_id for s in active]
    matches = db.session.scalars(
        sa.select(Match).where(
            sa.or_(Match.offer_id.in_(listing_ids), Match.request_id.in_(listing_ids)),
            Match.state.in_(OPEN_STATES),
        )
    ).all()
    fixes: dict[int, list[Match]] = {}
    for match in matches:
        for listing_id in (match.offer_id, match.request_id):
            fixes.setdefault(listing_id, []).append(match)
    return render_template(
        "stock/risk.html",
        soonest=soonest[:50],
        expiring=expiring[:50],
        by_pair=by_pair,
        fixes=fixes,
        days_text=present.days_text,
        suggestion_text=present.suggestion_text,
    )
