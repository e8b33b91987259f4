"""Sign-in pages."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from coalition.blueprints.auth import bp
from coalition.blueprints.auth.forms import (
    AcceptInvitationForm,
    LoginForm,
    ResetRequestForm,
    SetPasswordForm,
)
from coalition.extensions import db, limiter
from coalition.models.base import utcnow
from coalition.security import TokenError, verify_password
from coalition.services import accounts

SUSPENDED = "Your organization's access is suspended. Contact the coalition coordinators."
PENDING = "Your organization has not been approved yet."


def _login_limit() -> str:
    """The configured sign-in rate limit."""
    return current_app.config["LOGIN_RATE_LIMIT"]


def _failed(response: Any) -> bool:
    """Only failed sign-ins count against the limit."""
    return response.status_code != 302


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed)
def login() -> Any:
    """Sign in with email and password."""
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = LoginForm()
    if not form.validate_on_submit():
        return _form_page("auth/login.html", form=form)
    error = _sign_in(form.email.data or "", form.password.data or "")
    if error is None:
        return redirect(_safe_next(request.args.get("next")))
    form.password.errors.append(error)
    return render_template("auth/login.html", form=form), 401


def _sign_in(email: str, password: str) -> str | None:
    """Log the person in, or return why not."""
    user = accounts.find_user(db.session, email)
    if user is None or not verify_password(user.password_hash, password):
        return "Email or password is wrong."
    if not user.is_active:
        return _inactive_reason(user)
    user.last_login_at = utcnow()
    db.session.commit()
    login_user(user)
    return None


def _inactive_reason(user: Any) -> str:
    """Why an account with the right password may not sign in."""
    if user.disabled:
        return "This account is disabled."
    org = user.organization
    return PENDING if org is not None and org.status.value == "pending" else SUSPENDED


def _safe_next(target: str | None) -> str:
    """Only follow local redirects after sign-in."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("main.dashboard")


@bp.post("/logout")
@login_required
def logout() -> Any:
    """Sign out."""
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept_invitation(token: str) -> Any:
    """Accept an invitation: choose a name and password."""
    try:
        invitation = accounts.invitation_from_token(db.session, token)
    except TokenError as exc:
        return render_template("auth/link_invalid.html", reason=str(exc)), 400
    form = AcceptInvitationForm(name=invitation.name or None)
    if form.validate_on_submit():
        user = accounts.accept_invitation(
            db.session, invitation, form.name.data or "", form.password.data or ""
        )
        db.session.commit()
        if user.is_active:
            login_user(user)
        flash(f"Welcome to Coalition, {user.name}.", "success")
        return redirect(url_for("main.dashboard"))
    return _form_page("auth/accept_invitation.html", form=form, invitation=invitation)


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def request_reset() -> Any:
    """Ask for a password reset link."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        accounts.request_password_reset(db.session, form.email.data or "")
        db.session.commit()
        flash("If that email has an account, a reset link is on its way.", "info")
        return redirect(url_for("auth.login"))
    return _form_page("auth/reset_request.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Any:
    """Set a new password from an emailed link."""
    try:
        user = accounts.user_from_reset_token(db.session, token)
    except TokenError as exc:
        return render_template("auth/link_invalid.html", reason=str(exc)), 400
    form = SetPasswordForm()
    if form.validate_on_submit():
        accounts.set_password(db.session, user, form.password.data or "")
        db.session.commit()
        flash("Your password is changed. Sign in with it now.", "success")
        return redirect(url_for("auth.login"))
    return _form_page("auth/reset_password.html", form=form)


def _form_page(template: str, **context: Any) -> Any:
    """Show a form; a submitted form with errors answers 422."""
    status = 422 if request.method == "POST" else 200
    return render_template(template, **context), status
