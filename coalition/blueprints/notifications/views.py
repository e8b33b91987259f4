"""Notifications on the web: the bell, the list, email preferences and webhook settings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user, login_required

from coalition.blueprints.forms import ActionForm
from coalition.blueprints.notifications.forms import WebhookForm
from coalition.extensions import db
from coalition.models.notifications import Notification, WebhookDelivery
from coalition.models.organizations import Organization
from coalition.models.users import User
from coalition.notify import notifications, webhooks
from coalition.services.audit import audit
from coalition.services.errors import ServiceError

bp = Blueprint("notifications", __name__, template_folder="templates")

LIST_LIMIT = 100
LOG_LIMIT = 50


@bp.app_context_processor
def bell() -> dict[str, Any]:
    """`unread_notifications()` for the bell in the navigation."""

    def unread_notifications() -> int:
        if not isinstance(current_user._get_current_object(), User):
            return 0
        return notifications.unread_count(db.session, current_user.id)

    return {"unread_notifications": unread_notifications}


def _person() -> User:
    """The signed-in person (API tokens have no notifications)."""
    user = current_user._get_current_object()
    if not isinstance(user, User):
        abort(403)
    return user


@bp.get("/notifications")
@login_required
def notification_list() -> Any:
    """The person's notifications, newest first."""
    rows = db.session.scalars(
        sa.select(Notification)
        .where(Notification.user_id == _person().id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(LIST_LIMIT)
    ).all()
    return render_template("notifications/notifications.html", rows=rows, form=ActionForm())


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def read_notification(notification_id: int) -> Any:
    """Mark one notification as read, then open what it is about."""
    if not ActionForm().validate_on_submit():
        abort(400)
    row = db.get_or_404(Notification, notification_id)
    if row.user_id != _person().id:
        abort(404)
    notifications.mark_read(db.session, row.user_id, row.id)
    db.session.commit()
    return redirect(row.link or url_for("notifications.notification_list"))


@bp.post("/notifications/read-all")
@login_required
def read_all() -> Any:
    """Mark every notification as read."""
    if not ActionForm().validate_on_submit():
        abort(400)
    marked = notifications.mark_read(db.session, _person().id)
    db.session.commit()
    flash(
        ngettext(
            "Marked %(num)s notification as read.", "Marked %(num)s notifications as read.", marked
        ),
        "info",
    )
    return redirect(url_for("notifications.notification_list"))


@bp.route("/notifications/preferences", methods=["GET", "POST"])
@login_required
def preferences() -> Any:
    """Which match emails the person receives (in-app notifications always arrive)."""
    user = _person()
    form = ActionForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        wanted = set(request.form.getlist("email")) & set(notifications.MATCH_EVENTS)
        changes = notifications.set_email_choices(db.session, user, wanted)
        if changes:
            audit(db.session, user, "user.email_preferences", user, changes)
        db.session.commit()
        flash(gettext("Email preferences saved."), "success")
        return redirect(url_for("notifications.preferences"))
    return render_template(
        "notifications/preferences.html",
        choices=notifications.email_choices(db.session, user.id),
        labels=notifications.EVENT_LABELS,
        form=form,
    )


# ---------------------------------------------------------------- webhook (org admins)


def _admin_org() -> Organization:
    """The organization the current person administers, else 403."""
    if not getattr(current_user, "is_org_admin", False) or current_user.organization is None:
        abort(403)
    return current_user.organization


@bp.get("/notifications/webhook")
@login_required
def webhook() -> Any:
    """The organization's webhook settings and delivery log."""
    org = _admin_org()
    hook = webhooks.webhook_of(db.session, org)
    return _render_webhook(org, WebhookForm(obj=hook) if hook else WebhookForm())


def _render_webhook(org: Organization, form: WebhookForm, status: int = 200) -> Any:
    """Render the webhook page with the last deliveries."""
    hook = webhooks.webhook_of(db.session, org)
    log: Sequence[WebhookDelivery] = []
    if hook is not None:
        log = db.session.scalars(
            sa.select(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == hook.id)
            .order_by(WebhookDelivery.id.desc())
            .limit(LOG_LIMIT)
        ).all()
    page = render_template(
        "notifications/webhook.html",
        org=org,
        hook=hook,
        form=form,
        log=log,
        action_form=ActionForm(),
    )
    return page, status


@bp.post("/notifications/webhook")
@login_required
def save_webhook() -> Any:
    """Set the URL (a signing secret is made the first time), pause, or rotate the secret."""
    org = _admin_org()
    form = WebhookForm()
    if not form.validate_on_submit():
        return _render_webhook(org, form, 422)
    try:
        webhooks.save_webhook(
            db.session, current_user, org, form.url.data or "", form.active.data, form.rotate.data
        )
    except ServiceError as exc:
        form.url.errors = [exc.message]
        return _render_webhook(org, form, exc.status)
    db.session.commit()
    flash(gettext("Webhook saved."), "success")
    return redirect(url_for("notifications.webhook"))


@bp.post("/notifications/webhook/deliveries/<int:delivery_id>/redeliver")
@login_required
def redeliver_webhook(delivery_id: int) -> Any:
    """Send a failed or interrupted delivery of the organization's webhook again."""
    org = _admin_org()
    found = db.session.get(WebhookDelivery, delivery_id)
    if found is None or found.webhook.organization_id != org.id:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        webhooks.redeliver(db.session, current_user, found)
    except ServiceError as exc:
        flash(gettext(exc.message), "error")
        return redirect(url_for("notifications.webhook")), exc.status
    db.session.commit()
    flash(gettext("The delivery will be sent again shortly."), "success")
    return redirect(url_for("notifications.webhook"))
