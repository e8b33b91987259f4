"""Stock pages: our stock on hand, the quick count (phone first), and the history."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from coalition.blueprints.stock import present
from coalition.blueprints.stock.forms import CountForm, attach_errors, org_choices
from coalition.extensions import db
from coalition.i18n import N_
from coalition.labels import translated
from coalition.models.inventory import EntryType
from coalition.models.organizations import Organization, OrgStatus
from coalition.services import catalog, inventory, proactive
from coalition.services.errors import ServiceError

bp = Blueprint("stock", __name__, url_prefix="/stock", template_folder="templates")

ENTRY_LABELS = {
    EntryType.COUNT: N_("count"),
    EntryType.DELIVERY: N_("delivery"),
    EntryType.DISTRIBUTED: N_("given out"),
    EntryType.TRANSFER_IN: N_("received through the coalition"),
    EntryType.TRANSFER_OUT: N_("given through the coalition"),
}


def _org_from_args() -> Organization | None:
    """My organization, or (for a coordinator) the one named by `?org=`."""
    slug = request.args.get("org") or None
    if current_user.is_coordinator and slug:
        org = db.session.scalar(sa.select(Organization).where(Organization.slug == slug))
        if org is None:
            abort(404)
        return org
    return current_user.organization


def _active_orgs() -> list[Organization]:
    """Active member organizations, by name."""
    query = sa.select(Organization).where(Organization.status == OrgStatus.ACTIVE)
    return list(db.session.scalars(query.order_by(Organization.name)))


@bp.get("/")
@login_required
def index() -> Any:
    """Stock on hand per category and lot; coordinators also see what is flagged."""
    org = _org_from_args()
    if org is None and not current_user.is_coordinator:
        abort(403)
    rows = present.supply_lines(org.id) if org is not None else []
    flagged = inventory.flagged_entries(db.session) if current_user.is_coordinator else []
    orgs = _active_orgs() if current_user.is_coordinator else []
    suggestions = present.suggestions_for(org.id) if org is not None else []
    settings = {
        row["category"].id: proactive.setting(db.session, org.id, row["category"].id)
        for row in rows
    } if org is not None else {}  # fmt: skip
    return render_template(
        "stock/index.html",
        org=org,
        rows=rows,
        flagged=flagged,
        orgs=orgs,
        suggestions=suggestions,
        settings=settings,
    )


@bp.get("/history")
@login_required
def history() -> Any:
    """Every entry of the organization (or of one category), newest first."""
    org = _org_from_args()
    if org is None:
        abort(403)
    category = catalog.category_by_slug(db.session, request.args.get("category") or "")
    entries = inventory.history(db.session, org.id, category.id if category else None)
    labels = {kind.value: gettext(label) for kind, label in ENTRY_LABELS.items()}
    return render_template(
        "stock/history.html", org=org, entries=entries, category=category, entry_labels=labels
    )


def _count_form() -> CountForm:
    """The form with its choices (organizations only for coordinators)."""
    form = CountForm()
    form.category.choices = [
        (c.slug, f"{translated(c.plain_label)} ({translated(c.unit)})")
        for c in inventory.supply_categories(db.session)
    ]
    if current_user.is_coordinator:
        form.org.choices = org_choices(_active_orgs())
        if request.method == "GET" and current_user.organization is None:
            form.org.data = request.args.get("org")
    return form


@bp.route("/count", methods=["GET", "POST"])
@login_required
def count() -> Any:
    """The quick count: category, how many, and optionally the lot and its expiry."""
    if not (current_user.organization_id or current_user.is_coordinator):
        abort(403)
    form = _count_form()
    if request.method == "GET" and request.args.get("category"):
        form.category.data = request.args["category"]
    if form.validate_on_submit():
        entries = _save(form)
        if entries is not None:
            db.session.commit()
            _flash_saved(entries)
            return redirect(url_for("stock.index", org=entries[-1].organization.slug))
    status = 422 if request.method == "POST" else 200
    return render_template("stock/count.html", form=form), status


def _raw(form: CountForm) -> dict[str, Any]:
    """The form's fields as entry input (empty ones left out)."""
    raw: dict[str, Any] = {"category": form.category.data or "", "quantity": form.quantity.data}
    if (form.lot.data or "").strip():
        raw["lot"] = form.lot.data
    if form.expires_on.data:
        raw["expires_on"] = form.expires_on.data.isoformat()
    if (form.distributed.data or "").strip():
        raw["distributed"] = form.distributed.data
    return raw


def _save(form: CountForm) -> list[Any] | None:
    """Record the count, or put every problem on its field and return None."""
    try:
        slug = form.org.data if current_user.is_coordinator else None
        org = inventory.acting_org(db.session, current_user, slug or None)
        data = inventory.load_entry(_raw(form))
        return inventory.record(db.session, current_user, org, data, source="web")
    except inventory.StockInvalid as exc:
        db.session.rollback()
        attach_errors(form, _translated(exc.errors))
    except ServiceError as exc:
        db.session.rollback()
        if exc.status in (403, 404):
            raise
        attach_errors(form, {exc.field or "_": [gettext(exc.message)]})
    return None


def _translated(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """Field messages in the reader's language (the form names `quantity` as the count)."""
    return {name: [gettext(m) for m in messages] for name, messages in errors.items()}


def _flash_saved(entries: list[Any]) -> None:
    """Say what was recorded, and warn when a figure was flagged."""
    entry = entries[-1]
    label = translated(entry.category.plain_label)
    flash(gettext("Counted: %(count)s of %(what)s.", count=entry.quantity, what=label), "success")
    if any(e.flag for e in entries):
        flash(
            gettext(
                "This count is far above what we expected from your last one, so it is "
                "marked for a second look. If it is right (a delivery came in), nothing "
                "more is needed."
            ),
            "warning",
        )
