"""Matches over JSON: list, read, and the lifecycle actions."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from flask_smorest.pagination import PaginationParameters

from coalition.api_support import (
    api_coordinator_required,
    api_login_required,
    document_errors,
    page_of,
    paginated,
)
from coalition.auth import actor
from coalition.blueprints.matches.schemas import (
    MatchQuerySchema,
    MatchSchema,
    OptionalReasonSchema,
    ReasonSchema,
)
from coalition.extensions import db
from coalition.models.matches import Match
from coalition.services import match_lifecycle as service
from coalition.services.discretion import Viewer, match_view

blp = Blueprint(
    "matches_api",
    __name__,
    url_prefix="/matches",
    description=(
        "Proposed matches and their state, with the explanation. Before a coordinator "
        "approves a match, each organization sees the other only as 'a member organization "
        "in <borough>, <N> km away'."
    ),
)

ERRORS = (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND, HTTPStatus.CONFLICT)


def view_of(match: Match) -> dict[str, Any]:
    """The match as the caller may see it, with what the caller may do next."""
    who = actor()
    return match_view(match, Viewer.of(who), service.available_actions(who, match))


def find(match_id: int) -> Match:
    """A match the caller may see, else 404."""
    return service.get_visible(db.session, actor(), match_id)


@blp.route("")
class Matches(MethodView):
    """The matches the caller may see: all for coordinators, their organization's otherwise."""

    decorators = [api_login_required]

    @blp.arguments(MatchQuerySchema, location="query")
    @blp.response(200, MatchSchema(many=True))
    @paginated(blp)
    @document_errors(blp, HTTPStatus.UNAUTHORIZED)
    def get(self, args: dict[str, Any], pagination_parameters: PaginationParameters) -> Any:
        """List matches, newest first (filter: `state`)."""
        query = service.visible_query(actor())
        if args.get("state"):
            query = query.where(Match.state == args["state"])
        query = query.order_by(Match.created_at.desc(), Match.id.desc())
        return [view_of(m) for m in page_of(query, pagination_parameters)]


@blp.route("/<int:match_id>")
class MatchById(MethodView):
    """One match."""

    decorators = [api_login_required]

    @blp.response(200, MatchSchema)
    @document_errors(blp, HTTPStatus.UNAUTHORIZED, HTTPStatus.NOT_FOUND)
    def get(self, match_id: int) -> Any:
        """Read a match with its explanation."""
        return view_of(find(match_id))


def act(match_id: int, action: str, reason: str | None = None) -> Any:
    """Run an action, commit, and answer with the match; errors change nothing."""
    match = find(match_id)
    service.perform(db.session, actor(), match, action, reason)
    db.session.commit()
    return view_of(match)


@blp.route("/<int:match_id>/approve")
class Approve(MethodView):
    """Coordinators approve a proposal."""

    decorators = [api_coordinator_required]

    @blp.response(200, MatchSchema)
    @document_errors(blp, *ERRORS)
    def post(self, match_id: int) -> Any:
        """Approve: names and contacts are shared with both organizations."""
        return act(match_id, "approve")


@blp.route("/<int:match_id>/reject")
class Reject(MethodView):
    """Coordinators reject a proposal, with a reason."""

    decorators = [api_coordinator_required]

    @blp.arguments(ReasonSchema)
    @blp.response(200, MatchSchema)
    @document_errors(blp, *ERRORS)
    def post(self, data: dict[str, Any], match_id: int) -> Any:
        """Reject (`{"reason": …}` required); the held quantity is released."""
        return act(match_id, "reject", data["reason"])


def _member_action(action: str, summary: str, with_reason: bool = False) -> type[MethodView]:
    """A POST view for an action members of the organization concerned take."""

    class MemberAction(MethodView):
        decorators = [api_login_required]

        if with_reason:

            @blp.arguments(OptionalReasonSchema, required=False)  # no body: no reason
            @blp.response(200, MatchSchema)
            @document_errors(blp, *ERRORS)
            def post(self, data: dict[str, Any], match_id: int) -> Any:
                return act(match_id, action, data.get("reason"))

        else:

            @blp.response(200, MatchSchema)
            @document_errors(blp, *ERRORS)
            def post(self, match_id: int) -> Any:
                return act(match_id, action)

    MemberAction.post.__doc__ = summary
    MemberAction.__name__ = MemberAction.__qualname__ = f"Match{action.capitalize()}"
    return MemberAction


blp.route("/<int:match_id>/accept")(
    _member_action("accept", "Accept for your organization; accepted once both sides have.")
)
blp.route("/<int:match_id>/decline")(
    _member_action("decline", "Decline an approved match (optional reason).", with_reason=True)
)
blp.route("/<int:match_id>/handoff")(
    _member_action("handoff", "The giving organization reports the hand-off.")
)
blp.route("/<int:match_id>/receive")(
    _member_action("receive", "The receiving organization confirms receipt: fulfilled.")
)
blp.route("/<int:match_id>/cancel")(
    _member_action(
        "cancel", "Either organization or a coordinator cancels an open match.", with_reason=True
    )
)
