"""Impact pages (coalition for coordinators, organization for members) and the reports."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from marshmallow import ValidationError

from coalition.auth import is_coordinator
from coalition.blueprints.impact import report
from coalition.blueprints.impact.access import Refused, Report, quick_periods, resolve
from coalition.blueprints.impact.schemas import ImpactQuerySchema
from coalition.extensions import db
from coalition.models.listings import Listing
from coalition.models.organizations import Organization
from coalition.services import catalog, impact

bp = Blueprint(
    "impact",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/impact/static",
)

QUERY = ImpactQuerySchema()
ATTRIBUTES = {"from": "start", "to": "end"}


def _parse() -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The query string as arguments, and the field errors (empty when valid)."""
    try:
        return QUERY.load(request.args), {}
    except ValidationError as exc:
        errors = {
            k: v if isinstance(v, list) else [str(v)] for k, v in exc.normalized_messages().items()
        }
        valid = exc.valid_data if isinstance(exc.valid_data, dict) else {}
        return _without(valid, errors), errors


def _without(args: dict[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """The arguments less those of the named (query-string) fields."""
    dropped = {ATTRIBUTES.get(f, f) for f in fields}
    return {k: v for k, v in args.items() if k not in dropped}


def _resolve(args: dict[str, Any], errors: dict[str, list[str]]) -> Report:
    """The report asked for; 403/404 when it may not be seen."""
    try:
        return resolve(args)
    except Refused as exc:
        if exc.status == 422:
            errors.setdefault(exc.field or "query", []).append(exc.message)
            return resolve(_without(args, [exc.field or ""]))
        abort(exc.status)


def _page(template: str) -> Any:
    """Render an impact page; bad parameters re-show the page with messages (422)."""
    args, errors = _parse()
    rep = _resolve(args, errors)
    built = report.build(rep)
    return render_template(
        template,
        errors=errors,
        args=request.args,
        periods=quick_periods(),
        categories=catalog.all_categories(db.session, active_only=False),
        tags=impact.organization_tags(db.session, None if is_coordinator() else _own_org()),
        link=_link,
        organizations=_organizations(),
        **report.context(built),
    ), (422 if errors else 200)


def _organizations() -> list[Organization]:
    """Organizations a coordinator may pick (none for members)."""
    if not is_coordinator():
        return []
    return list(db.session.scalars(sa.select(Organization).order_by(Organization.name)))


def _own_org() -> int | None:
    """The signed-in member's organization id."""
    return getattr(current_user, "organization_id", None)


def _link(endpoint: str, **changes: Any) -> str:
    """This page's (or a report's) URL with some parameters changed."""
    params: dict[str, Any] = {k: v for k, v in request.args.items() if v}
    params.update({k: v for k, v in changes.items() if v is not None})
    params = {k: v for k, v in params.items() if v != ""}
    return url_for(endpoint, **params)


@bp.get("/impact/")
@login_required
def coalition_page() -> Any:
    """The coalition's impact (coordinators); members go to their organization's page."""
    if not is_coordinator():
        return redirect(url_for("impact.organization_page"))
    return _page("impact/coalition.html")


@bp.get("/impact/organization")
@login_required
def organization_page() -> Any:
    """The member's organization's impact, beside the coalition's totals."""
    if is_coordinator() and not request.args.get("organization"):
        return redirect(url_for("impact.coalition_page"))
    return _page("impact/organization.html")


def _report_or_422() -> Report:
    """The report the query asks for, or a 422 with the field messages."""
    args, errors = _parse()
    if errors:
        abort(Response(_errors_text(errors), 422, mimetype="text/plain"))
    try:
        return resolve(args)
    except Refused as exc:
        if exc.status == 422:
            abort(Response(f"{exc.field}: {exc.message}\n", 422, mimetype="text/plain"))
        abort(exc.status)


def _errors_text(errors: dict[str, list[str]]) -> str:
    """Field messages, one a line."""
    return "".join(f"{field}: {'; '.join(messages)}\n" for field, messages in errors.items())


def _download(body: Any, mimetype: str, filename: str, inline: bool = False) -> Response:
    """A file response with its name."""
    disposition = "inline" if inline else "attachment"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return response


@bp.get("/reports/impact.csv")
@login_required
def figures_csv() -> Response:
    """Every figure of the report as CSV."""
    rep = _report_or_422()
    built = report.build(rep)
    return _download(report.figures_csv(built), "text/csv", rep.filename("csv"))


@bp.get("/reports/impact-transfers.csv")
@login_required
def transfers_csv() -> Response:
    """The fulfilled matches the report counts, one a row."""
    rep = _report_or_422()
    lines = list(report.transfers_csv(rep))
    return _download(lines, "text/csv", rep.filename("csv").replace("-impact", "-transfers"))


@bp.get("/reports/impact.html")
@login_required
def printable() -> Response:
    """The report as a printable page."""
    rep = _report_or_422()
    body = report.html(report.build(rep))
    return _download(body, "text/html", rep.filename("html"), inline=True)


@bp.get("/reports/impact.pdf")
@login_required
def pdf() -> Response:
    """The report as PDF."""
    rep = _report_or_422()
    body = report.pdf(report.build(rep))
    return _download(body, "application/pdf", rep.filename("pdf"))


# ---------------------------------------------------------------- program and funder tags

TAGS_PAGE_SIZE = 50


def _tag_org() -> Organization:
    """The organization whose listings are tagged: one's own, or any for coordinators."""
    slug = request.args.get("organization")
    if is_coordinator() and slug:
        org = db.session.scalar(sa.select(Organization).where(Organization.slug == slug))
        if org is None:
            abort(404)
        return org
    own = db.session.get(Organization, _own_org()) if _own_org() else None
    if own is None:
        abort(403)
    return own


def _tagged_listings(org: Organization) -> list[Listing]:
    """The organization's latest listings."""
    query = (
        sa.select(Listing)
        .where(Listing.organization_id == org.id)
        .order_by(Listing.created_at.desc(), Listing.id.desc())
        .limit(TAGS_PAGE_SIZE)
    )
    return list(db.session.scalars(query))


def _parse_tags(text: str) -> tuple[list[str], str | None]:
    """Tags separated by ; and the error, if any."""
    tags = [impact.normalize_tag(t) for t in text.split(";")]
    too_long = [t for t in text.split(";") if len(" ".join(t.split())) > impact.TAG_MAX]
    if too_long:
        return [], gettext("each tag may have at most %(n)s characters", n=impact.TAG_MAX)
    return [t for t in tags if t], None


@bp.route("/impact/tags", methods=["GET", "POST"])
@login_required
def tags_page() -> Any:
    """Tag the organization's listings with its programs and funding sources."""
    org = _tag_org()
    listings = _tagged_listings(org)
    errors: dict[int, str] = {}
    if request.method == "POST":
        values = {listing.id: request.form.get(f"tags-{listing.id}", "") for listing in listings}
        parsed = {listing_id: _parse_tags(text) for listing_id, text in values.items()}
        errors = {i: error for i, (_, error) in parsed.items() if error}
        if not errors:
            for listing in listings:
                impact.set_listing_tags(db.session, listing, parsed[listing.id][0])
            db.session.commit()
            flash(gettext("Tags saved."), "success")
            return redirect(request.full_path.rstrip("?"))
    current = {
        listing.id: "; ".join(impact.listing_tags(db.session, listing.id)) for listing in listings
    }
    if request.method == "POST":
        current = {listing.id: request.form.get(f"tags-{listing.id}", "") for listing in listings}
    return render_template(
        "impact/tags.html", org=org, listings=listings, current=current, errors=errors,
        known=impact.organization_tags(db.session, org.id),
    ), (422 if errors else 200)  # fmt: skip
