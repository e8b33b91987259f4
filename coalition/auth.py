"""Who is asking: session users, bearer tokens, and the permission checks views share."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from flask import Request, Response, abort, g, request
from flask_login import AnonymousUserMixin, current_user
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import joinedload

from coalition.extensions import db, login_manager
from coalition.models.base import utcnow
from coalition.models.organizations import Organization, OrgStatus
from coalition.models.users import ApiToken, User
from coalition.security import hash_api_token

F = TypeVar("F", bound=Callable[..., Any])

# A token's last use is recorded at most this often: a read never writes on every request.
TOKEN_USE_RESOLUTION = timedelta(minutes=1)


@dataclass
class OrgTokenPrincipal:
    """An organization's API token acting on behalf of the organization."""

    token: ApiToken
    organization: Organization
    is_authenticated: bool = True
    is_anonymous: bool = False
    is_coordinator: bool = False
    is_org_admin: bool = False
    coalition_role: None = None
    id: None = None

    @property
    def organization_id(self) -> int:
        """The organization the token belongs to."""
        return self.organization.id

    @property
    def is_active(self) -> bool:
        """Active while the organization is."""
        return self.organization.status == OrgStatus.ACTIVE

    @property
    def email(self) -> str:
        """How the token appears in the audit log."""
        return f"api-token {self.token.prefix}… ({self.organization.slug})"

    def get_id(self) -> None:
        """Tokens never start a session."""
        return None


class Anonymous(AnonymousUserMixin):
    """The signed-out visitor."""

    is_coordinator = False
    is_org_admin = False
    organization_id = None
    organization = None


API_PREFIX = "/api/"


@login_manager.user_loader
def load_user(session_id: str) -> Any:
    """Reload a session's user; an API request with an Authorization header ignores the session."""
    if _wants_bearer(request):
        return bearer_principal(request)
    return user_for_session(session_id)


def user_for_session(session_id: str) -> User | None:
    """The active user a session id (`<id>:<session version>`) names, while its version holds."""
    user_id, _, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.is_active or user.session_version != int(version):
        return None
    return user


@login_manager.request_loader
def load_from_bearer(request: Request) -> Any:
    """Authenticate `Authorization: Bearer <token>` requests to the JSON API (never pages)."""
    return bearer_principal(request) if _wants_bearer(request) else None


def _wants_bearer(request: Request) -> bool:
    """Tokens are for the JSON API only; pages use the session and nothing else."""
    return request.path.startswith(API_PREFIX) and "Authorization" in request.headers


def bearer_principal(request: Request) -> Any:
    """The principal of a valid bearer token (looked up once per request), else None."""
    if "bearer_principal" not in g:
        g.bearer_principal = _lookup_bearer(request.headers.get("Authorization", ""))
    return g.bearer_principal


def authenticated_by_token() -> bool:
    """Whether this request's principal came from a valid bearer token (not a cookie)."""
    return g.get("bearer_principal") is not None and current_user.is_authenticated


# Built once: the statement is the same on every request, only the hash differs.
TOKEN_QUERY = (
    sa.select(ApiToken)
    .options(joinedload(ApiToken.organization), joinedload(ApiToken.user))
    .where(ApiToken.token_hash == sa.bindparam("token_hash"), ApiToken.revoked_at.is_(None))
)


def _lookup_bearer(header: str) -> Any:
    """Resolve `Bearer <token>` to the user or organization it acts for."""
    if not header.startswith("Bearer "):
        return None
    token = db.session.scalar(TOKEN_QUERY, {"token_hash": hash_api_token(header[7:].strip())})
    if token is None:
        return None
    note_token_use(token)
    return _principal_for(token)


def note_token_use(token: ApiToken) -> None:
    """Mark the token's use for recording when its last record is older than
    TOKEN_USE_RESOLUTION; `record_token_use` writes it once the response is ready."""
    now = utcnow()
    if token.last_used_at is not None and now - token.last_used_at < TOKEN_USE_RESOLUTION:
        return
    g.token_use = (token.id, now)


def record_token_use(response: Response) -> Response:
    """After the view, on the request's own connection: end its transaction (a view commits
    what it means to keep; anything else is rolled back, as teardown would), then record the
    token's use in a short transaction. A busy database skips the record rather than delay
    the response; the next use records it."""
    use = g.pop("token_use", None)
    if use is None:
        return response
    token_id, now = use
    stale = sa.or_(
        ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - TOKEN_USE_RESOLUTION
    )
    session = db.session
    session.rollback()
    try:
        with _short_sqlite_wait(session.connection()):
            session.execute(
                sa.update(ApiToken)
                .where(ApiToken.id == token_id, stale)
                .values(last_used_at=now)
                .execution_options(synchronize_session=False)
            )
        session.commit()
    except OperationalError:
        session.rollback()
    return response


@contextmanager
def _short_sqlite_wait(conn: sa.Connection) -> Iterator[None]:
    """On SQLite, wait at most a quarter second for the write lock (then skip the record)."""
    if conn.dialect.name != "sqlite":
        yield
        return
    conn.exec_driver_sql("PRAGMA busy_timeout=250")
    try:
        yield
    finally:
        conn.exec_driver_sql("PRAGMA busy_timeout=10000")


def _principal_for(token: ApiToken) -> Any:
    """The user or organization a token acts for, if still allowed to act."""
    if token.user is not None:
        return token.user if token.user.is_active else None
    if token.organization is not None and token.organization.status == OrgStatus.ACTIVE:
        return OrgTokenPrincipal(token=token, organization=token.organization)
    return None


def actor() -> Any:
    """The current principal, typed loosely (User or OrgTokenPrincipal)."""
    return cast(Any, current_user)


def is_coordinator() -> bool:
    """Whether the current principal is a coordinator."""
    return bool(getattr(current_user, "is_coordinator", False))


def coordinator_required(view: F) -> F:
    """Only coordinators may use this view (401 when signed out, 403 otherwise)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not is_coordinator():
            abort(403)
        return view(*args, **kwargs)

    return cast(F, wrapper)


def can_manage_org(org: Organization) -> bool:
    """Coordinators, and org admins of that organization, manage its people and settings."""
    if is_coordinator():
        return True
    return bool(getattr(current_user, "is_org_admin", False)) and (
        current_user.organization_id == org.id
    )


def managed_org(org_id: int) -> Organization:
    """An organization the current person may manage: 404 when unknown, 403 otherwise."""
    org = db.session.get(Organization, org_id)
    if org is None:
        abort(404)
    if not can_manage_org(org):
        abort(403)
    return org


def current_person() -> User:
    """The signed-in person; 403 for any other principal (an API token has no person)."""
    person = current_user._get_current_object()  # type: ignore[attr-defined]
    if not isinstance(person, User):
        abort(403)
    return person


def belongs_to(org_id: int | None) -> bool:
    """Whether the current principal acts for that organization."""
    return org_id is not None and getattr(current_user, "organization_id", None) == org_id
