"""Issue 11's findings 1, 5, 6, 7, 8, 10, 11 and 12: each attack as it was tried, refused."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import argon2
import pytest
import sqlalchemy as sa

from coalition.auth import OrgTokenPrincipal
from coalition.extensions import db
from coalition.models.digests import DigestFrequency, DigestSubscription
from coalition.models.listings import Listing
from coalition.models.organizations import OrgStatus
from coalition.security import local_path
from coalition.services import accounts
from coalition.services.digests import subscription_for_user
from tests.conftest import count
from tests.digests.conftest import World, subscribe
from tests.factories import PASSWORD, CoordinatorFactory, OrgAdminFactory, UserFactory
from tests.listings_support import SUPPLY_OFFER, token_for
from tests.matches_support import make_pair

ROOT = Path(__file__).resolve().parents[2]


RECIPIENT = {
    "email": "Director@Board.example.org",
    "name": "Dee Rector",
    "frequency": "daily",
    "weekday": "0",
    "hour": "8",
    "timezone": "America/New_York",
    "scope": "coalition",
}


def recipient_form(**changes: Any) -> dict[str, Any]:
    """An add-recipient form."""
    return {**RECIPIENT, **changes}


@pytest.fixture
def world(app: Any) -> World:
    """Two organizations and their people (the digests' small coalition)."""
    return World()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def sign_in(client: Any, email: str, password: str = PASSWORD, query: str = "") -> Any:
    return client.post(f"/login{query}", data={"email": email, "password": password})


# ---------------------------------------------------------------- 1. tokens on pages


@pytest.fixture
def board_member(world: World) -> DigestSubscription:
    """Harlem's email-only recipient: a board member without an account."""
    return subscribe(None, email="board@harlem.example.org", organization_id=world.harlem.id)


def test_another_orgs_token_cannot_read_or_change_an_email_only_subscription(
    world: World, board_member: DigestSubscription, client: Any
) -> None:
    headers = bearer(token_for(world.bushwick))
    preview = client.get("/digests/preview", headers=headers)
    assert preview.status_code == 302 and "/login" in preview.headers["Location"]
    assert b"board@harlem.example.org" not in preview.data
    for path in ("/digests/settings", "/digests/preview/email", "/org/", "/listings/mine"):
        assert client.get(path, headers=headers).status_code == 302, path
    weekly = {"frequency": "weekly", "weekday": "2", "hour": "6", "timezone": "UTC"}
    assert client.post("/digests/settings", data=weekly, headers=headers).status_code == 302
    assert client.post("/digests/settings/stop", headers=headers).status_code == 302
    db.session.refresh(board_member)
    assert board_member.active and board_member.frequency == DigestFrequency.DAILY
    assert count(DigestSubscription) == 1


def test_no_lookup_takes_a_principal_without_a_user_for_the_first_subscription_of_nobody(
    world: World, board_member: DigestSubscription
) -> None:
    token, _ = accounts.issue_api_token(db.session, None, org=world.bushwick)
    principal = OrgTokenPrincipal(token=token, organization=world.bushwick)
    assert subscription_for_user(db.session, principal) is None  # type: ignore[arg-type]


def test_tokens_still_work_on_the_json_api(world: World, client: Any) -> None:
    response = client.get("/api/v1/offers", headers=bearer(token_for(world.bushwick)))
    assert response.status_code == 200


# ---------------------------------------------------------------- 5. open redirect


BYPASSES = [
    "https://evil.example/",
    "//evil.example/phish",
    "/\t/evil.example/phish",
    "/\n/evil.example/phish",
    "/\r\n/evil.example/phish",
    "/\\evil.example/phish",
    "\\\\evil.example/phish",
    "/\\/evil.example/phish",
    "\\/evil.example/phish",
    "///evil.example/phish",
    "/ /evil.example/phish",
    "/\u00a0/evil.example/phish",
    "/\u200b/evil.example/phish",
    "/\x00/evil.example",
    " //evil.example/phish",
    "javascript:alert(1)",
    "http:/evil.example",
    "http:evil.example",
    "evil.example",
    "",
]


@pytest.mark.parametrize("target", BYPASSES)
def test_known_redirect_bypasses_are_not_local_paths(target: str) -> None:
    assert local_path(target) is None


@pytest.mark.parametrize("target", ["/", "/org/", "/matches/3?tab=open#x", "/a//b", "/%2F%2Fx"])
def test_local_paths_are_kept(target: str) -> None:
    assert local_path(target) == target


@pytest.mark.parametrize(
    "query", ["?next=/%09/evil.example/phish", "?next=/%5Cevil.example", "?next=%2F%2Fevil.example"]
)
def test_sign_in_never_redirects_off_site(app: Any, query: str) -> None:
    user = UserFactory()
    response = sign_in(app.test_client(), user.email, query=query)
    assert response.status_code == 302 and response.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["/\t/evil.example/phish", "/\\evil.example", "//evil.example"])
def test_match_actions_never_redirect_off_site(login: Any, target: str) -> None:
    pair = make_pair()
    response = login(pair.coordinator).post(
        f"/matches/{pair.match.id}/approve", data={"next": target}
    )
    assert response.status_code == 302 and "evil.example" not in response.location


# ---------------------------------------------------------------- 6. sessions end server-side


def signed_in_copy(app: Any, user: Any) -> tuple[Any, Any]:
    """A client that signed in with the password, and a second client holding its cookie."""
    original = app.test_client()
    assert sign_in(original, user.email).status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", original.get_cookie("session").value)
    assert thief.get("/org/", follow_redirects=True).status_code == 200
    return original, thief


def assert_signed_out(client: Any) -> None:
    response = client.get("/org/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_cookie_copied_before_sign_out_is_dead_after_it(app: Any) -> None:
    user = UserFactory()
    original, thief = signed_in_copy(app, user)
    assert original.post("/logout").status_code == 302
    assert_signed_out(thief)


def test_a_completed_password_reset_ends_older_sessions(app: Any) -> None:
    user = UserFactory()
    _, thief = signed_in_copy(app, user)
    accounts.set_password(db.session, user, "a brand new password")
    db.session.commit()
    assert_signed_out(thief)
    assert sign_in(app.test_client(), user.email, "a brand new password").status_code == 302


def test_a_disabled_persons_old_cookie_stays_dead_once_re_enabled(app: Any) -> None:
    user = UserFactory()
    admin = OrgAdminFactory(organization=user.organization)
    _, thief = signed_in_copy(app, user)
    accounts.set_user_disabled(db.session, admin, user, True)
    db.session.commit()
    assert_signed_out(thief)
    accounts.set_user_disabled(db.session, admin, user, False)
    db.session.commit()
    assert_signed_out(thief)


def test_a_suspended_orgs_old_cookies_stay_dead_once_reactivated(app: Any) -> None:
    user = UserFactory()
    _, thief = signed_in_copy(app, user)
    accounts.set_organization_status(db.session, None, user.organization, OrgStatus.SUSPENDED)
    db.session.commit()
    accounts.set_organization_status(db.session, None, user.organization, OrgStatus.ACTIVE)
    db.session.commit()
    assert_signed_out(thief)
    assert sign_in(app.test_client(), user.email).status_code == 302


def test_a_session_without_a_version_does_not_load(app: Any) -> None:
    user = UserFactory()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
    assert_signed_out(client)


# ---------------------------------------------------------------- 7. timing of sign-in


@pytest.fixture
def argon2_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """Every argon2 verification done, as (time cost, memory cost) of the hash checked."""
    calls: list[tuple[int, int]] = []
    verify = argon2.PasswordHasher.verify

    def counting(self: Any, hash: str, password: str) -> Any:
        params = argon2.extract_parameters(hash)
        calls.append((params.time_cost, params.memory_cost))
        return verify(self, hash, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", counting)
    return calls


def test_unknown_emails_cost_the_same_argon2_work_as_wrong_passwords(
    client: Any, argon2_calls: list[tuple[int, int]]
) -> None:
    user = UserFactory()
    without_password = UserFactory(password_hash=None)
    assert sign_in(client, user.email, "wrong password!").status_code == 401
    assert sign_in(client, "nobody@example.org").status_code == 401
    assert sign_in(client, without_password.email).status_code == 401
    real = argon2.extract_parameters(user.password_hash)
    assert argon2_calls == [(real.time_cost, real.memory_cost)] * 3


# ---------------------------------------------------------------- 8. CSRF on the API


@pytest.mark.parametrize("authorization", ["x", "Bearer", "Bearer not-a-token", "Basic eDp5"])
def test_a_session_with_a_junk_authorization_header_does_not_skip_csrf(
    login: Any, csrf_on: None, authorization: str
) -> None:
    client = login(UserFactory())
    headers = {"Authorization": authorization}
    response = client.post("/api/v1/offers", json=SUPPLY_OFFER, headers=headers)
    assert response.status_code == 401  # the session is not used beside an Authorization header
    assert count(Listing) == 0


def test_a_valid_token_ignores_the_session_cookie(login: Any, csrf_on: None) -> None:
    cookie_owner, token_org = UserFactory(), UserFactory().organization
    client = login(cookie_owner)
    headers = bearer(token_for(token_org))
    assert client.post("/api/v1/offers", json=SUPPLY_OFFER, headers=headers).status_code == 201
    assert db.session.scalars(sa.select(Listing.organization_id)).all() == [token_org.id]


def test_a_session_alone_still_needs_the_csrf_token(login: Any, csrf_on: None) -> None:
    response = login(UserFactory()).post("/api/v1/offers", json=SUPPLY_OFFER)
    assert response.status_code == 400 and "CSRF" in response.json["message"]
    assert count(Listing) == 0


# ---------------------------------------------------------------- 10. digest recipients


def test_an_org_admin_cannot_take_over_another_orgs_unconfirmed_recipient(
    world: World, login: Any
) -> None:
    harlem_form = recipient_form(organization=str(world.harlem.id), max_distance_km="")
    assert (
        login(world.harlem_admin).post("/digests/recipients", data=harlem_form).status_code == 302
    )
    bushwick_admin = OrgAdminFactory(organization=world.bushwick)
    takeover = recipient_form(
        organization=str(world.bushwick.id), name="Someone Else", max_distance_km="", hour="3"
    )
    response = login(bushwick_admin).post("/digests/recipients", data=takeover)
    assert response.status_code == 422
    assert b"recipient of another organization" in response.data
    sub = db.session.scalar(sa.select(DigestSubscription))
    assert (sub.organization_id, sub.name, sub.hour) == (world.harlem.id, "Dee Rector", 8)


def test_a_stopped_recipient_of_another_org_is_not_moved_either(world: World, login: Any) -> None:
    subscribe(
        None, email="director@board.example.org", organization_id=world.harlem.id, active=False
    )
    bushwick_admin = OrgAdminFactory(organization=world.bushwick)
    form = recipient_form(organization=str(world.bushwick.id), max_distance_km="")
    assert login(bushwick_admin).post("/digests/recipients", data=form).status_code == 422
    assert db.session.scalar(sa.select(DigestSubscription.organization_id)) == world.harlem.id


# ---------------------------------------------------------------- 11. security headers


def test_pages_send_a_strict_content_security_policy_and_friends(client: Any) -> None:
    response = client.get("/login")
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "style-src 'self'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers
    assert (
        "frame-ancestors 'none'"
        in client.get("/api/v1/openapi.json").headers["Content-Security-Policy"]
    )


def test_hsts_when_the_site_is_served_over_https(
    app: Any, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "BASE_URL", "https://coalition.example.org")
    hsts = client.get("/login").headers["Strict-Transport-Security"]
    assert hsts.startswith("max-age=31536000")


def test_the_api_docs_need_no_inline_script(client: Any) -> None:
    html = client.get("/api/v1/docs").get_data(as_text=True)
    assert "<script>" not in html and "<script nonce" not in html
    sources = re.findall(r'<script src="([^"]+)"', html)
    assert sources and all(src.startswith("/") for src in sources)


def test_a_style_element_runs_by_this_requests_nonce(login: Any) -> None:
    response = login(CoordinatorFactory()).get("/reports/impact.html")
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    nonce = policy.split("style-src 'self' 'nonce-")[1].split("'")[0]
    assert f'<style nonce="{nonce}">'.encode() in response.data


PAGE_TEMPLATES = [p for p in (ROOT / "coalition").rglob("*.html") if "email" not in p.parts]


@pytest.mark.parametrize("template", PAGE_TEMPLATES, ids=lambda p: p.name)
def test_page_templates_have_no_inline_script_style_or_handlers(template: Path) -> None:
    import re

    text = template.read_text()
    assert not re.search(r"<script(?![^>]*\b(src|nonce)=)", text), "inline <script>"
    assert not re.search(r"<style(?![^>]*\bnonce=)", text), "inline <style>"
    assert not re.search(r"\son[a-z]+\s*=", text), "on* handler"
    assert not re.search(r"\sstyle\s*=", text), "style attribute"


def test_confirm_prompts_come_from_the_static_script(login: Any, client: Any) -> None:
    with client.get("/static/app.js") as script:
        assert b"data-confirm" in script.data
    assert b'<script src="/static/app.js" defer>' in client.get("/login").data


# ---------------------------------------------------------------- 12. limits by account and address


def test_five_wrong_guesses_lock_that_account_not_the_office(client: Any) -> None:
    target, colleague = UserFactory(), UserFactory()
    for _ in range(5):
        assert sign_in(client, target.email, "wrong password!").status_code == 401
    blocked = sign_in(client, target.email)
    assert blocked.status_code == 429
    assert b"Too many attempts. Try again in about a minute." in blocked.data
    assert 1 <= int(blocked.headers["Retry-After"]) <= 61
    assert sign_in(client, colleague.email).status_code == 302


def test_many_accounts_guessed_from_one_address_hit_the_address_limit(
    app: Any, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "LOGIN_ADDRESS_RATE_LIMIT", "3 per hour")
    people = [UserFactory() for _ in range(4)]
    for person in people[:3]:
        assert sign_in(client, person.email, "wrong password!").status_code == 401
    blocked = sign_in(client, people[3].email)
    assert blocked.status_code == 429 and b"Try again in about an hour." in blocked.data


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (1, "about a minute"),
        (59, "about a minute"),
        (89, "about a minute"),
        (150, "about 3 minutes"),
        (3300, "about 55 minutes"),
        (3600, "about an hour"),
        (5400, "about 2 hours"),
        (86400, "about 24 hours"),
    ],
)
def test_the_wait_in_words(seconds: int, words: str) -> None:
    from coalition.blueprints.auth.views import wait_in_words

    assert wait_in_words(seconds) == words
