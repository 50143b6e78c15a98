"""Keyset pagination: lists are ordered by (created_at, id) and resume after an opaque cursor."""

import base64
import binascii
import json
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import Session

from api.problems import ValidationFailed

CursorQuery = Annotated[
    str | None, Query(max_length=200, description="`next_cursor` of the previous page; omit for the first page.")
]
LimitQuery = Annotated[int, Query(ge=1, le=200, description="Items per page.")]


PAGE_DESCRIPTION = "One page of a list; pass `next_cursor` back as `cursor` for the next one (null on the last page)."


def _describe(schema: dict[str, Any], model: type) -> None:
    schema.setdefault("description", PAGE_DESCRIPTION)  # parametrised generics (Page[UserRead]) have no docstring


class Page[T](BaseModel):
    __doc__ = PAGE_DESCRIPTION
    model_config = ConfigDict(json_schema_extra=_describe)

    items: list[T]
    next_cursor: str | None = Field(description="Cursor of the next page, null when this is the last one.")


def _encode(created_at: datetime, row_id: UUID) -> str:
    raw = json.dumps([created_at.isoformat(), str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, UUID]:
    malformed = ValidationFailed(
        "The cursor is not one this API returned.", errors=[{"parameter": "cursor", "detail": "malformed cursor"}]
    )
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, row_id = json.loads(raw)
        if not isinstance(created_at, str) or not isinstance(row_id, str):
            raise malformed
        moment = datetime.fromisoformat(created_at)
        if moment.tzinfo is None:  # the API writes its cursors in UTC
            raise malformed
        return moment, UUID(row_id)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError, OverflowError) as exc:
        raise malformed from exc


def filter_equal(query: Select[Any], *pairs: tuple[Any, object]) -> Select[Any]:
    """`query` narrowed to rows whose column equals the value, for each (column, value) pair given a value."""
    for column, value in pairs:
        if value is not None:
            query = query.where(column == value)
    return query


def paginate(
    session: Session, query: Select[Any], model: Any, cursor: str | None, limit: int
) -> tuple[list[Any], str | None]:
    """Rows of `query` after `cursor`, at most `limit`, and the cursor of the next page."""
    if cursor is not None:
        created_at, row_id = _decode(cursor)
        query = query.where(or_(model.created_at > created_at, and_(model.created_at == created_at, model.id > row_id)))
    rows = list(session.scalars(query.order_by(model.created_at, model.id).limit(limit + 1)))
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], _encode(last.created_at, last.id)
