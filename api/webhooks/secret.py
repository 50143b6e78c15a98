"""Webhook secrets in the Standard Webhooks form: `whsec_` and the base64 of the HMAC key (24 to 64 bytes).

A plain secret (16 to 200 characters, what subscriptions held before this form) is still accepted and its key is its
UTF-8 bytes: the subscriptions stored with one keep the key they always had."""

import base64
import binascii
import secrets

PREFIX = "whsec_"
KEY_BYTES = range(24, 65)  # what Standard Webhooks asks of a key
NEW_KEY_BYTES = 32


def new_secret() -> str:
    """A fresh secret for a subscription whose client gave none."""
    return _written(secrets.token_bytes(NEW_KEY_BYTES))


def standard_form(secret: str) -> str:
    """The secret a receiver gives the `standardwebhooks` library: the same key, written `whsec_<base64>`."""
    return _written(signing_key(secret))


def signing_key(secret: str) -> bytes:
    """The HMAC key of a secret: the base64 after `whsec_`, or a plain secret's UTF-8 bytes."""
    key = _key(secret)
    return secret.encode() if key is None else key


def check(secret: str) -> str:
    """The secret a client gave, if usable; ValueError if it starts with `whsec_` but is not the base64 of a key."""
    if secret.startswith(PREFIX) and _key(secret) is None:
        raise ValueError(f"a {PREFIX} secret is followed by the standard base64 of 24 to 64 random bytes")
    return secret


def _key(secret: str) -> bytes | None:
    """The key of a `whsec_` secret; None if it is not one (a plain secret)."""
    if not secret.startswith(PREFIX):
        return None
    try:
        key = base64.b64decode(secret.removeprefix(PREFIX), validate=True)
    except binascii.Error:
        return None
    return key if len(key) in KEY_BYTES else None


def _written(key: bytes) -> str:
    return PREFIX + base64.b64encode(key).decode()
