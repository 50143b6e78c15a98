"""Safe retries from phones: a POST with an `Idempotency-Key` header runs once per caller and key.

A retry with the same key and the same request gets the first response again (with `Idempotent-Replayed: true`);
the same key with a different request is refused (422); a retry while the first is still being handled gets 409.
The answer is kept before it is sent, so a client that received it and retries at once always gets it replayed.
A first attempt that failed with a server error leaves no record, so it can be retried; one whose process or
database died holds its key only until its lease runs out (or at once, when its process is gone), and the next
retry takes the key over and runs the request. The caller is the user of the bearer token; requests without a
valid one pass through untouched (and are refused by the endpoint).
"""

from api.idempotency.document import document_idempotency
from api.idempotency.middleware import IdempotencyMiddleware

__all__ = ["IdempotencyMiddleware", "document_idempotency"]
