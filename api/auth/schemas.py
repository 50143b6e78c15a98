from typing import Annotated, Literal

from pydantic import Field, SecretStr

from api.schemas import Body


class LoginRequest(Body):
    """Username and password."""

    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[SecretStr, Field(min_length=1, max_length=256)]


class RefreshRequest(Body):
    """A refresh token from an earlier login or refresh; it is used up by this call."""

    refresh_token: Annotated[str, Field(min_length=1, max_length=200)]


class TokenPair(Body):
    """Send `access_token` as `Authorization: Bearer …`; trade `refresh_token` for a new pair before it expires."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds the access token stays valid.")
    refresh_token: str
    refresh_expires_in: int = Field(description="Seconds the refresh token stays valid.")
