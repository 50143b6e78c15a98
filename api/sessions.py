"""The sessions every process opens (the app, its commands, its workers): each flush written to the audit chain,
and each new finding queued to the branch's webhooks in its own transaction."""

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.audit.chain import audited_sessions
from api.webhooks.delivery import queue_new_findings


def sessions_of(engine: Engine) -> sessionmaker[Session]:
    """Sessions on `engine`, audited, whose new findings are queued for delivery."""
    sessions = audited_sessions(engine)
    queue_new_findings(sessions)
    return sessions
