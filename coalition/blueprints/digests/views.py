"""Digest pages: my settings and preview, recipients, confirmation, unsubscribe, sends."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from babel.dates import format_datetime
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext
from flask_login import current_user, login_required

from coalition.auth import coordinator_required, current_person, is_coordinator
from coalition.blueprints.digests.forms import WEEKDAY_LABELS, DigestSettingsForm, RecipientForm
from coalition.extensions import csrf, db
from coalition.i18n import DEFAULT_LOCALE
from coalition.models.base import utcnow
from coalition.models.digests import DigestSend, DigestSubscription, SendState
from coalition.models.organizations import Organization, OrgStatus
from coalition.notify.digest import run as digest_run
from coalition.security import TokenError
from coalition.services import digests as service
from coalition.services.catalog import all_categories
from coalition.services.errors import ServiceError

bp = Blueprint("digests", __name__, url_prefix="/digests", template_folder="templates")

# ---------------------------------------------------------------- my digest


def _settings_form(obj: Any = None) -> DigestSettingsForm:
    """The settings form with its choices."""
    form = DigestSettingsForm(obj=obj)
    form.set_choices(all_categories(db.session))
    return form


def _my_subscription() -> DigestSubscription:
    """The signed-in person's subscription, or unsaved defaults (403 for any other principal)."""
    person = current_person()
    return service.subscription_for_user(db.session, person) or service.draft_for_user(person)


def _render_settings(form: DigestSettingsForm, sub: DigestSubscription) -> str:
    """The settings page."""
    return render_template(
        "digests/settings.html",
        form=form,
        sub=sub,
        saved=sub.id is not None,
        next_due=_next_due(sub) if sub.id and sub.is_receiving else None,
        can_manage_recipients=is_coordinator() or current_user.is_org_admin,
    )


def _next_due(sub: DigestSubscription) -> str | None:
    """When the next digest is due, in the subscriber's zone."""
    moment = service.next_due(sub, utcnow())
    if moment is None:
        return None
    zone = service.zone(sub.timezone)
    return format_datetime(moment, "EEEE d MMMM, HH:mm", tzinfo=zone, locale=str(get_locale()))


@bp.get("/settings")
@login_required
def settings() -> Any:
    """My digest: when it comes and what it covers."""
    sub = _my_subscription()
    return _render_settings(_settings_form(sub), sub)


@bp.post("/settings")
@login_required
def save_settings() -> Any:
    """Subscribe, or change my digest."""
    sub = _my_subscription()
    form = _settings_form()
    if form.validate_on_submit():
        try:
            service.save_user_subscription(db.session, current_person(), form.values())
        except ServiceError as exc:
            _field_error(form, exc)
        else:
            db.session.commit()
            flash(gettext("Your digest settings are saved."), "success")
            return redirect(url_for("digests.settings"))
    db.session.rollback()
    return _render_settings(form, sub), 422


def _field_error(form: Any, exc: ServiceError) -> None:
    """Show a service's complaint next to its field."""
    field = getattr(form, exc.field or "", None)
    if field is None:
        flash(gettext(exc.message), "error")
    else:
        field.errors = [*field.errors, gettext(exc.message)]


@bp.post("/settings/stop")
@login_required
def stop() -> Any:
    """Stop my digest."""
    person = current_person()
    sub = service.subscription_for_user(db.session, person)
    if sub is not None and service.stop_subscription(db.session, person, sub, "settings"):
        db.session.commit()
        flash(gettext("You will not receive the digest any more."), "info")
    return redirect(url_for("digests.settings"))


@bp.get("/preview")
@login_required
def preview() -> Any:
    """My next digest, as it would be if it went out now."""
    content, message = digest_run.preview(db.session, _my_subscription())
    return render_template("digests/preview.html", content=content, message=message)


# The digest's own HTML, framed by the preview page: email HTML styles inline, so this one
# response allows inline styles, and nothing else (no script, no requests, sandboxed).
EMAIL_FRAME_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'self'; sandbox"
)


@bp.get("/preview/email")
@login_required
def preview_email() -> Any:
    """The HTML of my next digest, for the preview page's frame."""
    _, message = digest_run.preview(db.session, _my_subscription())
    headers = {"Content-Security-Policy": EMAIL_FRAME_POLICY, "X-Frame-Options": "SAMEORIGIN"}
    return message.html, 200, headers


# ---------------------------------------------------------------- email-only recipients


def _may_manage_recipients() -> None:
    """Coordinators and org admins only."""
    if not (is_coordinator() or current_user.is_org_admin):
        abort(403)


def _recipient_form() -> RecipientForm:
    """The add-recipient form with its choices."""
    form = RecipientForm()
    form.set_choices(all_categories(db.session))
    if is_coordinator():
        orgs = db.session.scalars(
            sa.select(Organization)
            .where(Organization.status == OrgStatus.ACTIVE)
            .order_by(Organization.name)
        ).all()
        form.set_organizations(list(orgs), allow_none=True)
    else:
        form.set_organizations([current_user.organization], allow_none=False)
    if request.method == "GET":
        form.timezone.data = service.default_timezone(current_user.organization)
        form.hour.data = 8
        form.locale.data = current_user.locale or str(get_locale() or DEFAULT_LOCALE)
    return form


def _render_recipients(form: RecipientForm) -> str:
    """The recipients page."""
    return render_template(
        "digests/recipients.html",
        form=form,
        recipients=service.managed_recipients(db.session, current_user),
        weekdays=WEEKDAY_LABELS,
    )


@bp.get("/recipients")
@login_required
def recipients() -> Any:
    """Email-only recipients I manage, and a form to add one."""
    _may_manage_recipients()
    return _render_recipients(_recipient_form())


@bp.post("/recipients")
@login_required
def add_recipient() -> Any:
    """Add an email-only recipient; they confirm by email before anything is sent."""
    _may_manage_recipients()
    form = _recipient_form()
    if form.validate_on_submit():
        org = _chosen_org(form)
        try:
            service.add_recipient(
                db.session,
                current_user,
                form.email.data or "",
                form.name.data or "",
                org,
                form.values(),
                locale=form.locale.data,
            )
        except ServiceError as exc:
            _field_error(form, exc)
        else:
            db.session.commit()
            flash(
                gettext(
                    "We sent %(email)s a link to confirm the subscription.",
                    email=form.email.data,
                ),
                "success",
            )
            return redirect(url_for("digests.recipients"))
    db.session.rollback()
    return _render_recipients(form), 422


def _chosen_org(form: RecipientForm) -> Organization | None:
    """The organization chosen (org admins can only choose their own)."""
    if not form.organization.data:
        return None
    return db.session.get(Organization, int(form.organization.data))


@bp.post("/recipients/<int:sub_id>/remove")
@login_required
def remove_recipient(sub_id: int) -> Any:
    """Stop an email-only recipient's digest."""
    sub = db.get_or_404(DigestSubscription, sub_id)
    if sub.user_id is not None:
        abort(404)
    if not service.can_manage_recipient(current_user, sub):
        abort(403)
    if service.stop_subscription(db.session, current_user, sub, "removed"):
        db.session.commit()
        flash(gettext("%(email)s will not receive the digest any more.", email=sub.email), "info")
    return redirect(url_for("digests.recipients"))


# ---------------------------------------------------------------- links in emails


def _invalid(message: str) -> Any:
    """A page for a link that is forged, expired or otherwise unusable."""
    return render_template("digests/link_invalid.html", message=message), 400


@bp.get("/confirm/<token>")
def confirm(token: str) -> Any:
    """The double opt-in page: a button, so that link scanners confirm nothing."""
    try:
        sub = service.subscription_from_confirm_token(db.session, token)
    except TokenError as exc:
        return _invalid(str(exc))
    return render_template("digests/confirm.html", sub=sub, token=token, done=False)


@bp.post("/confirm/<token>")
def confirm_post(token: str) -> Any:
    """Confirm an email-only subscription."""
    try:
        sub = service.subscription_from_confirm_token(db.session, token)
        confirmed = service.confirm_recipient(db.session, sub)
    except TokenError as exc:
        return _invalid(str(exc))
    db.session.commit()
    return render_template("digests/confirm.html", sub=sub, token=token, done=True, new=confirmed)


@bp.get("/unsubscribe/<token>")
def unsubscribe(token: str) -> Any:
    """The unsubscribe page: one button, no sign-in."""
    try:
        sub = service.subscription_from_unsubscribe_token(db.session, token)
    except TokenError as exc:
        return _invalid(str(exc))
    return render_template("digests/unsubscribe.html", sub=sub, token=token, done=False)


@bp.post("/unsubscribe/<token>")
def unsubscribe_one_click(token: str) -> Any:
    """RFC 8058 one-click unsubscribe: no session and no CSRF token; the signature is the key."""
    try:
        sub = service.subscription_from_unsubscribe_token(db.session, token)
    except TokenError as exc:
        return _invalid(str(exc))
    stopped = service.stop_subscription(db.session, None, sub, "link")
    db.session.commit()
    return render_template(
        "digests/unsubscribe.html", sub=sub, token=token, done=True, already=not stopped
    )


# mail clients post List-Unsubscribe=One-Click without any token of ours
csrf.exempt(unsubscribe_one_click)


# ---------------------------------------------------------------- coordinators


@bp.get("/sends")
@coordinator_required
def sends() -> Any:
    """Recent digests and failures."""
    state = request.args.get("state") or None
    chosen = SendState(state) if state in {s.value for s in SendState} else None
    since = utcnow() - timedelta(days=7)
    return render_template(
        "digests/sends.html",
        sends=service.recent_sends(db.session, chosen, limit=200),
        counts=service.send_counts(db.session, since),
        state=chosen,
        states=list(SendState),
        subscribers=_subscriber_count(),
    )


def _subscriber_count() -> int:
    """Active, confirmed subscriptions."""
    query = sa.select(sa.func.count()).select_from(service.receiving_query().subquery())
    return db.session.scalar(query) or 0


@bp.post("/sends/<int:send_id>/retry")
@coordinator_required
def retry(send_id: int) -> Any:
    """Send a failed digest again at the next run."""
    send = db.get_or_404(DigestSend, send_id)
    service.retry_now(db.session, current_user, send)
    db.session.commit()
    flash(
        gettext(
            "The digest for %(recipient)s will be sent at the next run.", recipient=send.recipient
        ),
        "success",
    )
    return redirect(url_for("digests.sends", state="failed"))
