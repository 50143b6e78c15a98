from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from sqlalchemy import ColumnElement, and_, exists, select, update
from sqlalchemy.orm import Session

from api.auth import throttle
from api.auth.schemas import TokenPair
from api.auth.security import (
    issue_access_token,
    new_refresh_token,
    refresh_token_digest,
    successor_token,
    verify_password,
)
from api.config import Settings
from api.db import rows_matched, utcnow
from api.models.auth import RefreshToken
from api.models.users import User
from api.problems import NotAuthenticated, TooManyRequests


@dataclass(frozen=True, slots=True)
class Credentials:
    username: str
    password: str = field(repr=False)


class LoginFailed(NotAuthenticated):
    title = "Wrong username or password"
    slug = "login-failed"
    commits = True  # the failed attempt is counted


class LoginThrottled(TooManyRequests):
    title = "Too many failed logins: wait before trying again"
    slug = "login-throttled"


class RefreshTokenInvalid(NotAuthenticated):
    title = "Refresh token is invalid"
    slug = "refresh-token-invalid"


class RefreshTokenReused(RefreshTokenInvalid):
    commits = True  # the revocation of the family must outlive the refusal


def login(
    reads: Session, session: Session, settings: Settings, secret: str, credentials: Credentials, address: str
) -> TokenPair:
    """A token pair of a new login. The password is checked in `reads`, a read-only session, so that the slow
    hash holds no lock; an address that failed too often waits first (`throttle`), and never gets a hash."""
    now, username = utcnow(), credentials.username
    wait = throttle.wait_s(reads, settings.auth, username, address, now)
    if wait:
        raise LoginThrottled(
            f"Too many failed logins of this account or from this address: try again in {wait} s.", retry_after_s=wait
        )
    user = reads.scalar(select(User).where(User.username == username))
    if (
        not verify_password(user.password_hash if user else None, credentials.password)
        or user is None
        or not user.active
    ):
        throttle.record(session, settings.auth, username, address, succeeded=False, now=now)
        raise LoginFailed("Wrong username or password, or the account is deactivated.")
    throttle.record(session, settings.auth, username, address, succeeded=True, now=now)
    return _issue(session, settings, secret, user, family_id=uuid4())


def refresh(session: Session, settings: Settings, secret: str, token: str) -> TokenPair:
    """Trade a refresh token for a new pair. The same token again within the grace window (the phone did not get
    the answer, or two refreshes crossed) gets the same pair again; used again after it, the token leaked: its whole
    login is ended."""
    now = utcnow()
    stored = _stored(session, token)
    if stored is None or stored.expires_at <= now:
        raise RefreshTokenInvalid("Unknown or expired refresh token; log in again.")
    if stored.revoked_at is None and stored.rotated_at is None:
        user = session.get(User, stored.user_id)
        if user is None or not user.active:
            raise RefreshTokenInvalid("The account is deactivated.")
        rotated = rows_matched(
            session,
            update(RefreshToken)
            .where(RefreshToken.id == stored.id, RefreshToken.rotated_at.is_(None), RefreshToken.revoked_at.is_(None))
            .values(rotated_at=now),
        )
        if rotated == 1:
            successor = successor_token(secret, token)
            return _issue(session, settings, secret, user, stored.family_id, successor, now)
        session.refresh(stored)  # a refresh with the same token won the race: answer as its retry
    return _again(session, settings, secret, stored, token, now)


def _again(
    session: Session, settings: Settings, secret: str, stored: RefreshToken, token: str, now: datetime
) -> TokenPair:
    """A token used before: its successor's pair within the grace window, else the end of its login."""
    successor_text = successor_token(secret, token)
    successor = _stored(session, successor_text)
    grace = timedelta(seconds=settings.auth.refresh_grace_s)
    if (
        stored.revoked_at is None
        and stored.rotated_at is not None
        and now - stored.rotated_at <= grace
        and successor is not None
        and successor.revoked_at is None
        and successor.rotated_at is None
    ):
        return _pair(settings, secret, successor, successor_text)
    _revoke_family(session, stored.family_id)
    raise RefreshTokenReused("This refresh token was already used; every session from that login is ended.")


def logout(session: Session, token: str) -> None:
    stored = _stored(session, token)
    if stored is not None:
        _revoke_family(session, stored.family_id)


def login_live(user_id: UUID, login_id: UUID) -> ColumnElement[bool]:
    """Whether the login (refresh-token family) an access token names is one of this user's, and was not ended (by
    logout, a password change, deactivation or reuse): a token naming another's login, or none, is not."""
    ours = exists().where(RefreshToken.family_id == login_id, RefreshToken.user_id == user_id)
    ended = exists().where(RefreshToken.family_id == login_id, RefreshToken.revoked_at.is_not(None))
    return and_(ours, ~ended)


def _stored(session: Session, token: str) -> RefreshToken | None:
    return session.scalar(select(RefreshToken).where(RefreshToken.token_sha256 == refresh_token_digest(token)))


def _revoke_family(session: Session, family_id: UUID) -> None:
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def _issue(
    session: Session,
    settings: Settings,
    secret: str,
    user: User,
    family_id: UUID,
    refresh_token: str | None = None,
    now: datetime | None = None,
) -> TokenPair:
    """A new refresh token of the family (`refresh_token`, or a random one for a new login) and its pair."""
    now = now or utcnow()
    refresh_token = refresh_token or new_refresh_token()[0]
    stored = RefreshToken(
        user_id=user.id,
        family_id=family_id,
        token_sha256=refresh_token_digest(refresh_token),
        expires_at=now + timedelta(seconds=settings.auth.refresh_token_ttl_s),
        created_at=now,
    )
    session.add(stored)
    return _pair(settings, secret, stored, refresh_token)


def _pair(settings: Settings, secret: str, stored: RefreshToken, refresh_token: str) -> TokenPair:
    """The pair of a stored refresh token: the access token is issued at the refresh token's creation, so that the
    same stored token gives the same pair."""
    access_token, access_ttl = issue_access_token(secret, settings, stored.user_id, stored.family_id, stored.created_at)
    return TokenPair(
        access_token=access_token,
        expires_in=access_ttl,
        refresh_token=refresh_token,
        refresh_expires_in=settings.auth.refresh_token_ttl_s,
    )
