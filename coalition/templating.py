"""Helpers the templates use: navigation by role, languages and form rendering."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from flask import url_for
from flask_babel import format_timedelta, get_timezone, gettext
from flask_login import current_user
from markupsafe import Markup

from coalition import story
from coalition.form_messages import human
from coalition.i18n import LANGUAGES, N_, current_locale, timezones
from coalition.labels import label, translated


def nav_items() -> list[tuple[str, str]]:
    """The navigation entries for the current person: (endpoint, translated label)."""
    items = [("auth.login", N_("Sign in"))]
    if not current_user.is_authenticated:
        return [(endpoint, gettext(label)) for endpoint, label in items]
    items = [("main.dashboard", N_("Home"))]
    items += [(endpoint, label) for endpoint, label, who in EXTRA_NAV if _allowed(who)]
    if getattr(current_user, "organization_id", None):
        items.append(("orgs.my_organization", N_("My organization")))
    if getattr(current_user, "is_coordinator", False):
        items += [
            ("coordinator.organizations", N_("Organizations")),
            ("coordinator.audit_log", N_("Audit log")),
        ]
    return [(endpoint, gettext(label)) for endpoint, label in items]


def match_story(view: dict[str, Any]) -> dict[str, Any]:
    """The timeline, who is waited for and the next step of a match the viewer may see."""
    from coalition.extensions import db
    from coalition.models.matches import Match

    match = db.session.get(Match, view["id"])
    return {
        "steps": story.timeline(match) if match else [],
        "waiting": story.waiting_for(view),
        "next": story.next_step(view),
    }


def listing_matches(listing: Any) -> list[dict[str, Any]]:
    """The matches of a listing that the current person may see, newest first."""
    import sqlalchemy as sa

    from coalition.auth import actor
    from coalition.extensions import db
    from coalition.models.matches import Match
    from coalition.services import match_lifecycle as lifecycle
    from coalition.services.discretion import Viewer, match_view

    who = actor()
    query = lifecycle.visible_query(who).where(
        sa.or_(Match.offer_id == listing.id, Match.request_id == listing.id)
    )
    matches = db.session.scalars(query.order_by(Match.id.desc())).all()
    return [match_view(m, Viewer.of(who), lifecycle.available_actions(who, m)) for m in matches]


def today() -> date:
    """Today's date in the reader's time zone."""
    return datetime.now(get_timezone()).date()


def since(moment: datetime | None) -> str:
    """How long ago, in words ("3 hours")."""
    if moment is None:
        return ""
    return format_timedelta(datetime.now(UTC) - moment)


def audit_summary(changes: dict[str, Any] | None) -> str:
    """An audit entry's changes in words: "quantity 240 → 200; notes changed"."""
    return "; ".join(_change(field, value) for field, value in (changes or {}).items())


def _change(field: str, value: Any) -> str:
    """One field's change; long or structured values only say that they changed."""
    name = field.replace("_", " ")
    if isinstance(value, list) and len(value) == 2 and all(_short(v) for v in value):
        return f"{name} {_shown(value[0])} → {_shown(value[1])}"
    if isinstance(value, list) and len(value) == 2:
        return gettext("%(field)s changed", field=name)
    return f"{name}: {_shown(value)}" if _short(value) else gettext("%(field)s set", field=name)


def _short(value: Any) -> bool:
    """Scalars short enough to show in a line."""
    return value is None or isinstance(value, int | float | bool) or len(str(value)) <= 40


def _shown(value: Any) -> str:
    """A value as a person reads it."""
    return "—" if value in (None, "", []) else str(value)


def _allowed(who: str) -> bool:
    """Whether a nav entry meant for `who` shows for the current person."""
    if who == "coordinator":
        return bool(getattr(current_user, "is_coordinator", False))
    if who == "member":
        return bool(getattr(current_user, "organization_id", None))
    return True


# Features add their entries here: (endpoint, label, "all" | "member" | "coordinator").
# Labels are marked with N_() and translated when the menu is drawn.
EXTRA_NAV: list[tuple[str, str, str]] = [
    ("listings.browse", N_("Listings"), "all"),
    ("listings.mine", N_("Our listings"), "member"),
    ("catalog.index", N_("Categories"), "coordinator"),
    ("ops.events_page", N_("Events"), "coordinator"),
    ("matches.queue", N_("Match queue"), "coordinator"),
    ("matches.index", N_("Matches"), "member"),
    ("digests.settings", N_("My digest"), "all"),
    ("digests.sends", N_("Digests"), "coordinator"),
    ("impact.coalition_page", N_("Impact"), "coordinator"),
    ("impact.organization_page", N_("Our impact"), "member"),
    ("stock.index", N_("Our stock"), "member"),
]


def sees_listing(listing: Any) -> bool:
    """Whether the current person sees a listing's organization, exact site and stock."""
    from coalition.services.discretion import Viewer, sees_site

    return sees_site(listing.organization_id, Viewer.of(current_user))


def names_listing(listing: Any) -> bool:
    """Whether the current person sees which organization posted a listing."""
    from coalition.services.discretion import Viewer, sees_name

    return sees_name(listing.organization, Viewer.of(current_user))


def distance_text(distance_km: float, listing: Any) -> str:
    """How far another organization's listing is, as a rounded band (discretion)."""
    from coalition.services.discretion import distance_phrase

    return distance_phrase(distance_km).removesuffix(" away")


# htmx (coalition/static/vendor, from the npm package by `make htmx`) under the page's CSP:
# no inline indicator styles, no eval, and 422 answers are swapped in (they carry messages).
HTMX_CONFIG = (
    '{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,'
    '"responseHandling":[{"code":"204","swap":false},{"code":"[23]..","swap":true},'
    '{"code":"422","swap":true},{"code":"[45]..","swap":false,"error":true}]}'
)


def htmx_script() -> Markup:
    """The tags that load htmx on pages with live parts (they work without it too)."""
    src = url_for("static", filename="vendor/htmx.min.js")
    return Markup(
        f"<meta name=\"htmx-config\" content='{HTMX_CONFIG}'>\n"
        f'  <script src="{src}" defer></script>'
    )  # nosec B704 - constant config and a URL built by url_for


TEMPLATE_GLOBALS: dict[str, Any] = {
    "htmx_script": htmx_script,
    "timezone_names": timezones,
    "nav_items": nav_items,
    "current_locale": current_locale,
    "languages": LANGUAGES,
    "label": label,
    "tr": translated,
    "match_story": match_story,
    "listing_matches": listing_matches,
    "today": today,
    "explain": story.explanation_sentences,
    "sees_listing": sees_listing,
    "names_listing": names_listing,
    "distance_text": distance_text,
}
TEMPLATE_FILTERS: dict[str, Any] = {
    "human": human,
    "label": label,
    "tr": translated,
    "since": since,
    "audit_summary": audit_summary,
}
