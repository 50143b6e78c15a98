from typing import Annotated
from uuid import UUID

from pydantic import Field, SecretStr

from api.models.users import Role
from api.schemas import Body, FromJson, Instant, Patch, Read

Username = Annotated[
    str,
    Field(
        min_length=3,
        max_length=64,
        pattern=r"^[a-z0-9][a-z0-9_.-]*$",
        description="Login name: lower-case letters, digits, `_`, `.`, `-`.",
    ),
]
FullName = Annotated[str, Field(min_length=1, max_length=120)]
Password = Annotated[SecretStr, Field(min_length=10, max_length=256, description="At least 10 characters.")]


class UserCreate(Body):
    """A new user. Supervisors create users in their own branch; an admin names the branch (none for admins)."""

    username: Username
    full_name: FullName
    role: FromJson[Role]
    password: Password
    branch_id: FromJson[UUID] | None = None


class UserUpdate(Patch):
    """Changes to a user; members left out keep their value. Deactivating a user ends their sessions."""

    full_name: FullName | None = None
    role: FromJson[Role] | None = None
    active: bool | None = None
    password: Password | None = None


class UserRead(Read):
    """A user of fieldvisit (never with the password)."""

    id: UUID
    username: str
    full_name: str
    role: Role
    branch_id: UUID | None
    active: bool
    created_at: Instant
    updated_at: Instant
