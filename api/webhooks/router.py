from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, status
from pydantic import AnyHttpUrl, BaseModel, Field
from sqlalchemy import select

from api.branches import service as branches_service
from api.db import SessionDep
from api.deps import Manager
from api.problems import NotFound, RoleNotAllowed, problem_responses
from api.schemas import Body, FromJson
from api.scope import in_scope
from api.webhooks.models import WebhookSubscription

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


class WebhookNotFound(NotFound):
    title = "Webhook subscription not found"
    slug = "webhook-not-found"


class WebhookCreate(Body):
    """Send every finding of the branch to this URL, signed with the secret (HMAC-SHA256, see `Webhook-Signature`)."""

    url: FromJson[AnyHttpUrl]
    secret: Annotated[str, Field(min_length=16, max_length=200, description="Shared secret for the signatures.")]
    branch_id: FromJson[UUID] | None = Field(default=None, description="Branch (required for admins).")


class WebhookRead(BaseModel):
    """A webhook subscription (the secret is never shown again)."""

    id: UUID
    branch_id: UUID
    url: str
    active: bool
    created_at: datetime


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(RoleNotAllowed, branches_service.BranchRequired, branches_service.BranchNotFound),
)
def create_webhook(body: WebhookCreate, session: SessionDep, user: Manager) -> WebhookRead:
    """Subscribe an endpoint to the branch's findings."""
    branch = branches_service.branch_for_new_row(session, user, body.branch_id)
    subscription = WebhookSubscription(
        branch_id=branch.id, url=str(body.url), secret=body.secret, created_by_id=user.id
    )
    session.add(subscription)
    session.flush()
    return WebhookRead.model_validate(subscription, from_attributes=True)


@router.delete("/{webhook_id}", responses=problem_responses(RoleNotAllowed, WebhookNotFound))
def deactivate_webhook(webhook_id: UUID, session: SessionDep, user: Manager) -> WebhookRead:
    """Stop sending findings to the endpoint (pending deliveries are dropped)."""
    subscription = session.scalar(
        select(WebhookSubscription).where(
            WebhookSubscription.id == webhook_id, in_scope(user, WebhookSubscription.branch_id)
        )
    )
    if subscription is None:
        raise WebhookNotFound(f"No webhook subscription {webhook_id}.", webhook_id=webhook_id)
    subscription.active = False
    session.flush()
    return WebhookRead.model_validate(subscription, from_attributes=True)
