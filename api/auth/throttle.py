"""Login throttling: how long a username must wait before its password may be tried again from an address.

Failed logins are counted over a sliding window, three ways: one account from one address (since its last success
there), one address whatever the accounts (a guesser going through usernames), and one account from the addresses it
has not logged in from lately (a guesser spread over many addresses). The last limit is not applied to an address the
account logged in from recently, so that an attacker elsewhere cannot lock an agent out of their own phone: at worst
their address waits out the window after their own mistakes. Nothing is hashed while an address waits.
"""

import math
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from api.config import AuthSettings
from api.models.auth import LoginAttempt


def wait_s(reads: Session, rules: AuthSettings, username: str, address: str, now: datetime) -> int:
    """Seconds until `username` may be tried from `address` again; 0: now."""
    since = now - timedelta(seconds=rules.login_window_s)
    mine = (LoginAttempt.username == username, LoginAttempt.address == address)
    last_success = reads.scalar(select(func.max(LoginAttempt.at)).where(*mine, LoginAttempt.succeeded))
    known = last_success is not None and last_success > now - timedelta(days=rules.login_known_address_days)
    pair_since = since if last_success is None else max(since, last_success)
    limits = [
        (_failures(reads, pair_since, *mine), rules.login_failures_per_address),
        (_failures(reads, since, LoginAttempt.address == address), rules.login_failures_per_client),
    ]
    if not known:
        limits.append((_failures(reads, since, LoginAttempt.username == username), rules.login_failures_per_account))
    waits = [failures[-limit] - since for failures, limit in limits if len(failures) >= limit]
    return max(1, math.ceil(max(waits).total_seconds())) if waits else 0


def record(session: Session, rules: AuthSettings, username: str, address: str, succeeded: bool, now: datetime) -> None:
    """Count an attempt; the username's attempts too old to matter go."""
    session.add(LoginAttempt(username=username, address=address, succeeded=succeeded, at=now))
    forgotten = now - timedelta(days=rules.login_known_address_days)
    session.execute(delete(LoginAttempt).where(LoginAttempt.username == username, LoginAttempt.at < forgotten))


def _failures(reads: Session, since: datetime, *where: ColumnElement[bool]) -> list[datetime]:
    query = select(LoginAttempt.at).where(*where, LoginAttempt.at > since, LoginAttempt.succeeded.is_(False))
    return list(reads.scalars(query.order_by(LoginAttempt.at)))
