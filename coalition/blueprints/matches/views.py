"""Matches on the web: the coordinators' queue, an organization's matches, one match, the
ledger, and auto-approval rules. Pages show matches only through `match_view`, so the
discretion rule holds here as in the API."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user, login_required

from coalition.auth import actor, coordinator_required
from coalition.blueprints.forms import ActionForm
from coalition.blueprints.matches.forms import ReasonForm, RejectForm, RuleForm
from coalition.extensions import db
from coalition.labels import label, translated
from coalition.models.catalog import Category, Kind
from coalition.models.matches import OPEN_STATES, Match, MatchState
from coalition.models.notifications import AutoApprovalRule
from coalition.models.organizations import Organization
from coalition.security import local_path
from coalition.services import match_lifecycle as service
from coalition.services.discretion import Viewer, match_view
from coalition.services.errors import ServiceError
from coalition.story import waiting_for

bp = Blueprint("matches", __name__, template_folder="templates")

WEB_ACTIONS = ("approve", "reject", "accept", "decline", "handoff", "receive", "cancel")
HISTORY_LIMIT = 50
# actions that move a match forward: a match offering one of them is waiting for us
MOVING_ACTIONS = {"approve", "reject", "accept", "handoff", "receive"}
RULE_DONE = {
    "delete": lambda: gettext("Rule deleted."),
    "enable": lambda: gettext("Rule enabled."),
    "disable": lambda: gettext("Rule disabled."),
}


def view_of(match: Match) -> dict[str, Any]:
    """The match as the current person may see it, with what they may do."""
    who = actor()
    return match_view(match, Viewer.of(who), service.available_actions(who, match))


def _visible(match_id: int) -> Match:
    """A match the current person may see, else 404."""
    return service.get_visible(db.session, actor(), match_id)


def _next_url(default: str) -> str:
    """A local path to go back to after an action (never another site)."""
    return local_path(request.form.get("next")) or default


# ---------------------------------------------------------------- coordinators' queue


@bp.get("/matches/queue")
@coordinator_required
def queue() -> Any:
    """Proposals waiting for a decision: most urgent first, then oldest."""
    proposals = [view_of(m) for m in service.queue(db.session)]
    return render_template(
        "matches/queue.html", proposals=proposals, reject_form=RejectForm(), form=ActionForm()
    )


@bp.post("/matches/queue/approve")
@coordinator_required
def bulk_approve() -> Any:
    """Approve every selected proposal; those that changed meanwhile are reported."""
    if not ActionForm().validate_on_submit():
        abort(400)
    ids = sorted({int(v) for v in request.form.getlist("ids") if v.isdigit()})
    if not ids:
        flash(gettext("Select at least one proposal."), "error")
        return redirect(url_for("matches.queue"))
    approved, skipped = _approve_all(ids)
    db.session.commit()
    flash(
        ngettext("Approved %(num)s proposal.", "Approved %(num)s proposals.", len(approved)),
        "success",
    )
    if skipped:
        flash(
            gettext(
                "Not approved (changed meanwhile or not found): %(ids)s.",
                ids="#" + ", #".join(skipped),
            ),
            "error",
        )
    return redirect(url_for("matches.queue"))


def _approve_all(ids: list[int]) -> tuple[list[str], list[str]]:
    """Approve each id; return the approved and the skipped ids as strings."""
    approved: list[str] = []
    skipped: list[str] = []
    for match_id in ids:
        match = db.session.get(Match, match_id)
        try:
            if match is None:
                raise ServiceError("No such match.", status=404)
            service.approve(db.session, current_user, match)
        except ServiceError:
            skipped.append(str(match_id))
        else:
            approved.append(str(match_id))
    return approved, skipped


# ---------------------------------------------------------------- an organization's matches


@bp.get("/matches")
@login_required
def index() -> Any:
    """Members: what waits for us, what waits for others, history. Coordinators: all."""
    state = request.args.get("state") or ""
    query = service.visible_query(actor())
    if state in {s.value for s in MatchState}:
        query = query.where(Match.state == MatchState(state))
    rows = db.session.scalars(query.order_by(Match.updated_at.desc(), Match.id.desc())).all()
    views = [view_of(m) for m in rows]
    return render_template("matches/index.html", groups=_group(views), state=state)


def _group(views: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Waiting for us, under review, waiting for the other side, history."""
    groups: dict[str, list[dict[str, Any]]] = {
        "waiting_for_us": [],
        "under_review": [],
        "waiting_for_others": [],
        "history": [],
    }
    for view in views:
        groups[_group_of(view)].append(view)
    groups["history"] = groups["history"][:HISTORY_LIMIT]
    return groups


def _group_of(view: dict[str, Any]) -> str:
    """Which list a match belongs to for the person looking."""
    if MatchState(view["state"]) not in OPEN_STATES:
        return "history"
    if set(view["actions"]) & MOVING_ACTIONS:
        return "waiting_for_us"
    if view["state"] == MatchState.PROPOSED.value:
        return "under_review"
    return "waiting_for_others"


@bp.get("/matches/<int:match_id>")
@login_required
def show(match_id: int) -> Any:
    """One match, with its explanation and the actions the person may take."""
    return _render_match(_visible(match_id))


def _render_match(match: Match, reject_form: RejectForm | None = None, status: int = 200) -> Any:
    """Render the match page."""
    page = render_template(
        "matches/show.html",
        m=view_of(match),
        reject_form=reject_form or RejectForm(),
        reason_form=ReasonForm(),
        form=ActionForm(),
    )
    return page, status


@bp.post("/matches/<int:match_id>/<action>")
@login_required
def act(match_id: int, action: str) -> Any:
    """Take an action on a match (approve, reject, accept, decline, handoff, receive, cancel)."""
    if action not in WEB_ACTIONS:
        abort(404)
    match = _visible(match_id)
    form = RejectForm() if action == "reject" else ReasonForm()
    if not form.validate_on_submit():
        return _invalid(match, action, form)
    try:
        service.perform(db.session, actor(), match, action, form.reason.data)
    except ServiceError as exc:
        db.session.rollback()
        return _refused(match, exc, form)
    db.session.commit()
    flash(_done_message(match), "success")
    return redirect(_next_url(url_for("matches.show", match_id=match.id)))


def _done_message(match: Match) -> str:
    """What happened and who the match waits for now ("… Waiting for the giver to accept.")."""
    done = gettext("Match #%(id)s is %(state)s.", id=match.id, state=label(match.state))
    waiting = waiting_for(view_of(match))
    return f"{done} {waiting}" if waiting else done


def _invalid(match: Match, action: str, form: Any) -> Any:
    """Re-show the match with the form's messages (nothing was written)."""
    if not service.may(actor(), match, action):
        abort(403)
    reject_form = form if action == "reject" else None
    return _render_match(match, reject_form, 422)


def _refused(match: Match, exc: ServiceError, form: Any) -> Any:
    """403/404 pages; 409 and 422 re-show the match with the reason."""
    if exc.status in (403, 404):
        raise exc
    db.session.refresh(match)
    if exc.field and hasattr(form, exc.field):
        getattr(form, exc.field).errors = [exc.message]
        return _render_match(match, form if isinstance(form, RejectForm) else None, exc.status)
    flash(exc.message, "error")
    return _render_match(match, None, exc.status)


# ---------------------------------------------------------------- ledger


@bp.get("/matches/ledger")
@login_required
def ledger() -> Any:
    """What an organization gave and received, by month and category."""
    org = _ledger_org()
    rows = service.ledger(db.session, org.id)
    return render_template("matches/ledger.html", org=org, rows=rows)


def _ledger_org() -> Organization:
    """The person's organization; coordinators may pass ?org=<id>."""
    org_id = current_user.organization_id
    if getattr(current_user, "is_coordinator", False) and request.args.get("org", "").isdigit():
        org_id = int(request.args["org"])
    if org_id is None:
        abort(404)
    return db.get_or_404(Organization, org_id)


# ---------------------------------------------------------------- auto-approval rules


def _rule_form(formdata: Any = None) -> RuleForm:
    """The rule form with the catalog's categories."""
    from wtforms import SelectChoice

    form = RuleForm(formdata=formdata)
    categories = db.session.scalars(
        sa.select(Category).where(Category.active.is_(True)).order_by(Category.sort_order)
    )
    form.category.choices = [SelectChoice("", gettext("Any category of that kind"))] + [
        SelectChoice(str(c.id), f"{translated(c.plain_label)} ({label(c.kind)})")
        for c in categories
    ]
    return form


@bp.get("/matches/rules")
@coordinator_required
def rules() -> Any:
    """Auto-approval rules and the form to add one."""
    return _render_rules(_rule_form())


def _render_rules(form: RuleForm, status: int = 200) -> Any:
    """Render the rules page."""
    rows = db.session.scalars(sa.select(AutoApprovalRule).order_by(AutoApprovalRule.id)).all()
    return render_template("matches/rules.html", rules=rows, form=form, action=ActionForm()), status


@bp.post("/matches/rules")
@coordinator_required
def create_rule() -> Any:
    """Add an auto-approval rule."""
    form = _rule_form(request.form)
    if not form.validate_on_submit():
        return _render_rules(form, 422)
    category_id = int(form.category.data) if form.category.data else None
    try:
        service.create_rule(
            db.session, current_user, Kind(form.kind.data), category_id, form.max_quantity.data
        )
    except ServiceError as exc:
        getattr(form, exc.field or "max_quantity").errors = [exc.message]
        return _render_rules(form, exc.status)
    db.session.commit()
    flash(gettext("Auto-approval rule added."), "success")
    return redirect(url_for("matches.rules"))


@bp.post("/matches/rules/<int:rule_id>/<any(enable, disable, delete):op>")
@coordinator_required
def change_rule(rule_id: int, op: str) -> Any:
    """Enable, disable or delete a rule."""
    if not ActionForm().validate_on_submit():
        abort(400)
    rule = db.get_or_404(AutoApprovalRule, rule_id)
    if op == "delete":
        service.delete_rule(db.session, current_user, rule)
    else:
        service.set_rule_enabled(db.session, current_user, rule, op == "enable")
    db.session.commit()
    flash(RULE_DONE[op](), "info")
    return redirect(url_for("matches.rules"))
