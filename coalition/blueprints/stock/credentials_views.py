"""Credentials pages: an organization adds what it holds, a coordinator verifies it."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from coalition.blueprints.stock.forms import CredentialForm, attach_errors, org_choices
from coalition.blueprints.stock.views import _active_orgs, _translated, bp
from coalition.extensions import db
from coalition.models.credentials import Credential
from coalition.services import catalog, credentials, inventory
from coalition.services.errors import ServiceError


def _form() -> CredentialForm:
    """The form with its choices."""
    form = CredentialForm()
    form.kind.choices = [(kind, gettext(name)) for kind, name in credentials.KINDS.items()]
    if current_user.is_coordinator:
        form.org.choices = org_choices(_active_orgs())
    return form


@bp.route("/credentials", methods=["GET", "POST"], endpoint="credentials")
@login_required
def credentials_page() -> Any:
    """Our credentials and the form to add one; coordinators see and verify everyone's."""
    if not (current_user.organization_id or current_user.is_coordinator):
        abort(403)
    form = _form()
    if form.validate_on_submit() and _save(form):
        db.session.commit()
        flash(gettext("Credential added. A coordinator verifies it before it counts."), "success")
        return redirect(url_for("stock.credentials"))
    rows = (
        credentials.all_credentials(db.session)
        if current_user.is_coordinator
        else credentials.of_org(db.session, current_user.organization_id)
    )
    required = [c for c in catalog.all_categories(db.session) if c.requires_credential]
    status = 422 if request.method == "POST" else 200
    return render_template(
        "stock/credentials.html",
        form=form,
        rows=rows,
        required=required,
        kinds={kind: gettext(name) for kind, name in credentials.KINDS.items()},
        today=date.today(),
    ), status


def _save(form: CredentialForm) -> bool:
    """Add the credential, or put the problems on the form."""
    raw = {"kind": form.kind.data, "document_ref": (form.document_ref.data or "").strip()}
    if form.expires_on.data:
        raw["expires_on"] = form.expires_on.data.isoformat()
    try:
        slug = form.org.data if current_user.is_coordinator else None
        org = inventory.acting_org(db.session, current_user, slug or None)
        credentials.add(db.session, current_user, org.id, raw, date.today())
    except (credentials.CredentialInvalid, inventory.StockInvalid) as exc:
        db.session.rollback()
        attach_errors(form, _translated(exc.errors))
        return False
    except ServiceError as exc:
        db.session.rollback()
        if exc.status in (403, 404):
            raise
        attach_errors(form, {exc.field or "_": [gettext(exc.message)]})
        return False
    return True


@bp.post("/credentials/<int:credential_id>/verify")
@login_required
def verify_credential(credential_id: int) -> Any:
    """A coordinator confirms a credential's document."""
    credential = db.session.get(Credential, credential_id)
    if credential is None:
        abort(404)
    credentials.verify(db.session, current_user, credential)
    db.session.commit()
    flash(gettext("Credential verified."), "success")
    return redirect(url_for("stock.credentials"))
