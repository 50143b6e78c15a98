"""What a user may see: their own branch, or every branch for an admin."""

from typing import Any

from sqlalchemy import ColumnElement, true

from api.models.users import Role, User


def in_scope(user: User, branch_column: Any) -> ColumnElement[bool]:
    return true() if user.role is Role.ADMIN else branch_column == user.branch_id
