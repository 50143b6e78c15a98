from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, status
from sqlalchemy.orm import Session

from api.branches import service as branches_service
from api.db import SessionDep
from api.deps import Manager
from api.pagination import CursorQuery, LimitQuery, Page
from api.problems import RoleNotAllowed, ValidationFailed, problem_responses
from api.webhooks import service
from api.webhooks.models import WebhookSubscription
from api.webhooks.schemas import WebhookCreate, WebhookRead

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(RoleNotAllowed, branches_service.BranchRequired, branches_service.BranchNotFound),
)
def create_webhook(body: WebhookCreate, session: SessionDep, user: Manager) -> WebhookRead:
    """Subscribe an endpoint to the branch's findings."""
    return _read(session, service.create_subscription(session, user, body))


@router.get("", responses=problem_responses(RoleNotAllowed, ValidationFailed))
def list_webhooks(
    session: SessionDep,
    user: Manager,
    active: Annotated[bool | None, Query(description="Only active (true) or deactivated (false) ones.")] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 50,
) -> Page[WebhookRead]:
    """Your branch's webhook subscriptions (admins: every branch's), with how their deliveries stand."""
    rows, next_cursor = service.list_subscriptions(session, user, active=active, cursor=cursor, limit=limit)
    deliveries = service.deliveries_of(session, rows)
    items = [WebhookRead.from_row(row, deliveries[row.id]) for row in rows]
    return Page[WebhookRead](items=items, next_cursor=next_cursor)


@router.get("/{webhook_id}", responses=problem_responses(RoleNotAllowed, service.WebhookNotFound))
def get_webhook(webhook_id: UUID, session: SessionDep, user: Manager) -> WebhookRead:
    """A webhook subscription and how its deliveries stand."""
    return _read(session, service.get_subscription(session, user, webhook_id))


@router.delete("/{webhook_id}", responses=problem_responses(RoleNotAllowed, service.WebhookNotFound))
def deactivate_webhook(webhook_id: UUID, session: SessionDep, user: Manager) -> WebhookRead:
    """Stop sending findings to the endpoint (pending deliveries are dropped)."""
    return _read(session, service.deactivate_subscription(session, user, webhook_id))


def _read(session: Session, subscription: WebhookSubscription) -> WebhookRead:
    return WebhookRead.from_row(subscription, service.deliveries_of(session, [subscription])[subscription.id])
