from datetime import timedelta
from uuid import UUID, uuid4

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.auth.models import RefreshToken
from api.auth.schemas import TokenPair
from api.auth.security import issue_access_token, new_refresh_token, refresh_token_digest, verify_password
from api.config import Settings
from api.db import utcnow
from api.problems import NotAuthenticated
from api.users.models import User


class LoginFailed(NotAuthenticated):
    title = "Wrong username or password"
    slug = "login-failed"


class RefreshTokenInvalid(NotAuthenticated):
    title = "Refresh token is invalid"
    slug = "refresh-token-invalid"


class RefreshTokenReused(RefreshTokenInvalid):
    commits = True  # the revocation of the family must outlive the refusal


def login(session: Session, settings: Settings, secret: str, username: str, password: str) -> TokenPair:
    user = session.scalar(select(User).where(User.username == username))
    if not verify_password(user.password_hash if user else None, password) or user is None or not user.active:
        raise LoginFailed("Wrong username or password, or the account is deactivated.")
    return _issue(session, settings, secret, user, family_id=uuid4())


def refresh(session: Session, settings: Settings, secret: str, token: str) -> TokenPair:
    """Trade a refresh token for a new pair. A token used twice means it leaked: its whole family is revoked."""
    now = utcnow()
    stored = session.scalar(select(RefreshToken).where(RefreshToken.token_sha256 == refresh_token_digest(token)))
    if stored is None or stored.expires_at <= now:
        raise RefreshTokenInvalid("Unknown or expired refresh token; log in again.")
    if stored.revoked_at is not None:
        _revoke_family(session, stored.family_id)
        raise RefreshTokenReused("This refresh token was already used; every session from that login is ended.")
    user = session.get(User, stored.user_id)
    if user is None or not user.active:
        raise RefreshTokenInvalid("The account is deactivated.")
    stored.revoked_at = now
    return _issue(session, settings, secret, user, family_id=stored.family_id)


def logout(session: Session, token: str) -> None:
    stored = session.scalar(select(RefreshToken).where(RefreshToken.token_sha256 == refresh_token_digest(token)))
    if stored is not None:
        _revoke_family(session, stored.family_id)


def _revoke_family(session: Session, family_id: UUID) -> None:
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def _issue(session: Session, settings: Settings, secret: str, user: User, family_id: UUID) -> TokenPair:
    now = utcnow()
    access_token, access_ttl = issue_access_token(secret, settings, user.id, now)
    refresh_token, digest = new_refresh_token()
    refresh_ttl = settings.auth.refresh_token_ttl_s
    session.add(
        RefreshToken(
            user_id=user.id, family_id=family_id, token_sha256=digest, expires_at=now + timedelta(seconds=refresh_ttl)
        )
    )
    return TokenPair(
        access_token=access_token, expires_in=access_ttl, refresh_token=refresh_token, refresh_expires_in=refresh_ttl
    )
