"""The id of the request being answered, for the logs and the problem bodies (set by the telemetry middleware)."""

from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
