from functools import cache
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Query, Request, status
from sqlalchemy.orm import Session
from starlette.routing import BaseRoute

from api.branches import service as branches_service
from api.db import SessionDep
from api.deps import Manager
from api.findings.schemas import EVENTS, PAYLOADS
from api.models.findings import FindingKind
from api.models.webhooks import WebhookSubscription
from api.pagination import CursorQuery, LimitQuery, Page
from api.problems import RoleNotAllowed, ValidationFailed, problem_responses
from api.webhooks import secret, service
from api.webhooks.schemas import WebhookCreate, WebhookCreated, WebhookRead

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(
        RoleNotAllowed,
        branches_service.BranchRequired,
        branches_service.BranchNotFound,
        service.WebhookUrlNotAllowed,
    ),
)
def create_webhook(body: WebhookCreate, request: Request, session: SessionDep, user: Manager) -> WebhookCreated:
    """Subscribe an endpoint to the branch's findings (an https URL of a public address, unless the server allows
    more); the answer has the signing secret, shown this once."""
    reach = service.webhook_reach(request.app.state.settings)
    subscription = service.create_subscription(session, user, body, reach)
    read = _read(session, subscription)
    return WebhookCreated(**read.model_dump(), secret=secret.standard_form(subscription.secret))


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


SIGNATURE_SCHEME = """Each finding of the branch is POSTed as JSON to every active subscription's URL, with these
headers:

- `Webhook-Id`: the finding's id, the same on every retry (use it to drop duplicates: delivery is at least once);
- `Webhook-Timestamp`: when this attempt was signed, in Unix seconds;
- `Webhook-Signature`: `v1,` and the base64 HMAC-SHA256 of `"{Webhook-Id}.{Webhook-Timestamp}.{body}"` (the raw
  body bytes), keyed with the subscription's secret: the base64-decoded part after `whsec_` (a plain secret given
  before: its UTF-8 bytes). The header is a space-separated list of such signatures: accept any one that matches.

This is the Standard Webhooks scheme (https://www.standardwebhooks.com): its libraries verify these requests, e.g.
Python's `standardwebhooks.Webhook(secret).verify(body, headers)`. Verifying by hand, compare signatures in
constant time and refuse timestamps more than a few minutes old. Answer 2xx once the finding is stored; any other
answer, or none within 10 s, is retried with exponential backoff (2 s doubling to 1 h) until it is taken. The README
has a verification example."""


def document_webhooks(webhooks: APIRouter) -> None:
    """Describe, in the OpenAPI document's `webhooks`, the request sent for each kind of finding."""
    webhooks.routes.extend(_webhook_routes())


@cache
def _webhook_routes() -> tuple[BaseRoute, ...]:
    """The descriptions, made once: they are the same for every app."""
    webhooks = APIRouter()
    for kind in FindingKind:
        _document(webhooks, kind)
    return tuple(webhooks.routes)


def _document(webhooks: APIRouter, kind: FindingKind) -> None:
    event = EVENTS[kind]

    def receive(
        body: event,  # type: ignore[valid-type]  # the kind's event model, made at run time
        webhook_id: Annotated[str, Header(alias="Webhook-Id", description="The finding's id.")],
        webhook_timestamp: Annotated[str, Header(alias="Webhook-Timestamp", description="Unix seconds.")],
        webhook_signature: Annotated[
            str,
            Header(alias="Webhook-Signature", description='`v1,` + base64 HMAC-SHA256 of "{id}.{timestamp}.{body}".'),
        ],
    ) -> None:
        """The receiver's endpoint: documentation of what fieldvisit sends, not an endpoint of fieldvisit."""

    webhooks.post(
        kind.value,
        name=kind.value,
        tags=["webhooks"],
        summary=f"A `{kind.value}` finding",
        description=f"{PAYLOADS[kind].__doc__}\n\n{SIGNATURE_SCHEME}",
        operation_id=f"webhooks-{kind.value}",
        response_description="Taken (any 2xx answer): it is not sent again.",
        responses={"default": {"description": "Not taken: sent again later, backing off."}},
    )(receive)
