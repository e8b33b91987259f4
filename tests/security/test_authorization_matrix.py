"""Authorization matrix generated from the route table: every endpoint and method, as each
principal (anonymous, member, org admin, org token, coordinator, coordinator token), naming an
object of our organization and of another. A route without a rule in EXPECTED fails."""

from __future__ import annotations

import hashlib
import os
import re
from typing import Any

import pytest
from itsdangerous import URLSafeTimedSerializer

from tests.security.authz_world import ROLES, SCOPES, World, build_world, principal_user, url_values

# Tokens are for the JSON API only: on any page but a public one they count as signed out,
# whatever the page's policy says of them (finding 1 of issue 11).
# Per role (in ROLES order): "both" scopes allowed, only "own", or "none".
N, OWN, B = "none", "own", "both"
POLICIES: dict[str, tuple[str, ...]] = {
    #                  anon member admin token coord ctoken
    "public": (B, B, B, B, B, B),
    "signed_in": (N, B, B, B, B, B),
    "people": (N, B, B, N, B, B),  # a person, not an organization's token
    "org_staff": (N, B, B, B, N, N),  # acts for an organization (coordinators have none)
    "own_org": (N, OWN, OWN, OWN, B, B),
    "own_org_admin": (N, N, OWN, N, B, B),
    "org_admin": (N, N, B, N, N, N),  # the admin's own organization, named by nobody's URL
    "admin_or_coordinator": (N, N, B, N, B, B),
    "own_org_admin_only": (N, N, OWN, N, N, N),  # an org admin, on its organization's rows
    "coordinator": (N, N, N, N, B, B),
    "party": (N, OWN, OWN, OWN, N, N),  # a side of the match acts, coordinators do not
    "own_notification": (N, OWN, OWN, N, N, N),
    "nobody_here": (N, N, N, N, N, N),  # our match has us as giver: receiving is the receiver's
}

# Every (endpoint, method) of the app, with its policy. Add a row for a new route.
EXPECTED: dict[tuple[str, str], str] = {
    ("static", "GET"): "public",
    ("health.healthz", "GET"): "public",
    ("health.readyz", "GET"): "public",
    ("ops.prometheus_metrics", "GET"): "public",  # loopback or METRICS_TOKEN (tests: loopback)
    ("api-docs.openapi_json", "GET"): "public",
    ("api-docs.openapi_swagger_ui", "GET"): "public",
    ("auth.login", "GET"): "public",
    ("auth.login", "POST"): "public",
    ("auth.logout", "POST"): "signed_in",
    ("auth.accept_invitation", "GET"): "public",
    ("auth.accept_invitation", "POST"): "public",
    ("auth.request_reset", "GET"): "public",
    ("auth.request_reset", "POST"): "public",
    ("auth.reset_password", "GET"): "public",
    ("auth.reset_password", "POST"): "public",
    ("digests.confirm", "GET"): "public",  # the signed link is the credential
    ("digests.confirm_post", "POST"): "public",
    ("digests.unsubscribe", "GET"): "public",
    ("digests.unsubscribe_one_click", "POST"): "public",
    ("main.dashboard", "GET"): "signed_in",
    ("listings.browse", "GET"): "signed_in",
    ("listings.detail", "GET"): "signed_in",
    ("listings.export", "GET"): "signed_in",
    ("listings.mine", "GET"): "signed_in",
    ("listings.create", "GET"): "signed_in",
    ("listings.create", "POST"): "signed_in",
    ("listings.suggestions", "POST"): "signed_in",
    ("listings.edit", "GET"): "own_org",
    ("listings.edit", "POST"): "own_org",
    ("listings.withdraw", "POST"): "own_org",
    ("listings.import_csv", "GET"): "admin_or_coordinator",
    ("listings.import_csv", "POST"): "admin_or_coordinator",
    ("listings.quick_post", "GET"): "org_staff",
    ("listings.quick_post", "POST"): "org_staff",
    ("matches.index", "GET"): "signed_in",
    ("matches.show", "GET"): "own_org",
    ("matches.act", "POST"): "party",
    ("matches.ledger", "GET"): "org_staff",
    ("matches.queue", "GET"): "coordinator",
    ("matches.bulk_approve", "POST"): "coordinator",
    ("matches.rules", "GET"): "coordinator",
    ("matches.create_rule", "POST"): "coordinator",
    ("matches.change_rule", "POST"): "coordinator",
    ("notifications.notification_list", "GET"): "people",
    ("notifications.read_notification", "POST"): "own_notification",
    ("notifications.read_all", "POST"): "people",
    ("notifications.preferences", "GET"): "people",
    ("notifications.preferences", "POST"): "people",
    ("notifications.webhook", "GET"): "org_admin",
    ("notifications.save_webhook", "POST"): "org_admin",
    ("notifications.redeliver_webhook", "POST"): "own_org_admin_only",
    ("digests.settings", "GET"): "signed_in",
    ("digests.save_settings", "POST"): "signed_in",
    ("digests.stop", "POST"): "signed_in",
    ("digests.preview", "GET"): "signed_in",
    ("digests.preview_email", "GET"): "signed_in",
    ("impact.coalition_page", "GET"): "signed_in",
    ("impact.organization_page", "GET"): "signed_in",
    ("impact.figures_csv", "GET"): "signed_in",
    ("impact.transfers_csv", "GET"): "signed_in",
    ("impact.printable", "GET"): "signed_in",
    ("impact.pdf", "GET"): "signed_in",
    ("impact.static", "GET"): "public",
    ("impact.tags_page", "GET"): "org_staff",
    ("impact.tags_page", "POST"): "org_staff",
    # stock: a person of an organization (coordinators name one with ?org=), HTML only
    ("stock.index", "GET"): "signed_in",
    ("stock.history", "GET"): "org_staff",  # coordinators name the organization: ?org=
    ("stock.count", "GET"): "signed_in",
    ("stock.count", "POST"): "signed_in",
    ("stock.credentials", "GET"): "signed_in",
    ("stock.credentials", "POST"): "signed_in",
    ("stock.save_settings", "POST"): "org_staff",
    ("stock.dismiss_suggestion", "POST"): "own_org",
    ("stock.verify_credential", "POST"): "coordinator",
    ("stock.risk", "GET"): "coordinator",
    ("stock_api.Levels", "GET"): "signed_in",
    ("stock_api.Entries", "GET"): "signed_in",
    ("stock_api.Entries", "POST"): "signed_in",
    ("main.set_language", "POST"): "public",
    ("main.swagger_ui_asset", "GET"): "public",
    ("impact_api.Impact", "GET"): "signed_in",
    ("digests.recipients", "GET"): "admin_or_coordinator",
    ("digests.add_recipient", "POST"): "admin_or_coordinator",
    ("digests.remove_recipient", "POST"): "own_org_admin",
    ("digests.sends", "GET"): "coordinator",
    ("digests.retry", "POST"): "coordinator",
    ("orgs.my_organization", "GET"): "org_staff",
    ("orgs.show", "GET"): "own_org",
    ("orgs.invite", "POST"): "own_org_admin",
    ("orgs.revoke_invitation", "POST"): "own_org_admin",
    ("orgs.set_member_access", "POST"): "own_org_admin",
    ("orgs.change_role", "POST"): "own_org_admin",
    ("orgs.update_settings", "POST"): "own_org_admin",
    ("tokens.index", "GET"): "own_org_admin",
    ("tokens.create", "POST"): "own_org_admin",
    ("tokens.revoke", "POST"): "own_org_admin",
    ("catalog.index", "GET"): "coordinator",
    ("catalog.create", "POST"): "coordinator",
    ("catalog.update", "POST"): "coordinator",
    ("coordinator.organizations", "GET"): "coordinator",
    ("coordinator.create_organization", "POST"): "coordinator",
    ("coordinator.set_status", "POST"): "coordinator",
    ("coordinator.audit_log", "GET"): "coordinator",
    ("ops.events_page", "GET"): "coordinator",
    ("ops.replay_dead_letter", "POST"): "coordinator",
    ("categories_api.Categories", "GET"): "signed_in",
    ("organizations_api.Organizations", "GET"): "signed_in",
    # another organization by its slug only when it shows its name (none does here)
    ("organizations_api.OrganizationBySlug", "GET"): "own_org",
    ("offers_api.Collection", "GET"): "signed_in",
    ("offers_api.Collection", "POST"): "signed_in",
    ("offers_api.Item", "GET"): "signed_in",
    ("offers_api.Item", "PATCH"): "own_org",
    ("offers_api.Item", "DELETE"): "own_org",
    ("requests_api.Collection", "GET"): "signed_in",
    ("requests_api.Collection", "POST"): "signed_in",
    ("requests_api.Item", "GET"): "signed_in",
    ("requests_api.Item", "PATCH"): "own_org",
    ("requests_api.Item", "DELETE"): "own_org",
    ("matches_api.Matches", "GET"): "signed_in",
    ("matches_api.MatchById", "GET"): "own_org",
    ("matches_api.Approve", "POST"): "coordinator",
    ("matches_api.Reject", "POST"): "coordinator",
    ("matches_api.MatchAccept", "POST"): "party",
    ("matches_api.MatchDecline", "POST"): "party",
    ("matches_api.MatchHandoff", "POST"): "party",
    ("matches_api.MatchReceive", "POST"): "nobody_here",
    ("matches_api.MatchCancel", "POST"): "own_org",
}

SKIPPED_METHODS = {"HEAD", "OPTIONS"}
TOKEN_ROLES = {"org_token", "coordinator_token"}
VARIABLE = re.compile(r"<(?:([^:>]+):)?(\w+)>")


def route_table(app: Any) -> dict[tuple[str, str], Any]:
    """Every (endpoint, method) of the app with its rule."""
    return {
        (rule.endpoint, method): rule
        for rule in app.url_map.iter_rules()
        for method in rule.methods - SKIPPED_METHODS
    }


def path_for(rule: Any, values: dict[str, Any]) -> str:
    """The rule's path with every variable filled (the first choice of an `any(…)`)."""

    def fill(match: re.Match[str]) -> str:
        converter, name = match.group(1), match.group(2)
        if converter and converter.startswith("any("):
            return converter[4:-1].split(",")[0].strip()
        return "accept" if name == "action" else str(values[name])

    return VARIABLE.sub(fill, rule.rule)


def client_for(app: Any, login: Any, world: World, role: str) -> tuple[Any, dict[str, str]]:
    """A client acting as the role, and the headers its writes carry (CSRF or bearer)."""
    if role == "anonymous":
        return app.test_client(), {}
    if role in ("org_token", "coordinator_token"):
        token = world.org_token if role == "org_token" else world.coordinator_token
        return app.test_client(), {"Authorization": f"Bearer {token}"}
    client = login(principal_user(world, role))
    raw = hashlib.sha1(os.urandom(32)).hexdigest()  # noqa: S324  (a CSRF nonce, not a hash)
    with client.session_transaction() as session:
        session["csrf_token"] = raw
    signed = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)
    return client, {"X-CSRFToken": signed}


def allowed(response: Any, key: tuple[str, str]) -> bool:
    """Got past the permission checks: not 401/403/404, not sent to sign in (signing out
    ends at the sign-in page, so there only a `next` back to it counts)."""
    if response.status_code in (401, 403, 404):
        return False
    location = response.headers.get("Location", "")
    to_login = "/login?next=" if key == ("auth.logout", "POST") else "/login"
    return not (response.status_code in (302, 303) and to_login in location)


def expected_allowed(policy: str, role: str, scope: str, api: bool) -> bool:
    """What the policy says for this principal and scope (tokens pass on the API only)."""
    if role in TOKEN_ROLES and policy != "public" and not api:
        return False
    rule = POLICIES[policy][ROLES.index(role)]
    return rule == B or (rule == OWN and scope == "own")


def cell(app: Any, login: Any, world: World, key: tuple[str, str], role: str, scope: str) -> Any:
    """Send one request of the matrix and return its response."""
    endpoint, method = key
    rule = route_table(app)[key]
    path = path_for(rule, url_values(world, endpoint, role, scope))
    client, headers = client_for(app, login, world, role)
    body = {"json": {}} if path.startswith("/api/") and method != "GET" else {}
    response = client.open(path, method=method, headers=headers, **body)
    response.close()
    return response


def test_every_route_has_a_rule(app):
    routes = set(route_table(app))
    cells = len(routes) * len(ROLES) * len(SCOPES)
    print(f"authorization matrix: {len(routes)} endpoint+methods x {len(ROLES)} x 2 = {cells}")
    assert routes - set(EXPECTED) == set(), "new routes need a row in EXPECTED"
    assert set(EXPECTED) - routes == set(), "EXPECTED names routes that no longer exist"


@pytest.mark.parametrize("key", sorted(EXPECTED), ids=lambda k: f"{k[0]}:{k[1]}")
def test_route_allows_exactly_whom_its_rule_says(app, login, key):
    policy = EXPECTED[key]
    api = route_table(app)[key].rule.startswith("/api/")
    world = build_world()
    wrong = []
    for role in ROLES:
        for scope in SCOPES:
            response = cell(app, login, world, key, role, scope)
            assert response.status_code < 500, (role, scope, response.status_code)
            if allowed(response, key) != expected_allowed(policy, role, scope, api):
                wrong.append((role, scope, response.status_code))
    assert wrong == [], f"{key} under policy {policy!r}"
