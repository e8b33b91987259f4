"""Password hashing, signed tokens for emailed links, API token hashing, local redirects."""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from functools import cache
from typing import Any
from urllib.parse import urlsplit

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
    """Check a password against its hash; a missing hash never matches, after the same work."""
    try:
        return _hasher().verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def _dummy_hash() -> str:
    """A hash at the configured cost that no password matches, for accounts that do not exist."""
    cfg = current_app.config
    return _dummy_hash_for(cfg["ARGON2_TIME_COST"], cfg["ARGON2_MEMORY_COST"])


@cache
def _dummy_hash_for(time_cost: int, memory_cost: int) -> str:
    """One dummy hash per cost (hashing it once costs as much as one sign-in)."""
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost)
    return hasher.hash(secrets.token_urlsafe(32))


def local_path(target: str | None) -> str | None:
    r"""`target` when it is a path on this site, else None (never a way off it).

    Browsers drop tabs and newlines from URLs and read a backslash as a slash, so `/<tab>/x.org`
    and `/\x.org` lead off-site: paths with control, space or backslash characters are refused.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(_unsafe_char(c) for c in target):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def _unsafe_char(char: str) -> bool:
    """Control, format, separator and whitespace characters (Unicode categories C and Z)."""
    return char.isspace() or unicodedata.category(char)[0] in "CZ"


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
