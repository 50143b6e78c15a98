from typing import Annotated
from uuid import UUID

from pydantic import AnyHttpUrl, BaseModel, Field

from api.models.webhooks import WebhookSubscription
from api.schemas import Body, FromJson, Instant


class WebhookCreate(Body):
    """Send every finding of the branch to this URL, signed with the secret (HMAC-SHA256, see `Webhook-Signature`)."""

    url: FromJson[AnyHttpUrl]
    secret: Annotated[str, Field(min_length=16, max_length=200, description="Shared secret for the signatures.")]
    branch_id: FromJson[UUID] | None = Field(default=None, description="Branch (required for admins).")


class WebhookDeliveries(BaseModel):
    """How the subscription's deliveries stand: whether the receiving system takes them."""

    delivered: int = Field(description="Findings the receiver took (answered 2xx).")
    pending: int = Field(description="Findings not delivered yet; each is retried with backoff until it is.")
    failing: int = Field(description="Pending findings whose last attempt failed.")
    last_error: str | None = Field(
        description="What went wrong with the failing delivery tried most often (e.g. `HTTP 401`); null if none fails."
    )


class WebhookRead(BaseModel):
    """A webhook subscription (the secret is never shown again)."""

    id: UUID
    branch_id: UUID
    url: str
    active: bool
    created_at: Instant
    deliveries: WebhookDeliveries

    @classmethod
    def from_row(cls, subscription: WebhookSubscription, deliveries: WebhookDeliveries) -> "WebhookRead":
        return cls(
            id=subscription.id,
            branch_id=subscription.branch_id,
            url=subscription.url,
            active=subscription.active,
            created_at=subscription.created_at,
            deliveries=deliveries,
        )
