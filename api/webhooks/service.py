"""Webhook subscriptions of a branch: created and deactivated by its managers, with how their deliveries stand."""

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from api.branches import service as branches_service
from api.config import Settings
from api.models.users import User
from api.models.webhooks import WebhookDelivery, WebhookSubscription
from api.pagination import filter_equal, paginate
from api.problems import NotFound, ValidationFailed, problem_members
from api.scope import in_scope
from api.webhooks import secret, sending
from api.webhooks.schemas import WebhookCreate, WebhookDeliveries
from api.webhooks.sending import Reach


class WebhookNotFound(NotFound):
    title = "Webhook subscription not found"
    slug = "webhook-not-found"
    members = problem_members(webhook_id=(UUID, "The subscription asked for."))


def visible_subscriptions(user: User) -> Select[WebhookSubscription]:
    return select(WebhookSubscription).where(in_scope(user, WebhookSubscription.branch_id))


class WebhookUrlNotAllowed(ValidationFailed):
    title = "Webhooks cannot go to this URL"
    slug = "webhook-url-not-allowed"


def webhook_reach(settings: Settings) -> Reach:
    return Reach(settings.webhooks.allow_http, tuple(settings.webhooks.allow_networks))


def create_subscription(session: Session, user: User, data: WebhookCreate, reach: Reach) -> WebhookSubscription:
    try:
        sending.check_url(str(data.url), reach)
    except sending.NotAllowed as refused:
        raise WebhookUrlNotAllowed(
            f"Not this URL: {refused}.", errors=[{"pointer": "#/url", "detail": str(refused)}]
        ) from refused
    branch = branches_service.branch_for_new_row(session, user, data.branch_id)
    subscription = WebhookSubscription(
        branch_id=branch.id, url=str(data.url), secret=data.secret or secret.new_secret(), created_by_id=user.id
    )
    session.add(subscription)
    session.flush()
    return subscription


def get_subscription(session: Session, user: User, webhook_id: UUID) -> WebhookSubscription:
    subscription = session.scalar(visible_subscriptions(user).where(WebhookSubscription.id == webhook_id))
    if subscription is None:
        raise WebhookNotFound(f"No webhook subscription {webhook_id}.", webhook_id=webhook_id)
    return subscription


def list_subscriptions(
    session: Session, user: User, *, active: bool | None, cursor: str | None, limit: int
) -> tuple[list[WebhookSubscription], str | None]:
    query = filter_equal(visible_subscriptions(user), (WebhookSubscription.active, active))
    return paginate(session, query, WebhookSubscription, cursor, limit)


def deactivate_subscription(session: Session, user: User, webhook_id: UUID) -> WebhookSubscription:
    """Stop sending findings to the endpoint; its pending deliveries are never sent. Deactivating twice is fine."""
    subscription = get_subscription(session, user, webhook_id)
    subscription.active = False
    session.flush()
    return subscription


def deliveries_of(session: Session, subscriptions: Sequence[WebhookSubscription]) -> dict[UUID, WebhookDeliveries]:
    """How the deliveries of each subscription stand, in two queries whatever their number."""
    ids = [subscription.id for subscription in subscriptions]
    pending = WebhookDelivery.delivered_at.is_(None)
    counts = session.execute(
        select(
            WebhookDelivery.subscription_id,
            func.count(WebhookDelivery.id).filter(~pending),
            func.count(WebhookDelivery.id).filter(pending),
            func.count(WebhookDelivery.id).filter(pending, WebhookDelivery.attempts > 0),
        )
        .where(WebhookDelivery.subscription_id.in_(ids))
        .group_by(WebhookDelivery.subscription_id)
    ).all()
    worst = (
        select(
            WebhookDelivery.subscription_id,
            WebhookDelivery.last_error,
            func.row_number()
            .over(
                partition_by=WebhookDelivery.subscription_id,
                order_by=(WebhookDelivery.attempts.desc(), WebhookDelivery.id),
            )
            .label("rank"),
        )
        .where(WebhookDelivery.subscription_id.in_(ids), pending, WebhookDelivery.attempts > 0)
        .subquery()
    )
    errors = dict(session.execute(select(worst.c.subscription_id, worst.c.last_error).where(worst.c.rank == 1)).all())
    summaries = {
        subscription_id: WebhookDeliveries(
            delivered=delivered, pending=waiting, failing=failing, last_error=errors.get(subscription_id)
        )
        for subscription_id, delivered, waiting, failing in counts
    }
    none = WebhookDeliveries(delivered=0, pending=0, failing=0, last_error=None)
    return {subscription_id: summaries.get(subscription_id, none) for subscription_id in ids}
