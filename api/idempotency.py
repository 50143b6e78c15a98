"""Safe retries from phones: a POST with an `Idempotency-Key` header runs once per caller and key.

A retry with the same key and the same request gets the first response again (with `Idempotent-Replayed: true`);
the same key with a different request is refused (422); a retry while the first is still being handled gets 409.
The answer is kept before it is sent, so a client that received it and retries at once always gets it replayed.
A first attempt that failed with a server error leaves no record, so it can be retried. The caller is the user of
the bearer token; requests without a valid one pass through untouched (and are refused by the endpoint).
"""

import hashlib
import logging
import re
from datetime import datetime
from typing import Any
from uuid import UUID

from anyio import to_thread
from pydantic.json_schema import models_json_schema
from sqlalchemy import JSON, Integer, LargeBinary, String, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth.security import read_access_token
from api.db import Base, UtcDateTime, utcnow
from api.problems import PROBLEM_MEDIA_TYPE, Conflict, Problem, ValidationFailed, problem_model, problem_response

log = logging.getLogger(__name__)

HEADER = "idempotency-key"
MAX_KEY_LENGTH = 200
KEY_PATTERN = re.compile(r"^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$")  # visible ASCII, spaces only inside
_KEY_FORMAT = (
    f"1 to {MAX_KEY_LENGTH} visible ASCII characters (spaces inside allowed), new for each new request (a UUID is"
    " a good choice) and the same on each retry of it"
)


class IdempotencyRecord(Base):
    """The first response to a caller's POST with a given key, kept to answer its retries."""

    __tablename__ = "idempotency_record"

    user_id: Mapped[UUID] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer())  # None while the first attempt is being handled
    headers: Mapped[dict[str, str]] = mapped_column(JSON(), default=dict)
    body: Mapped[bytes] = mapped_column(LargeBinary(), default=b"")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class IdempotencyKeyInvalid(ValidationFailed):
    title = "The Idempotency-Key header is not valid"
    slug = "idempotency-key-invalid"


class IdempotencyKeyReused(ValidationFailed):
    title = "This Idempotency-Key was used for a different request"
    slug = "idempotency-key-reused"


class RequestInProgress(Conflict):
    title = "The first request with this Idempotency-Key is still being handled"
    slug = "request-in-progress"


_REPLAYED_HEADERS = ("content-type", "location", "etag")


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        key = request.headers.get(HEADER)
        user_id = _caller(request)
        if key is None or user_id is None:
            await self.app(scope, receive, send)
            return
        if len(key) > MAX_KEY_LENGTH or not KEY_PATTERN.match(key):
            invalid = IdempotencyKeyInvalid(f"Give a key of {_KEY_FORMAT}.")
            await _send_problem(request, send, invalid)
            return
        body = await request.body()
        digest = request_digest(scope["path"], request.url.query, body)
        sessions: sessionmaker[Session] = request.app.state.sessionmaker
        # the database calls run in worker threads: waiting for SQLite's lock must not block the event loop
        earlier = await to_thread.run_sync(_claim, sessions, user_id, key, digest)
        if earlier is not None:
            await _answer_retry(request, send, earlier, digest)
            return
        captured: dict[str, Any] = {"body": b""}
        held: list[Message] = []
        body_sent = settled = False

        async def replay_body() -> Message:
            nonlocal body_sent
            if not body_sent:
                body_sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: the client's disconnect, as the server reports it

        async def capture(message: Message) -> None:
            """Hold the answer until it is kept: a client that has it and retries at once gets it replayed."""
            nonlocal settled
            if message["type"] == "http.response.start":
                captured["status"], captured["headers"] = message["status"], message.get("headers", [])
            elif message["type"] == "http.response.body":
                captured["body"] += message.get("body", b"")
            else:
                await send(message)
                return
            held.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                settled = True
                await _settle_safely(sessions, user_id, key, captured)
                for answer in held:
                    await send(answer)
                held.clear()

        try:
            await self.app(scope, replay_body, capture)
        finally:
            if not settled:  # no whole answer: the key is free for a retry
                await _settle_safely(sessions, user_id, key, captured)


def request_digest(path: str, query: str, body: bytes) -> str:
    """What makes two requests with one key the same request: path, query string and body."""
    return hashlib.sha256(f"{path}?{query}\n".encode() + body).hexdigest()


def _caller(request: Request) -> UUID | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    state = request.app.state
    return read_access_token(state.jwt_secret, state.settings, token)


def _claim(sessions: sessionmaker[Session], user_id: UUID, key: str, digest: str) -> IdempotencyRecord | None:
    """Record the key as being handled; the earlier record when there is one (the primary key decides races)."""
    with sessions() as session:
        session.add(IdempotencyRecord(user_id=user_id, key=key, request_hash=digest))
        try:
            session.commit()
            return None
        except IntegrityError:
            session.rollback()
        earlier = session.get(IdempotencyRecord, (user_id, key))
        if earlier is None:  # the first attempt failed and let go of the key meanwhile: claim it again
            return _claim(sessions, user_id, key, digest)
        session.expunge(earlier)
        return earlier


async def _settle_safely(sessions: sessionmaker[Session], user_id: UUID, key: str, captured: dict[str, Any]) -> None:
    """Settle the key; if the database fails now, the answer still goes to the client (the work is committed)."""
    try:
        await to_thread.run_sync(_settle, sessions, user_id, key, captured)
    except Exception:
        log.exception("could not keep the answer to idempotency key %r of user %s", key, user_id)


def _settle(sessions: sessionmaker[Session], user_id: UUID, key: str, captured: dict[str, Any]) -> None:
    """Keep the response to replay it; after a server error (or none at all) free the key for a retry."""
    with sessions() as session:
        status = captured.get("status")
        if status is None or status >= 500:
            session.execute(
                delete(IdempotencyRecord).where(IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key)
            )
        else:
            record = session.scalars(
                select(IdempotencyRecord).where(IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key)
            ).one()
            headers = {name.decode().lower(): value.decode() for name, value in captured["headers"]}
            record.status_code, record.body = status, captured["body"]
            record.headers = {name: value for name, value in headers.items() if name in _REPLAYED_HEADERS}
        session.commit()


async def _answer_retry(request: Request, send: Send, earlier: IdempotencyRecord, digest: str) -> None:
    if earlier.request_hash != digest:
        await _send_problem(
            request, send, IdempotencyKeyReused("Send a new key for a new request; this one answered another.")
        )
    elif earlier.status_code is None:
        await _send_problem(request, send, RequestInProgress("Retry in a moment to get its answer."))
    else:
        headers = [(name.encode(), value.encode()) for name, value in earlier.headers.items()]
        headers += [(b"content-length", str(len(earlier.body)).encode()), (b"idempotent-replayed", b"true")]
        await send({"type": "http.response.start", "status": earlier.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": earlier.body})


async def _send_problem(request: Request, send: Send, problem: Problem) -> None:
    response = problem_response(request, problem)
    await response(request.scope, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


_REPLAYED = {
    "description": "`true` when this is the kept answer to an earlier request with the same Idempotency-Key.",
    "schema": {"type": "string", "enum": ["true"]},
}
_RETRY_PROBLEMS: dict[int, tuple[type[Problem], ...]] = {
    409: (RequestInProgress,),
    422: (IdempotencyKeyReused, IdempotencyKeyInvalid),
}


def document_idempotency(document: dict[str, Any]) -> dict[str, Any]:
    """The Idempotency-Key header, the replay header and the retry problems on every POST of the document."""
    models = [(problem_model(kind), "serialization") for kinds in _RETRY_PROBLEMS.values() for kind in kinds]
    _, definitions = models_json_schema(models, ref_template="#/components/schemas/{model}")
    document.setdefault("components", {}).setdefault("schemas", {}).update(definitions.get("$defs", {}))
    for methods in document.get("paths", {}).values():
        operation = methods.get("post")
        if operation is None:
            continue
        keyed = "security" in operation  # the key is the caller's: without an access token there is none
        operation.setdefault("parameters", []).append(_key_parameter(keyed))
        if not keyed:
            continue
        for status, response in operation["responses"].items():
            if status.startswith("2"):
                response.setdefault("headers", {})["Idempotent-Replayed"] = _REPLAYED
        for status, kinds in _RETRY_PROBLEMS.items():
            _add_problems(operation["responses"], status, kinds)
    return document


def _key_parameter(keyed: bool) -> dict[str, Any]:
    description = (
        f"Makes retries safe: {_KEY_FORMAT}. A retry gets the first answer again (with `Idempotent-Replayed:"
        " true`); the same key with another request is refused (422 `idempotency-key-reused`); a retry while the"
        " first is still handled gets 409 `request-in-progress` (retry in a moment). Answers with a server error"
        " are not kept, so such a request may be retried with the same key."
        if keyed
        else "Not used here: keys belong to the caller of an access token, and this request has none; a retry"
        " simply runs again."
    )
    schema = {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": KEY_PATTERN.pattern}
    return {"name": "Idempotency-Key", "in": "header", "required": False, "description": description, "schema": schema}


def _add_problems(responses: dict[str, Any], status: int, kinds: tuple[type[Problem], ...]) -> None:
    response = responses.setdefault(str(status), {"description": "", "content": {PROBLEM_MEDIA_TYPE: {"schema": {}}}})
    schema = response["content"][PROBLEM_MEDIA_TYPE]["schema"]
    refs = schema.pop("anyOf", None) or ([{"$ref": schema.pop("$ref")}] if "$ref" in schema else [])
    refs += [{"$ref": f"#/components/schemas/{problem_model(kind).__name__}"} for kind in kinds]
    schema["anyOf"] = refs
    response["description"] = "; ".join(
        filter(None, [response["description"], *(f"{kind.title} (`{kind.slug}`)" for kind in kinds)])
    )
