"""Password hashing, signed tokens for emailed links, and API token hashing."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer


def _hasher() -> PasswordHasher:
    """The argon2id hasher with the configured cost."""
    cfg = current_app.config
    return PasswordHasher(time_cost=cfg["ARGON2_TIME_COST"], memory_cost=cfg["ARGON2_MEMORY_COST"])


def hash_password(password: str) -> str:
    """Hash a password with argon2id."""
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password against its hash; a missing hash never matches."""
    if not password_hash:
        return False
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


class TokenError(Exception):
    """A signed link that is forged, expired or already used."""


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    """A serializer whose salt binds tokens to one purpose."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"coalition.{purpose}")


def sign(purpose: str, payload: Any) -> str:
    """Sign a payload for a link in an email."""
    return _serializer(purpose).dumps(payload)


def unsign(purpose: str, token: str, max_age: int | None) -> Any:
    """Verify a signed link token; raise TokenError with a reason when it is not valid."""
    try:
        return _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise TokenError("This link has expired.") from exc
    except BadSignature as exc:
        raise TokenError("This link is not valid.") from exc


def password_fingerprint(password_hash: str | None) -> str:
    """A short digest of the current hash: a reset link dies once the password changes."""
    return hashlib.sha256((password_hash or "").encode()).hexdigest()[:16]


def new_api_token() -> tuple[str, str]:
    """Return a fresh bearer token and its SHA-256 hash (only the hash is stored)."""
    token = "coa_" + secrets.token_urlsafe(32)
    return token, hash_api_token(token)


def hash_api_token(token: str) -> str:
    """Hash a bearer token for lookup."""
    return hashlib.sha256(token.encode()).hexdigest()
