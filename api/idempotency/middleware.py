"""The ASGI middleware that holds a POST's key while it runs and answers its retries (see the package docstring)."""

import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import anyio
from anyio import to_thread
from sqlalchemy.exc import DBAPIError
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth.security import read_access_token
from api.db import DEFERRED_COMMIT, DeferredCommit
from api.idempotency import claims
from api.idempotency.claims import Claimed, Sessions
from api.models.idempotency import KEY_FORMAT, KEY_PATTERN, MAX_KEY_LENGTH, IdempotencyRecord
from api.problems import (
    Conflict,
    InternalError,
    Problem,
    ValidationFailed,
    database_problem,
    problem_response,
)

log = logging.getLogger(__name__)

HEADER = "idempotency-key"


class IdempotencyKeyInvalid(ValidationFailed):
    title = "The Idempotency-Key header is not valid"
    slug = "idempotency-key-invalid"


class IdempotencyKeyReused(ValidationFailed):
    title = "This Idempotency-Key was used for a different request"
    slug = "idempotency-key-reused"


class RequestInProgress(Conflict):
    title = "The first request with this Idempotency-Key is still being handled"
    slug = "request-in-progress"


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
            await _send_problem(request, send, IdempotencyKeyInvalid(f"Give a key of {KEY_FORMAT}."))
            return
        body = await request.body()  # BodyLimitMiddleware, outside, stops it at the route's limit
        digest = request_digest(scope["path"], request.url.query, body)
        sessions: Sessions = request.app.state.sessionmaker
        try:
            # in worker threads: waiting for SQLite's lock must not block the event loop
            held = await to_thread.run_sync(claims.claim_key, sessions, user_id, key, digest)
        except DBAPIError as error:
            if (passing := database_problem(error)) is None:
                raise  # an error of the code, not of the moment: answered as any other crash
            await _send_problem(request, send, passing)
            return
        if isinstance(held, IdempotencyRecord):
            await _answer_retry(request, send, held, digest)
            return
        if held.taken_over:
            log.warning("idempotency key %r of user %s taken over from an attempt that stopped", key, user_id)
            request.app.state.telemetry.idempotency_taken_over.inc()
        attempt = _Attempt(request, sessions, user_id, key, held, send)
        scope[DEFERRED_COMMIT] = attempt.deferred  # its writes commit with its answer, not before
        failed: Exception | None = None
        try:
            async with anyio.create_task_group() as keeping:
                keeping.start_soon(attempt.keep_alive)
                try:
                    await self.app(scope, _replay(body, receive), attempt.capture)
                except Exception as error:  # raised after the group, which would wrap it in an ExceptionGroup
                    failed = error
                keeping.cancel_scope.cancel()
        finally:
            if not attempt.settled:  # no whole answer: nothing is kept, and the key is free for a retry
                with anyio.CancelScope(shield=True):
                    await attempt.settle()
        if failed is not None:
            raise failed


class _Attempt:
    """One attempt holding a key: it renews the claim while the app works, and holds the answer until it is kept
    (with the attempt's writes, in one commit), so that a client that has it and retries at once gets it replayed,
    and a process that dies at any moment leaves the writes and the answer both kept or both undone."""

    def __init__(
        self, request: Request, sessions: Sessions, user_id: UUID, key: str, held: Claimed, send: Send
    ) -> None:
        self.request, self.sessions, self.user_id, self.key, self.claim = request, sessions, user_id, key, held.claim
        self.send = send
        self.deferred = DeferredCommit()
        self.captured: dict[str, Any] = {"body": b""}
        self.held: list[Message] = []
        self.settled = False

    async def keep_alive(self) -> None:
        while True:
            await anyio.sleep(claims.RENEW_EVERY_S)
            try:
                await to_thread.run_sync(claims.renew, self.sessions, self.user_id, self.key, self.claim)
            except Exception:  # the database may be away a moment; the lease outlives a few misses
                log.warning("could not renew the claim of idempotency key %r", self.key, exc_info=True)

    async def capture(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.captured["status"], self.captured["headers"] = message["status"], message.get("headers", [])
        elif message["type"] == "http.response.body":
            self.captured["body"] += message.get("body", b"")
        else:
            await self.send(message)
            return
        self.held.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            refused = await self.settle()
            if refused is not None:  # nothing was kept: the client is told so, never that it succeeded
                await _send_problem(self.request, self.send, refused)
            else:
                for answer in self.held:
                    await self.send(answer)
            self.held.clear()

    async def settle(self) -> Problem | None:
        """Commit the attempt's writes with its answer (or keep the answer of one that wrote nothing); the problem
        to answer instead when that failed and nothing was kept."""
        self.settled = True
        pending, self.deferred.session = self.deferred.session, None
        if pending is None:
            try:
                await to_thread.run_sync(
                    claims.settle, self.sessions, self.user_id, self.key, self.claim, self.captured
                )
            except Exception:  # it wrote nothing: the answer still goes, and the claim ends with its lease
                log.exception("could not keep the answer to idempotency key %r of user %s", self.key, self.user_id)
            return None
        try:
            await to_thread.run_sync(
                claims.settle_with_writes, pending, self.user_id, self.key, self.claim, self.captured
            )
        except claims.ClaimLost:
            log.warning(
                "idempotency key %r of user %s was taken over: this attempt kept nothing", self.key, self.user_id
            )
            return RequestInProgress("A retry took this request over; retry again to get its answer.")
        except DBAPIError as error:
            log.exception("could not commit the request of idempotency key %r of user %s", self.key, self.user_id)
            try:  # nothing was kept: free the key for the retry now, if the database lets us
                await to_thread.run_sync(claims.settle, self.sessions, self.user_id, self.key, self.claim, {})
            except Exception:
                log.warning("the claim of idempotency key %r ends with its lease", self.key, exc_info=True)
            return database_problem(error) or InternalError("The request could not be saved: nothing was kept.")
        return None


def request_digest(path: str, query: str, body: bytes) -> str:
    """What makes two requests with one key the same request: path, query string and body."""
    return hashlib.sha256(f"{path}?{query}\n".encode() + body).hexdigest()


def _replay(body: bytes, receive: Receive) -> Callable[[], Awaitable[Message]]:
    sent = False

    async def replay_body() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: the client's disconnect, as the server reports it

    return replay_body


def _caller(request: Request) -> UUID | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    state = request.app.state
    access = read_access_token(state.jwt_secret, state.settings, token)
    return access.user_id if access is not None else None


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
