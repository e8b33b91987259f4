"""`/metrics`, and the coordinators' page of dead letters with replay."""

from __future__ import annotations

import hmac
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext

from coalition.auth import coordinator_required, is_coordinator
from coalition.config import current_settings
from coalition.events import metrics
from coalition.events.extension import routes
from coalition.events.status import ReplayError, events_status, replay
from coalition.extensions import db, limiter

bp = Blueprint("ops", __name__, template_folder="templates")

LOOPBACK = {"127.0.0.1", "::1"}


@bp.get("/metrics")
@limiter.exempt
def prometheus_metrics() -> Any:
    """Prometheus text: backlog, ages, publish and handle timings, dead letters."""
    if not _may_scrape():
        abort(401 if current_settings().metrics_token else 403)
    status = events_status(db.session(), routes(current_app))
    db.session.rollback()
    return Response(metrics.render(status), mimetype="text/plain; version=0.0.4")


def _may_scrape() -> bool:
    """A bearer METRICS_TOKEN, a signed-in coordinator, or (without a token) the loopback."""
    token = current_settings().metrics_token
    if token:
        sent = request.headers.get("Authorization", "")
        if hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            return True
    elif request.remote_addr in LOOPBACK:
        return True
    return is_coordinator()


@bp.get("/ops/events")
@coordinator_required
def events_page() -> Any:
    """The backlog figures and the dead letters, each with a replay button."""
    status = events_status(db.session(), routes(current_app))
    return render_template("ops/events.html", status=status)


@bp.post("/ops/dead-letters/<int:letter_id>/replay")
@coordinator_required
def replay_dead_letter(letter_id: int) -> Any:
    """Queue one dead letter for its group again (the relay publishes it)."""
    try:
        letters = replay(db.session(), str(letter_id), routes(current_app))
    except ReplayError as exc:
        db.session.rollback()
        abort(exc.status, str(exc))
    db.session.commit()
    letter = letters[0]
    flash(
        gettext(
            "Replayed %(event)s %(id)s to %(group)s (the relay publishes it within moments).",
            event=letter.event_type,
            id=letter.event_id,
            group=letter.handler_group,
        ),
        "success",
    )
    return redirect(url_for("ops.events_page"))
