"""Importing offers from a CSV file: all rows or none."""

from __future__ import annotations

import io
from typing import Any

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from coalition.blueprints.listings.forms import ImportForm, org_choices
from coalition.blueprints.listings.views import _active_orgs, bp
from coalition.extensions import db
from coalition.models.organizations import Organization
from coalition.services.listings_csv import IMPORT_COLUMNS, ImportFailed, import_offers


@bp.route("/import", methods=["GET", "POST"])
@login_required
def import_csv() -> Any:
    """Org admins (and coordinators) import offers from a CSV file: all rows or none."""
    if not (current_user.is_coordinator or current_user.is_org_admin):
        abort(403)
    form = ImportForm()
    form.org.choices = org_choices(_active_orgs())
    errors: list[str] = []
    if form.validate_on_submit():
        errors = _import(form)
        if not errors:
            return redirect(
                url_for("listings.mine" if current_user.organization else "listings.browse")
            )
    status = 422 if request.method == "POST" else 200
    return render_template(
        "listings/import.html", form=form, errors=errors, columns=IMPORT_COLUMNS
    ), status


def _import(form: ImportForm) -> list[str]:
    """Import the uploaded file; return every problem (nothing is written when there is one)."""
    org = current_user.organization or db.session.scalar(
        sa.select(Organization).where(Organization.slug == form.org.data)
    )
    upload = form.file.data
    if org is None:
        return [gettext("Choose the organization.")]
    if not upload:
        return [gettext("Choose a CSV file.")]
    stream = io.TextIOWrapper(upload.stream, encoding="utf-8-sig", newline="")
    try:
        result = import_offers(db.session, current_user, org, stream)
    except ImportFailed as exc:
        db.session.rollback()
        return exc.errors
    db.session.commit()
    flash(
        gettext(
            "Imported %(num)s offers for %(organization)s.",
            num=len(result.listings),
            organization=org.name,
        ),
        "success",
    )
    return []
