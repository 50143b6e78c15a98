from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, AnyHttpUrl, BaseModel, Field

from api.models.webhooks import WebhookSubscription
from api.schemas import Body, FromJson, Instant
from api.webhooks import secret as webhook_secret


class WebhookCreate(Body):
    """Send every finding of the branch to this URL, signed as Standard Webhooks signs (see `Webhook-Signature`)."""

    url: FromJson[AnyHttpUrl]
    secret: Annotated[str, Field(min_length=16, max_length=200), AfterValidator(webhook_secret.check)] | None = Field(
        default=None,
        description="The signing secret. Best left out: the server makes one and answers it once. Else `whsec_` and"
        " the base64 of 24 to 64 random bytes (the key), or, as before, any other string of 16 to 200 characters,"
        " whose UTF-8 bytes are the key.",
    )
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
    """A webhook subscription (its secret is shown once, when it is made)."""

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


class WebhookCreated(WebhookRead):
    """A new webhook subscription, with its secret: the only time it is shown."""

    secret: str = Field(
        description="The signing secret as `whsec_<base64 key>`, what the `standardwebhooks` library takes (a plain"
        " secret given is shown in this form: the same key)."
    )
