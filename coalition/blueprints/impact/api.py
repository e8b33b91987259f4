"""`GET /api/v1/impact`: the figures as JSON, authorized like the pages."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint, abort

from coalition.api_support import api_login_required
from coalition.blueprints.impact import present, report
from coalition.blueprints.impact.access import Refused, resolve
from coalition.blueprints.impact.schemas import ImpactQuerySchema, ImpactSchema

blp = Blueprint(
    "impact_api",
    __name__,
    url_prefix="/impact",
    description=(
        "Impact figures from fulfilled matches (never from proposals). Coordinators see the "
        "coalition and any organization; a member sees its organization and the coalition's "
        "totals, and other organizations only as 'Other member organizations' unless they "
        "chose to show their name."
    ),
)


@blp.route("")
class Impact(MethodView):
    """Figures of the coalition (coordinators) or of the caller's organization."""

    decorators = [api_login_required]

    @blp.arguments(ImpactQuerySchema, location="query")
    @blp.response(200, ImpactSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args: dict[str, Any]) -> Any:
        """Impact figures for a period (default: the last 12 months), grouped and filtered.

        A member gets its organization's figures and, under `coalition`, the coalition's
        totals; grouped by organization, other organizations are summed as one row, except
        those that chose to show their name.
        """
        try:
            rep = resolve(args)
        except Refused as exc:
            errors = {exc.field: [exc.message]} if exc.field else {}
            abort(exc.status, message=exc.message, errors=errors)
        built = report.build(rep)
        return present.as_json(rep, built.figures, built.coalition)
