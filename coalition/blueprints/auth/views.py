"""Sign-in pages."""

from __future__ import annotations

import math
import time
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_limiter import RateLimitExceeded
from flask_login import current_user, login_required, login_user, logout_user

from coalition.auth import current_person
from coalition.blueprints.auth.forms import (
    AcceptInvitationForm,
    LoginForm,
    ResetRequestForm,
    SetPasswordForm,
)
from coalition.config import current_settings
from coalition.extensions import db, limiter
from coalition.i18n import N_
from coalition.models.base import utcnow
from coalition.security import TokenError, local_path, verify_password
from coalition.services import accounts

bp = Blueprint("auth", __name__, template_folder="templates")

SUSPENDED = N_("Your organization's access is suspended. Contact the coalition coordinators.")
PENDING = N_("Your organization has not been approved yet.")


def _account_limit() -> str:
    """Failed sign-ins allowed per account (whatever the address)."""
    return current_settings().login_rate_limit


def _address_limit() -> str:
    """Failed sign-ins allowed per address: higher, so one office shares it."""
    return current_settings().login_address_rate_limit


def _account_key() -> str:
    """The account a sign-in or reset is for; empty (no account limit) without an email."""
    email = accounts.normalise_email(request.form.get("email", ""))
    return f"account:{email}" if email else ""


def _failed(response: Any) -> bool:
    """Only failed sign-ins count against the limit."""
    return response.status_code != 302


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_address_limit, methods=["POST"], deduct_when=_failed)
@limiter.limit(_account_limit, methods=["POST"], deduct_when=_failed, key_func=_account_key)
def login() -> Any:
    """Sign in with email and password."""
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = LoginForm()
    if not form.validate_on_submit():
        return _form_page("auth/login.html", form=form)
    error = _sign_in(form.email.data or "", form.password.data or "")
    if error is None:
        return redirect(local_path(request.args.get("next")) or url_for("main.dashboard"))
    form.password.errors.append(error)
    return render_template("auth/login.html", form=form), 401


def _sign_in(email: str, password: str) -> str | None:
    """Log the person in, or return why not (unknown emails cost the same hashing work)."""
    user = accounts.find_user(db.session, email)
    if not verify_password(user.password_hash if user else None, password) or user is None:
        return gettext("Email or password is wrong.")
    if not user.is_active:
        return _inactive_reason(user)
    user.last_login_at = utcnow()
    db.session.commit()
    login_user(user)
    return None


def _inactive_reason(user: Any) -> str:
    """Why an account with the right password may not sign in."""
    if user.disabled:
        return gettext("This account is disabled.")
    org = user.organization
    reason = PENDING if org is not None and org.status.value == "pending" else SUSPENDED
    return gettext(reason)


@bp.errorhandler(RateLimitExceeded)
def too_many_attempts(error: RateLimitExceeded) -> Any:
    """The 429 page says in words when to try again, and Retry-After says it in seconds."""
    wait = _seconds_until_reset()
    message = f"Too many attempts. Try again in {wait_in_words(wait)}."
    page = render_template("errors/generic.html", code=429, message=message)
    return page, 429, {"Retry-After": str(wait)}


def _seconds_until_reset() -> int:
    """Seconds until the breached limit lets this request through again."""
    breached = limiter.current_limit
    if breached is None:
        return 60
    return max(1, math.ceil(breached.reset_at - time.time()))


def wait_in_words(seconds: int) -> str:
    """'about a minute', 'about 5 minutes', 'about an hour', 'about 3 hours'."""
    minutes = max(1, int(seconds / 60 + 0.5))
    if minutes == 1:
        return "about a minute"
    if minutes < 60:
        return f"about {minutes} minutes"
    if minutes < 90:
        return "about an hour"
    return f"about {int(minutes / 60 + 0.5)} hours"


@bp.post("/logout")
@login_required
def logout() -> Any:
    """Sign out, here and on every device that holds a copy of the session."""
    accounts.sign_out(db.session, current_person())
    db.session.commit()
    logout_user()
    flash(gettext("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept_invitation(token: str) -> Any:
    """Accept an invitation: choose a name and password."""
    try:
        invitation = accounts.invitation_from_token(db.session, token)
    except TokenError as exc:
        return render_template("auth/link_invalid.html", reason=gettext(str(exc))), 400
    form = AcceptInvitationForm(name=invitation.name or None)
    if form.validate_on_submit():
        user = accounts.accept_invitation(
            db.session, invitation, form.name.data or "", form.password.data or ""
        )
        db.session.commit()
        if user.is_active:
            login_user(user)
        flash(gettext("Welcome to Coalition, %(name)s.", name=user.name), "success")
        return redirect(url_for("main.dashboard"))
    return _form_page("auth/accept_invitation.html", form=form, invitation=invitation)


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(_address_limit, methods=["POST"])
@limiter.limit(_account_limit, methods=["POST"], key_func=_account_key)
def request_reset() -> Any:
    """Ask for a password reset link."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        accounts.request_password_reset(db.session, form.email.data or "")
        db.session.commit()
        flash(gettext("If that email has an account, a reset link is on its way."), "info")
        return redirect(url_for("auth.login"))
    return _form_page("auth/reset_request.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Any:
    """Set a new password from an emailed link."""
    try:
        user = accounts.user_from_reset_token(db.session, token)
    except TokenError as exc:
        return render_template("auth/link_invalid.html", reason=gettext(str(exc))), 400
    form = SetPasswordForm()
    if form.validate_on_submit():
        accounts.set_password(db.session, user, form.password.data or "")
        db.session.commit()
        flash(gettext("Your password is changed. Sign in with it now."), "success")
        return redirect(url_for("auth.login"))
    return _form_page("auth/reset_password.html", form=form)


def _form_page(template: str, **context: Any) -> Any:
    """Show a form; a submitted form with errors answers 422."""
    status = 422 if request.method == "POST" else 200
    return render_template(template, **context), status
