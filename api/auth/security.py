"""Password hashing (argon2id) and access tokens (JWT)."""

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from uuid import UUID

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from api.config import Settings

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


@cache
def _dummy_hash() -> str:
    """Verified against when the username is unknown, so that a miss costs as long as a wrong password. Made at the
    first login rather than at import: a tenth of a second that every process importing the API paid."""
    return _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def jwt_secret(settings: Settings) -> str:
    """The configured secret, or one generated on first use and kept under the var directory."""
    if settings.auth.jwt_secret is not None:
        return settings.auth.jwt_secret.get_secret_value()
    path = Path(settings.var_dir) / "jwt-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip()


@dataclass(frozen=True, slots=True)
class Access:
    """Who an access token is for, and the login (refresh-token family) it belongs to: ending the login ends it."""

    user_id: UUID
    login_id: UUID


def issue_access_token(
    secret: str, settings: Settings, user_id: UUID, login_id: UUID, now: datetime
) -> tuple[str, int]:
    """A signed access token; the same arguments give the same token."""
    ttl = settings.auth.access_token_ttl_s
    claims = {
        "sub": str(user_id),
        "sid": str(login_id),
        "iat": now,
        "exp": now + timedelta(seconds=ttl),
        "typ": "access",
    }
    return jwt.encode(claims, secret, algorithm=settings.auth.jwt_algorithm), ttl


def read_access_token(secret: str, settings: Settings, token: str) -> Access | None:
    """Whose a valid, unexpired access token is; None for anything else."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token, secret, algorithms=[settings.auth.jwt_algorithm], options={"require": ["sub", "sid", "exp", "iat"]}
        )
        if claims.get("typ") != "access":
            return None
        return Access(UUID(claims["sub"]), UUID(claims["sid"]))
    except (jwt.PyJWTError, ValueError, TypeError, AttributeError):
        return None


def successor_token(secret: str, token: str) -> str:
    """The refresh token that replaces `token` when it is used: derived from it, so that a retry of a refresh whose
    answer was lost gets the same one."""
    digest = hmac.new(secret.encode(), b"refresh-successor:" + token.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def new_refresh_token() -> tuple[str, str]:
    """A refresh token for the client and the SHA-256 the server keeps instead."""
    token = secrets.token_urlsafe(32)
    return token, refresh_token_digest(token)


def refresh_token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
